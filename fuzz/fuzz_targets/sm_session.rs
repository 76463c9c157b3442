//! Fixed session keys for the secure-messaging targets (included by `sm_terminal` and `sm_chip`
//! through `#[path]`; not a target itself). The 3DES keys and SSC are ICAO 9303-11 Appendix D's
//! worked BAC example, the AES-128 ones arbitrary: the targets check the wrapping, not the keys.

use kiosk_card::crypto::{CipherAlg, SecretKey};
use kiosk_card::sm::SmKeys;

/// Session keys for 3DES (`aes == false`) or AES-128; both sides start from the same copy.
pub fn keys(aes: bool) -> SmKeys {
    let (alg, enc, mac, ssc): (_, &[u8], &[u8], &[u8]) = if aes {
        (
            CipherAlg::Aes128,
            &[
                0x2F, 0x7F, 0x46, 0xAD, 0xCC, 0x9E, 0x7E, 0x52, 0x1B, 0x45, 0xD1, 0x92, 0xFA, 0xFA,
                0x91, 0x26,
            ],
            &[
                0x80, 0x5A, 0x1D, 0x27, 0xD4, 0x5A, 0x51, 0x16, 0xF7, 0x3C, 0x54, 0x46, 0x94, 0x62,
                0xB7, 0xD8,
            ],
            &[0; 16],
        )
    } else {
        (
            CipherAlg::Tdes,
            &[
                0x97, 0x9E, 0xC1, 0x3B, 0x1C, 0xBF, 0xE9, 0xDC, 0xD0, 0x1A, 0xB0, 0xFE, 0xD3, 0x07,
                0xEA, 0xE5,
            ],
            &[
                0xF1, 0xCB, 0x1F, 0x1F, 0xB5, 0xAD, 0xF2, 0x08, 0x80, 0x6B, 0x89, 0xDC, 0x57, 0x9D,
                0xC1, 0xF8,
            ],
            &[0x88, 0x70, 0x22, 0x12, 0x0C, 0x06, 0xC2, 0x26],
        )
    };
    SmKeys::new(
        SecretKey::new(alg, enc).expect("fixed key has the algorithm's length"),
        SecretKey::new(alg, mac).expect("fixed key has the algorithm's length"),
        ssc,
    )
    .expect("fixed keys agree")
}

/// Which of the three things a target does with its input (the first byte's bits 1–2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The input is what the other side sent: it must never verify.
    Forged,
    /// The input is the plain message; the other side wraps it honestly: it must round-trip.
    Honest,
    /// As `Honest`, with one byte of the wrapped message changed: it must be refused.
    Tampered,
}

/// Splits the control byte: (AES?, mode).
pub fn control(byte: u8) -> (bool, Mode) {
    let mode = match (byte >> 1) & 3 {
        0 | 3 => Mode::Forged,
        1 => Mode::Honest,
        _ => Mode::Tampered,
    };
    (byte & 1 == 1, mode)
}
