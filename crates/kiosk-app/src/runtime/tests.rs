//! End-to-end tests of the runtime on the demo world (no hardware): the in-process gateway, the
//! real outbox, the virtual card and the QR images through the real decoder. What is asserted
//! is what the display received, and what the gateway and the outbox hold.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk_api::v1::DeviceHealth;
use kiosk_core::config::Mode;
use kiosk_core::event::{Device, Purpose};
use kiosk_core::messages::MessageKey;
use kiosk_core::view::{Diagnostics, Screen};
use kiosk_core::{Action, Command, Event, View};
use kiosk_outbox::{Backoff, WorkerConfig};

use super::demo::{Demo, DemoOptions};
use super::display::recording::Views;
use super::{Timing, Watchdog};

const WAIT: Duration = Duration::from_secs(20);

/// What the tap saw (events are not `Clone`; the test keeps what it needs).
#[derive(Default)]
struct Seen {
    catalogs: usize,
    devices: Vec<(Device, DeviceHealth)>,
    diagnostics: Vec<Diagnostics>,
    enrolled: Vec<(bool, String)>,
}

struct Kiosk {
    demo: Demo,
    views: Views,
    seen: Arc<Mutex<Seen>>,
}

fn fast_timing() -> Timing {
    Timing {
        delivery_deadline: Duration::from_secs(5),
        worker: WorkerConfig {
            backoff: Backoff {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(300),
                max_retry_after: Duration::from_secs(1),
            },
            attempt_timeout: Duration::from_secs(5),
        },
        worker_idle: Duration::from_millis(200),
        ..Timing::default()
    }
}

fn start(mode: Mode, reader: bool, camera: bool) -> Kiosk {
    start_with(mode, reader, camera, fast_timing())
}

fn start_with(mode: Mode, reader: bool, camera: bool, timing: Timing) -> Kiosk {
    let views = Views::default();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s2 = Arc::clone(&seen);
    let tap: super::EventTap = Box::new(move |e: &Event| {
        let mut s = s2.lock().unwrap();
        match e {
            Event::Catalog(_) => s.catalogs += 1,
            Event::Device { device, health } => s.devices.push((*device, *health)),
            Event::Diagnostics(d) => s.diagnostics.push((**d).clone()),
            Event::EnrolFinished { ok, message } => s.enrolled.push((*ok, message.clone())),
            _ => {}
        }
    });
    let opts = DemoOptions {
        mode,
        reader,
        camera,
        timing,
        ..DemoOptions::default()
    };
    let demo = Demo::start(
        &opts,
        Box::new(views.display()),
        Watchdog::disabled(),
        Some(tap),
    )
    .unwrap();
    Kiosk { demo, views, seen }
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Kiosk {
    fn touch(&self, a: Action) {
        assert!(self.demo.runtime.handle().touch(a));
    }

    /// Waits for a view (after view number `from`) matching `pred`.
    fn expect(&self, from: usize, what: &str, pred: impl Fn(&View) -> bool) -> (usize, View) {
        self.views.wait_for(from, what, WAIT, pred)
    }

    fn screen(&self, from: usize, screen: Screen) -> (usize, View) {
        self.expect(from, &format!("{screen:?}"), |v| v.screen == screen)
    }

    fn wait_catalog(&self) {
        wait_until("the catalog", || self.seen.lock().unwrap().catalogs > 0);
    }

    /// Attract → identify → the CAN on the keypad → card tap → identity (verified by chip).
    fn identify_by_chip(&self) -> usize {
        let (i, v) = self.screen(0, Screen::Attract);
        assert_eq!(v.title, MessageKey::AttractTitle);
        let n = self.views.count();
        self.touch(Action::Start);
        let (i, _) = self.screen(i.max(n), Screen::Identify);
        // The demo citizen's ID is 001099012345: the CAN is its last 6 digits.
        for d in [0, 1, 2, 3, 4, 5] {
            self.touch(Action::KeypadDigit(d));
        }
        let (i, v) = self.expect(i, "six bullets", |v| v.keypad.as_deref() == Some("••••••"));
        assert_eq!(v.screen, Screen::Identify);
        self.touch(Action::KeypadOk);
        let (i, _) = self.expect(i, "place the card", |v| {
            v.notice == Some(MessageKey::PlaceCard)
        });
        self.demo.control.tap_card();
        let (i, v) = self.screen(i, Screen::Reading);
        assert!(v.progress.is_some());
        let (i, v) = self.screen(i, Screen::Identity);
        let id = v.identity.as_ref().unwrap();
        assert_eq!(
            id.badge,
            MessageKey::BadgeChipVerified,
            "{:?}",
            id.badge_reason
        );
        assert_eq!(id.masked_id, "0010******45");
        assert_eq!(id.full_name, "Nguyễn Văn An");
        assert!(id.has_photo);
        assert!(self.views.photos() > 0, "the photo reached the display");
        i
    }

    /// Identity → department NOI → consents → submit; returns the index of the details view.
    fn choose_clinic(&self, i: usize) -> usize {
        self.wait_catalog();
        self.touch(Action::Confirm);
        let (i, v) = self.screen(i, Screen::Choose);
        let codes: Vec<&str> = v.choices.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["NOI", "NHI"]);
        self.touch(Action::SelectDepartment("NOI".into()));
        let (i, _) = self.screen(i, Screen::Details);
        self.touch(Action::ToggleConsent(Purpose::DataProcessing));
        self.touch(Action::ToggleConsent(Purpose::HealthData));
        let (i, _) = self.expect(i, "both consents ticked", |v| {
            v.screen == Screen::Details && v.consents.iter().filter(|c| c.ticked).count() == 2
        });
        i
    }

    fn receipts(&self) -> Vec<kiosk_outbox::Receipt> {
        self.demo.world.outbox.receipts().unwrap()
    }
}

