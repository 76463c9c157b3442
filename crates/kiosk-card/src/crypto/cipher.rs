//! 3DES (2-key EDE) and AES in CBC mode over RustCrypto block ciphers, ISO/IEC 9797-1 padding
//! method 2, the retail MAC (9797-1 MAC algorithm 3) and AES-CMAC.
//!
//! CBC chaining is done here over the raw block cipher: every ICAO use is whole blocks with an
//! explicit IV, so a mode crate would add nothing. Keys live in [`SecretKey`], zeroized on drop.

use aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, Mac};
use des::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The block cipher of a secure-messaging session and of the key derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherAlg {
    /// 2-key triple DES (BAC, and PACE/CA with a 3DES suite).
    Tdes,
    Aes128,
    Aes192,
    Aes256,
}

impl CipherAlg {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Tdes | Self::Aes128 => 16,
            Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }

    /// Block length in bytes (also the SSC length in secure messaging).
    pub fn block_len(self) -> usize {
        match self {
            Self::Tdes => 8,
            _ => 16,
        }
    }
}

/// A symmetric key and its algorithm; the bytes are zeroized on drop and never printed.
#[derive(Clone)]
pub struct SecretKey {
    alg: CipherAlg,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({:?}, ..)", self.alg)
    }
}

impl SecretKey {
    /// Wraps key bytes, checking their length against the algorithm.
    pub fn new(alg: CipherAlg, bytes: &[u8]) -> Result<Self> {
        if bytes.len() != alg.key_len() {
            return Err(Error::Crypto {
                what: "key length does not match the cipher",
            });
        }
        Ok(Self {
            alg,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// The raw key bytes (for test vectors and key export to the virtual card).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn block_cipher(&self) -> Result<BlockKey> {
        let bad = |_| Error::Crypto {
            what: "key length does not match the cipher",
        };
        Ok(match self.alg {
            CipherAlg::Tdes => BlockKey::Tdes(TdesEde2::new_from_slice(&self.bytes).map_err(bad)?),
            CipherAlg::Aes128 => {
                BlockKey::Aes128(Aes128::new_from_slice(&self.bytes).map_err(bad)?)
            }
            CipherAlg::Aes192 => {
                BlockKey::Aes192(Aes192::new_from_slice(&self.bytes).map_err(bad)?)
            }
            CipherAlg::Aes256 => {
                BlockKey::Aes256(Aes256::new_from_slice(&self.bytes).map_err(bad)?)
            }
        })
    }

    /// CBC encryption of whole blocks with `iv`.
    pub fn cbc_encrypt(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let bl = self.alg.block_len();
        check_blocks(bl, iv, data)?;
        let cipher = self.block_cipher()?;
        let mut out = data.to_vec();
        let mut prev = iv.to_vec();
        for block in out.chunks_mut(bl) {
            block.iter_mut().zip(&prev).for_each(|(b, p)| *b ^= p);
            cipher.encrypt(block)?;
            prev.copy_from_slice(block);
        }
        Ok(out)
    }

    /// CBC decryption of whole blocks with `iv`.
    pub fn cbc_decrypt(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let bl = self.alg.block_len();
        check_blocks(bl, iv, data)?;
        let cipher = self.block_cipher()?;
        let mut out = data.to_vec();
        let mut prev = iv.to_vec();
        for block in out.chunks_mut(bl) {
            let this = block.to_vec();
            cipher.decrypt(block)?;
            block.iter_mut().zip(&prev).for_each(|(b, p)| *b ^= p);
            prev = this;
        }
        Ok(out)
    }

    /// Encrypts one block without chaining (the AES SM IV is `E(KS_Enc, SSC)`).
    pub fn encrypt_block(&self, block: &[u8]) -> Result<Vec<u8>> {
        let mut out = block.to_vec();
        if out.len() != self.alg.block_len() {
            return Err(Error::Crypto {
                what: "data is not one cipher block",
            });
        }
        self.block_cipher()?.encrypt(&mut out)?;
        Ok(out)
    }

    /// The 8-byte MAC of ICAO secure messaging: the retail MAC for 3DES (input must be whole
    /// 8-byte blocks, i.e. already padded), AES-CMAC truncated to 8 bytes for AES.
    pub fn mac8(&self, data: &[u8]) -> Result<[u8; 8]> {
        let full = self.mac_full(data)?;
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        Ok(out)
    }

    /// The untruncated MAC (8 bytes for 3DES, 16 for AES-CMAC).
    pub fn mac_full(&self, data: &[u8]) -> Result<Vec<u8>> {
        fn cmac<C>(key: &[u8], data: &[u8]) -> Result<Vec<u8>>
        where
            Cmac<C>: Mac + KeyInit,
            C: cmac::block_api::CmacCipher,
        {
            let mut m = <Cmac<C> as KeyInit>::new_from_slice(key).map_err(|_| Error::Crypto {
                what: "key length does not match the cipher",
            })?;
            m.update(data);
            Ok(m.finalize().into_bytes().to_vec())
        }
        match self.alg {
            CipherAlg::Tdes => retail_mac(&self.bytes, data).map(|m| m.to_vec()),
            CipherAlg::Aes128 => cmac::<Aes128>(&self.bytes, data),
            CipherAlg::Aes192 => cmac::<Aes192>(&self.bytes, data),
            CipherAlg::Aes256 => cmac::<Aes256>(&self.bytes, data),
        }
    }
}

fn check_blocks(bl: usize, iv: &[u8], data: &[u8]) -> Result<()> {
    if iv.len() != bl || !data.len().is_multiple_of(bl) {
        return Err(Error::Crypto {
            what: "CBC input is not whole blocks",
        });
    }
    Ok(())
}

enum BlockKey {
    Tdes(TdesEde2),
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

macro_rules! each_cipher {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            BlockKey::Tdes($c) => $body,
            BlockKey::Aes128($c) => $body,
            BlockKey::Aes192($c) => $body,
            BlockKey::Aes256($c) => $body,
        }
    };
}

impl BlockKey {
    fn encrypt(&self, block: &mut [u8]) -> Result<()> {
        each_cipher!(self, c => {
            let mut b = (&*block).try_into().map_err(|_| Error::Crypto { what: "bad block length" })?;
            c.encrypt_block(&mut b);
            block.copy_from_slice(&b);
        });
        Ok(())
    }

