//! Flow tests: the real kiosk-core and this UI together on Slint's testing backend (no
//! display). The test plays the devices (card, reader, delivery worker, timer); clicks on the
//! UI produce the core's actions, which go back into the core, whose `Show` commands render.

use std::cell::RefCell;
use std::rc::Rc;

use i_slint_backend_testing::{ElementHandle, ElementRoot};
use kiosk_core::config::{Mode, Timeouts};
use kiosk_core::event::ReadStep;
use kiosk_core::messages::{Language, MessageKey};
use kiosk_core::{Action, Command, Event};
use kiosk_ui::scenes::{self, ADDRESS, CAN_DIGITS, DATE_OF_BIRTH, Driver, NAME};
use kiosk_ui::{KioskUi, UiOptions};
use slint::{ComponentHandle, LogicalSize, Model};

struct Rig {
    ui: KioskUi,
    d: Driver,
    inbox: Rc<RefCell<Vec<Action>>>,
}

impl Rig {
    fn new(mode: Mode) -> Rig {
        i_slint_backend_testing::init_no_event_loop();
        let catalog = match mode {
            Mode::OneStop => scenes::one_stop_catalog(),
            Mode::Clinic => scenes::clinic_catalog(),
        };
        let ui = KioskUi::new(UiOptions::default()).expect("window");
        ui.window()
            .window()
            .set_size(LogicalSize::new(1280.0, 800.0));
        ui.window().show().expect("show");
        let inbox = Rc::new(RefCell::new(vec![]));
        let sink = inbox.clone();
        ui.on_action(move |a| sink.borrow_mut().push(a));
        let d = Driver::new(mode, Some(catalog)).expect("driver");
        let rig = Rig { ui, d, inbox };
        let view = rig.d.view();
        rig.ui.render(&view, None);
        rig
    }

    /// Carries out the core's UI commands, in order.
    fn apply(&mut self, out: Vec<Command>) {
        for c in out {
            match c {
                Command::ClearPersonalData => self.ui.clear(),
                Command::Show(v) => self.ui.render(&v, self.d.kiosk.photo()),
                _ => {}
            }
        }
    }

    /// A device event.
    fn send(&mut self, e: Event) {
        let out = self.d.send(e);
        self.apply(out);
    }

    fn advance(&mut self, secs: u64) {
        let out = self.d.advance_ms(secs * 1000);
        self.apply(out);
    }

    /// Feeds the actions the UI produced into the core; returns them.
    fn sync(&mut self) -> Vec<Action> {
        let actions: Vec<Action> = self.inbox.borrow_mut().drain(..).collect();
        for a in &actions {
            let out = self.d.touch(a.clone());
            self.apply(out);
        }
        actions
    }

    fn find(&self, id: &str) -> Option<ElementHandle> {
        let id = id.to_owned();
        self.ui
            .window()
            .root_element()
            .query_descendants()
            .match_predicate(move |e| e.accessible_id().is_some_and(|i| i == id))
            .find_first()
    }

    /// Clicks the element with this accessible id and passes the resulting action on.
    #[track_caller]
    fn click(&mut self, id: &str) -> Action {
        let el = self
            .find(id)
            .unwrap_or_else(|| panic!("no element `{id}` on screen {:?}", self.d.view().screen));
        el.mock_single_click(slint::platform::PointerEventButton::Left);
        let mut actions = self.sync();
        assert_eq!(actions.len(), 1, "click on `{id}` gave {actions:?}");
        actions.remove(0)
    }

    fn type_digits(&mut self, digits: &str) {
        for c in digits.chars() {
            self.click(&format!("key-{c}"));
        }
    }

    /// Every text and accessible label/value in the element tree.
    fn texts(&self) -> Vec<String> {
        let mut out = vec![];
        for e in self
            .ui
            .window()
            .root_element()
            .query_descendants()
            .find_all()
        {
            out.extend(e.accessible_label().map(|s| s.to_string()));
            out.extend(e.accessible_value().map(|s| s.to_string()));
        }
        out
    }

