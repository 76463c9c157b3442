//! The gateway's TOML configuration (`kiosk_gateway::config::Config::parse`): any text never
//! panics; a configuration that parses keeps the checked bounds (UTC offset readable, https
//! public URL, limits in range), every catalog code finds its counter or room, and the catalog
//! it hands to kiosks survives the JSON round trip the kiosk will do.
#![no_main]

use kiosk_api::v1::{Catalog, SiteKind};
use kiosk_gateway::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::parse(text, "fuzz.toml") else {
        return;
    };
    assert!(config.utc_offset().is_ok());
    assert!(config.site.public_url.starts_with("https://"));
    assert!((1..=65_536).contains(&config.limits.max_connections));
    assert!((1024..=16 * 1024 * 1024).contains(&config.limits.max_body_bytes));
    let codes: Vec<&str> = match config.site.kind {
        SiteKind::Clinic => config.departments.iter().map(|d| d.code.as_str()).collect(),
        SiteKind::OneStop => config.procedures.iter().map(|p| p.code.as_str()).collect(),
    };
    for code in codes {
        assert!(
            config.place_of(code).is_some(),
            "a catalog code has a place"
        );
    }
    let catalog = config.catalog();
    let json = serde_json::to_vec(&catalog).expect("a catalog encodes");
    let back: Catalog = serde_json::from_slice(&json).expect("the kiosk reads the catalog back");
    assert_eq!(back, catalog);
});