#[test]
fn clinic_flow_from_card_tap_to_a_gateway_ticket() {
    let k = start(Mode::Clinic, true, true);
    let i = k.identify_by_chip();
    let i = k.choose_clinic(i);
    // The insurance check goes to the gateway, which answers from its table (no card for this
    // citizen there): an answer, not "unavailable".
    k.touch(Action::ToggleConsent(Purpose::InsuranceCheck));
    let (i, v) = k.expect(i, "the insurance answer", |v| {
        v.insurance
            .is_some_and(|m| m != MessageKey::InsuranceChecking)
    });
    assert_eq!(v.insurance, Some(MessageKey::InsuranceNotFound));
    k.touch(Action::Submit);
    let (i, v) = k.screen(i, Screen::Ticket);
    let ticket = v.ticket.clone().unwrap();
    assert!(!ticket.provisional);
    assert_eq!(v.title, MessageKey::TicketTitle);
    assert_eq!(ticket.counter_or_room, "P101");

    // The gateway numbered it and stored exactly one registration, under the key the outbox
    // delivered; the printed ticket carries the number and no personal data.
    let receipts = k.receipts();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].ticket, ticket.display);
    let stored = k.demo.world.gateway_registrations().unwrap();
    assert_eq!(
        stored,
        vec![(receipts[0].key.to_string(), ticket.display.clone())]
    );
    wait_until("the printed ticket", || {
        k.demo.world.printed().contains(&ticket.display)
    });
    let printed = k.demo.world.printed();
    assert!(
        !printed.contains("001099012345") && !printed.contains("An"),
        "{printed}"
    );

    // Done: back to attract, the display told to forget.
    let clears = k.views.clears();
    k.touch(Action::Done);
    let (_, v) = k.screen(i, Screen::Attract);
    assert!(v.identity.is_none());
    assert!(k.views.clears() > clears);
    k.demo.stop();
}

#[test]
fn gateway_offline_gives_a_provisional_ticket_delivered_once_when_back() {
    let k = start(Mode::Clinic, true, true);
    let i = k.identify_by_chip();
    let i = k.choose_clinic(i);
    k.demo.control.set_gateway_online(false).unwrap();
    k.touch(Action::Submit);
    let (i, v) = k.screen(i, Screen::Ticket);
    let ticket = v.ticket.clone().unwrap();
    assert!(ticket.provisional, "{ticket:?}");
    assert_eq!(v.title, MessageKey::TicketProvisionalTitle);
    assert!(ticket.display.starts_with("T-NOI-"), "{}", ticket.display);
    // Safe in the outbox, not at the gateway.
    assert_eq!(k.demo.world.outbox.status().unwrap().pending, 1);
    assert!(k.demo.world.gateway_registrations().unwrap().is_empty());
    k.touch(Action::Done);
    k.screen(i, Screen::Attract);

    // Back online: the worker delivers it, once.
    k.demo.control.set_gateway_online(true).unwrap();
    wait_until("the delivery", || k.receipts().len() == 1);
    let receipt = &k.receipts()[0];
    assert_eq!(receipt.provisional.as_deref(), Some("P-0001"));
    let stored = k.demo.world.gateway_registrations().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, receipt.key.to_string());
    assert_eq!(k.demo.world.outbox.status().unwrap().pending, 0);
    k.demo.stop();
}

