//! The v1 types: round trips, strictness, validation, and that arbitrary input never panics.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use kiosk_api::v1::*;
use proptest::prelude::*;
use time::macros::{date, datetime};

fn chip_registration() -> Registration {
    Registration {
        idempotency_key: IdempotencyKey::new(),
        kiosk_id: KioskId::new("kiosk-01").unwrap(),
        created_at: datetime!(2026-11-26 08:15:00 +07:00),
        kind: RegistrationKind::ClinicVisit {
            department_code: "NOI".into(),
            visit_type: VisitType::FirstVisit,
            insurance: Some(InsuranceDetails {
                card_number: "DN4010123456789".into(),
                registered_facility: Some("01-001".into()),
                valid_to: Some(date!(2026 - 12 - 31)),
            }),
        },
        identity: Identity {
            source: IdentitySource::Chip,
            assurance: Assurance::ChipVerified,
            fields: IdentityFields {
                id_number: "001089012345".into(),
                old_id_number: None,
                full_name: "Nguyễn Văn Thử".into(),
                date_of_birth: date!(1989 - 03 - 14),
                sex: Sex::Male,
                place_of_residence: Some("Hà Nội".into()),
                card_issued_on: None,
            },
            chip: Some(ChipData {
                dg1: Base64Bytes::new(vec![0x61, 0x03, 0x5f, 0x1f, 0x00]).unwrap(),
                dg13: Base64Bytes::new(vec![0x6d, 0x00]).unwrap(),
                sod: Base64Bytes::new(vec![0x77, 0x00]).unwrap(),
            }),
        },
        consent: Consent {
            data_processing: true,
            health_data: true,
            insurance_check: true,
        },
        provisional_ticket: None,
    }
}

#[test]
fn registration_round_trips_through_json() {
    let reg = chip_registration();
    reg.validate().unwrap();
    let json = serde_json::to_string(&reg).unwrap();
    let back: Registration = serde_json::from_str(&json).unwrap();
    assert_eq!(back, reg);
    assert!(json.contains(r#""type":"clinic_visit""#), "{json}");
    assert!(json.contains(r#""level":"chip_verified""#), "{json}");
    assert!(json.contains(r#""date_of_birth":"1989-03-14""#), "{json}");
}

#[test]
fn unknown_fields_are_rejected_in_registrations() {
    let reg = chip_registration();
    let mut value = serde_json::to_value(&reg).unwrap();
    value["identity"]["fields"]["nickname"] = "x".into();
    let err = serde_json::from_value::<Registration>(value).unwrap_err();
    assert!(err.to_string().contains("nickname"), "{err}");
}

#[test]
fn non_v7_keys_and_bad_dates_are_rejected() {
    let reg = chip_registration();
    let mut value = serde_json::to_value(&reg).unwrap();
    value["idempotency_key"] = "6f1c2a36-8a8e-4f7e-9a55-2f1f3c9e0a11".into();
    let err = serde_json::from_value::<Registration>(value).unwrap_err();
    assert!(err.to_string().contains("UUIDv7"), "{err}");

    let mut value = serde_json::to_value(&reg).unwrap();
    value["identity"]["fields"]["date_of_birth"] = "1989-02-30".into();
    assert!(serde_json::from_value::<Registration>(value).is_err());
}

#[test]
fn validation_names_the_field() {
    let mut reg = chip_registration();
    reg.identity.fields.id_number = "12345".into();
    let err = reg.validate().unwrap_err().to_string();
    assert!(err.contains("identity.fields.id_number"), "{err}");
    assert!(!err.contains("12345"), "must not echo the ID: {err}");

    let mut reg = chip_registration();
    reg.identity.chip = None;
    assert!(
        reg.validate()
            .unwrap_err()
            .to_string()
            .contains("identity.chip")
    );

    let mut reg = chip_registration();
    reg.identity.assurance = Assurance::QrOnly;
    assert!(
        reg.validate()
            .unwrap_err()
            .to_string()
            .contains("assurance")
    );

    let mut reg = chip_registration();
    reg.consent.health_data = false;
    assert!(
        reg.validate()
            .unwrap_err()
            .to_string()
            .contains("health_data")
    );
}

#[test]
fn debug_output_hides_personal_data() {
    let reg = chip_registration();
    let text = format!("{reg:?}");
    assert!(!text.contains("001089012345"), "{text}");
    assert!(!text.contains("Nguyễn"), "{text}");
    assert!(!text.contains("DN4010123456789"), "{text}");
    assert!(text.contains("0010******45"), "{text}");
}

#[test]
fn oversized_chip_files_are_rejected() {
    assert!(Base64Bytes::new(vec![0; MAX_CHIP_FILE_BYTES + 1]).is_err());
    let big = format!("\"{}\"", "A".repeat(MAX_CHIP_FILE_BYTES * 2));
    assert!(serde_json::from_str::<Base64Bytes>(&big).is_err());
}

#[test]
fn enrolment_qr_is_written_in_the_kiosk_qr_format() {
    let qr = EnrolmentQr {
        gateway_url: "https://gw.example:8443".into(),
        token: "0123456789abcdef0123456789abcdef".into(),
        ca_sha256: "ab".repeat(32),
        site: "bv-hn01".into(),
        kind: SiteKind::OneStop,
    };
    assert_eq!(
        qr.to_payload(),
        format!(
            "kiosk-enrol:v1?gw=https%3A%2F%2Fgw.example%3A8443&tok=0123456789abcdef0123456789abcdef\
             &ca={}&site=bv-hn01&kind=one-stop",
            "ab".repeat(32)
        )
    );
    assert!(
        !format!("{qr:?}").contains("0123456789abcdef"),
        "Debug hides the token"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(reg) = serde_json::from_slice::<Registration>(&bytes) {
            let _ = reg.validate();
        }
        let _ = serde_json::from_slice::<Ticket>(&bytes);
        let _ = serde_json::from_slice::<Catalog>(&bytes);
    }

    #[test]
    fn answers_round_trip(answers in proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{0,40}", 0..8),
                         code in "[A-Z0-9]{1,10}") {
        let mut reg = chip_registration();
        reg.kind = RegistrationKind::PublicService { procedure_code: code, answers };
        let json = serde_json::to_vec(&reg).unwrap();
        let back: Registration = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back, reg);
    }
}

proptest! {
    #[test]
    fn trust_material_parsers_never_panic(text in "\\PC{0,300}") {
        let _ = kiosk_api::pin::parse_fingerprint(&text);
        let _ = kiosk_api::pin::certs_from_pem(&text);
        let _ = kiosk_api::pin::key_from_pem(&text);
        let _ = kiosk_api::client::parse_retry_after(&text, std::time::SystemTime::now());
    }

    #[test]
    fn retry_after_seconds_are_clamped(secs in any::<u64>()) {
        let d = kiosk_api::client::parse_retry_after(&secs.to_string(), std::time::SystemTime::now())
            .unwrap();
        prop_assert!(d <= kiosk_api::client::MAX_RETRY_AFTER);
        prop_assert_eq!(d.as_secs(), secs.min(kiosk_api::client::MAX_RETRY_AFTER.as_secs()));
    }
}