    fn shows(&self, text: &str) -> bool {
        self.texts().iter().any(|t| t.contains(text))
    }

    #[track_caller]
    fn assert_shows(&self, text: &str) {
        assert!(
            self.shows(text),
            "`{text}` not on screen {:?}; texts: {:?}",
            self.d.view().screen,
            self.texts()
        );
    }

    fn screen(&self) -> String {
        self.ui.window().get_screen().to_string()
    }

    /// Every personal value the window's properties and models hold, as one string.
    fn personal_dump(&self) -> String {
        let w = self.ui.window();
        let id = w.get_identity();
        let mut out = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            id.full_name,
            id.masked_id,
            id.date_of_birth,
            id.address,
            w.get_keypad(),
            w.get_search(),
            w.get_ticket().display
        );
        for q in w.get_questions().iter() {
            out += &q.answer;
        }
        out += &self.texts().join("|");
        out
    }

    #[track_caller]
    fn assert_nothing_personal(&self) {
        assert_eq!(self.screen(), "attract");
        let dump = self.personal_dump();
        for secret in [NAME, ADDRESS, DATE_OF_BIRTH, "******45", "SO 9", "••"] {
            assert!(!dump.contains(secret), "`{secret}` remains in the UI");
        }
        let photo = self.ui.window().get_photo().size();
        assert_eq!((photo.width, photo.height), (0, 0), "the photo remains");
        assert!(!self.ui.window().get_has_identity());
    }

    /// Card on the reader, six digits on the keypad, a verified read.
    fn identify_by_card(&mut self) {
        self.send(Event::CardInserted);
        assert_eq!(self.screen(), "identify");
        self.type_digits(CAN_DIGITS);
        self.assert_shows("••••••");
        self.click("key-ok");
        assert_eq!(self.screen(), "reading");
        self.send(Event::ReadProgress(ReadStep::ChipCheck));
        let lang = self.d.view().language;
        self.assert_shows(MessageKey::StepChipCheck.text(lang));
        self.send(Event::ReadFinished(
            scenes::chip_identity(true, "14/03/2029").expect("identity"),
        ));
        assert_eq!(self.screen(), "identity");
    }
}

#[test]
fn lookups_find_the_elements() {
    // Fails if the Slint debug info is missing (every lookup would find nothing).
    let rig = Rig::new(Mode::OneStop);
    assert!(rig.find("action-start").is_some());
    assert!(rig.find("language-en").is_some());
    assert!(
        ElementHandle::find_by_accessible_label(
            rig.ui.window(),
            MessageKey::AttractTitle.text(Language::Vi)
        )
        .next()
        .is_some()
    );
    assert!(rig.texts().len() > 5);
}

