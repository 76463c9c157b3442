//! What the kiosk reads from the gateway (v1): tickets, catalogs, insurance answers, enrolment
//! answers, heartbeat answers and error bodies, from JSON bytes (each decoded value round-trips);
//! then the client's classification of a non-2xx answer and its `Retry-After` parsing.
//!
//! Input for the classification: `status(2) ‖ body`; the whole input as text for Retry-After.
//! Checks: 401/403 are `Refused`, other 4xx except 408/409/425/429 `Permanent`, the rest
//! `Retryable` carrying the given delay; a Retry-After never exceeds `MAX_RETRY_AFTER`, and plain
//! seconds are taken as such.
#![no_main]

#[path = "json_roundtrip.rs"]
mod json_roundtrip;

use std::time::{Duration, SystemTime};

use json_roundtrip::round_trip;
use kiosk_api::Error;
use kiosk_api::client::{MAX_RETRY_AFTER, classify_status, parse_retry_after};
use kiosk_api::v1::{ApiError, Catalog, EnrolResponse, InsuranceCheckResponse, KioskInfo, Ticket};
use libfuzzer_sys::fuzz_target;
use reqwest::StatusCode;

fuzz_target!(|data: &[u8]| {
    let _ = round_trip::<Ticket>("ticket", data);
    let _ = round_trip::<Catalog>("catalog", data);
    let _ = round_trip::<InsuranceCheckResponse>("insurance answer", data);
    let _ = round_trip::<EnrolResponse>("enrol answer", data);
    let _ = round_trip::<KioskInfo>("kiosk info", data);
    let _ = round_trip::<ApiError>("error body", data);

    if let [hi, lo, body @ ..] = data
        && let Ok(status) = StatusCode::from_u16(u16::from_be_bytes([*hi, *lo]))
        && !status.is_success()
    {
        let delay = Some(Duration::from_secs(7));
        let code = status.as_u16();
        match classify_status(status, delay, body) {
            Error::Refused { .. } => assert!(code == 401 || code == 403),
            Error::Permanent { status, .. } => {
                assert_eq!(status, code);
                assert!((400..500).contains(&code));
                assert!(![401, 403, 408, 409, 425, 429].contains(&code));
            }
            Error::Retryable { retry_after, .. } => {
                assert_eq!(retry_after, delay);
                assert!(!(400..500).contains(&code) || [408, 409, 425, 429].contains(&code));
            }
            other => panic!("unexpected classification {other:?}"),
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        if let Some(delay) = parse_retry_after(text, now) {
            assert!(delay <= MAX_RETRY_AFTER);
            if let Ok(secs) = text.trim().parse::<u64>() {
                assert_eq!(delay, Duration::from_secs(secs).min(MAX_RETRY_AFTER));
            }
        }
    }
});
