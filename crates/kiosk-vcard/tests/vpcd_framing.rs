//! The vpcd attachment against a local listener that plays vpcd's role (port 0, no pcscd):
//! framing, control codes, a full PACE read through the socket, removal and re-insertion, and
//! waiting for vpcd with backoff.

// Helpers outside #[test] functions unwrap as well: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{read_file, select_applet};
use kiosk_card::crypto::OsRandom;
use kiosk_card::lds::dg13::Dg13;
use kiosk_card::protocol::Password;
use kiosk_card::protocol::pace::{self, PaceOptions};
use kiosk_card::security_infos::SecurityInfos;
use kiosk_card::sm::SecureChannel;
use kiosk_card::{CardTransport, Error};
use kiosk_vcard::engine::ATR;
use kiosk_vcard::fault::{Fault, Faults};
use kiosk_vcard::vpcd::{self, Event, Exit, VpcdOptions};
use kiosk_vcard::{Options, personalise};

/// The vpcd side of one connection.
struct FakeVpcd {
    stream: TcpStream,
}

impl FakeVpcd {
    fn accept(listener: &TcpListener) -> Self {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self { stream }
    }

    fn send(&mut self, body: &[u8]) {
        // Like Debian's vpcd: length and body in two writes.
        self.stream
            .write_all(&(body.len() as u16).to_be_bytes())
            .unwrap();
        self.stream.write_all(body).unwrap();
    }

    fn recv(&mut self) -> std::io::Result<Vec<u8>> {
        let mut len = [0u8; 2];
        self.stream.read_exact(&mut len)?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.stream.read_exact(&mut body)?;
        Ok(body)
    }
}

impl CardTransport for FakeVpcd {
    fn transmit_raw(&mut self, command: &[u8]) -> kiosk_card::Result<Vec<u8>> {
        self.send(command);
        self.recv().map_err(|_| Error::CardRemoved)
    }

    fn describe(&self) -> String {
        "fake vpcd".into()
    }
}

struct Running {
    stop: Arc<AtomicBool>,
    events: mpsc::Receiver<Event>,
    handle: JoinHandle<kiosk_vcard::Result<Exit>>,
}

fn start(addr: String, faults: Faults) -> Running {
    let profile = common::load("an.toml");
    let mut chip = personalise(
        &profile,
        &Options {
            seed: 2,
            faults,
            ..Default::default()
        },
    )
    .unwrap()
    .chip;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, events) = mpsc::channel();
    let flag = Arc::clone(&stop);
    let handle = std::thread::spawn(move || {
        let opts = VpcdOptions {
            addr,
            backoff: (Duration::from_millis(20), Duration::from_millis(100)),
            reinsert_after: Some(Duration::from_millis(20)),
        };
        vpcd::run(&mut chip, &opts, &flag, |e| {
            let _ = tx.send(e);
        })
    });
    Running {
        stop,
        events,
        handle,
    }
}

fn next_event(r: &Running) -> Event {
    r.events.recv_timeout(Duration::from_secs(10)).unwrap()
}

fn stop(r: Running) -> Exit {
    r.stop.store(true, Ordering::Relaxed);
    r.handle.join().unwrap().unwrap()
}

#[test]
fn framing_control_codes_and_a_pace_read_over_the_socket() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let running = start(listener.local_addr().unwrap().to_string(), Faults::none());
    let mut vpcd = FakeVpcd::accept(&listener);
    assert_eq!(next_event(&running), Event::Attached);

    vpcd.send(&[0x04]);
    assert_eq!(vpcd.recv().unwrap(), ATR.to_vec());
    // Power on and reset get no answer: the next frame answers the APDU after them.
    vpcd.send(&[0x01]);
    vpcd.send(&[0x02]);
    vpcd.send(&[
        0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01,
    ]);
    assert_eq!(vpcd.recv().unwrap(), vec![0x90, 0x00]);
    // A malformed APDU still gets exactly one answer.
    vpcd.send(&[0x00, 0xB0]);
    assert_eq!(vpcd.recv().unwrap(), vec![0x67, 0x00]);

    let ca = read_file(&mut vpcd, 0x1C, 223).unwrap();
    let info = SecurityInfos::decode(&ca)
        .unwrap()
        .pace()
        .next()
        .unwrap()
        .clone();
    let out = pace::establish(
        &mut vpcd,
        &info,
        &Password::can("012345"),
        &mut OsRandom,
        PaceOptions::default(),
    )
    .unwrap();
    let mut ch = SecureChannel::new(vpcd, out.keys);
    select_applet(&mut ch).unwrap();
    let d13 = Dg13::decode(&read_file(&mut ch, 0x0D, 223).unwrap()).unwrap();
    assert_eq!(d13.full_name.as_deref(), Some("Nguyễn Văn An"));

    assert_eq!(stop(running), Exit::Stopped);
}