#[test]
fn one_stop_flow_from_card_to_ticket() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.assert_shows(MessageKey::AttractTitle.text(Language::Vi));
    rig.identify_by_card();
    rig.assert_shows(NAME);
    rig.assert_shows("0010******45");
    rig.assert_shows(DATE_OF_BIRTH);
    rig.assert_shows(MessageKey::BadgeChipVerified.text(Language::Vi));
    // The portrait decoded (the virtual card's DG2 is a JPEG).
    assert!(rig.ui.window().get_photo().size().width > 0);
    rig.click("action-confirm");
    assert_eq!(rig.screen(), "choose");
    rig.assert_shows("Chứng thực bản sao");
    rig.assert_shows("Đăng ký thường trú");
    // Accent-free search on the letter keyboard.
    for k in ["C", "H", "U", "N", "G"] {
        rig.click(&format!("letter-{k}"));
    }
    rig.assert_shows("Chứng thực chữ ký");
    assert!(
        !rig.shows("Đăng ký thường trú"),
        "the search did not filter"
    );
    rig.click("letter-clear");
    rig.click("category-Q01");
    assert!(
        !rig.shows("Chứng thực bản sao"),
        "the category did not filter"
    );
    rig.click("choice-1.001");
    assert_eq!(rig.screen(), "details");
    rig.assert_shows("Địa chỉ mới");
    // The single question takes the keyboard at once.
    for k in ["S", "O", "space", "9"] {
        rig.click(&format!("letter-{k}"));
    }
    rig.assert_shows("SO 9");
    // Submit before consenting: the core refuses and says why.
    rig.click("action-submit");
    assert_eq!(rig.screen(), "details");
    rig.assert_shows(MessageKey::NoticeConsentRequired.text(Language::Vi));
    rig.click("consent-data_processing");
    assert_eq!(
        rig.find("consent-data_processing")
            .and_then(|e| e.accessible_checked()),
        Some(true)
    );
    rig.click("action-submit");
    assert_eq!(rig.screen(), "submitting");
    let ticket = rig.d.ticket("Q01-007", "Q01").expect("ticket");
    rig.send(Event::Delivery(ticket));
    assert_eq!(rig.screen(), "ticket");
    rig.assert_shows("Q01-007");
    rig.assert_shows("Quầy / phòng: Q01");
    rig.assert_shows("Thời gian chờ dự kiến: 12 phút");
    assert!(rig.find("ticket-provisional").is_none());
    rig.click("action-done");
    rig.assert_nothing_personal();
}

#[test]
fn clinic_flow_in_english_from_card_to_ticket() {
    let mut rig = Rig::new(Mode::Clinic);
    rig.click("language-en");
    rig.assert_shows(MessageKey::AttractTitle.text(Language::En));
    rig.assert_shows("Touch to start");
    rig.identify_by_card();
    rig.assert_shows("Date of birth: 14/03/1989");
    rig.assert_shows("Verified by chip");
    rig.click("action-confirm");
    rig.assert_shows("Choose a department");
    rig.assert_shows("Internal medicine");
    rig.click("choice-NOI");
    assert_eq!(rig.screen(), "details");
    rig.click("visit-follow_up");
    rig.click("consent-data_processing");
    rig.click("consent-health_data");
    rig.click("consent-insurance_check");
    rig.assert_shows("Checking health insurance");
    rig.click("action-submit");
    let ticket = rig.d.ticket("NOI-007", "P101").expect("ticket");
    rig.send(Event::Delivery(ticket));
    rig.assert_shows("Your queue number");
    rig.assert_shows("NOI-007");
    rig.assert_shows("Counter / room: P101");
    // The ticket screen returns on its own.
    rig.advance(u64::from(Timeouts::default().ticket_seconds) + 1);
    rig.assert_nothing_personal();
    // The next citizen starts in Vietnamese again, labels included.
    rig.assert_shows(MessageKey::AttractTitle.text(Language::Vi));
    rig.assert_shows("Chạm để bắt đầu");
}

#[test]
fn offline_submission_gives_a_provisional_ticket() {
    let mut rig = Rig::new(Mode::Clinic);
    rig.identify_by_card();
    rig.click("action-confirm");
    rig.click("choice-NHI");
    rig.click("consent-data_processing");
    rig.click("consent-health_data");
    rig.click("action-submit");
    let offline = rig.d.provisional("NHI", 3).expect("provisional");
    rig.send(Event::Delivery(offline));
    assert_eq!(rig.screen(), "ticket");
    rig.assert_shows(MessageKey::TicketProvisionalTitle.text(Language::Vi));
    rig.assert_shows("TẠM THỜI");
    rig.assert_shows(MessageKey::ForwardProvisional.text(Language::Vi));
    assert!(rig.ui.window().get_ticket().provisional);
    assert!(rig.find("ticket-provisional").is_some());
    rig.click("action-done");
    rig.assert_nothing_personal();
}

