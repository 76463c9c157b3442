//! The BER-TLV codec: any input decodes or fails cleanly, nested values included, and every TLV
//! that decodes re-encodes to one with the same tag and value (lengths may be re-encoded in
//! their shortest form, so the bytes themselves are not compared).
#![no_main]

use kiosk_card::tlv;
use libfuzzer_sys::fuzz_target;

/// Walks constructed values to a bounded depth, as the LDS parsers do.
fn walk(input: &[u8], depth: usize) {
    if depth > 8 {
        return;
    }
    for item in tlv::iter(input).flatten() {
        if tlv::is_constructed(item.tag) {
            walk(item.value, depth + 1);
        }
        let again = tlv::encode(item.tag, item.value);
        let (back, rest) = tlv::parse(&again).expect("re-encoded TLV must parse");
        assert!(rest.is_empty());
        assert_eq!(back.tag, item.tag);
        assert_eq!(back.value, item.value);
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = tlv::read_header(data);
    walk(data, 0);
});
