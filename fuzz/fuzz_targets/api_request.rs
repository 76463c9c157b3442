//! What the gateway reads from kiosks (v1): a registration, an insurance check, a heartbeat, an
//! enrolment and a renewal, from JSON bytes. Decoding never panics; every message that decodes
//! re-encodes to one that decodes the same; `validate()` gives the same verdict on the copy and
//! never panics.
#![no_main]

#[path = "json_roundtrip.rs"]
mod json_roundtrip;

use json_roundtrip::round_trip;
use kiosk_api::v1::{EnrolRequest, InsuranceCheckRequest, KioskStatus, Registration, RenewRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(reg) = round_trip::<Registration>("registration", data) {
        let verdict = reg.validate().is_ok();
        let copy: Registration =
            serde_json::from_slice(&serde_json::to_vec(&reg).expect("checked by round_trip"))
                .expect("checked by round_trip");
        assert_eq!(copy.validate().is_ok(), verdict);
        if verdict {
            assert!(!reg.queue_code().is_empty());
        }
    }
    if let Some(check) = round_trip::<InsuranceCheckRequest>("insurance check", data)
        && check.validate().is_ok()
    {
        assert_eq!(check.id_number.len(), 12);
    }
    let _ = round_trip::<KioskStatus>("kiosk status", data);
    let _ = round_trip::<EnrolRequest>("enrol request", data);
    let _ = round_trip::<RenewRequest>("renew request", data);
});