#[test]
fn cancel_from_the_header_returns_to_attract_and_forgets() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.identify_by_card();
    rig.click("action-confirm");
    rig.click("choice-1.001");
    for k in ["S", "O", "space", "9"] {
        rig.click(&format!("letter-{k}"));
    }
    // Mid-session the data is there (so the check below can fail).
    assert!(rig.personal_dump().contains(NAME));
    rig.assert_shows("SO 9");
    rig.click("action-cancel");
    rig.assert_nothing_personal();
    rig.assert_shows(MessageKey::AttractTitle.text(Language::Vi));
}

#[test]
fn inactivity_shows_a_countdown_then_times_out() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.identify_by_card();
    assert!(rig.find("countdown").is_none());
    let t = Timeouts::default();
    rig.advance(u64::from(t.inactivity_seconds - t.warning_seconds) + 1);
    let countdown = rig
        .find("countdown")
        .expect("a countdown in the last seconds");
    let secs = u64::from(t.warning_seconds) - 1;
    assert_eq!(
        countdown.accessible_label().map(|s| s.to_string()),
        Some(format!("{secs} s"))
    );
    rig.assert_shows(MessageKey::CountdownWarning.text(Language::Vi));
    rig.advance(secs + 1);
    rig.assert_nothing_personal();
}

#[test]
fn clicks_the_view_does_not_offer_are_dropped() {
    let mut rig = Rig::new(Mode::OneStop);
    // The attract screen has no Cancel, Confirm nor Submit.
    assert!(rig.find("action-cancel").is_none());
    rig.ui.window().invoke_action("submit".into());
    rig.ui.window().invoke_select("1.001".into());
    rig.ui
        .window()
        .invoke_toggle_consent("data_processing".into());
    assert_eq!(rig.sync(), vec![]);
}

#[test]
fn five_corner_taps_ask_for_the_technician() {
    let rig = Rig::new(Mode::OneStop);
    for _ in 0..4 {
        rig.ui.window().invoke_corner_tapped();
    }
    assert!(rig.inbox.borrow().is_empty());
    rig.ui.window().invoke_corner_tapped();
    assert_eq!(*rig.inbox.borrow(), vec![Action::TechnicianGesture]);
}

#[test]
fn technician_screen_shows_diagnostics_and_retries_dead_letters() {
    let mut rig = Rig::new(Mode::OneStop);
    let mut v = rig.d.view();
    v.screen = kiosk_core::view::Screen::Technician;
    v.actions = vec![Action::Cancel];
    v.technician = Some(kiosk_core::view::TechnicianView {
        diagnostics: Some(kiosk_ui::screenshots::sample_diagnostics()),
        ..Default::default()
    });
    rig.ui.render(&v, None);
    rig.assert_shows("Máy in: paper out");
    let lines = rig.ui.window().get_tech_lines();
    assert_eq!(lines.row_count(), 5);
    assert!(!lines.row_data(2).expect("printer").ok);
    assert_eq!(
        rig.click("dead-letter-01JDEADLETTER0000000000001"),
        Action::RetryDeadLetter("01JDEADLETTER0000000000001".into())
    );
    rig.ui.render(&v, None);
    assert_eq!(rig.click("action-enrol_from_qr"), Action::EnrolFromQr);
    rig.ui
        .set_camera_preview(Some((4, 2, &[0, 50, 100, 150, 200, 250, 25, 75])))
        .expect("preview");
    assert_eq!(rig.ui.window().get_camera_preview().size().width, 4);
}

