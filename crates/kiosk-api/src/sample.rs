//! Fictional sample messages for tests, benchmarks and the demo. Every person here is invented;
//! the ID numbers follow the CCCD layout but belong to nobody.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::macros::date;

use crate::v1::{
    Assurance, Base64Bytes, ChipData, Consent, IdempotencyKey, Identity, IdentityFields,
    IdentitySource, InsuranceDetails, KioskId, Registration, RegistrationKind, Sex, VisitType,
};

/// A fictional citizen read from the chip (verified), with made-up DG bytes.
pub fn chip_identity() -> Identity {
    Identity {
        source: IdentitySource::Chip,
        assurance: Assurance::ChipVerified,
        fields: IdentityFields {
            id_number: "001089012345".into(),
            old_id_number: Some("012345678".into()),
            full_name: "Nguyễn Văn Thử".into(),
            date_of_birth: date!(1989 - 03 - 14),
            sex: Sex::Male,
            place_of_residence: Some("Số 1 Phố Mẫu, Phường Thử, Hà Nội".into()),
            card_issued_on: Some(date!(2021 - 07 - 01)),
        },
        chip: Some(ChipData {
            dg1: bytes(&[0x61, 0x02, 0x5f, 0x1f]),
            dg13: bytes(&[0x6d, 0x02, 0x30, 0x00]),
            sod: bytes(&[0x77, 0x02, 0x30, 0x00]),
        }),
    }
}

fn bytes(b: &[u8]) -> Base64Bytes {
    Base64Bytes::new(b.to_vec()).expect("a few sample bytes are under the cap")
}

/// A clinic visit for [`chip_identity`] at `department`, with a fresh key.
pub fn clinic_registration(kiosk_id: &KioskId, department: &str) -> Registration {
    Registration {
        idempotency_key: IdempotencyKey::new(),
        kiosk_id: kiosk_id.clone(),
        created_at: OffsetDateTime::now_utc(),
        kind: RegistrationKind::ClinicVisit {
            department_code: department.into(),
            visit_type: VisitType::FirstVisit,
            insurance: Some(InsuranceDetails {
                card_number: "DN4010123456789".into(),
                registered_facility: Some("01-001".into()),
                valid_to: Some(date!(2027 - 12 - 31)),
            }),
        },
        identity: chip_identity(),
        consent: Consent {
            data_processing: true,
            health_data: true,
            insurance_check: true,
        },
        provisional_ticket: None,
    }
}

/// A one-stop procedure registration from the VNeID QR, with a fresh key.
pub fn public_service_registration(kiosk_id: &KioskId, procedure: &str) -> Registration {
    let mut identity = chip_identity();
    identity.source = IdentitySource::Vneid;
    identity.assurance = Assurance::QrOnly;
    identity.chip = None;
    let mut answers = BTreeMap::new();
    answers.insert("new_address".to_string(), "Số 2 Phố Mẫu".to_string());
    Registration {
        idempotency_key: IdempotencyKey::new(),
        kiosk_id: kiosk_id.clone(),
        created_at: OffsetDateTime::now_utc(),
        kind: RegistrationKind::PublicService {
            procedure_code: procedure.into(),
            answers,
        },
        identity,
        consent: Consent {
            data_processing: true,
            health_data: false,
            insurance_check: false,
        },
        provisional_ticket: None,
    }
}