#[test]
fn a_gateway_that_never_answers_gives_a_provisional_ticket_at_the_deadline() {
    let timing = Timing {
        delivery_deadline: Duration::from_millis(1500),
        ..fast_timing()
    };
    let k = start_with(Mode::Clinic, true, true, timing);
    let i = k.identify_by_chip();
    let i = k.choose_clinic(i);
    // The gateway is replaced by a socket that accepts connections and never says a word.
    k.demo.control.set_gateway_online(false).unwrap();
    let silent = std::net::TcpListener::bind(k.demo.world.gateway_addr()).unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let held2 = Arc::clone(&held);
    let acceptor = std::thread::spawn(move || {
        for conn in silent.incoming() {
            match conn {
                Ok(c) => held2.lock().unwrap().push(c),
                Err(_) => return,
            }
            if held2.lock().unwrap().len() >= 8 {
                return;
            }
        }
    });
    let submitted = Instant::now();
    k.touch(Action::Submit);
    let (i, _) = k.screen(i, Screen::Submitting);
    let (_, v) = k.screen(i, Screen::Ticket);
    let waited = submitted.elapsed();
    let ticket = v.ticket.clone().unwrap();
    assert!(ticket.provisional, "{ticket:?}");
    // It was the deadline that answered: the silent gateway did not refuse anything.
    assert!(
        !held.lock().unwrap().is_empty(),
        "the kiosk did try the gateway"
    );
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
    assert_eq!(k.demo.world.outbox.status().unwrap().pending, 1);
    drop(acceptor);
    k.demo.stop();
}

#[test]
fn one_stop_flow_by_card_qr_then_vneid_qr_and_the_chip() {
    let k = start(Mode::OneStop, true, true);
    k.screen(0, Screen::Attract);
    k.touch(Action::Start);
    let (i, _) = k.screen(0, Screen::Identify);
    k.demo.control.show_card_qr();
    let (i, v) = k.expect(i, "the QR taken", |v| {
        v.actions.contains(&Action::ContinueWithQr)
    });
    assert_eq!(v.notice, Some(MessageKey::IdentifyQrReceived));
    k.touch(Action::ContinueWithQr);
    let (i, v) = k.screen(i, Screen::Identity);
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.badge, MessageKey::BadgeQrOnly);
    assert_eq!(id.masked_id, "0010******45");
    k.wait_catalog();
    k.touch(Action::Confirm);
    let (i, v) = k.screen(i, Screen::Choose);
    assert!(v.choices.iter().any(|c| c.code == "2.002"));
    k.touch(Action::SelectProcedure("2.002".into()));
    let (i, _) = k.screen(i, Screen::Details);
    k.touch(Action::ToggleConsent(Purpose::DataProcessing));
    k.touch(Action::Submit);
    let (i, v) = k.screen(i, Screen::Ticket);
    let ticket = v.ticket.clone().unwrap();
    assert!(!ticket.provisional);
    assert_eq!(ticket.counter_or_room, "Q02");
    let stored = k.demo.world.gateway_registrations().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, ticket.display);
    k.touch(Action::Done);
    let (i, _) = k.screen(i, Screen::Attract);

    // The next citizen shows the VNeID QR and taps the card: the QR gives the chip's keys.
    k.touch(Action::Start);
    let (i, _) = k.screen(i, Screen::Identify);
    k.demo.control.show_vneid_qr();
    let (i, _) = k.expect(i, "the VNeID QR taken", |v| {
        v.actions.contains(&Action::ContinueWithQr)
    });
    k.demo.control.tap_card();
    let (_, v) = k.screen(i, Screen::Identity);
    assert_eq!(
        v.identity.as_ref().unwrap().badge,
        MessageKey::BadgeChipVerified
    );
    k.demo.stop();
}