#[test]
fn demo_panel_only_when_enabled_and_its_buttons_report() {
    let rig = Rig::new(Mode::OneStop);
    assert!(
        rig.find("demo-tap-card").is_none(),
        "demo panel shown without demo mode"
    );
    drop(rig);

    let ui = KioskUi::new(UiOptions { demo_panel: true }).expect("window");
    ui.window()
        .window()
        .set_size(LogicalSize::new(1510.0, 800.0));
    ui.window().show().expect("show");
    let got = Rc::new(RefCell::new(vec![]));
    let sink = got.clone();
    ui.on_demo(move |a| sink.borrow_mut().push(a));
    let click = |id: &str| {
        let id = id.to_owned();
        ui.window()
            .root_element()
            .query_descendants()
            .match_predicate(move |e| e.accessible_id().is_some_and(|i| i == id))
            .find_first()
            .expect("demo button")
            .mock_single_click(slint::platform::PointerEventButton::Left);
    };
    click("demo-tap-card");
    click("demo-remove-card");
    click("demo-card-qr");
    click("demo-vneid-qr");
    click("demo-gateway");
    ui.set_demo_gateway_online(false);
    click("demo-gateway");
    use kiosk_ui::DemoAction as D;
    assert_eq!(
        *got.borrow(),
        vec![
            D::TapCard,
            D::RemoveCard,
            D::ShowCardQr,
            D::ShowVneidQr,
            D::GatewayOffline,
            D::GatewayOnline
        ]
    );
}

#[test]
fn qr_only_identity_shows_its_badge_and_the_photo_placeholder() {
    let mut rig = Rig::new(Mode::OneStop);
    let qr = "001089012345|012345678|Nguyễn Văn Thử|14031989|Nam|Số 1 Phố Mẫu, Phường Thử, Hà Nội|01072021";
    rig.send(Event::Qr(
        kiosk_qr::payload::classify(qr.as_bytes()).expect("card QR"),
    ));
    assert_eq!(rig.screen(), "identify");
    rig.assert_shows(MessageKey::IdentifyQrReceived.text(Language::Vi));
    rig.click("action-continue_with_qr");
    assert_eq!(rig.screen(), "identity");
    rig.assert_shows(NAME);
    rig.assert_shows(MessageKey::BadgeQrOnly.text(Language::Vi));
    // No chip, no photo: the placeholder is drawn instead.
    assert!(!rig.ui.window().get_identity().has_photo);
    rig.assert_shows("Không có ảnh");
    rig.click("action-cancel");
    rig.assert_nothing_personal();
}

#[test]
fn card_removed_mid_read_shows_the_way_forward_and_resumes() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.type_digits(CAN_DIGITS);
    rig.click("key-ok");
    rig.send(Event::ReadFailed(
        kiosk_core::event::ReadFailure::CardRemoved,
    ));
    assert_eq!(rig.screen(), "error");
    rig.assert_shows(MessageKey::ErrorCardRemoved.text(Language::Vi));
    rig.assert_shows(MessageKey::ForwardPutCardBack.text(Language::Vi));
    assert!(rig.find("action-cancel").is_some());
    rig.click("language-en");
    rig.assert_shows(MessageKey::ErrorCardRemoved.text(Language::En));
    rig.assert_shows(MessageKey::ForwardPutCardBack.text(Language::En));
    // Putting the card back resumes the read.
    let out = rig.d.send(Event::CardInserted);
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::StartCardRead { .. }))
    );
    rig.apply(out);
    assert_eq!(rig.screen(), "reading");
    rig.click("action-cancel");
    rig.assert_nothing_personal();
}

#[test]
fn every_button_on_every_screen_is_a_labelled_56_px_touch_target() {
    let rig = Rig::new(Mode::OneStop);
    let mut checked = 0;
    for language in [Language::Vi, Language::En] {
        for scene in kiosk_ui::screenshots::scenes(language).expect("scenes") {
            rig.ui.clear();
            rig.ui.render(&scene.view, scene.photo.as_deref());
            let buttons = rig
                .ui
                .window()
                .root_element()
                .query_descendants()
                .match_accessible_role(i_slint_backend_testing::AccessibleRole::Button)
                .find_all();
            assert!(!buttons.is_empty(), "{}: no buttons", scene.name);
            for b in buttons {
                let label = b.accessible_label().unwrap_or_default();
                let size = b.size();
                assert!(
                    !label.is_empty(),
                    "{}: a button without a label",
                    scene.name
                );
                assert!(
                    size.height >= 56.0,
                    "{}: `{label}` is {} px high",
                    scene.name,
                    size.height
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "only {checked} buttons checked");
}
