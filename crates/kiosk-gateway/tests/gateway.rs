//! The gateway end to end over mutual TLS on loopback, through `kiosk-api`'s client: tickets,
//! idempotency, enrolment, identity refusals, catalog, insurance, heartbeat, encryption at rest.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{TestGateway, client_for, raw_client};
use kiosk_api::v1::{
    DeviceHealth, Devices, EnrolRequest, InsuranceCheckRequest, InsuranceCheckResponse,
    InsuranceStatus, KioskStatus, OutboxHealth, RegistrationKind, SiteKind,
};
use kiosk_api::{Error, Timeouts, sample};
use kiosk_gateway::ops;
use time::macros::date;

#[tokio::test]
async fn registration_gets_a_ticket_and_a_repeat_gets_the_same_one() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    let first = client.submit_registration(&reg).await.unwrap();
    assert_eq!(first.number, 1);
    assert_eq!(first.queue, "NOI");
    assert_eq!(first.display, "NOI-001");
    assert_eq!(first.counter_or_room, "P101");
    assert_eq!(first.idempotency_key, reg.idempotency_key);

    let again = client.submit_registration(&reg).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(gw.count(), 1);

    let fetched = client.registration(reg.idempotency_key).await.unwrap();
    assert_eq!(fetched, first);

    let second = client
        .submit_registration(&sample::clinic_registration(&kiosk_id, "NOI"))
        .await
        .unwrap();
    assert_eq!(second.number, 2);
    let other_queue = client
        .submit_registration(&sample::clinic_registration(&kiosk_id, "NHI"))
        .await
        .unwrap();
    assert_eq!(other_queue.number, 1, "each department counts on its own");
}

#[tokio::test]
async fn same_key_with_a_different_body_is_a_permanent_422() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    client.submit_registration(&reg).await.unwrap();
    let mut changed = reg.clone();
    changed.kind = RegistrationKind::ClinicVisit {
        department_code: "NHI".into(),
        visit_type: kiosk_api::v1::VisitType::FollowUp,
        insurance: None,
    };
    match client.submit_registration(&changed).await {
        Err(Error::Permanent {
            status: 422,
            reason,
        }) => {
            assert!(reason.contains("idempotency_conflict"), "{reason}")
        }
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(gw.count(), 1);
}

#[tokio::test]
async fn a_provisional_number_sent_with_a_retry_is_kept_and_replayed() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    // The kiosk enqueued the registration before it knew it was offline: the first body that
    // arrives has no provisional number (say its answer was lost on the way back).
    let first = client.submit_registration(&reg).await.unwrap();
    assert_eq!(first.provisional_ticket, None);

    let provisional = kiosk_api::v1::ProvisionalTicket {
        queue: "NOI".into(),
        number: 3,
        issued_at: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap(),
    };
    let mut with = reg.clone();
    with.provisional_ticket = Some(provisional.clone());
    let answered = client.submit_registration(&with).await.unwrap();
    assert_eq!(answered.provisional_ticket.as_ref(), Some(&provisional));
    let mut expected = first.clone();
    expected.provisional_ticket = Some(provisional.clone());
    assert_eq!(answered, expected, "only the provisional number was added");

    // Plain retries and retries with the number get the same stored answer, never 422.
    assert_eq!(client.submit_registration(&reg).await.unwrap(), expected);
    assert_eq!(client.submit_registration(&with).await.unwrap(), expected);
    // Another number under the same key never replaces the first.
    let mut other = reg.clone();
    other.provisional_ticket = Some(kiosk_api::v1::ProvisionalTicket {
        number: 8,
        ..provisional.clone()
    });
    assert_eq!(client.submit_registration(&other).await.unwrap(), expected);

    assert_eq!(
        client.registration(reg.idempotency_key).await.unwrap(),
        expected
    );
    let lines = ops::list_registrations(gw.path(), None, false).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].provisional.as_deref(), Some("T-NOI-003"));
    assert_eq!(gw.count(), 1);

    // The rule is only about the provisional number: any other change is still a conflict.
    let mut changed = with.clone();
    changed.consent.insurance_check = !changed.consent.insurance_check;
    assert!(
        matches!(
            client.submit_registration(&changed).await,
            Err(Error::Permanent { status: 422, .. })
        ),
        "a changed body with a provisional number is still 422"
    );
}

