//! Parsers of outside data in the gateway never panic on arbitrary input: configuration text,
//! peer certificates, sealed records, serde messages being scrubbed.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use kiosk_gateway::config::Config;
use kiosk_gateway::routes::scrub;
use kiosk_gateway::server::PeerCert;
use proptest::prelude::*;

proptest! {
    #[test]
    fn config_text_never_panics(text in "\\PC{0,400}") {
        let _ = Config::parse(&text, "fuzz.toml");
    }

    #[test]
    fn config_with_mutated_values_never_panics(
        offset in "\\PC{0,12}", minutes in any::<i64>(), body in any::<i64>(), weekday in any::<i64>()
    ) {
        let text = format!(
            "[site]\nid = \"s\"\nkind = \"clinic\"\ndisplay_name = \"d\"\npublic_url = \"https://x\"\n\
             utc_offset = {offset:?}\nminutes_per_ticket = {minutes}\n[limits]\nmax_body_bytes = {body}\n\
             [[opening_hours]]\nweekday = {weekday}\nopens = \"07:00\"\ncloses = \"08:00\"\n"
        );
        let _ = Config::parse(&text, "fuzz.toml");
    }

    #[test]
    fn peer_certificate_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        // Random bytes are never a certificate with a common name.
        prop_assert!(PeerCert::from_der(&bytes).is_err());
    }

    #[test]
    fn scrub_never_panics_and_removes_quoted_text(inner in "[a-z0-9]{1,20}", head in "[a-z ]{0,20}") {
        let message = format!("{head}`{inner}` and \"{inner}\"");
        let out = scrub(&message);
        let ticked = format!("`{inner}`");
        let quoted = format!("\"{inner}\"");
        prop_assert!(!out.contains(&ticked), "{}", out);
        prop_assert!(!out.contains(&quoted), "{}", out);
    }
}
