//! The enrolment QR as the gateway prints it is read back by the kiosk's scanner into the same
//! values.

use kiosk_qr::enrolment::{Enrolment, KioskKind};
use kiosk_qr::{Engine, Payload, ScanConfig, Scanner, classify};

#[test]
fn printed_enrolment_qr_scans_back_to_the_same_enrolment() {
    let fp: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
    let e = Enrolment::new(
        "https://gw.ubnd-phuong-1.example:8443/kiosk",
        "Zk3vQ9_tX2-pLm8aRw4YcB7n",
        fp,
        "ubnd-phuong-1",
        KioskKind::OneStop,
    )
    .unwrap();
    let image = e.to_qr_image(4).unwrap();
    for engine in Engine::available() {
        let mut scanner = Scanner::with_engine(*engine, ScanConfig::default()).unwrap();
        let codes = scanner.scan(&image).codes;
        assert_eq!(codes.len(), 1, "{engine}");
        match classify(&codes[0].bytes).unwrap() {
            Payload::Enrolment(back) => assert_eq!(back, e, "{engine}"),
            other => panic!("{engine}: classified as {}", other.kind()),
        }
    }
}
