//! DG15: decoding never panics; the SPKI kept is exactly the one inside the file (re-encoding
//! and decoding gives it back), and parsing the public key out of it never panics.
#![no_main]

use kiosk_card::lds::dg15::Dg15;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dg15) = Dg15::decode(data) {
        assert!(dg15.spki.len() < data.len(), "the SPKI is inside the file");
        let again = dg15.encode();
        assert_eq!(
            Dg15::decode(&again).expect("re-encoded DG15 must decode"),
            dg15
        );
        let _ = dg15.public_key();
    }
});
