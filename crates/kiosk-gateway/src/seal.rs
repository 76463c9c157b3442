//! Encryption at rest for stored registrations: ChaCha20-Poly1305 with a random 96-bit nonce per
//! record and a key kept in `data.key` (0600) beside, never inside, the database. The record's
//! idempotency key is the associated data, so a sealed body cannot be moved to another row.

use std::path::Path;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// File name of the data key inside the state directory.
pub const KEY_FILE: &str = "data.key";

/// Seals and opens record bodies.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

impl Sealer {
    /// Creates `data.key` with 32 random bytes (hex), mode 0600.
    pub fn create_key(dir: &Path) -> Result<()> {
        let rng = SystemRandom::new();
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(&mut bytes[..])
            .map_err(|_| Error::Seal("no randomness"))?;
        let text = Zeroizing::new(hex::encode(&bytes[..]));
        crate::pki::write_secret(&dir.join(KEY_FILE), &text)
    }

    /// Loads the key from `dir/data.key`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        let text = Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|e| Error::io_path("read", &path, e))?,
        );
        let bytes = Zeroizing::new(
            hex::decode(text.trim()).map_err(|_| Error::Seal("data.key is not hex"))?,
        );
        Self::from_key(&bytes)
    }

    /// A sealer from raw key bytes (32).
    pub fn from_key(bytes: &[u8]) -> Result<Self> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map_err(|_| Error::Seal("data.key must hold 32 bytes"))?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::Seal("no randomness"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| Error::Seal("encryption failed"))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) produced; fails on any tampering.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(Error::Seal("sealed record too short"));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::Seal("bad nonce"))?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), buf.as_mut_slice())
            .map_err(|_| Error::Seal("record does not authenticate"))?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let s = Sealer::from_key(&[7; 32]).unwrap();
        let sealed = s.seal(b"key-1", b"Nguyen Van A").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"Nguyen"));
        assert_eq!(
            s.open(b"key-1", &sealed).unwrap().as_slice(),
            b"Nguyen Van A"
        );
        assert!(s.open(b"key-2", &sealed).is_err(), "moved to another row");
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(s.open(b"key-1", &tampered).is_err());
    }

    proptest! {
        #[test]
        fn open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let s = Sealer::from_key(&[1; 32]).unwrap();
            prop_assert!(s.open(b"k", &bytes).is_err());
        }
    }
}
