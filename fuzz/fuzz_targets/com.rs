//! EF.COM: decoding never panics; a decoded file re-encodes to one that decodes the same.
#![no_main]

use kiosk_card::lds::com::Com;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(com) = Com::decode(data) {
        let again = com.encode().expect("a decoded EF.COM must encode");
        assert_eq!(
            Com::decode(&again).expect("re-encoded EF.COM must decode"),
            com
        );
    }
});
