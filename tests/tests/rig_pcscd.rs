//! The rig's pcscd: started (or reused), offers the vpcd reader, and is stopped only if the rig
//! started it. Needs the Debian packages pcscd and vsmartcard-vpcd (deploy/dev-setup.sh).

use kiosk_tests::pcscd::{Pcscd, VPCD_READER};

#[test]
fn pcscd_offers_the_vpcd_reader_without_a_card() {
    let rig = Pcscd::acquire().expect("rig pcscd");
    let readers = kiosk_card::transport::pcsc::list_readers().expect("list readers");
    assert!(
        readers.iter().any(|r| r == VPCD_READER),
        "readers: {readers:?}"
    );
    // No card attached yet: connecting must say so, not hang.
    let err = kiosk_card::transport::pcsc::PcscTransport::connect(VPCD_READER).unwrap_err();
    assert!(matches!(err, kiosk_card::Error::CardRemoved), "{err}");
    drop(rig);
}