#[tokio::test]
async fn concurrent_duplicates_give_one_ticket_or_409() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let client = client.clone();
        let reg = reg.clone();
        tasks.spawn(async move { client.submit_registration(&reg).await });
    }
    let mut tickets = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(t) => tickets.push(t),
            Err(Error::Retryable { reason, .. }) => assert!(reason.contains("409"), "{reason}"),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(!tickets.is_empty());
    assert!(tickets.iter().all(|t| t == &tickets[0] && t.number == 1));
    assert_eq!(gw.count(), 1);
}

#[tokio::test]
async fn twenty_kiosks_times_two_hundred_get_unique_gap_free_numbers() {
    const KIOSKS: usize = 20;
    const EACH: usize = 200;
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..KIOSKS {
        let (client, kiosk_id, _) = gw.kiosk();
        tasks.spawn(async move {
            let mut out = Vec::with_capacity(EACH);
            for i in 0..EACH {
                let dept = if (k + i) % 2 == 0 { "NOI" } else { "NHI" };
                let reg = sample::clinic_registration(&kiosk_id, dept);
                let t = client.submit_registration(&reg).await.unwrap();
                assert_eq!(t.queue, dept);
                out.push((t.queue.clone(), t.number));
            }
            out
        });
    }
    let mut by_queue: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    while let Some(r) = tasks.join_next().await {
        for (q, n) in r.unwrap() {
            by_queue.entry(q).or_default().push(n);
        }
    }
    let mut total = 0;
    for (queue, mut numbers) in by_queue {
        numbers.sort_unstable();
        let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
        assert_eq!(numbers, expected, "queue {queue}: duplicates or gaps");
        total += numbers.len();
    }
    assert_eq!(total, KIOSKS * EACH);
    assert_eq!(gw.count(), (KIOSKS * EACH) as u64);
}

#[tokio::test]
async fn enrolment_with_token_and_csr_then_single_use() {
    let gw = TestGateway::start(SiteKind::OneStop).await;
    let token = ops::create_token(gw.path(), Some("site1"), Some(SiteKind::OneStop)).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let request = EnrolRequest {
        token: token.token.clone(),
        csr_pem: csr,
        label: Some("Sảnh A".into()),
    };
    let enrolled = kiosk_api::enrol(
        &gw.url(),
        &token.qr.ca_sha256,
        &request,
        Timeouts::default(),
    )
    .await
    .unwrap();
    assert!(enrolled.kiosk_id.as_str().starts_with("site1-"));
    assert_eq!(enrolled.config.site_kind, SiteKind::OneStop);

    // The new certificate works for a protected call.
    let creds = ops::KioskCredentials {
        kiosk_id: enrolled.kiosk_id.to_string(),
        cert_pem: enrolled.certificate_pem.clone(),
        key_pem: key.serialize_pem(),
        ca_pem: enrolled.ca_certificate_pem.clone(),
    };
    let client = client_for(&gw.url(), &creds);
    let reg = sample::public_service_registration(&enrolled.kiosk_id, "1.001");
    let ticket = client.submit_registration(&reg).await.unwrap();
    assert_eq!(ticket.counter_or_room, "Q01");

    // The token is spent.
    match kiosk_api::enrol(
        &gw.url(),
        &token.qr.ca_sha256,
        &request,
        Timeouts::default(),
    )
    .await
    {
        Err(Error::Refused { reason }) => assert!(reason.contains("token_invalid"), "{reason}"),
        other => panic!("expected refusal, got {other:?}"),
    }
    // A wrong fingerprint refuses the server before any token is sent.
    let fresh = ops::create_token(gw.path(), None, None).unwrap();
    let wrong = "00".repeat(32);
    let request2 = EnrolRequest {
        token: fresh.token,
        ..request
    };
    assert!(matches!(
        kiosk_api::enrol(&gw.url(), &wrong, &request2, Timeouts::default()).await,
        Err(Error::Refused { .. })
    ));
}

