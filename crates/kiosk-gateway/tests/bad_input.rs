//! Bad input to the gateway: every malformed request gets a 4xx with a reason that names the
//! problem (never the submitted value), and nothing is stored.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestGateway, raw_client};
use kiosk_api::sample;
use kiosk_api::v1::{ApiError, SiteKind};
use rand::{Rng, SeedableRng};

struct Answer {
    status: u16,
    error: ApiError,
}

async fn post(client: &reqwest::Client, url: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let r = client
        .post(format!("{url}/v1/registrations"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let error = serde_json::from_slice(&bytes).unwrap_or(ApiError {
        error: String::new(),
        reason: String::from_utf8_lossy(&bytes).into_owned(),
    });
    Answer { status, error }
}

fn assert_rejected(a: &Answer, status: u16, code: &str, reason_part: &str) {
    assert_eq!(a.status, status, "{}: {}", a.error.error, a.error.reason);
    assert_eq!(a.error.error, code, "{}", a.error.reason);
    assert!(
        a.error.reason.contains(reason_part),
        "reason {:?} should mention {reason_part:?}",
        a.error.reason
    );
    assert!(
        !a.error.reason.contains("001089012345"),
        "reason leaks the ID"
    );
}

#[tokio::test]
async fn malformed_registrations_get_4xx_with_reasons_and_change_nothing() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (_, kiosk_id, creds) = gw.kiosk();
    let http = raw_client(&creds, true);
    let url = gw.url();
    let valid = serde_json::to_value(sample::clinic_registration(&kiosk_id, "NOI")).unwrap();
    let json = "application/json";

    // Oversized body.
    let mut big = valid.clone();
    big["identity"]["fields"]["full_name"] = "A".repeat(300 * 1024).into();
    let a = post(&http, &url, json, serde_json::to_vec(&big).unwrap()).await;
    assert_rejected(&a, 413, "body_too_large", "exceeds");

    // Wrong type.
    let mut wrong = valid.clone();
    wrong["identity"]["fields"]["id_number"] = 1089012345u64.into();
    let a = post(&http, &url, json, serde_json::to_vec(&wrong).unwrap()).await;
    assert_rejected(&a, 400, "invalid_json", "identity.fields.id_number");
    assert!(!a.error.reason.contains("1089012345"), "{}", a.error.reason);

    // Unknown field in a strict place.
    let mut unknown = valid.clone();
    unknown["identity"]["fields"]["nickname"] = "Tí".into();
    let a = post(&http, &url, json, serde_json::to_vec(&unknown).unwrap()).await;
    assert_rejected(&a, 400, "invalid_json", "nickname");

    // Impossible date.
    let mut date = valid.clone();
    date["identity"]["fields"]["date_of_birth"] = "1989-02-30".into();
    let a = post(&http, &url, json, serde_json::to_vec(&date).unwrap()).await;
    assert_rejected(&a, 400, "invalid_json", "identity.fields.date_of_birth");

    // Invalid UTF-8.
    let mut bytes = serde_json::to_vec(&valid).unwrap();
    let at = bytes.windows(3).position(|w| w == b"Ngu").unwrap();
    bytes[at] = 0xff;
    let a = post(&http, &url, json, bytes).await;
    assert_rejected(&a, 400, "invalid_utf8", "UTF-8");

    // Not JSON at all, and trailing garbage.
    let a = post(&http, &url, json, b"hello".to_vec()).await;
    assert_rejected(&a, 400, "invalid_json", "expected");
    let mut trailing = serde_json::to_vec(&valid).unwrap();
    trailing.extend_from_slice(b" {}");
    let a = post(&http, &url, json, trailing).await;
    assert_rejected(&a, 400, "invalid_json", "trailing");

    // Wrong content type.
    let a = post(
        &http,
        &url,
        "text/plain",
        serde_json::to_vec(&valid).unwrap(),
    )
    .await;
    assert_rejected(&a, 415, "unsupported_media_type", "application/json");

    // Well-formed but invalid: contract validation (422).
    let mut short = valid.clone();
    short["identity"]["fields"]["id_number"] = "00108901234".into();
    let a = post(&http, &url, json, serde_json::to_vec(&short).unwrap()).await;
    assert_rejected(&a, 422, "invalid", "12 digits");

    let mut dept = valid.clone();
    dept["kind"]["department_code"] = "XYZ".into();
    let a = post(&http, &url, json, serde_json::to_vec(&dept).unwrap()).await;
    assert_rejected(&a, 422, "unknown_queue", "catalog");

    let mut v4 = valid.clone();
    v4["idempotency_key"] = "6f1c2a36-8a8e-4f7e-9a55-2f1f3c9e0a11".into();
    let a = post(&http, &url, json, serde_json::to_vec(&v4).unwrap()).await;
    assert_rejected(&a, 400, "invalid_json", "UUIDv7");

    // Another kiosk's id in the body.
    let mut other = valid.clone();
    other["kiosk_id"] = "someone-else".into();
    let a = post(&http, &url, json, serde_json::to_vec(&other).unwrap()).await;
    assert_rejected(&a, 403, "kiosk_mismatch", "certificate");

    // Bad path parameter.
    let r = http
        .get(format!("{url}/v1/registrations/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    assert_eq!(gw.count(), 0, "bad input must change nothing");

    // And the valid one still goes through.
    let a = post(&http, &url, json, serde_json::to_vec(&valid).unwrap()).await;
    assert_eq!(a.status, 201);
    assert_eq!(gw.count(), 1);
}

#[tokio::test]
async fn mutated_bodies_never_cause_5xx_and_rejections_store_nothing() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (_, kiosk_id, creds) = gw.kiosk();
    let http = raw_client(&creds, true);
    let url = gw.url();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6b696f736b);
    for round in 0..150 {
        let reg = sample::clinic_registration(&kiosk_id, "NOI");
        let mut body = serde_json::to_vec(&reg).unwrap();
        match round % 3 {
            0 => {
                for _ in 0..rng.random_range(1..6) {
                    let i = rng.random_range(0..body.len());
                    body[i] = rng.random();
                }
            }
            1 => body.truncate(rng.random_range(0..body.len())),
            _ => {
                let i = rng.random_range(0..body.len());
                let junk: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
                body.splice(i..i, junk);
            }
        }
        let before = gw.count();
        let a = post(&http, &url, "application/json", body).await;
        assert!(
            a.status < 500,
            "round {round}: {} {}",
            a.status,
            a.error.reason
        );
        if a.status >= 400 {
            assert!(
                !a.error.reason.is_empty(),
                "round {round}: 4xx without reason"
            );
            assert_eq!(gw.count(), before, "round {round}: rejected but stored");
        }
    }
}
