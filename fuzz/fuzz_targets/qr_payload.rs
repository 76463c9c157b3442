//! QR payloads: `kiosk_qr::payload::classify` never panics on any bytes, and what it accepts is
//! canonical:
//! - a card QR rebuilt from its parsed fields parses to the same fields;
//! - an enrolment QR's `to_uri` parses back to the same enrolment, and so does the text the
//!   gateway writes for it (`kiosk_api::v1::EnrolmentQr::to_payload`), so writer and reader agree;
//! - dossier, appointment and opaque codes are kept verbatim and within their bounds;
//! - every payload serialises to JSON (the CLI's output).
#![no_main]

use kiosk_api::v1::{EnrolmentQr, SiteKind};
use kiosk_qr::payload::card::MAX_CARD_LEN;
use kiosk_qr::payload::{CardQr, Enrolment, KioskKind, MAX_TOKEN, Payload, Sex, classify};
use libfuzzer_sys::fuzz_target;

/// The enrolment parser's own cap (`enrolment::MAX_URI`, private).
const MAX_URI: usize = 1024;

fn card_text(card: &CardQr) -> String {
    let date = |d: kiosk_card::cccd::Date| format!("{:02}{:02}{:04}", d.day, d.month, d.year);
    let sex = match card.sex() {
        Sex::Male => "Nam",
        Sex::Female => "Nữ",
    };
    let mut fields = vec![
        card.id().to_owned(),
        card.old_id().unwrap_or_default().to_owned(),
        card.name().to_owned(),
        date(card.birth_date()),
        sex.to_owned(),
        card.address().to_owned(),
        date(card.issue_date()),
    ];
    fields.extend(card.extras().iter().cloned());
    fields.join("|")
}

fn same_card(a: &CardQr, b: &CardQr) -> bool {
    a.id() == b.id()
        && a.old_id() == b.old_id()
        && a.name() == b.name()
        && a.birth_date() == b.birth_date()
        && a.sex() == b.sex()
        && a.address() == b.address()
        && a.issue_date() == b.issue_date()
        && a.extras() == b.extras()
}

fn check_enrolment(enrolment: &Enrolment, text: &str, writer: &str) {
    if text.len() > MAX_URI {
        // Escaping can make the canonical text longer than the cap; the parser refuses it.
        return;
    }
    match classify(text.as_bytes()) {
        Ok(Payload::Enrolment(back)) => assert!(&back == enrolment, "{writer} round trip"),
        other => panic!(
            "{writer} text is not read back: {:?}",
            other.map(|p| p.kind())
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = classify(data) else {
        return;
    };
    serde_json::to_string(&payload).expect("every payload serialises");
    match &payload {
        Payload::Card(card) => {
            assert_eq!(card.id().len(), 12);
            assert!(card.issue_date() >= card.birth_date());
            let text = card_text(card);
            if text.len() <= MAX_CARD_LEN {
                match classify(text.as_bytes()) {
                    Ok(Payload::Card(back)) => assert!(same_card(&back, card), "card round trip"),
                    other => panic!("rebuilt card QR: {:?}", other.map(|p| p.kind())),
                }
            }
        }
        Payload::Enrolment(enrolment) => {
            check_enrolment(enrolment, &enrolment.to_uri(), "to_uri");
            let gateway_side = EnrolmentQr {
                gateway_url: enrolment.gateway().to_owned(),
                token: enrolment.token().to_owned(),
                ca_sha256: enrolment
                    .ca_sha256()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
                site: enrolment.site().to_owned(),
                kind: match enrolment.kind() {
                    KioskKind::Clinic => SiteKind::Clinic,
                    KioskKind::OneStop => SiteKind::OneStop,
                },
            };
            check_enrolment(
                enrolment,
                &gateway_side.to_payload(),
                "gateway's to_payload",
            );
        }
        Payload::Dossier(code) => assert_eq!(code.as_str().as_bytes(), data),
        Payload::Appointment(code) => assert_eq!(code.as_str().as_bytes(), data),
        Payload::Opaque(token) => {
            assert_eq!(token.as_str().as_bytes(), data);
            assert!(token.as_str().len() <= MAX_TOKEN);
        }
    }
});