#[test]
fn removal_closes_the_socket_and_the_card_comes_back() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let running = start(
        listener.local_addr().unwrap().to_string(),
        Faults::none().with(Fault::RemovedMidRead { after_apdus: 1 }),
    );
    let mut vpcd = FakeVpcd::accept(&listener);
    assert_eq!(next_event(&running), Event::Attached);
    let ca = read_file(&mut vpcd, 0x1C, 223).unwrap();
    let info = SecurityInfos::decode(&ca)
        .unwrap()
        .pace()
        .next()
        .unwrap()
        .clone();
    let out = pace::establish(
        &mut vpcd,
        &info,
        &Password::can("012345"),
        &mut OsRandom,
        PaceOptions::default(),
    )
    .unwrap();
    let mut ch = SecureChannel::new(vpcd, out.keys);
    select_applet(&mut ch).unwrap();
    let err = read_file(&mut ch, 0x02, 223).unwrap_err();
    assert!(matches!(err, Error::CardRemoved), "{err:?}");
    assert_eq!(next_event(&running), Event::Detached);

    // Re-inserted: a new connection, a fresh session, and the photo reads in full.
    let mut vpcd = FakeVpcd::accept(&listener);
    assert_eq!(next_event(&running), Event::Attached);
    vpcd.send(&[0x04]);
    assert_eq!(vpcd.recv().unwrap(), ATR.to_vec());
    let out = pace::establish(
        &mut vpcd,
        &info,
        &Password::can("012345"),
        &mut OsRandom,
        PaceOptions::default(),
    )
    .unwrap();
    let mut ch = SecureChannel::new(vpcd, out.keys);
    select_applet(&mut ch).unwrap();
    assert!(read_file(&mut ch, 0x02, 223).is_ok());
    assert_eq!(stop(running), Exit::Stopped);
}

#[test]
fn waits_for_vpcd_with_backoff_then_attaches() {
    // Find a free port, leave it closed while the card starts, then open it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let running = start(format!("127.0.0.1:{port}"), Faults::none());
    assert_eq!(next_event(&running), Event::Waiting);
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    assert_eq!(next_event(&running), Event::Attached);
    vpcd.send(&[0x04]);
    assert_eq!(vpcd.recv().unwrap(), ATR.to_vec());
    // vpcd going away (pcscd restart) is survived: the card reconnects.
    drop(vpcd);
    assert_eq!(next_event(&running), Event::Detached);
    let _again = FakeVpcd::accept(&listener);
    assert_eq!(next_event(&running), Event::Attached);
    assert_eq!(stop(running), Exit::Stopped);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

    /// Whatever vpcd sends, every frame of two bytes or more gets exactly one answer, control
    /// codes only the ATR request, and the card is still there afterwards.
    #[test]
    fn arbitrary_frames_get_exactly_the_answers_vpcd_expects(
        frames in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 1..12)
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let running = start(listener.local_addr().unwrap().to_string(), Faults::none());
        let mut vpcd = FakeVpcd::accept(&listener);
        proptest::prop_assert_eq!(next_event(&running), Event::Attached);
        for f in &frames {
            vpcd.send(f);
            match f.as_slice() {
                [0x04] => proptest::prop_assert_eq!(vpcd.recv().unwrap(), ATR.to_vec()),
                [] | [_] => {}
                _ => proptest::prop_assert!(vpcd.recv().unwrap().len() >= 2),
            }
        }
        // A plain SELECT of the applet still works: nothing above wedged the chip.
        vpcd.send(&[0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01]);
        proptest::prop_assert_eq!(vpcd.recv().unwrap(), vec![0x90, 0x00]);
        proptest::prop_assert_eq!(stop(running), Exit::Stopped);
    }
}
