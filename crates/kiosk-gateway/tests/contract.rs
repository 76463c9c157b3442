//! `docs/api.yaml`, `docs/examples/` and the Rust types agree: every example validates against
//! its schema and deserialises into its type, and the type's own serialisation validates too
//! (so a field added to the Rust side without the spec, or the reverse, fails here).

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use kiosk_api::v1::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn spec() -> Value {
    let text = std::fs::read_to_string(docs().join("api.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn validator(spec: &Value, schema: &str) -> jsonschema::Validator {
    assert!(
        spec["components"]["schemas"].get(schema).is_some(),
        "api.yaml has no schema {schema}"
    );
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{schema}"),
        "components": spec["components"].clone(),
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

/// Checks one example file against a schema and a Rust type.
type Check = fn(&Value, &str, &str);
/// A named change that makes a registration invalid.
type Mutation = (&'static str, Box<dyn Fn(&mut Value)>);

fn check<T: Serialize + DeserializeOwned>(spec: &Value, file: &str, schema: &str) {
    let text = std::fs::read_to_string(docs().join("examples").join(file)).unwrap();
    let example: Value = serde_json::from_str(&text).unwrap();
    let v = validator(spec, schema);
    let errors: Vec<String> = v.iter_errors(&example).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{file} against {schema}: {errors:?}");
    let typed: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|e| panic!("{file} does not fit the Rust type: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    let errors: Vec<String> = v.iter_errors(&back).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "Rust output for {file} against {schema}: {errors:?}"
    );
    assert_eq!(
        back, example,
        "{file} does not round-trip through the Rust type"
    );
}

#[test]
fn every_example_matches_spec_and_types() {
    let spec = spec();
    let cases: &[(&str, &str, Check)] = &[
        (
            "registration-clinic.json",
            "Registration",
            check::<Registration>,
        ),
        (
            "registration-public-service.json",
            "Registration",
            check::<Registration>,
        ),
        ("ticket.json", "Ticket", check::<Ticket>),
        ("renew-request.json", "RenewRequest", check::<RenewRequest>),
        ("catalog.json", "Catalog", check::<Catalog>),
        ("catalog-one-stop.json", "Catalog", check::<Catalog>),
        (
            "insurance-check-request.json",
            "InsuranceCheckRequest",
            check::<InsuranceCheckRequest>,
        ),
        (
            "insurance-check-response.json",
            "InsuranceCheckResponse",
            check::<InsuranceCheckResponse>,
        ),
        ("kiosk-status.json", "KioskStatus", check::<KioskStatus>),
        ("kiosk-info.json", "KioskInfo", check::<KioskInfo>),
        ("enrol-request.json", "EnrolRequest", check::<EnrolRequest>),
        (
            "enrol-response.json",
            "EnrolResponse",
            check::<EnrolResponse>,
        ),
        ("error.json", "Error", check::<ApiError>),
    ];
    for (file, schema, f) in cases {
        f(&spec, file, schema);
    }
    // No API message example without a check (the folder also holds config examples such as
    // kiosk.toml, which kiosk-core's tests load).
    let mut on_disk: Vec<String> = std::fs::read_dir(docs().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut covered: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    covered.sort();
    assert_eq!(
        on_disk, covered,
        "every file in docs/examples needs a case here"
    );
}

#[test]
fn schemas_reject_what_the_types_reject() {
    let spec = spec();
    let v = validator(&spec, "Registration");
    let text = std::fs::read_to_string(docs().join("examples/registration-clinic.json")).unwrap();
    let good: Value = serde_json::from_str(&text).unwrap();
    let mutations: Vec<Mutation> = vec![
        (
            "unknown field",
            Box::new(|v| v["identity"]["fields"]["x"] = 1.into()),
        ),
        (
            "bad date",
            Box::new(|v| v["identity"]["fields"]["date_of_birth"] = "1989-02-30".into()),
        ),
        (
            "v4 key",
            Box::new(|v| v["idempotency_key"] = "6f1c2a36-8a8e-4f7e-9a55-2f1f3c9e0a11".into()),
        ),
        (
            "bad source",
            Box::new(|v| v["identity"]["source"] = "fax".into()),
        ),
        (
            "missing consent",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("consent");
            }),
        ),
    ];
    for (what, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert!(!v.is_valid(&bad), "schema accepted {what}");
        assert!(
            serde_json::from_value::<Registration>(bad).is_err(),
            "type accepted {what}"
        );
    }
}

#[test]
fn every_path_of_the_router_is_in_the_spec() {
    let spec = spec();
    for path in [
        "/v1/enrol",
        "/v1/renew",
        "/v1/registrations",
        "/v1/registrations/{key}",
        "/v1/catalog",
        "/v1/insurance/check",
        "/v1/status",
    ] {
        assert!(spec["paths"].get(path).is_some(), "api.yaml lacks {path}");
    }
}
