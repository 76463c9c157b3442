//! Encryption at rest: XChaCha20-Poly1305 with a per-kiosk key kept in its own 0600 file.
//!
//! A sealed value is `nonce (24 bytes) || ciphertext || tag (16 bytes)`. The nonce is random
//! (192 bits, so collisions are not a concern), and the store key is bound in as associated data
//! so a sealed value cannot be moved to another key unnoticed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{OutboxError, Result};
use crate::store::sync_dir;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The outbox's data key. `Debug` never prints it; the cipher state is zeroized on drop.
pub struct SealingKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// A fresh random key that lives only in memory (tests, benchmarks).
    pub fn random() -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(key.as_mut());
        Self::from_bytes(&key)
    }

    fn from_bytes(key: &[u8; KEY_LEN]) -> Self {
        // The length is fixed by the type, so `new_from_slice` cannot fail here; fall back to a
        // key-from-array path that does not need a Result.
        let cipher = XChaCha20Poly1305::new(key.into());
        SealingKey { cipher }
    }

    /// Loads the key from `path`, creating it (random, mode 0600, fsynced) if it does not exist.
    /// An existing file readable by group or others, or of the wrong size, is refused.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let key_err = |reason| OutboxError::KeyFile {
            path: path.to_path_buf(),
            reason,
        };
        let io = |what| {
            move |source| OutboxError::Io {
                what,
                path: path.to_path_buf(),
                source,
            }
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating directory for"))?;
        }
        match File::open(path) {
            Ok(mut f) => {
                let meta = f.metadata().map_err(io("reading metadata of"))?;
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(key_err("readable by group or others (must be mode 0600)"));
                }
                if meta.len() != KEY_LEN as u64 {
                    return Err(key_err("not a 32-byte key"));
                }
                let mut key = Zeroizing::new([0u8; KEY_LEN]);
                f.read_exact(key.as_mut()).map_err(io("reading"))?;
                Ok(Self::from_bytes(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; KEY_LEN]);
                rand::rng().fill_bytes(key.as_mut());
                // Write to a temporary name and rename, so a crash never leaves a short key file.
                let tmp = path.with_extension("tmp");
                let _ = std::fs::remove_file(&tmp);
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)
                    .map_err(io("creating"))?;
                f.write_all(key.as_ref()).map_err(io("writing"))?;
                f.sync_all().map_err(io("syncing"))?;
                std::fs::rename(&tmp, path).map_err(io("renaming into place"))?;
                if let Some(parent) = path.parent() {
                    sync_dir(parent)?;
                }
                Ok(Self::from_bytes(&key))
            }
            Err(e) => Err(io("opening")(e)),
        }
    }

    /// Encrypts `plaintext`, binding `aad` (the store key) to it.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| OutboxError::Decrypt { what: "seal" })?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts a value made by [`seal`](Self::seal) under the same `aad`. The plaintext is
    /// zeroized when dropped.
    pub fn open(
        &self,
        aad: &[u8],
        sealed: &[u8],
        what: &'static str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(OutboxError::Malformed {
                what,
                reason: format!("{} bytes is shorter than nonce and tag", sealed.len()),
            });
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let mut n = [0u8; NONCE_LEN];
        n.copy_from_slice(nonce);
        self.cipher
            .decrypt(&XNonce::from(n), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| OutboxError::Decrypt { what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_file_is_created_0600_and_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/outbox.key");
        let k1 = SealingKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = k1.seal(b"aad", b"hello").unwrap();
        let k2 = SealingKey::load_or_create(&path).unwrap();
        assert_eq!(&*k2.open(b"aad", &sealed, "t").unwrap(), b"hello");
    }

    #[test]
    fn world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.key");
        SealingKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SealingKey::load_or_create(&path).unwrap_err();
        assert!(matches!(err, OutboxError::KeyFile { .. }), "{err}");
    }

    #[test]
    fn wrong_aad_or_wrong_key_fails_to_open() {
        let k = SealingKey::random();
        let sealed = k.seal(b"key-1", b"secret").unwrap();
        assert!(matches!(
            k.open(b"key-2", &sealed, "t"),
            Err(OutboxError::Decrypt { .. })
        ));
        assert!(matches!(
            SealingKey::random().open(b"key-1", &sealed, "t"),
            Err(OutboxError::Decrypt { .. })
        ));
    }

    proptest! {
        #[test]
        fn seal_open_round_trip(aad in proptest::collection::vec(any::<u8>(), 0..32),
                                msg in proptest::collection::vec(any::<u8>(), 0..512)) {
            let k = SealingKey::random();
            let sealed = k.seal(&aad, &msg).unwrap();
            prop_assert!(!sealed.windows(msg.len().max(1)).any(|w| msg.len() > 8 && w == msg.as_slice()));
            prop_assert_eq!(&*k.open(&aad, &sealed, "t").unwrap(), &msg);
        }

        #[test]
        fn arbitrary_bytes_never_panic_when_opened(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let k = SealingKey::random();
            prop_assert!(k.open(b"x", &bytes, "t").is_err());
        }
    }
}
