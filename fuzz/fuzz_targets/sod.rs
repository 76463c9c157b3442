//! EF.SOD: the CMS and LDSSecurityObject decoding never panics; what decodes is consistent.
#![no_main]

use kiosk_card::lds::sod::Sod;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sod) = Sod::decode(data) {
        let len = sod.hash_algorithm().output_len();
        assert!(sod.dg_hashes().iter().all(|h| h.hash.len() == len));
        assert!(!sod.signers().is_empty());
    }
});