#[tokio::test]
async fn an_enrolled_kiosk_renews_its_certificate() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, creds) = gw.kiosk();
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let renewed = client
        .renew(&kiosk_api::v1::RenewRequest {
            csr_pem: csr.clone(),
        })
        .await
        .unwrap();
    assert_eq!(renewed.kiosk_id, kiosk_id);
    let new_client = client_for(
        &gw.url(),
        &ops::KioskCredentials {
            cert_pem: renewed.certificate_pem.clone(),
            key_pem: key.serialize_pem(),
            ..creds
        },
    );
    let info = new_client
        .send_status(&KioskStatus {
            sent_at: time::OffsetDateTime::now_utc(),
            software_version: "0.1.0".into(),
            devices: Devices {
                card_reader: DeviceHealth::Ok,
                camera: DeviceHealth::Ok,
                printer: DeviceHealth::Ok,
            },
            outbox: OutboxHealth {
                depth: 0,
                oldest_age_seconds: None,
                dead_letters: 0,
                last_error: None,
            },
        })
        .await
        .unwrap();
    assert_eq!(info.kiosk_id, kiosk_id);
    let expected_serial = kiosk_gateway::server::PeerCert::from_der(
        kiosk_api::pin::certs_from_pem(&renewed.certificate_pem).unwrap()[0].as_ref(),
    )
    .unwrap()
    .serial;
    assert_eq!(info.certificate_serial, expected_serial);

    // A bad CSR is refused and a revoked kiosk cannot renew.
    let bad = client
        .renew(&kiosk_api::v1::RenewRequest {
            csr_pem: "junk".into(),
        })
        .await;
    assert!(
        matches!(bad, Err(Error::Permanent { status: 422, .. })),
        "{bad:?}"
    );
    ops::revoke(gw.path(), kiosk_id.as_str()).unwrap();
    let revoked = new_client
        .renew(&kiosk_api::v1::RenewRequest { csr_pem: csr })
        .await;
    assert!(matches!(revoked, Err(Error::Refused { .. })), "{revoked:?}");
}