    fn decrypt(&self, block: &mut [u8]) -> Result<()> {
        each_cipher!(self, c => {
            let mut b = (&*block).try_into().map_err(|_| Error::Crypto { what: "bad block length" })?;
            c.decrypt_block(&mut b);
            block.copy_from_slice(&b);
        });
        Ok(())
    }
}

/// ISO/IEC 9797-1 MAC algorithm 3 with DES ("retail MAC"): single-DES CBC under K1 over all
/// blocks, then decrypt with K2 and encrypt with K1. `data` must be whole 8-byte blocks.
fn retail_mac(key: &[u8], data: &[u8]) -> Result<[u8; 8]> {
    let bad = |_| Error::Crypto {
        what: "retail MAC needs a 16-byte key",
    };
    if key.len() != 16 || data.is_empty() || !data.len().is_multiple_of(8) {
        return Err(Error::Crypto {
            what: "retail MAC input is not whole 8-byte blocks",
        });
    }
    let k1 = Des::new_from_slice(&key[..8]).map_err(bad)?;
    let k2 = Des::new_from_slice(&key[8..]).map_err(bad)?;
    let mut state = des::cipher::Block::<Des>::default();
    for chunk in data.chunks(8) {
        state.iter_mut().zip(chunk).for_each(|(s, c)| *s ^= c);
        k1.encrypt_block(&mut state);
    }
    k2.decrypt_block(&mut state);
    k1.encrypt_block(&mut state);
    let mut out = [0u8; 8];
    out.copy_from_slice(&state);
    Ok(out)
}

/// ISO/IEC 9797-1 padding method 2: `80` then zeros up to a multiple of `block_len` (always adds
/// at least one byte).
pub fn pad(data: &[u8], block_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block_len);
    out.extend_from_slice(data);
    out.push(0x80);
    while !out.len().is_multiple_of(block_len) {
        out.push(0);
    }
    out
}

/// Removes padding method 2; an input without a proper `80 00…` tail is an error.
pub fn unpad(data: &[u8]) -> Result<&[u8]> {
    let end = data
        .iter()
        .rposition(|b| *b != 0)
        .ok_or(Error::SecureMessaging {
            what: "padding missing",
        })?;
    if data[end] != 0x80 {
        return Err(Error::SecureMessaging {
            what: "padding malformed",
        });
    }
    Ok(&data[..end])
}

/// Constant-time comparison of MACs and tokens.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn bac_cryptogram_and_retail_mac_from_appendix_d() {
        let enc = SecretKey::new(CipherAlg::Tdes, &h("AB94FDECF2674FDFB9B391F85D7F76F2")).unwrap();
        let mac = SecretKey::new(CipherAlg::Tdes, &h("7962D9ECE03D1ACD4C76089DCE131543")).unwrap();
        let s = h("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B");
        let e = enc.cbc_encrypt(&[0; 8], &s).unwrap();
        assert_eq!(
            e,
            h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
        );
        assert_eq!(enc.cbc_decrypt(&[0; 8], &e).unwrap(), s);
        assert_eq!(
            mac.mac8(&pad(&e, 8)).unwrap().to_vec(),
            h("5F1448EEA8AD90A7")
        );
    }

    #[test]
    fn aes_cmac_rfc4493_example() {
        // RFC 4493 example 2 (16-byte message).
        let k = SecretKey::new(CipherAlg::Aes128, &h("2b7e151628aed2a6abf7158809cf4f3c")).unwrap();
        let m = k.mac_full(&h("6bc1bee22e409f96e93d7e117393172a")).unwrap();
        assert_eq!(m, h("070a16b46b4d4144f79bdd9dd04a287c"));
    }

    #[test]
    fn padding_round_trip_and_errors() {
        assert_eq!(pad(b"", 8), h("8000000000000000"));
        assert_eq!(pad(&[1; 8], 8).len(), 16);
        assert_eq!(unpad(&pad(b"abc", 16)).unwrap(), b"abc");
        assert!(unpad(&[0, 0]).is_err());
        assert!(unpad(&[1, 2]).is_err());
        assert!(unpad(&[]).is_err());
    }

    #[test]
    fn key_and_block_errors() {
        assert!(SecretKey::new(CipherAlg::Aes256, &[0; 16]).is_err());
        let k = SecretKey::new(CipherAlg::Aes128, &[0; 16]).unwrap();
        assert!(k.cbc_encrypt(&[0; 16], &[0; 15]).is_err());
        assert!(k.cbc_encrypt(&[0; 8], &[0; 16]).is_err());
        assert!(k.encrypt_block(&[0; 8]).is_err());
        assert!(format!("{k:?}").contains("Aes128"));
        assert!(!format!("{k:?}").contains("00"));
    }
}
