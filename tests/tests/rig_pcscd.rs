//! The rig's pcscd: started (or reused), offers the vpcd reader, and is stopped only if the rig
//! started it. Needs the Debian packages pcscd and vsmartcard-vpcd (deploy/dev-setup.sh).

#![allow(clippy::unwrap_used)] // test helpers may panic: a panic is a failed test

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

#[test]
fn reader_monitor_recovers_when_pcscd_restarts() {
    use kiosk_card::transport::monitor::{ReaderEvent, ReaderMonitor};
    use std::time::Duration;

    let mut rig = Pcscd::acquire().expect("rig pcscd");
    let (tx, rx) = std::sync::mpsc::channel();
    let monitor = ReaderMonitor::spawn(tx).expect("monitor");
    let next = || {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("an event within 10 s")
    };
    // The vpcd reader is reported at start (other readers of a developer's machine may come first).
    while next()
        != (ReaderEvent::ReaderAttached {
            reader: VPCD_READER.into(),
        })
    {}

    rig.restart().expect("pcscd restart");
    let mut seen = Vec::new();
    loop {
        let e = next();
        let done = e
            == ReaderEvent::ReaderAttached {
                reader: VPCD_READER.into(),
            };
        seen.push(e);
        if done {
            break;
        }
    }
    assert!(
        seen.iter()
            .any(|e| matches!(e, ReaderEvent::ServiceUnavailable { .. })),
        "{seen:?}"
    );
    assert!(
        seen.contains(&ReaderEvent::ReaderDetached {
            reader: VPCD_READER.into()
        }),
        "{seen:?}"
    );
    assert!(seen.contains(&ReaderEvent::ServiceRestored), "{seen:?}");
    monitor.stop();
}