#[test]
fn a_card_removed_mid_read_resumes_when_put_back() {
    let k = start(Mode::Clinic, true, true);
    k.touch(Action::Start);
    let (i, _) = k.screen(0, Screen::Identify);
    k.demo.control.show_card_qr();
    let (i, _) = k.expect(i, "the QR taken", |v| {
        v.actions.contains(&Action::ContinueWithQr)
    });
    k.demo.control.tap_card();
    k.demo.control.remove_card();
    // Depending on how far the read got: the card-removed screen, or (if it finished first)
    // the identity. Put the card back either way.
    let (i, v) = k.expect(i, "card removed or identity", |v| {
        v.title == MessageKey::ErrorCardRemoved || v.screen == Screen::Identity
    });
    if v.screen == Screen::Error {
        assert_eq!(v.notice, Some(MessageKey::ForwardPutCardBack));
        k.demo.control.tap_card();
    }
    let (_, v) = k.screen(i, Screen::Identity);
    assert_eq!(
        v.identity.as_ref().unwrap().badge,
        MessageKey::BadgeChipVerified
    );
    k.demo.stop();
}

#[test]
fn a_qr_that_is_not_a_card_qr_gets_a_notice_and_the_camera_counts_it() {
    let k = start(Mode::Clinic, true, true);
    k.touch(Action::Start);
    let (i, _) = k.screen(0, Screen::Identify);
    // Card-QR shaped, but the fields are wrong: the decoder reads it, the parser refuses it.
    let frame = kiosk_qr::synth::render_qr(b"001099012345|x|y", 6).unwrap();
    k.demo.control.show_frame(&frame);
    let (_, v) = k.expect(i, "the QR notice", |v| {
        v.notice == Some(MessageKey::NoticeQrNotUnderstood)
    });
    assert_eq!(v.screen, Screen::Identify);
    assert!(!v.actions.contains(&Action::ContinueWithQr));
    assert!(k.demo.runtime.handle().execute(Command::RefreshDiagnostics));
    wait_until("diagnostics", || {
        !k.seen.lock().unwrap().diagnostics.is_empty()
    });
    let d = k.seen.lock().unwrap().diagnostics[0].clone();
    assert!(
        d.camera.detail.contains("1 unreadable"),
        "{}",
        d.camera.detail
    );
    k.demo.stop();
}

#[test]
fn a_missing_reader_shows_its_screen_and_the_qr_way_stays_open() {
    let k = start(Mode::Clinic, false, true);
    wait_until("reader health", || {
        k.seen
            .lock()
            .unwrap()
            .devices
            .contains(&(Device::CardReader, DeviceHealth::Absent))
    });
    k.touch(Action::Start);
    let (i, v) = k.screen(0, Screen::Error);
    assert_eq!(v.title, MessageKey::ErrorReaderMissing);
    assert_eq!(v.notice, Some(MessageKey::ForwardUseQr));
    k.touch(Action::Back);
    let (_, v) = k.screen(i, Screen::Identify);
    assert_eq!(v.title, MessageKey::IdentifyTitle);
    k.demo.stop();
}

#[test]
fn a_missing_camera_shows_its_screen() {
    let k = start(Mode::Clinic, true, false);
    wait_until("camera health", || {
        k.seen
            .lock()
            .unwrap()
            .devices
            .contains(&(Device::Camera, DeviceHealth::Absent))
    });
    k.touch(Action::Start);
    let (_, v) = k.screen(0, Screen::Error);
    assert_eq!(v.title, MessageKey::ErrorCameraMissing);
    assert_eq!(v.notice, Some(MessageKey::ForwardUseKeypadOrCard));
    k.demo.stop();
}

