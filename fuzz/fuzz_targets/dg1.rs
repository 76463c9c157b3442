//! DG1 and the MRZ parser: never panic; an MRZ that parses re-encodes to the same fields when its
//! document number fits the 9-character field.
#![no_main]

use kiosk_card::lds::dg1::{Dg1, Mrz};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dg1) = Dg1::decode(data)
        && let Ok(again) = dg1.encode()
    {
        assert_eq!(
            Dg1::decode(&again).expect("re-encoded DG1 must decode"),
            dg1
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Mrz::parse(text);
    }
});