#[tokio::test]
async fn identity_problems_are_refused() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, creds) = gw.kiosk();

    // No client certificate: 401 on every route but enrolment.
    let anonymous = raw_client(&creds, false);
    let key = kiosk_api::v1::IdempotencyKey::new();
    for (method, path) in [
        ("GET", "/v1/catalog".to_string()),
        ("GET", format!("/v1/registrations/{key}")),
        ("POST", "/v1/registrations".to_string()),
        ("POST", "/v1/insurance/check".to_string()),
        ("POST", "/v1/status".to_string()),
        ("POST", "/v1/renew".to_string()),
    ] {
        let url = format!("{}{path}", gw.url());
        let request = if method == "GET" {
            anonymous.get(url)
        } else {
            anonymous
                .post(url)
                .header("content-type", "application/json")
                .body("{}")
        };
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    let r = anonymous
        .post(format!("{}/v1/enrol", gw.url()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "enrolment is reachable without a certificate"
    );

    // Revoked: every call refused, nothing stored.
    assert!(ops::revoke(gw.path(), kiosk_id.as_str()).unwrap());
    let reg = sample::clinic_registration(&kiosk_id, "NOI");
    match client.submit_registration(&reg).await {
        Err(Error::Refused { reason }) => assert!(reason.contains("kiosk_revoked"), "{reason}"),
        other => panic!("expected refusal, got {other:?}"),
    }
    assert_eq!(gw.count(), 0);

    // A gateway whose certificate is from another CA: refused at TLS.
    let other = TestGateway::start(SiteKind::Clinic).await;
    let (_, _, other_creds) = other.kiosk();
    let mismatched = client_for(
        &gw.url(),
        &ops::KioskCredentials {
            ca_pem: other_creds.ca_pem.clone(),
            ..other_creds
        },
    );
    match mismatched.catalog().await {
        Err(Error::Refused { reason }) => assert!(reason.contains("not trusted"), "{reason}"),
        other => panic!("expected refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_gateway_is_retryable() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (_, kiosk_id, creds) = gw.kiosk();
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client_for(&format!("https://127.0.0.1:{port}"), &creds);
    let err = client
        .submit_registration(&sample::clinic_registration(&kiosk_id, "NOI"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn catalog_insurance_and_heartbeat() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    let catalog = client.catalog().await.unwrap();
    assert_eq!(catalog.site_id, "site1");
    assert!(catalog.departments.iter().any(|d| d.code == "NOI"));

    ops::add_insurance_card(
        gw.path(),
        "001089012345",
        &InsuranceCheckResponse {
            status: InsuranceStatus::Valid,
            card_number: Some("DN4010123456789".into()),
            registered_facility: Some("01-001".into()),
            valid_from: Some(date!(2026 - 01 - 01)),
            valid_to: Some(date!(2027 - 12 - 31)),
        },
    )
    .unwrap();
    let known = InsuranceCheckRequest {
        id_number: "001089012345".into(),
        full_name: "Nguyễn Văn Thử".into(),
        date_of_birth: date!(1989 - 03 - 14),
    };
    let answer = client.check_insurance(&known).await.unwrap();
    assert_eq!(answer.status, InsuranceStatus::Valid);
    assert_eq!(answer.card_number.as_deref(), Some("DN4010123456789"));
    let unknown = InsuranceCheckRequest {
        id_number: "079200000001".into(),
        full_name: "Trần Thị Mẫu".into(),
        date_of_birth: date!(1990 - 01 - 01),
    };
    assert_eq!(
        client.check_insurance(&unknown).await.unwrap().status,
        InsuranceStatus::NotFound
    );

    let info = client
        .send_status(&KioskStatus {
            sent_at: time::OffsetDateTime::now_utc(),
            software_version: "0.1.0".into(),
            devices: Devices {
                card_reader: DeviceHealth::Ok,
                camera: DeviceHealth::Ok,
                printer: DeviceHealth::Failed,
            },
            outbox: OutboxHealth {
                depth: 3,
                oldest_age_seconds: Some(12),
                dead_letters: 1,
                last_error: None,
            },
        })
        .await
        .unwrap();
    assert_eq!(info.kiosk_id, kiosk_id);
    let listed = ops::list_kiosks(gw.path()).unwrap();
    let me = listed
        .iter()
        .find(|k| k.kiosk == kiosk_id.as_str())
        .unwrap();
    assert_eq!(me.last_status.as_ref().unwrap()["outbox"]["depth"], 3);
    assert_eq!(
        me.last_status.as_ref().unwrap()["devices"]["printer"],
        "failed"
    );
}

#[tokio::test]
async fn nothing_personal_is_readable_in_the_state_directory() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, kiosk_id, _) = gw.kiosk();
    for _ in 0..5 {
        client
            .submit_registration(&sample::clinic_registration(&kiosk_id, "NOI"))
            .await
            .unwrap();
    }
    ops::add_insurance_card(
        gw.path(),
        "001089012345",
        &InsuranceCheckResponse {
            status: InsuranceStatus::Valid,
            card_number: Some("DN4010123456789".into()),
            registered_facility: None,
            valid_from: None,
            valid_to: None,
        },
    )
    .unwrap();
    let needles: [&[u8]; 4] = [
        b"001089012345",
        "Nguyễn Văn Thử".as_bytes(),
        b"DN4010123456789",
        "Phố Mẫu".as_bytes(),
    ];
    let mut files = 0;
    for entry in std::fs::read_dir(gw.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n),
                "{} contains personal data",
                path.display()
            );
        }
    }
    assert!(files >= 5, "expected db, wal, keys and config; saw {files}");
    use std::os::unix::fs::PermissionsExt;
    for secret in ["ca.key", "server.key", "data.key"] {
        let mode = std::fs::metadata(gw.path().join(secret))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{secret}");
    }

    // The operator can still read them back with --with-identity.
    let lines = ops::list_registrations(gw.path(), None, true).unwrap();
    assert_eq!(lines.len(), 5);
    assert_eq!(
        lines[0]
            .registration
            .as_ref()
            .unwrap()
            .identity
            .fields
            .id_number,
        "001089012345"
    );
    let plain = ops::list_registrations(gw.path(), None, false).unwrap();
    assert!(plain.iter().all(|l| l.registration.is_none()));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let gw = TestGateway::start(SiteKind::Clinic).await;
    let (client, _, _) = gw.kiosk();
    client.catalog().await.unwrap();
    let TestGateway { dir: _dir, gateway } = gw;
    gateway.shutdown().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(client.catalog().await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_and_retryable() {
    let gw = TestGateway::start_edited(SiteKind::Clinic, |t| {
        t.replace(
            "max_body_bytes = 262144",
            "max_body_bytes = 262144\nmax_connections = 1\nhandshake_timeout_secs = 2",
        )
    })
    .await;
    let (client, _, _) = gw.kiosk();
    // A silent client holds the only slot until its handshake times out.
    let hog = tokio::net::TcpStream::connect(gw.gateway.addr)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = client.catalog().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    drop(hog);
    // Once the slot is free again, calls succeed.
    let mut served = false;
    for _ in 0..50 {
        if client.catalog().await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served);
}
