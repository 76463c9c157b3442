//! DG2 and the ISO 19794-5 face record walk: never panic, never read outside the input.
#![no_main]

use kiosk_card::lds::dg2::Dg2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dg2) = Dg2::decode(data) {
        for face in &dg2.faces {
            assert!(face.data.len() <= data.len());
        }
    }
});
