//! Chip side of Chip Authentication v1 with ECDH on brainpoolP256r1 and AES-128
//! (`id-CA-ECDH-AES-CBC-CMAC-128`, ICAO 9303-11 §6.2): the terminal's ephemeral key arrives by
//! MSE:Set KAT or by MSE:Set AT + GENERAL AUTHENTICATE; the chip answers under the old keys and
//! switches to keys derived from its static CA key. A chip without the private key matching
//! DG14 cannot produce the next MAC, which is how the terminal detects a clone.
//!
//! Swap point: card-proto's chip-side CA helper replaces this when it lands.

use kiosk_card::tlv;

use crate::curve::{SecretScalar, decode_point, x_coordinate};
use crate::sm::{SmCipher, SmSession, kdf};

/// `id-CA-ECDH-AES-CBC-CMAC-128` (0.4.0.127.0.7.2.2.3.2.2), DER content bytes.
pub const OID_CA_ECDH_AES_128: [u8; 10] =
    [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02];

/// The terminal's public key from MSE:Set KAT data (`91 L key` [`84 L keyId`]).
pub fn key_from_set_kat(data: &[u8]) -> Option<&[u8]> {
    tlv::find(data, 0x91).ok().flatten().map(|t| t.value)
}

/// Whether MSE:Set AT data selects this chip's CA protocol (`80 OID` [`84 keyId`]).
pub fn set_at_selects_ca(data: &[u8]) -> bool {
    matches!(tlv::find(data, 0x80), Ok(Some(t)) if t.value == OID_CA_ECDH_AES_128)
}

/// The terminal's public key from GENERAL AUTHENTICATE data (`7C { 80 key }`).
pub fn key_from_general_authenticate(data: &[u8]) -> Option<&[u8]> {
    let outer = tlv::parse_exact(data, 0x7C).ok()?;
    outer.find(0x80).ok().flatten().map(|t| t.value)
}

/// ECDH with the chip's static key and the new session (SSC zero).
pub fn agree(private: &SecretScalar, terminal_key: &[u8]) -> Option<SmSession> {
    let point = decode_point(terminal_key)?;
    let k = x_coordinate(&(point * private.scalar()))?;
    let ks_enc = kdf(&k, 1, SmCipher::Aes128);
    let ks_mac = kdf(&k, 2, SmCipher::Aes128);
    Some(SmSession::new(SmCipher::Aes128, *ks_enc, *ks_mac, &[0; 16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::encode_point;
    use crate::random::ChipRandom;

    #[test]
    fn both_sides_derive_the_same_session() {
        let mut rng = ChipRandom::from_seed(1, "test");
        let chip = SecretScalar::random(&mut rng);
        let terminal = SecretScalar::random(&mut rng);
        let kat = tlv::encode(0x91, &encode_point(&terminal.public()));
        let key = key_from_set_kat(&kat).unwrap();
        assert!(agree(&chip, key).is_some());
        // The terminal's view: same X coordinate from the other pair.
        let k_chip = x_coordinate(&(decode_point(key).unwrap() * chip.scalar())).unwrap();
        let k_term = x_coordinate(&(chip.public() * terminal.scalar())).unwrap();
        assert_eq!(*k_chip, *k_term);
        assert!(agree(&chip, &[0x04; 65]).is_none());
        let ga = tlv::encode(0x7C, &tlv::encode(0x80, &encode_point(&terminal.public())));
        assert_eq!(key_from_general_authenticate(&ga), Some(key));
        let mut at = tlv::encode(0x80, &OID_CA_ECDH_AES_128);
        assert!(set_at_selects_ca(&at));
        at[3] = 9;
        assert!(!set_at_selects_ca(&at));
    }
}
