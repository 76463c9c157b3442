//! DG13: decoding never panics, whatever the nesting; encoding what was decoded is canonical
//! (decoding and encoding it again gives the same bytes), so no field is lost on the way.
#![no_main]

use kiosk_card::lds::dg13::Dg13;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dg13) = Dg13::decode(data) {
        let again = dg13.encode().expect("a decoded DG13 must encode");
        let back = Dg13::decode(&again).expect("re-encoded DG13 must decode");
        assert_eq!(back.encode().expect("must encode again"), again);
    }
});
