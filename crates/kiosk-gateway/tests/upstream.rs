//! Services behind the gateway: clinic visits forwarded as a FHIR transaction Bundle to a
//! configured endpoint, and insurance checks through the HTTP adapter (mock servers on loopback).

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use common::TestGateway;
use kiosk_api::sample;
use kiosk_api::v1::{InsuranceCheckRequest, InsuranceStatus, SiteKind};
use serde_json::{Value, json};
use time::macros::date;

type Seen = Arc<Mutex<Vec<Value>>>;

/// A plain-HTTP mock that records every JSON body and answers `answer`.
async fn mock(path: &'static str, answer: Value) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = axum::Router::new().route(
        path,
        post(move |Json(body): Json<Value>| {
            let record = Arc::clone(&record);
            let answer = answer.clone();
            async move {
                record.lock().unwrap().push(body);
                Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}{path}"), seen)
}

#[tokio::test]
async fn clinic_visits_are_forwarded_as_fhir_bundles() {
    let (endpoint, seen) = mock(
        "/fhir",
        json!({"resourceType": "Bundle", "type": "transaction-response"}),
    )
    .await;
    let gw = TestGateway::start_with(
        SiteKind::Clinic,
        &format!("[fhir]\nendpoint = \"{endpoint}\"\norganization = \"Organization/bv-01\"\n"),
    )
    .await;
    let (client, kiosk_id, _) = gw.kiosk();
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    client.submit_registration(&reg).await.unwrap();
    // A repeat is answered from the store and not forwarded again.
    client.submit_registration(&reg).await.unwrap();

    let mut bundles = Vec::new();
    for _ in 0..100 {
        bundles = seen.lock().unwrap().clone();
        if !bundles.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(bundles.len(), 1, "exactly one forward");
    let entries = bundles[0]["entry"].as_array().unwrap();
    let encounter = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Encounter")
        .unwrap();
    assert_eq!(
        encounter["request"]["ifNoneExist"],
        format!("identifier=urn:kiosk:submission-id|{}", reg.idempotency_key)
    );
    assert_eq!(
        encounter["resource"]["location"][0]["location"]["display"],
        "P101"
    );
}

#[tokio::test]
async fn failed_forwards_are_retried_with_the_same_conditional_create() {
    // A FHIR server that fails the first request and accepts the rest.
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/fhir",
        post(move |Json(body): Json<Value>| {
            let record = Arc::clone(&record);
            async move {
                let mut seen = record.lock().unwrap();
                seen.push(body);
                if seen.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let gw = TestGateway::start_with(
        SiteKind::Clinic,
        &format!("[fhir]\nendpoint = \"http://{addr}/fhir\"\n"),
    )
    .await;
    let (client, kiosk_id, _) = gw.kiosk();
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    client.submit_registration(&reg).await.unwrap();
    // Wait until the failure is recorded, then retry.
    let mut recorded = false;
    for _ in 0..100 {
        let lines = gw.gateway.state.store.unforwarded().unwrap();
        let failed = lines.len() == 1
            && lines[0]
                .forward_state
                .as_deref()
                .is_some_and(|s| s.starts_with("failed: HTTP 500"));
        if failed && seen.lock().unwrap().len() == 1 {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(recorded);
    let (ok, failed) = kiosk_gateway::ops::retry_fhir(gw.path()).await.unwrap();
    assert_eq!((ok, failed), (1, 0));
    assert!(gw.gateway.state.store.unforwarded().unwrap().is_empty());
    let bundles = seen.lock().unwrap().clone();
    assert_eq!(bundles.len(), 2);
    let condition = |b: &Value| {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["resource"]["resourceType"] == "Encounter")
            .unwrap()["request"]["ifNoneExist"]
            .clone()
    };
    assert_eq!(condition(&bundles[0]), condition(&bundles[1]));
    // Nothing left: a second retry sends nothing.
    assert_eq!(
        kiosk_gateway::ops::retry_fhir(gw.path()).await.unwrap(),
        (0, 0)
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn insurance_checks_go_through_the_http_adapter() {
    let (url, seen) = mock(
        "/bhyt/check",
        json!({"status": "valid", "card_number": "DN4010123456789", "valid_to": "2027-12-31"}),
    )
    .await;
    let gw = TestGateway::start_with(
        SiteKind::Clinic,
        &format!("[insurance]\nadapter = \"http\"\nurl = \"{url}\"\ntimeout_secs = 2\n"),
    )
    .await;
    let (client, _, _) = gw.kiosk();
    let request = InsuranceCheckRequest {
        id_number: "001089012345".into(),
        full_name: "Nguyễn Văn Thử".into(),
        date_of_birth: date!(1989 - 03 - 14),
    };
    let answer = client.check_insurance(&request).await.unwrap();
    assert_eq!(answer.status, InsuranceStatus::Valid);
    assert_eq!(answer.valid_to, Some(date!(2027 - 12 - 31)));
    let asked = seen.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["id_number"], "001089012345");
}

#[tokio::test]
async fn an_unreachable_insurer_answers_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = TestGateway::start_with(
        SiteKind::Clinic,
        &format!("[insurance]\nadapter = \"http\"\nurl = \"http://127.0.0.1:{port}/x\"\ntimeout_secs = 1\n"),
    )
    .await;
    let (client, _, _) = gw.kiosk();
    let request = InsuranceCheckRequest {
        id_number: "001089012345".into(),
        full_name: "Nguyễn Văn Thử".into(),
        date_of_birth: date!(1989 - 03 - 14),
    };
    let answer = client.check_insurance(&request).await.unwrap();
    assert_eq!(answer.status, InsuranceStatus::Unavailable);
}

#[tokio::test]
async fn provisional_numbers_are_kept_alongside() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    let mut reg = sample::clinic_registration(&kiosk_id, "NOI");
    reg.provisional_ticket = Some(kiosk_api::v1::ProvisionalTicket {
        queue: "NOI".into(),
        number: 41,
        issued_at: time::OffsetDateTime::now_utc(),
    });
    let ticket = client.submit_registration(&reg).await.unwrap();
    assert_eq!(
        ticket.number, 1,
        "the gateway numbers it in its own sequence"
    );
    assert_eq!(ticket.provisional_ticket.as_ref().unwrap().number, 41);
    let lines = kiosk_gateway::ops::list_registrations(gw.path(), None, false).unwrap();
    assert_eq!(lines[0].provisional.as_deref(), Some("T-NOI-041"));
}
