//! The technician PIN: its rules (4–12 digits), its hash for the config (PHC string, Argon2id)
//! and its verification. Pure CPU: the state machine verifies on the runtime thread, and
//! `kiosk technician hash-pin` makes the hash an operator puts in the config.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// Fewest digits a PIN has.
pub const MIN_DIGITS: usize = 4;
/// Most digits a PIN has (also the keypad's limit on the PIN screen).
pub const MAX_DIGITS: usize = 12;

/// Largest Argon2 memory cost (KiB) a stored hash may ask for: a PIN check on the kiosk must not
/// exhaust its memory, whatever the config says.
const MAX_M_COST_KIB: u32 = 256 * 1024;
/// Largest Argon2 time cost a stored hash may ask for.
const MAX_T_COST: u32 = 16;
/// Largest Argon2 parallelism a stored hash may ask for.
const MAX_P_COST: u32 = 8;
/// Longest hash string looked at.
const MAX_HASH_CHARS: usize = 256;

/// Checks the PIN rules: 4–12 ASCII digits. The error never contains the PIN.
pub fn check_format(pin: &str) -> Result<()> {
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&pin.len()) {
        return Err(Error::Pin {
            reason: "must be 4 to 12 digits long",
        });
    }
    if !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Pin {
            reason: "must contain digits only",
        });
    }
    Ok(())
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `pin` with a fresh random salt and
/// Argon2id's recommended parameters (19 MiB, 2 passes, 1 lane).
pub fn hash(pin: &str) -> Result<String> {
    hash_with(pin, Params::default())
}

/// Like [`hash`] with explicit costs (tests use cheap ones; verification reads them from the
/// string).
pub fn hash_with(pin: &str, params: Params) -> Result<String> {
    check_format(pin)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| Error::Pin {
            reason: "could not be hashed (no system randomness?)",
        })
}

/// Checks that `phc` is an Argon2id hash this kiosk can verify within its bounds; the reason
/// names what is wrong (never the hash).
pub fn check_hash(phc: &str) -> std::result::Result<(), &'static str> {
    parse_bounded(phc).map(|_| ())
}

fn parse_bounded(phc: &str) -> std::result::Result<PasswordHash, &'static str> {
    if phc.len() > MAX_HASH_CHARS {
        return Err("too long to be a PIN hash");
    }
    let parsed = PasswordHash::new(phc).map_err(|_| "not a PHC hash string")?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err("not an argon2id hash");
    }
    let params = Params::try_from(&parsed).map_err(|_| "argon2 parameters unusable")?;
    if params.m_cost() > MAX_M_COST_KIB || params.t_cost() > MAX_T_COST {
        return Err("argon2 costs too high for this kiosk");
    }
    if params.p_cost() > MAX_P_COST {
        return Err("argon2 parallelism too high for this kiosk");
    }
    Ok(parsed)
}

/// Whether `pin` matches the stored hash. A hash that cannot be used (malformed, another
/// algorithm, costs beyond the bounds) matches no PIN.
pub fn verify(phc: &str, pin: &str) -> bool {
    if check_format(pin).is_err() {
        return false;
    }
    let Ok(parsed) = parse_bounded(phc) else {
        return false;
    };
    // The parameters come from the string, not from this instance.
    Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
pub(crate) fn cheap_params() -> Params {
    // The smallest costs Argon2 allows: tests verify many times.
    Params::new(8, 1, 1, None).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_hash_verifies_its_pin_only() {
        let h = hash_with("2468", cheap_params()).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{h}");
        assert!(verify(&h, "2468"));
        assert!(!verify(&h, "2469"));
        assert!(!verify(&h, "24680"));
        assert!(!verify(&h, ""));
        assert_eq!(check_hash(&h), Ok(()));
        // A fresh salt every time.
        assert_ne!(h, hash_with("2468", cheap_params()).unwrap());
    }

    #[test]
    fn the_default_hash_uses_the_recommended_costs() {
        let h = hash("135790").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "135790"));
    }

    #[test]
    fn pin_rules_are_four_to_twelve_digits() {
        for ok in ["0000", "123456789012"] {
            assert!(check_format(ok).is_ok(), "{ok}");
        }
        for bad in ["", "123", "1234567890123", "12a4", "١٢٣٤", " 1234"] {
            let e = check_format(bad).unwrap_err().to_string();
            assert!(e.contains("PIN"), "{e}");
            assert!(hash_with(bad, cheap_params()).is_err(), "{bad}");
        }
    }

    #[test]
    fn unusable_hashes_match_nothing_and_say_why() {
        let weak = "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(check_hash(weak), Err("not an argon2id hash"));
        let costly = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(
            check_hash(costly),
            Err("argon2 costs too high for this kiosk")
        );
        assert_eq!(check_hash("1234"), Err("not a PHC hash string"));
        // The demo's placeholder: its output is too short to be a hash.
        let demo = "$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$ZGVtbw";
        assert!(check_hash(demo).is_err());
        for h in [weak, costly, "1234", demo] {
            assert!(!verify(h, "1234"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn arbitrary_hash_strings_never_panic(s in ".{0,300}", pin in "[0-9]{0,14}") {
            let _ = check_hash(&s);
            let _ = verify(&s, &pin);
            let phc = format!("$argon2id$v=19${s}");
            let _ = verify(&phc, &pin);
        }
    }
}
