//! The HL7 FHIR R4 transaction Bundle for a clinic visit: Patient (VN Core identifier systems),
//! Coverage (BHYT card) and Encounter (`arrived`, class `AMB`), each a conditional create, the
//! Encounter keyed on the kiosk's submission id so a retry can never create a second one.

use kiosk_api::v1::{Registration, RegistrationKind, Sex, Ticket};
use reqwest::header;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::FhirConfig;

/// VN Core: the 12-digit CCCD number.
pub const SID_NATIONAL_ID: &str = "http://fhir.ehealth.gov.vn/core/sid/national_id";
/// VN Core: the old 9-digit ID.
pub const SID_CITIZEN_ID: &str = "http://fhir.ehealth.gov.vn/core/sid/citizen_id";
/// VN Core: the BHYT card number.
pub const SID_INSURANCE_NUMBER: &str = "http://fhir.ehealth.gov.vn/core/sid/insurance_number";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

fn identifier(type_code: &str, system: &str, value: &str) -> Value {
    json!({
        "type": { "coding": [{ "system": V2_0203, "code": type_code }] },
        "system": system,
        "value": value,
    })
}

/// Builds the Bundle; `None` for registrations that are not clinic visits.
pub fn transaction_bundle(
    registration: &Registration,
    ticket: &Ticket,
    config: &FhirConfig,
) -> Option<Value> {
    let RegistrationKind::ClinicVisit {
        department_code,
        visit_type,
        insurance,
    } = &registration.kind
    else {
        return None;
    };
    let fields = &registration.identity.fields;
    let key = registration.idempotency_key.to_string();
    let patient_url = format!("urn:uuid:{}", Uuid::now_v7());
    let encounter_url = format!("urn:uuid:{}", Uuid::now_v7());

    let mut identifiers = vec![identifier("NI", SID_NATIONAL_ID, &fields.id_number)];
    if let Some(old) = &fields.old_id_number {
        identifiers.push(identifier("NI", SID_CITIZEN_ID, old));
    }
    let gender = match fields.sex {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::Unspecified => "unknown",
    };
    let mut patient = json!({
        "resourceType": "Patient",
        "identifier": identifiers,
        "name": [{ "use": "official", "text": fields.full_name }],
        "gender": gender,
        "birthDate": fields.date_of_birth.to_string(),
    });
    if let Some(addr) = &fields.place_of_residence {
        patient["address"] = json!([{ "use": "home", "text": addr }]);
    }

    let mut entries = vec![json!({
        "fullUrl": patient_url,
        "resource": patient,
        "request": {
            "method": "POST",
            "url": "Patient",
            "ifNoneExist": format!("identifier={SID_NATIONAL_ID}|{}", fields.id_number),
        }
    })];

    if let Some(ins) = insurance {
        let mut coverage = json!({
            "resourceType": "Coverage",
            "status": "active",
            "identifier": [identifier("SB", SID_INSURANCE_NUMBER, &ins.card_number)],
            "beneficiary": { "reference": patient_url },
            "payor": [{ "display": "Bảo hiểm xã hội Việt Nam" }],
        });
        if let Some(to) = ins.valid_to {
            coverage["period"] = json!({ "end": to.to_string() });
        }
        entries.push(json!({
            "fullUrl": format!("urn:uuid:{}", Uuid::now_v7()),
            "resource": coverage,
            "request": {
                "method": "POST",
                "url": "Coverage",
                "ifNoneExist": format!("identifier={SID_INSURANCE_NUMBER}|{}", ins.card_number),
            }
        }));
    }

    let visit = serde_json::to_value(visit_type).unwrap_or(Value::Null);
    let mut encounter = json!({
        "resourceType": "Encounter",
        "status": "arrived",
        "class": { "system": V3_ACT_CODE, "code": "AMB", "display": "ambulatory" },
        "identifier": [{ "system": config.submission_system, "value": key }],
        "subject": { "reference": patient_url },
        "serviceType": { "coding": [{ "code": department_code }], "text": visit },
        "location": [{ "location": { "display": ticket.counter_or_room } }],
        "period": { "start": registration.created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default() },
    });
    if let Some(org) = &config.organization {
        encounter["serviceProvider"] = json!({ "reference": org });
    }
    entries.push(json!({
        "fullUrl": encounter_url,
        "resource": encounter,
        "request": {
            "method": "POST",
            "url": "Encounter",
            "ifNoneExist": format!("identifier={}|{key}", config.submission_system),
        }
    }));

    Some(json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": entries,
    }))
}

/// POSTs a Bundle to the configured endpoint; the outcome as stored in `forward_state`
/// (`forwarded`, or `failed: …` without any personal data).
pub async fn send(client: &reqwest::Client, config: &FhirConfig, bundle: &Value) -> String {
    let result = client
        .post(&config.endpoint)
        .header(header::CONTENT_TYPE, "application/fhir+json")
        .json(bundle)
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => FORWARDED.to_string(),
        Ok(r) => format!("failed: HTTP {}", r.status().as_u16()),
        Err(e) if e.is_timeout() => "failed: timeout".to_string(),
        Err(_) => "failed: connection".to_string(),
    }
}

/// `forward_state` of a registration the FHIR server accepted.
pub const FORWARDED: &str = "forwarded";
