//! DG14: decoding never panics; what decodes re-encodes to a file that decodes the same, and
//! picking the Chip Authentication key (which parses the key's SPKI) never panics either.
#![no_main]

use kiosk_card::lds::dg14::Dg14;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dg14) = Dg14::decode(data) {
        let again = dg14.encode();
        assert_eq!(
            Dg14::decode(&again).expect("re-encoded DG14 must decode"),
            dg14
        );
        if let Ok(key) = dg14.chip_authentication_key() {
            // The key chosen is one of the file's own, and matches the offer's key id.
            assert!(dg14.infos.chip_authentication_keys().any(|k| *k == key.key));
            if let Some(id) = &key.info.key_id {
                assert_eq!(key.key.key_id.as_ref(), Some(id));
            }
        }
        let _ = dg14.active_authentication();
    }
});
