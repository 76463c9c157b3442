//! EF.CardAccess (`SecurityInfos`): decoding never panics; what decodes re-encodes to a set that
//! decodes the same; the questions the access code asks of it (PACE suites, curves, the access
//! choice) never panic.
#![no_main]

use kiosk_card::security_infos::SecurityInfos;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(infos) = SecurityInfos::decode(data) {
        let again = infos.encode();
        assert_eq!(
            SecurityInfos::decode(&again).expect("re-encoded SecurityInfos must decode"),
            infos
        );
        for pace in infos.pace() {
            let _ = (pace.suite(), pace.curve(), pace.is_supported());
        }
        for ca in infos.chip_authentication() {
            let _ = ca.ecdh_cipher();
        }
        let _ = infos.chip_authentication_keys().count();
        let _ = infos.active_authentication();
        let _ = infos.choose_access();
    }
});
