//! Passive authentication over a fuzzed EF.SOD: whatever decodes runs through the hash,
//! signature and chain checks (empty trust store) and yields a report, never a panic; without
//! a trust anchor it can never be "passed".
#![no_main]

use std::time::SystemTime;

use kiosk_card::lds::sod::Sod;
use kiosk_card::pa::passive_authentication;
use kiosk_card::pa::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sod) = Sod::decode(data) {
        let v = passive_authentication(&sod, &[(1, data)], &TrustStore::new(), SystemTime::now());
        assert!(!v.passive_authentication_passed());
        assert!(!v.ds_certificate_chain.is_passed());
    }
});
