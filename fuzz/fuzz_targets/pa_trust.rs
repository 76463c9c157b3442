//! The trust store's file reader: any bytes as a PEM bundle, DER certificate or CSCA master
//! list are added or refused with a reason, never a panic; the master-list parser likewise.
#![no_main]

use kiosk_card::pa::masterlist::parse_master_list;
use kiosk_card::pa::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut store = TrustStore::new();
    let _added = store.add_bytes(data, "fuzz");
    // Whatever was taken is labelled with the source it came from.
    assert!(store.anchors().iter().all(|a| a.source.starts_with("fuzz")));
    if let Ok(ml) = parse_master_list(data) {
        assert!(ml.certificates.len() + ml.skipped.len() <= 10_000);
    }
});