#[test]
fn technician_diagnostics_dead_letter_retry_and_enrolment() {
    let k = start(Mode::Clinic, true, true);
    k.wait_catalog();
    let handle = k.demo.runtime.handle();
    let diagnostics = |n: usize| -> Diagnostics {
        wait_until("diagnostics", || {
            k.seen.lock().unwrap().diagnostics.len() > n
        });
        k.seen.lock().unwrap().diagnostics[n].clone()
    };

    assert!(handle.execute(Command::RefreshDiagnostics));
    let d = diagnostics(0);
    assert_eq!(d.version, env!("CARGO_PKG_VERSION"));
    assert!(d.gateway.ok, "{:?}", d.gateway);
    assert!(
        d.gateway.summary.contains("reachable"),
        "{}",
        d.gateway.summary
    );
    assert!(
        d.reader.ok && d.reader.summary.contains("demo reader"),
        "{:?}",
        d.reader
    );
    assert!(d.camera.ok, "{:?}", d.camera);
    assert!(d.printer.ok, "{:?}", d.printer);
    assert!(
        d.outbox.summary.starts_with("0 pending"),
        "{}",
        d.outbox.summary
    );
    assert!(d.dead_letters.is_empty());

    // A registration for a department the gateway does not have: refused for good.
    let kiosk_id = kiosk_api::v1::KioskId::new(k.demo.world.kiosk_id.clone()).unwrap();
    let r = kiosk_api::sample::clinic_registration(&kiosk_id, "XYZ");
    let key = r.idempotency_key.as_uuid();
    k.demo
        .world
        .outbox
        .enqueue(key, &serde_json::to_string(&r).unwrap())
        .unwrap();
    k.demo.runtime.delivery().wake();
    wait_until("the dead letter", || {
        k.demo.world.outbox.dead().unwrap().len() == 1
    });
    assert!(handle.execute(Command::RefreshDiagnostics));
    let d = diagnostics(1);
    assert_eq!(d.dead_letters.len(), 1);
    assert_eq!(d.dead_letters[0].key, key.to_string());
    assert!(!d.dead_letters[0].reason.is_empty());
    assert!(!d.outbox.ok);

    // The technician fixes the gateway's catalog and retries: delivered, once.
    let config = k.demo.world.gateway_dir().join(kiosk_gateway::config::FILE);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[departments]]\ncode = \"XYZ\"\nname_vi = \"Khoa X\"\nname_en = \"X\"\nroom = \"P9\"\n",
    );
    std::fs::write(&config, text).unwrap();
    k.demo.control.set_gateway_online(false).unwrap();
    k.demo.control.set_gateway_online(true).unwrap();
    assert!(handle.execute(Command::RetryDeadLetter(key.to_string())));
    let d = diagnostics(2);
    assert!(d.dead_letters.is_empty(), "{:?}", d.dead_letters);
    wait_until("the retried delivery", || {
        k.demo.world.outbox.receipt(key).unwrap().is_some()
    });
    let stored = k.demo.world.gateway_registrations().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, key.to_string());

    // Enrolment from an enrolment QR: a new kiosk identity, and the gateway still answers.
    let token = kiosk_gateway::ops::create_token(k.demo.world.gateway_dir(), None, None).unwrap();
    let qr = kiosk_qr::enrolment::Enrolment::parse(&token.qr.to_payload()).unwrap();
    assert!(handle.execute(Command::Enrol(Box::new(qr))));
    wait_until("the enrolment", || {
        !k.seen.lock().unwrap().enrolled.is_empty()
    });
    let (ok, message) = k.seen.lock().unwrap().enrolled[0].clone();
    assert!(ok, "{message}");
    assert!(message.contains("enrolled as demo-"), "{message}");
    assert!(
        !message.contains(&k.demo.world.kiosk_id),
        "a new identity: {message}"
    );
    // A bad QR (token already used) fails with a reason.
    let qr = kiosk_qr::enrolment::Enrolment::parse(&token.qr.to_payload()).unwrap();
    assert!(handle.execute(Command::Enrol(Box::new(qr))));
    wait_until("the second enrolment", || {
        k.seen.lock().unwrap().enrolled.len() == 2
    });
    let (ok, message) = k.seen.lock().unwrap().enrolled[1].clone();
    assert!(!ok && message.contains("enrolment failed"), "{message}");
    k.demo.stop();
}

#[test]
fn the_demo_pin_opens_the_technician_screen_with_live_diagnostics() {
    let k = start(Mode::Clinic, true, true);
    let (i, _) = k.screen(0, Screen::Attract);
    k.touch(Action::TechnicianGesture);
    let (i, _) = k.screen(i, Screen::TechnicianPin);
    for d in super::demo::DEMO_TECHNICIAN_PIN.bytes() {
        k.touch(Action::KeypadDigit(d - b'0'));
    }
    k.touch(Action::KeypadOk);
    let (_, v) = k.expect(i, "the technician screen with a snapshot", |v| {
        v.screen == Screen::Technician
            && v.technician
                .as_ref()
                .is_some_and(|t| t.diagnostics.is_some())
    });
    let d = v.technician.clone().and_then(|t| t.diagnostics).unwrap();
    assert!(d.version.contains(env!("CARGO_PKG_VERSION")), "{d:?}");
    assert!(d.gateway.ok, "the demo gateway is up: {d:?}");
    k.touch(Action::Done);
    k.screen(i, Screen::Attract);
}
