//! The FHIR R4 transaction Bundle for a clinic visit.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use kiosk_api::sample;
use kiosk_api::v1::{KioskId, Ticket};
use kiosk_gateway::config::FhirConfig;
use kiosk_gateway::fhir::{self, SID_CITIZEN_ID, SID_INSURANCE_NUMBER, SID_NATIONAL_ID};
use time::macros::{date, datetime};

fn config() -> FhirConfig {
    FhirConfig {
        endpoint: "https://his.example/fhir".into(),
        timeout_secs: 5,
        submission_system: "urn:kiosk:submission-id".into(),
        organization: Some("Organization/bv-01".into()),
        ca_file: None,
    }
}

fn ticket(reg: &kiosk_api::v1::Registration) -> Ticket {
    Ticket {
        idempotency_key: reg.idempotency_key,
        queue: "NOI".into(),
        number: 3,
        display: "NOI-003".into(),
        counter_or_room: "P101".into(),
        estimated_wait_minutes: 10,
        service_day: date!(2026 - 11 - 26),
        issued_at: datetime!(2026-11-26 01:00 UTC),
        provisional_ticket: None,
    }
}

#[test]
fn clinic_visit_bundle_has_patient_coverage_and_conditional_encounter() {
    let kiosk = KioskId::new("k1").unwrap();
    let reg = sample::clinic_registration(&kiosk, "NOI");
    let bundle = fhir::transaction_bundle(&reg, &ticket(&reg), &config()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "transaction");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);

    let patient = &entries[0];
    assert_eq!(patient["resource"]["resourceType"], "Patient");
    let ids = patient["resource"]["identifier"].as_array().unwrap();
    assert_eq!(ids[0]["system"], SID_NATIONAL_ID);
    assert_eq!(ids[0]["value"], "001089012345");
    assert_eq!(ids[0]["type"]["coding"][0]["code"], "NI");
    assert_eq!(ids[1]["system"], SID_CITIZEN_ID);
    assert_eq!(patient["resource"]["birthDate"], "1989-03-14");
    assert_eq!(patient["resource"]["gender"], "male");
    assert_eq!(
        patient["request"]["ifNoneExist"],
        format!("identifier={SID_NATIONAL_ID}|001089012345")
    );

    let coverage = &entries[1];
    assert_eq!(coverage["resource"]["resourceType"], "Coverage");
    assert_eq!(
        coverage["resource"]["identifier"][0]["system"],
        SID_INSURANCE_NUMBER
    );
    assert_eq!(
        coverage["resource"]["identifier"][0]["type"]["coding"][0]["code"],
        "SB"
    );
    assert_eq!(
        coverage["resource"]["beneficiary"]["reference"],
        patient["fullUrl"]
    );
    assert_eq!(coverage["resource"]["period"]["end"], "2027-12-31");

    let encounter = &entries[2];
    let key = reg.idempotency_key.to_string();
    assert_eq!(encounter["resource"]["status"], "arrived");
    assert_eq!(encounter["resource"]["class"]["code"], "AMB");
    assert_eq!(
        encounter["resource"]["subject"]["reference"],
        patient["fullUrl"]
    );
    assert_eq!(encounter["resource"]["identifier"][0]["value"], key);
    assert_eq!(encounter["request"]["method"], "POST");
    assert_eq!(
        encounter["request"]["ifNoneExist"],
        format!("identifier=urn:kiosk:submission-id|{key}")
    );
    assert_eq!(
        encounter["resource"]["serviceProvider"]["reference"],
        "Organization/bv-01"
    );
    assert_eq!(
        encounter["resource"]["location"][0]["location"]["display"],
        "P101"
    );
}

#[test]
fn public_service_has_no_bundle_and_no_insurance_means_no_coverage() {
    let kiosk = KioskId::new("k1").unwrap();
    let reg = sample::public_service_registration(&kiosk, "1.001");
    assert!(fhir::transaction_bundle(&reg, &ticket(&reg), &config()).is_none());

    let mut visit = sample::clinic_registration(&kiosk, "NOI");
    if let kiosk_api::v1::RegistrationKind::ClinicVisit { insurance, .. } = &mut visit.kind {
        *insurance = None;
    }
    let bundle = fhir::transaction_bundle(&visit, &ticket(&visit), &config()).unwrap();
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Patient", "Encounter"]);
}
