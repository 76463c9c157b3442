//! The ICAO 9303-11 §9.7.1 key derivation function, and SHA-1 for the BAC key seed and the PACE
//! MRZ password.

use digest::Digest;
use zeroize::Zeroizing;

use crate::crypto::cipher::{CipherAlg, SecretKey};
use crate::error::Result;

/// The key derivation counter of ICAO 9303-11 §9.7.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfPurpose {
    Enc = 1,
    Mac = 2,
    Password = 3,
}

/// ICAO 9303-11 §9.7.1: `H(K ‖ c)`; SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256; 3DES
/// keys get their DES parity bits set (as the ICAO examples print them).
pub fn kdf(alg: CipherAlg, secret: &[u8], purpose: KdfPurpose) -> Result<SecretKey> {
    let counter = (purpose as u32).to_be_bytes();
    let digest: Zeroizing<Vec<u8>> = match alg {
        CipherAlg::Tdes | CipherAlg::Aes128 => {
            let mut h = sha1::Sha1::new();
            h.update(secret);
            h.update(counter);
            Zeroizing::new(h.finalize().to_vec())
        }
        CipherAlg::Aes192 | CipherAlg::Aes256 => {
            let mut h = sha2::Sha256::new();
            h.update(secret);
            h.update(counter);
            Zeroizing::new(h.finalize().to_vec())
        }
    };
    let mut key = Zeroizing::new(digest[..alg.key_len()].to_vec());
    if alg == CipherAlg::Tdes {
        set_des_parity(&mut key);
    }
    SecretKey::new(alg, &key)
}

/// Sets each byte's low bit so the byte has odd parity (DES keys).
fn set_des_parity(key: &mut [u8]) {
    for b in key {
        let ones = (*b & 0xFE).count_ones();
        *b = (*b & 0xFE) | u8::from(ones.is_multiple_of(2));
    }
}

/// SHA-1 of `data` (BAC key seed, PACE MRZ password).
pub fn sha1(data: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(sha1::Sha1::digest(data).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn bac_keys_from_icao_appendix_d() {
        let seed = &sha1(b"L898902C<369080619406236")[..16];
        assert_eq!(seed, h("239AB9CB282DAF66231DC5A4DF6BFBAE"));
        let enc = kdf(CipherAlg::Tdes, seed, KdfPurpose::Enc).unwrap();
        let mac = kdf(CipherAlg::Tdes, seed, KdfPurpose::Mac).unwrap();
        assert_eq!(enc.bytes(), h("AB94FDECF2674FDFB9B391F85D7F76F2"));
        assert_eq!(mac.bytes(), h("7962D9ECE03D1ACD4C76089DCE131543"));
    }

    #[test]
    fn pace_password_key_from_appendix_g() {
        let k = kdf(
            CipherAlg::Aes128,
            &sha1(b"T22000129364081251010318"),
            KdfPurpose::Password,
        )
        .unwrap();
        assert_eq!(k.bytes(), h("89DED1B26624EC1E634C1989302849DD"));
    }
}
