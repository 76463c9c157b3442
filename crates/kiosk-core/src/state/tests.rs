//! Flows of the state machine, driven event by event.

use kiosk_api::v1::{
    Catalog, DeviceHealth, IdentitySource, InsuranceCheckResponse, InsuranceStatus, Procedure,
    ProvisionalTicket, Question, RegistrationKind, SiteKind, Ticket,
};
use kiosk_card::lds::LdsFile;
use kiosk_card::lds::dg13::Dg13;
use kiosk_card::read::{CardReadResult, Progress};
use kiosk_card::{Check, CitizenRecord, Verification};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::config::Timeouts;
use crate::event::{DeliveryResult, Device, Now};

pub(crate) const ID: &str = "001089012345";
pub(crate) const NAME: &str = "Nguyễn Văn Thử";
pub(crate) const ADDRESS: &str = "Số 1 Phố Mẫu, Phường Thử, Hà Nội";
const QR: &str =
    "001089012345|012345678|Nguyễn Văn Thử|14031989|Nam|Số 1 Phố Mẫu, Phường Thử, Hà Nội|01072021";
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0PHOTO-BYTES-OF-A-FACE";

/// The technician PIN of the test machines.
pub(crate) const PIN: &str = "2468";

/// Its hash, made once with the cheapest Argon2 costs (verification reads them from the string).
fn pin_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::pin::hash_with(PIN, crate::pin::cheap_params()).unwrap())
        .clone()
}

fn settings(mode: Mode) -> Settings {
    Settings {
        mode,
        site_name: "UBND phường Thử".into(),
        kiosk_id: KioskId::new("kiosk-01").unwrap(),
        language: Language::Vi,
        timeouts: Timeouts::default(),
        technician: crate::state::TechnicianSettings {
            pin_hash: pin_hash(),
            limits: crate::config::Technician::default(),
        },
    }
}

fn one_stop_catalog() -> Catalog {
    let proc =
        |code: &str, vi: &str, en: &str, counter: &str, questions: Vec<Question>| Procedure {
            code: code.into(),
            name_vi: vi.into(),
            name_en: en.into(),
            counter: counter.into(),
            questions,
        };
    Catalog {
        site_id: "ub-test".into(),
        site_kind: SiteKind::OneStop,
        procedures: vec![
            proc(
                "1.001",
                "Đăng ký thường trú",
                "Permanent residence registration",
                "Q01",
                vec![Question {
                    id: "new_address".into(),
                    label_vi: "Địa chỉ mới".into(),
                    label_en: "New address".into(),
                }],
            ),
            proc(
                "2.001",
                "Chứng thực bản sao",
                "Certified copy",
                "Q02",
                vec![],
            ),
            proc(
                "2.002",
                "Chứng thực chữ ký",
                "Signature certification",
                "Q02",
                vec![],
            ),
        ],
        departments: vec![],
        opening_hours: vec![],
    }
}

fn clinic_catalog() -> Catalog {
    serde_json::from_str(include_str!("../../../../docs/examples/catalog.json")).unwrap()
}

fn dg13(expiry: &str) -> Dg13 {
    let mut d = Dg13::default();
    d.id_number = Some(ID.into());
    d.full_name = Some(NAME.into());
    d.date_of_birth = Some("14/03/1989".into());
    d.sex = Some("Nam".into());
    d.place_of_residence = Some(ADDRESS.into());
    d.issue_date = Some("01/07/2021".into());
    d.expiry_date = Some(expiry.into());
    d.old_id_number = Some("012345678".into());
    d
}

/// A finished read of the fictional citizen; `verified` sets the three PA checks to passed.
pub(crate) fn card_read(verified: bool, expiry: &str, with_sod: bool) -> CardReadResult {
    let mut record = CitizenRecord::new();
    let bytes = dg13(expiry).encode().unwrap();
    record.add_file(LdsFile::Dg13, bytes).unwrap();
    // Not a decodable DG1: the bytes are kept (the MRZ stays unknown), which is all we need.
    let _ = record.add_file(LdsFile::Dg1, vec![0x61, 0x02, 0x5f, 0x1f]);
    if with_sod {
        record
            .add_file(LdsFile::Sod, vec![0x77, 0x02, 0x30, 0x00])
            .unwrap();
    }
    let mut verification = Verification::default();
    if verified {
        verification.sod_hashes = Check::Passed;
        verification.sod_signature = Check::Passed;
        verification.ds_certificate_chain = Check::Passed;
    } else {
        verification.sod_hashes = Check::Passed;
        verification.sod_signature = Check::Passed;
        verification.ds_certificate_chain = Check::not_possible("no CSCA for this issuer");
    }
    CardReadResult {
        record,
        verification,
        protocol: None,
    }
}

fn chip_identity(verified: bool) -> Box<Identity> {
    let mut identity = Identity::from_card_read(&card_read(verified, "14/03/2029", true)).unwrap();
    identity.photo = Some(Zeroizing::new(PHOTO.to_vec()));
    Box::new(identity)
}

fn qr() -> Payload {
    kiosk_qr::payload::classify(QR.as_bytes()).unwrap()
}

struct Rig {
    k: Kiosk,
    now: u64,
    wall: OffsetDateTime,
}

impl Rig {
    fn new(mode: Mode) -> Rig {
        let catalog = match mode {
            Mode::OneStop => one_stop_catalog(),
            Mode::Clinic => clinic_catalog(),
        };
        let mut rig = Rig::bare(mode);
        rig.send(Event::Catalog(Box::new(catalog)));
        rig
    }

    /// Without a catalog (the gateway never answered).
    fn bare(mode: Mode) -> Rig {
        let mut rig = Rig {
            k: Kiosk::new(settings(mode)),
            now: 1_000,
            wall: datetime!(2026-11-27 03:00 UTC),
        };
        rig.advance_ms(0);
        rig
    }

    fn send(&mut self, e: Event) -> Vec<Command> {
        let out = self.k.handle(e);
        self.k.check_invariants().unwrap();
        out
    }

    fn touch(&mut self, a: Action) -> Vec<Command> {
        self.send(Event::Touch(a))
    }

    fn advance_ms(&mut self, ms: u64) -> Vec<Command> {
        self.now += ms;
        self.wall += Duration::milliseconds(ms as i64);
        let now = Now {
            monotonic_ms: self.now,
            wall: self.wall,
        };
        self.send(Event::Tick { now })
    }

    fn advance(&mut self, secs: u64) -> Vec<Command> {
        self.advance_ms(secs * 1000)
    }

    fn view(&self) -> View {
        self.k.view()
    }

    fn digits(&mut self, digits: &str) -> Vec<Command> {
        for d in digits.bytes() {
            self.touch(Action::KeypadDigit(d - b'0'));
        }
        self.touch(Action::KeypadOk)
    }

    /// Attract → card → digits → read → identity shown.
    fn reach_identity(&mut self, verified: bool) {
        self.send(Event::CardInserted);
        let out = self.digits("012345");
        assert!(started_read(&out));
        self.send(Event::ReadFinished(chip_identity(verified)));
        assert_eq!(self.k.state(), &State::IdentityShown);
    }

    fn reach_details(&mut self) {
        self.reach_identity(true);
        self.touch(Action::Confirm);
        match self.k.settings.mode {
            Mode::OneStop => self.touch(Action::SelectProcedure("2.001".into())),
            Mode::Clinic => self.touch(Action::SelectDepartment("NOI".into())),
        };
        assert_eq!(self.k.state(), &State::Details);
    }

    fn reach_submitting(&mut self) -> Registration {
        self.reach_details();
        self.touch(Action::ToggleConsent(Purpose::DataProcessing));
        if self.k.settings.mode == Mode::Clinic {
            self.touch(Action::ToggleConsent(Purpose::HealthData));
        }
        let out = self.touch(Action::Submit);
        assert_eq!(self.k.state(), &State::Submitting);
        submitted(&out).unwrap()
    }
}

fn started_read(out: &[Command]) -> bool {
    out.iter()
        .any(|c| matches!(c, Command::StartCardRead { .. }))
}

fn passwords(out: &[Command]) -> Vec<Password> {
    out.iter()
        .find_map(|c| match c {
            Command::StartCardRead { passwords } => Some(passwords.clone()),
            _ => None,
        })
        .unwrap()
}

fn submitted(out: &[Command]) -> Option<Registration> {
    out.iter().find_map(|c| match c {
        Command::Submit(r) => Some((**r).clone()),
        _ => None,
    })
}

fn shown(out: &[Command]) -> Option<&View> {
    out.iter().rev().find_map(|c| match c {
        Command::Show(v) => Some(&**v),
        _ => None,
    })
}

fn cleared(out: &[Command]) -> bool {
    out.iter().any(|c| matches!(c, Command::ClearPersonalData))
}

/// The key of the registration being submitted (a fresh one when there is none).
fn rig_key(k: &Kiosk) -> IdempotencyKey {
    k.session
        .as_ref()
        .and_then(|s| s.submission.as_ref())
        .map(|r| r.idempotency_key)
        .unwrap_or_default()
}

fn error_of(k: &Kiosk) -> Option<ErrorKind> {
    match k.state() {
        State::Error { kind } => Some(*kind),
        _ => None,
    }
}

/// Every personal value the machine holds, unmasked: the last view shown as JSON and every
/// session field.
fn personal_dump(k: &Kiosk) -> String {
    let mut out = String::new();
    if let Some(v) = &k.shown {
        out += &serde_json::to_string(v).unwrap();
    }
    if let Some(s) = &k.session {
        out += &s.keypad;
        if let Some(c) = &s.can {
            out += c;
        }
        if let Some(q) = &s.qr {
            out += &serde_json::to_string(q).unwrap();
        }
        if let Some(p) = &s.preview {
            out += &serde_json::to_string(&p.to_api()).unwrap();
        }
        if let Some(i) = &s.identity {
            out += &serde_json::to_string(&i.to_api()).unwrap();
            if let Some(p) = i.photo() {
                out += &String::from_utf8_lossy(p);
            }
        }
        out += &s.search;
        for (q, a) in &s.details.answers {
            out += q;
            out += a;
        }
        if let Some(r) = &s.submission {
            out += &serde_json::to_string(r).unwrap();
        }
    }
    out
}

fn assert_no_personal_data(k: &Kiosk) {
    assert!(!k.has_session());
    assert_eq!(k.state(), &State::Attract);
    let dump = format!(
        "{}{}{:?}",
        personal_dump(k),
        serde_json::to_string(&k.view()).unwrap(),
        k
    );
    for secret in [
        NAME,
        ID,
        ADDRESS,
        "012345",
        "14/03/1989",
        "PHOTO-BYTES",
        "Số 9 Phố",
    ] {
        assert!(!dump.contains(secret), "{secret:?} survived in {dump}");
    }
    assert!(k.photo().is_none());
}

// ---------------------------------------------------------------------------------------------
// Flows

#[test]
fn attract_screen_says_welcome_in_both_languages() {
    let mut rig = Rig::new(Mode::OneStop);
    let v = rig.view();
    assert_eq!(v.screen, Screen::Attract);
    assert_eq!(v.title_text(), "Xin chào! Mời đặt thẻ căn cước lên đầu đọc");
    assert_eq!(v.site_name, "UBND phường Thử");
    // The view model is plain JSON for UI tests and the app.
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["screen"], "attract");
    assert_eq!(json["title"], "attract_title");
    assert_eq!(json["actions"][0]["action"], "start");
    let out = rig.touch(Action::Language(Language::En));
    assert_eq!(
        shown(&out).unwrap().title_text(),
        "Welcome! Place your ID card on the reader"
    );
    assert!(!rig.k.has_session());
}

#[test]
fn one_stop_flow_from_card_tap_to_ticket() {
    let mut rig = Rig::new(Mode::OneStop);
    let out = rig.send(Event::CardInserted);
    assert_eq!(shown(&out).unwrap().screen, Screen::Identify);
    assert!(!started_read(&out), "no CAN yet");

    for d in [0, 1, 2, 3, 4] {
        rig.touch(Action::KeypadDigit(d));
    }
    assert_eq!(rig.view().keypad.as_deref(), Some("•••••"));
    rig.touch(Action::KeypadBackspace);
    rig.touch(Action::KeypadDigit(4));
    let out = rig.touch(Action::KeypadDigit(5));
    assert_eq!(shown(&out).unwrap().keypad.as_deref(), Some("••••••"));
    let out = rig.touch(Action::KeypadOk);
    match passwords(&out).as_slice() {
        [Password::Can(can)] => assert_eq!(can.as_str(), "012345"),
        other => panic!("expected one CAN, got {other:?}"),
    }
    assert_eq!(
        rig.k.state(),
        &State::Reading {
            step: ReadStep::Opening
        }
    );

    let out = rig.send(Event::ReadProgress(ReadStep::PersonalData));
    let p = shown(&out).unwrap().progress.unwrap();
    assert_eq!((p.step, p.percent), (ReadStep::PersonalData, 20));
    assert_eq!(p.step_text.text(Language::En), "Reading personal data");
    // The name is on screen as soon as DG13 is read.
    let mut partial = CitizenRecord::new();
    partial
        .add_file(LdsFile::Dg13, dg13("14/03/2029").encode().unwrap())
        .unwrap();
    let out = rig.send(Event::ReadPreview(Box::new(
        Identity::preview(&partial).unwrap(),
    )));
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Reading);
    let id = v.identity.as_ref().unwrap();
    assert_eq!(
        (id.full_name.as_str(), id.badge),
        (NAME, MessageKey::BadgeChecking)
    );
    assert_eq!(id.masked_id, "0010******45");
    rig.send(Event::ReadProgress(ReadStep::Photo));
    assert!(
        rig.view().identity.is_some(),
        "the preview stays while reading"
    );

    let out = rig.send(Event::ReadFinished(chip_identity(true)));
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Identity);
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.full_name, NAME);
    assert_eq!(id.masked_id, "0010******45");
    assert_eq!(id.date_of_birth, "14/03/1989");
    assert_eq!(id.address.as_deref(), Some(ADDRESS));
    assert!(id.has_photo);
    assert_eq!(id.badge, MessageKey::BadgeChipVerified);
    assert_eq!(rig.k.photo(), Some(PHOTO));

    let out = rig.touch(Action::Confirm);
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Choose);
    assert_eq!(v.title_text(), "Chọn thủ tục");
    assert_eq!(v.choices.len(), 3);
    assert_eq!(v.categories, vec!["Q01".to_string(), "Q02".to_string()]);

    let out = rig.touch(Action::Search("chứng thực".into()));
    let codes: Vec<_> = shown(&out)
        .unwrap()
        .choices
        .iter()
        .map(|c| c.code.clone())
        .collect();
    assert_eq!(codes, ["2.001", "2.002"]);
    rig.touch(Action::Search(String::new()));
    let out = rig.touch(Action::Category(Some("Q01".into())));
    let codes: Vec<_> = shown(&out)
        .unwrap()
        .choices
        .iter()
        .map(|c| c.code.clone())
        .collect();
    assert_eq!(codes, ["1.001"]);
    rig.touch(Action::Category(None));
    // Without accents, as many type it.
    let out = rig.touch(Action::Search("CHUNG THUC CHU".into()));
    let codes: Vec<_> = shown(&out)
        .unwrap()
        .choices
        .iter()
        .map(|c| c.code.clone())
        .collect();
    assert_eq!(codes, ["2.002"]);
    assert_eq!(
        shown(&out).unwrap().search.as_deref(),
        Some("CHUNG THUC CHU")
    );
    rig.touch(Action::Search("đăng ký".into()));
    assert_eq!(rig.view().choices.len(), 1);
    rig.touch(Action::Search(String::new()));
    // English names are searchable too.
    let out = rig.touch(Action::Search("RESIDENCE".into()));
    assert_eq!(shown(&out).unwrap().choices.len(), 1);

    // A department is not a one-stop choice.
    rig.touch(Action::SelectDepartment("1.001".into()));
    assert_eq!(rig.k.state(), &State::Choose);
    assert_eq!(rig.view().notice, Some(MessageKey::NoticeNotAvailable));

    let out = rig.touch(Action::SelectProcedure("1.001".into()));
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Details);
    assert_eq!(v.questions.len(), 1);
    assert_eq!(v.questions[0].label, "Địa chỉ mới");
    assert_eq!(v.consents.len(), 1);
    assert!(!v.consents[0].ticked, "consent starts unticked");

    let out = rig.touch(Action::Submit);
    assert!(submitted(&out).is_none());
    assert_eq!(rig.view().notice, Some(MessageKey::NoticeConsentRequired));
    rig.touch(Action::ToggleConsent(Purpose::DataProcessing));
    rig.touch(Action::Submit);
    assert_eq!(rig.view().notice, Some(MessageKey::NoticeAnswerRequired));
    rig.touch(Action::Answer {
        question: "new_address".into(),
        text: "Số 9 Phố Mới".into(),
    });
    let out = rig.touch(Action::Submit);
    let r = submitted(&out).unwrap();
    r.validate().unwrap();
    assert_eq!(r.identity.source, IdentitySource::Chip);
    assert_eq!(r.identity.assurance, Assurance::ChipVerified);
    assert!(r.identity.chip.is_some());
    assert_eq!(r.identity.fields.id_number, ID);
    assert_eq!(r.kiosk_id.as_str(), "kiosk-01");
    assert_eq!(r.created_at.date(), date!(2026 - 11 - 27));
    assert_eq!(r.idempotency_key.as_uuid().get_version_num(), 7);
    match &r.kind {
        RegistrationKind::PublicService {
            procedure_code,
            answers,
        } => {
            assert_eq!(procedure_code, "1.001");
            assert_eq!(
                answers.get("new_address").map(String::as_str),
                Some("Số 9 Phố Mới")
            );
        }
        other => panic!("wrong kind {other:?}"),
    }
    assert_eq!(shown(&out).unwrap().screen, Screen::Submitting);

    let ticket = Ticket {
        idempotency_key: r.idempotency_key,
        queue: "1.001".into(),
        number: 7,
        display: "Q01-007".into(),
        counter_or_room: "Q01".into(),
        estimated_wait_minutes: 12,
        service_day: date!(2026 - 11 - 27),
        issued_at: rig.wall,
        provisional_ticket: None,
    };
    let out = rig.send(Event::Delivery(DeliveryResult::Ticket(Box::new(ticket))));
    let printed = out.iter().find_map(|c| match c {
        Command::PrintTicket(t) => Some(t.clone()),
        _ => None,
    });
    let printed = printed.unwrap();
    assert_eq!(printed.display, "Q01-007");
    assert!(!printed.provisional);
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Ticket);
    assert_eq!(v.title_text(), "Số thứ tự của bạn");
    assert_eq!(v.ticket.as_ref().unwrap().estimated_wait_minutes, Some(12));

    let out = rig.touch(Action::Done);
    assert!(cleared(&out));
    assert_eq!(shown(&out).unwrap().screen, Screen::Attract);
    assert_no_personal_data(&rig.k);
}

#[test]
fn clinic_flow_qr_then_card_with_insurance_and_offline_provisional_ticket() {
    let mut rig = Rig::new(Mode::Clinic);
    let out = rig.send(Event::Qr(qr()));
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Identify);
    assert_eq!(v.notice, Some(MessageKey::IdentifyQrReceived));
    assert_eq!(v.actions[0], Action::ContinueWithQr);

    let out = rig.send(Event::CardInserted);
    let pw = passwords(&out);
    // CAN from the QR's ID first, then the MRZ keys from its dates.
    assert!(matches!(&pw[0], Password::Can(c) if c.as_str() == "012345"));
    assert!(pw.len() > 1 && pw[1..].iter().all(|p| matches!(p, Password::Mrz(_))));

    rig.send(Event::ReadFinished(chip_identity(false)));
    let v = rig.view();
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.badge, MessageKey::BadgeChipUnverified);
    assert!(id.badge_reason.as_deref().unwrap().contains("no CSCA"));

    let out = rig.touch(Action::Confirm);
    let v = shown(&out).unwrap();
    assert_eq!(v.title_text(), "Chọn khoa khám");
    let names: Vec<_> = v
        .choices
        .iter()
        .map(|c| (c.name.clone(), c.place.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("Khoa Nội".to_string(), "P101".to_string()),
            ("Khoa Nhi".to_string(), "P205".to_string())
        ]
    );
    rig.touch(Action::SelectDepartment("NOI".into()));
    let v = rig.view();
    let boxes: Vec<_> = v
        .consents
        .iter()
        .map(|c| (c.purpose, c.ticked, c.required))
        .collect();
    assert_eq!(
        boxes,
        [
            (Purpose::DataProcessing, false, true),
            (Purpose::HealthData, false, true),
            (Purpose::InsuranceCheck, false, false)
        ]
    );

    let out = rig.touch(Action::ToggleConsent(Purpose::InsuranceCheck));
    let req = out
        .iter()
        .find_map(|c| match c {
            Command::CheckInsurance(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(req.id_number, ID);
    assert_eq!(rig.view().insurance, Some(MessageKey::InsuranceChecking));
    rig.send(Event::Insurance(InsuranceCheckResponse {
        status: InsuranceStatus::Valid,
        card_number: Some("DN4010123456789".into()),
        registered_facility: Some("01-001".into()),
        valid_from: None,
        valid_to: Some(date!(2027 - 12 - 31)),
    }));
    assert_eq!(rig.view().insurance, Some(MessageKey::InsuranceValid));

    rig.touch(Action::ToggleConsent(Purpose::DataProcessing));
    rig.touch(Action::Submit);
    assert_eq!(
        rig.view().notice,
        Some(MessageKey::NoticeHealthConsentRequired)
    );
    rig.touch(Action::ToggleConsent(Purpose::HealthData));
    rig.touch(Action::VisitType(kiosk_api::v1::VisitType::FollowUp));
    let out = rig.touch(Action::Submit);
    let r = submitted(&out).unwrap();
    r.validate().unwrap();
    assert!(r.consent.data_processing && r.consent.health_data && r.consent.insurance_check);
    match &r.kind {
        RegistrationKind::ClinicVisit {
            department_code,
            visit_type,
            insurance,
        } => {
            assert_eq!(department_code, "NOI");
            assert_eq!(*visit_type, kiosk_api::v1::VisitType::FollowUp);
            assert_eq!(insurance.as_ref().unwrap().card_number, "DN4010123456789");
        }
        other => panic!("wrong kind {other:?}"),
    }
    assert!(matches!(
        r.identity.assurance,
        Assurance::ChipUnverified { .. }
    ));

    let out = rig.send(Event::Delivery(DeliveryResult::Offline {
        key: rig_key(&rig.k),
        provisional: ProvisionalTicket {
            queue: "NOI".into(),
            number: 3,
            issued_at: rig.wall,
        },
    }));
    let v = shown(&out).unwrap();
    assert_eq!(v.screen, Screen::Ticket);
    assert_eq!(v.title_text(), "Số thứ tự tạm thời của bạn");
    assert_eq!(
        v.notice_text(),
        Some("Đăng ký đã được lưu và sẽ gửi khi có kết nối")
    );
    let t = v.ticket.as_ref().unwrap();
    assert_eq!(
        (t.display.as_str(), t.counter_or_room.as_str()),
        ("T-NOI-003", "P101")
    );
    assert!(t.provisional);
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::PrintTicket(t) if t.provisional))
    );
    // The ticket screen returns to attract on its own.
    let out = rig.advance(20);
    assert!(cleared(&out));
    assert_no_personal_data(&rig.k);
}

#[test]
fn qr_only_identity() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::Qr(qr()));
    let out = rig.touch(Action::ContinueWithQr);
    let v = shown(&out).unwrap();
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.badge, MessageKey::BadgeQrOnly);
    assert_eq!(id.full_name, NAME);
    assert!(!id.has_photo);
    let r = rig.submit_from_identity();
    assert_eq!(r.identity.source, IdentitySource::CardQr);
    assert_eq!(r.identity.assurance, Assurance::QrOnly);
    assert!(r.identity.chip.is_none());
}

impl Rig {
    fn submit_from_identity(&mut self) -> Registration {
        self.touch(Action::Confirm);
        self.touch(Action::SelectProcedure("2.001".into()));
        self.touch(Action::ToggleConsent(Purpose::DataProcessing));
        submitted(&self.touch(Action::Submit)).unwrap()
    }
}

#[test]
fn keypad_identity_with_twelve_digits_and_bad_lengths() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.touch(Action::KeypadDigit(0));
    assert_eq!(rig.k.state(), &State::Identify);
    assert_eq!(rig.view().keypad.as_deref(), Some("•"));
    rig.touch(Action::KeypadOk);
    assert_eq!(rig.view().notice, Some(MessageKey::NoticeKeypadInvalid));
    // Digits above 9 and a 13th digit are ignored.
    rig.touch(Action::KeypadDigit(10));
    for d in "01089012345999".bytes() {
        rig.touch(Action::KeypadDigit(d - b'0'));
    }
    assert_eq!(rig.view().keypad.as_deref(), Some("••••••••••••"));
    rig.touch(Action::KeypadBackspace);
    rig.touch(Action::KeypadBackspace);
    rig.touch(Action::KeypadBackspace);
    rig.touch(Action::KeypadDigit(3));
    rig.touch(Action::KeypadDigit(4));
    rig.touch(Action::KeypadDigit(5));
    // No card yet: asks for it.
    let out = rig.touch(Action::KeypadOk);
    assert!(!started_read(&out));
    assert_eq!(rig.view().notice, Some(MessageKey::PlaceCard));
    let out = rig.send(Event::CardInserted);
    assert!(matches!(passwords(&out).as_slice(), [Password::Can(c)] if c.as_str() == "012345"));
}

#[test]
fn manual_identity_builds_a_manual_registration() {
    let fields = kiosk_api::sample::chip_identity().fields.clone();
    let identity = Identity::from_fields(IdentitySource::Manual, fields).unwrap();
    let r = registration::build(
        &KioskId::new("k1").unwrap(),
        &identity,
        &Choice::Procedure("2.001".into()),
        &Details::default(),
        Consent {
            data_processing: true,
            health_data: false,
            insurance_check: false,
        },
        datetime!(2026-11-27 03:00 UTC),
        IdempotencyKey::new(),
    )
    .unwrap();
    assert_eq!(r.identity.assurance, Assurance::Manual);
    assert!(Identity::from_fields(IdentitySource::Chip, r.identity.fields.clone()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Error states

#[test]
fn card_removed_mid_read_resumes_when_put_back() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.digits("012345");
    rig.send(Event::ReadProgress(ReadStep::Mrz));
    let mut partial = CitizenRecord::new();
    partial
        .add_file(LdsFile::Dg13, dg13("14/03/2029").encode().unwrap())
        .unwrap();
    rig.send(Event::ReadPreview(Box::new(
        Identity::preview(&partial).unwrap(),
    )));
    let out = rig.send(Event::CardRemoved);
    let v = shown(&out).unwrap();
    assert!(
        v.identity.is_none(),
        "the preview leaves the screen with the card"
    );
    assert!(rig.k.session.as_ref().unwrap().preview.is_none());
    assert_eq!(v.screen, Screen::Error);
    assert_eq!(v.title_text(), "Thẻ đã bị rút ra khi đang đọc");
    assert_eq!(v.notice_text(), Some("Đặt lại thẻ để đọc tiếp"));
    let out = rig.send(Event::CardInserted);
    assert!(matches!(passwords(&out).as_slice(), [Password::Can(c)] if c.as_str() == "012345"));
    assert!(matches!(rig.k.state(), State::Reading { .. }));
    // The reader reporting the removal as a failure lands on the same screen.
    let timeout = kiosk_card::Error::Timeout {
        what: "transmit",
        millis: 3000,
    };
    rig.send(Event::ReadFailed(ReadFailure::from_error(&timeout)));
    assert_eq!(error_of(&rig.k), Some(ErrorKind::CardRemoved));
    let gone = kiosk_card::Error::ReaderUnavailable("reader 0".into());
    assert_eq!(ReadFailure::from_error(&gone), ReadFailure::ReaderGone);
}

#[test]
fn wrong_can_lets_the_citizen_retype() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.digits("999999");
    let e = kiosk_card::Error::WrongPassword { protocol: "PACE" };
    let out = rig.send(Event::ReadFailed(ReadFailure::from_error(&e)));
    let v = shown(&out).unwrap();
    assert_eq!(error_of(&rig.k), Some(ErrorKind::WrongCan));
    assert_eq!(
        v.title.text(Language::En),
        "The 6 digits do not match the card"
    );
    assert_eq!(v.actions, vec![Action::Back, Action::Cancel]);
    rig.touch(Action::Back);
    assert_eq!(rig.k.state(), &State::Identify);
    assert_eq!(rig.view().keypad.as_deref(), Some(""));
    let out = rig.digits("012345");
    assert!(started_read(&out), "the card is still there");
}

#[test]
fn wrong_card_when_the_qr_is_of_another_card_or_the_chip_is_unreadable() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::Qr(qr()));
    rig.send(Event::CardInserted);
    rig.send(Event::ReadFailed(ReadFailure::WrongPassword));
    assert_eq!(error_of(&rig.k), Some(ErrorKind::WrongCard));
    rig.touch(Action::Back);
    assert_eq!(rig.k.state(), &State::Identify);
    assert!(
        !rig.view().actions.contains(&Action::ContinueWithQr),
        "QR forgotten"
    );

    // A chip whose ID differs from the QR's.
    let mut rig = Rig::new(Mode::OneStop);
    let other = "079300001234||Trần Thị Bích|29022000|Nữ|Quận 1, TP. Hồ Chí Minh|01072024";
    rig.send(Event::Qr(
        kiosk_qr::payload::classify(other.as_bytes()).unwrap(),
    ));
    rig.send(Event::CardInserted);
    rig.send(Event::ReadFinished(chip_identity(true)));
    assert_eq!(error_of(&rig.k), Some(ErrorKind::WrongCard));

    // Not a CCCD at all.
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.digits("012345");
    let e = kiosk_card::Error::FileProtected { fid: 0x010d };
    rig.send(Event::ReadFailed(ReadFailure::from_error(&e)));
    assert_eq!(error_of(&rig.k), Some(ErrorKind::WrongCard));
    assert_eq!(
        rig.view().notice_text(),
        Some("Thử lại với thẻ của bạn, hoặc đưa mã QR trên thẻ")
    );
}

#[test]
fn expired_card_sends_the_citizen_to_the_counter() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.digits("012345");
    let expired = Identity::from_card_read(&card_read(true, "14/03/2024", true)).unwrap();
    let out = rig.send(Event::ReadFinished(Box::new(expired)));
    let v = shown(&out).unwrap();
    assert_eq!(error_of(&rig.k), Some(ErrorKind::CardExpired));
    assert_eq!(v.title_text(), "Thẻ căn cước đã hết hạn");
    assert_eq!(v.notice, Some(MessageKey::ForwardGoToCounter));
    assert_eq!(v.actions, vec![Action::Done]);
    assert!(rig.k.session.as_ref().unwrap().identity.is_none());
    let out = rig.touch(Action::Done);
    assert!(cleared(&out));
    assert_no_personal_data(&rig.k);
}

#[test]
fn camera_missing_and_reader_missing_leave_the_other_way_open() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::Device {
        device: Device::Camera,
        health: DeviceHealth::Absent,
    });
    rig.touch(Action::Start);
    assert_eq!(error_of(&rig.k), Some(ErrorKind::CameraMissing));
    assert_eq!(
        rig.view().notice_text(),
        Some("Dùng thẻ và bàn phím số thay cho mã QR")
    );
    rig.touch(Action::Back);
    assert_eq!(rig.k.state(), &State::Identify);

    // The reader disappears mid-read.
    rig.send(Event::CardInserted);
    rig.digits("012345");
    let out = rig.send(Event::Device {
        device: Device::CardReader,
        health: DeviceHealth::Failed,
    });
    assert!(out.iter().any(|c| matches!(c, Command::CancelCardRead)));
    assert_eq!(error_of(&rig.k), Some(ErrorKind::ReaderMissing));
    // Both gone: only staff can help.
    assert_eq!(rig.view().notice, Some(MessageKey::ForwardGoToCounter));
    rig.send(Event::Device {
        device: Device::Camera,
        health: DeviceHealth::Ok,
    });
    assert_eq!(
        rig.view().notice_text(),
        Some("Đưa mã QR trên thẻ vào camera")
    );
    rig.touch(Action::Back);
    rig.send(Event::Qr(qr()));
    rig.touch(Action::ContinueWithQr);
    assert_eq!(rig.k.state(), &State::IdentityShown);
}

#[test]
fn gateway_offline_without_catalog() {
    let mut rig = Rig::bare(Mode::Clinic);
    rig.reach_identity(true);
    let out = rig.touch(Action::Confirm);
    let v = shown(&out).unwrap();
    assert_eq!(error_of(&rig.k), Some(ErrorKind::GatewayOffline));
    assert_eq!(v.title.text(Language::En), "The system cannot be reached");
}

#[test]
fn submit_refused_retries_with_the_same_idempotency_key() {
    let mut rig = Rig::new(Mode::OneStop);
    let first = rig.reach_submitting();
    let out = rig.send(Event::Delivery(DeliveryResult::Refused {
        key: rig_key(&rig.k),
        code: "invalid_registration".into(),
    }));
    assert_eq!(error_of(&rig.k), Some(ErrorKind::SubmitRefused));
    assert_eq!(
        shown(&out).unwrap().actions,
        vec![Action::Retry, Action::Done]
    );
    let again = submitted(&rig.touch(Action::Retry)).unwrap();
    assert_eq!(again.idempotency_key, first.idempotency_key);
    assert_eq!(again, first);
    assert_eq!(rig.k.state(), &State::Submitting);
    // A new submission after going back is a new registration with a new key.
    let mut rig2 = Rig::new(Mode::OneStop);
    let other = rig2.reach_submitting();
    assert_ne!(other.idempotency_key, first.idempotency_key);
}

#[test]
fn late_events_are_ignored_outside_their_state() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::ReadFinished(chip_identity(true)));
    rig.send(Event::Delivery(DeliveryResult::Refused {
        key: rig_key(&rig.k),
        code: "x".into(),
    }));
    rig.send(Event::ReadProgress(ReadStep::Photo));
    assert_eq!(rig.k.state(), &State::Attract);
    assert!(!rig.k.has_session());
}

// ---------------------------------------------------------------------------------------------
// Timeouts

#[test]
fn inactivity_shows_a_countdown_then_returns_to_attract() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.touch(Action::Start);
    rig.advance(44);
    assert_eq!(rig.view().countdown_seconds, None);
    let out = rig.advance(1);
    let v = shown(&out).unwrap();
    assert_eq!(v.countdown_seconds, Some(15));
    assert_eq!(v.notice, Some(MessageKey::CountdownWarning));
    rig.advance_ms(13_500);
    assert_eq!(rig.view().countdown_seconds, Some(2));
    // A touch puts the clock back.
    rig.touch(Action::KeypadDigit(1));
    assert_eq!(rig.view().countdown_seconds, None);
    assert_eq!(rig.k.state(), &State::Identify);
    rig.advance(59);
    assert_eq!(rig.view().countdown_seconds, Some(1));
    let out = rig.advance(1);
    assert!(cleared(&out));
    assert_eq!(rig.k.state(), &State::Attract);
    assert_eq!(shown(&out).unwrap().countdown_seconds, None);
}

#[test]
fn inactivity_times_out_every_interactive_state() {
    type Reach = fn(&mut Rig);
    let reach: [(&str, Reach); 5] = [
        ("identify", |r| {
            r.touch(Action::Start);
        }),
        ("reading", |r| {
            r.send(Event::CardInserted);
            r.digits("012345");
            r.send(Event::ReadPreview(chip_identity(false)));
        }),
        ("identity", |r| r.reach_identity(true)),
        ("choose", |r| {
            r.reach_identity(true);
            r.touch(Action::Confirm);
        }),
        ("details", |r| r.reach_details()),
    ];
    for (name, go) in reach {
        let mut rig = Rig::new(Mode::OneStop);
        go(&mut rig);
        let before = rig.k.state().clone();
        rig.advance(59);
        assert_eq!(rig.k.state(), &before, "{name}: too early");
        let out = rig.advance(1);
        assert!(cleared(&out), "{name}");
        if name == "reading" {
            assert!(out.iter().any(|c| matches!(c, Command::CancelCardRead)));
        }
        assert_no_personal_data(&rig.k);
    }
}

#[test]
fn hard_session_limit_ends_even_an_active_session() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.touch(Action::Start);
    for _ in 0..19 {
        rig.advance(30);
        rig.touch(Action::KeypadDigit(1));
        rig.touch(Action::KeypadBackspace);
    }
    assert_eq!(rig.k.state(), &State::Identify);
    // 570 s in: the last 15 s count down even though the citizen is active.
    rig.advance(16);
    assert_eq!(rig.view().countdown_seconds, Some(14));
    let out = rig.advance(14);
    assert!(cleared(&out));
    assert_eq!(rig.k.state(), &State::Attract);
}

#[test]
fn ticket_and_error_screens_time_out_but_submitting_waits() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.reach_submitting();
    rig.advance(29);
    assert_eq!(rig.k.state(), &State::Submitting, "the answer is awaited");
    rig.send(Event::Delivery(DeliveryResult::Offline {
        key: rig_key(&rig.k),
        provisional: ProvisionalTicket {
            queue: "2.001".into(),
            number: 1,
            issued_at: rig.wall,
        },
    }));
    rig.advance(19);
    assert!(matches!(rig.k.state(), State::Ticket { .. }));
    rig.advance(1);
    assert_eq!(rig.k.state(), &State::Attract);

    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.digits("999999");
    rig.send(Event::ReadFailed(ReadFailure::WrongPassword));
    rig.advance(29);
    assert_eq!(error_of(&rig.k), Some(ErrorKind::WrongCan));
    rig.advance(1);
    assert_no_personal_data(&rig.k);
}

#[test]
fn a_clock_going_back_does_not_confuse_the_timers() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.touch(Action::Start);
    rig.advance(30);
    rig.send(Event::Tick {
        now: Now {
            monotonic_ms: 0,
            wall: rig.wall,
        },
    });
    assert_eq!(rig.k.state(), &State::Identify);
    rig.advance(30);
    assert_eq!(rig.k.state(), &State::Attract);
}

// ---------------------------------------------------------------------------------------------
// Cancel and personal data

#[test]
fn cancel_from_every_state_returns_to_attract_and_wipes_the_session() {
    type Reach = fn(&mut Rig);
    let reach: [(&str, Reach); 10] = [
        ("attract", |_| {}),
        ("identify", |r| {
            r.send(Event::Qr(qr()));
        }),
        ("reading", |r| {
            r.send(Event::CardInserted);
            r.digits("012345");
            r.send(Event::ReadPreview(chip_identity(false)));
        }),
        ("identity", |r| r.reach_identity(true)),
        ("choose", |r| {
            r.reach_identity(true);
            r.touch(Action::Confirm);
        }),
        ("details", |r| {
            r.reach_details();
            r.touch(Action::ToggleConsent(Purpose::DataProcessing));
        }),
        ("submitting", |r| {
            r.reach_submitting();
        }),
        ("ticket", |r| {
            r.reach_submitting();
            r.send(Event::Delivery(DeliveryResult::Offline {
                key: rig_key(&r.k),
                provisional: ProvisionalTicket {
                    queue: "NOI".into(),
                    number: 1,
                    issued_at: datetime!(2026-11-27 03:00 UTC),
                },
            }));
        }),
        ("error", |r| {
            r.send(Event::CardInserted);
            r.digits("012345");
            r.send(Event::CardRemoved);
        }),
        ("clinic details", |r| {
            r.k.settings.mode = Mode::Clinic;
            r.send(Event::Catalog(Box::new(clinic_catalog())));
            r.reach_details();
            r.touch(Action::ToggleConsent(Purpose::InsuranceCheck));
        }),
    ];
    for (name, go) in reach {
        let mut rig = Rig::new(Mode::OneStop);
        go(&mut rig);
        let was_attract = rig.k.state() == &State::Attract;
        assert_eq!(was_attract, name == "attract", "{name}");
        let was_reading = matches!(rig.k.state(), State::Reading { .. });
        let out = rig.touch(Action::Cancel);
        assert_eq!(rig.k.state(), &State::Attract, "{name}");
        assert_eq!(cleared(&out), !was_attract, "{name}");
        assert_eq!(
            out.iter().any(|c| matches!(c, Command::CancelCardRead)),
            was_reading,
            "{name}"
        );
        assert_no_personal_data(&rig.k);
    }
}

#[test]
fn no_personal_data_survives_a_return_to_attract() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::CardInserted);
    rig.digits("012345");
    rig.send(Event::ReadFinished(chip_identity(true)));
    rig.touch(Action::Confirm);
    rig.touch(Action::Search("thường trú".into()));
    rig.touch(Action::SelectProcedure("1.001".into()));
    rig.touch(Action::Answer {
        question: "new_address".into(),
        text: "Số 9 Phố Mới".into(),
    });
    // While the session runs, the dump does hold the data: the check below can fail.
    let during = personal_dump(&rig.k);
    for secret in [NAME, ID, ADDRESS, "PHOTO-BYTES", "Số 9 Phố", "thường trú"] {
        assert!(
            during.contains(secret),
            "{secret} missing from the live session"
        );
    }
    // Debug never shows it, even mid-session.
    let debug = format!("{:?} {:?}", rig.k, rig.view());
    assert!(!debug.contains(NAME) && !debug.contains(ID) && !debug.contains(ADDRESS));

    rig.touch(Action::Language(Language::En));
    rig.advance(60);
    assert_no_personal_data(&rig.k);
    assert_eq!(
        rig.view().language,
        Language::Vi,
        "language back to the default"
    );
}

#[test]
fn every_message_has_vietnamese_and_english_text() {
    for key in MessageKey::ALL {
        let vi = key.text(Language::Vi);
        let en = key.text(Language::En);
        assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{key:?}");
        assert_ne!(vi, en, "{key:?} is not translated");
    }
    for kind in [
        ErrorKind::CardRemoved,
        ErrorKind::WrongCard,
        ErrorKind::WrongCan,
        ErrorKind::CardExpired,
        ErrorKind::CameraMissing,
        ErrorKind::ReaderMissing,
        ErrorKind::GatewayOffline,
        ErrorKind::SubmitRefused,
    ] {
        assert!(!kind.actions().is_empty(), "{kind:?} has no way forward");
        assert_ne!(kind.title(), kind.forward());
    }
}

#[test]
fn identity_from_a_chip_read_needs_dg1_dg13_and_sod() {
    let err = Identity::from_card_read(&card_read(true, "14/03/2029", false)).unwrap_err();
    let mut nameless = card_read(true, "14/03/2029", true);
    let mut d = dg13("14/03/2029");
    d.full_name = Some("  ".into());
    nameless
        .record
        .add_file(LdsFile::Dg13, d.encode().unwrap())
        .unwrap();
    let e = Identity::from_card_read(&nameless).unwrap_err();
    assert!(e.to_string().contains("name missing"), "{e}");
    assert!(err.to_string().contains("EF.SOD missing"), "{err}");
    let i = Identity::from_card_read(&card_read(true, "Không thời hạn", true)).unwrap();
    assert!(!i.expired_on(date!(2099 - 01 - 01)), "no expiry");
    assert_eq!(i.assurance(), &Assurance::ChipVerified);
    assert!(format!("{i:?}").contains("0010******45"));
    assert!(!format!("{i:?}").contains(NAME));
}

// ---------------------------------------------------------------------------------------------
// Random event sequences

mod random {
    use proptest::prelude::*;

    use super::*;

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Start),
            Just(Action::Cancel),
            Just(Action::Back),
            (0u8..12).prop_map(Action::KeypadDigit),
            Just(Action::KeypadBackspace),
            Just(Action::KeypadOk),
            Just(Action::ContinueWithQr),
            Just(Action::Confirm),
            ".{0,80}".prop_map(Action::Search),
            proptest::option::of("Q0[0-3]").prop_map(Action::Category),
            prop_oneof![Just("1.001"), Just("2.001"), Just("NOI"), Just("x")]
                .prop_map(|c| Action::SelectProcedure(c.into())),
            prop_oneof![Just("NOI"), Just("1.001")]
                .prop_map(|c| Action::SelectDepartment(c.into())),
            ".{0,600}".prop_map(|t| Action::Answer {
                question: "new_address".into(),
                text: t
            }),
            Just(Action::VisitType(kiosk_api::v1::VisitType::FollowUp)),
            prop_oneof![
                Just(Purpose::DataProcessing),
                Just(Purpose::HealthData),
                Just(Purpose::InsuranceCheck)
            ]
            .prop_map(Action::ToggleConsent),
            Just(Action::Submit),
            Just(Action::Retry),
            Just(Action::Done),
            Just(Action::Language(Language::En)),
            Just(Action::TechnicianGesture),
            prop_oneof![Just("k-1"), Just("k-2")].prop_map(|k| Action::RetryDeadLetter(k.into())),
            Just(Action::EnrolFromQr),
        ]
    }

    /// A clonable stand-in for [`Event`] (identities are not `Clone`).
    #[derive(Debug, Clone)]
    enum Ev {
        Touch(Action),
        CardIn,
        CardOut,
        Progress,
        Preview,
        Finished(bool),
        Failed(ReadFailure),
        Qr,
        QrBad,
        Tick(u64),
        Refused,
        Offline,
        Insurance,
        Device(Device, DeviceHealth),
        /// The technician PIN typed and confirmed (several events).
        RightPin,
        Diagnostics,
        EnrolQr,
        EnrolFinished(bool),
    }

    impl Ev {
        fn into_event(self, key: IdempotencyKey) -> Event {
            let wall = datetime!(2026-11-27 03:00 UTC);
            match self {
                Ev::Touch(a) => Event::Touch(a),
                Ev::CardIn => Event::CardInserted,
                Ev::CardOut => Event::CardRemoved,
                Ev::Progress => Event::ReadProgress(ReadStep::Photo),
                Ev::Preview => Event::ReadPreview(chip_identity(false)),
                Ev::Finished(v) => Event::ReadFinished(chip_identity(v)),
                Ev::Failed(f) => Event::ReadFailed(f),
                Ev::Qr => Event::Qr(qr()),
                Ev::QrBad => Event::QrUnreadable,
                Ev::Tick(ms) => Event::Tick {
                    now: Now {
                        monotonic_ms: ms,
                        wall,
                    },
                },
                Ev::Refused => Event::Delivery(DeliveryResult::Refused {
                    key,
                    code: "x".into(),
                }),
                Ev::Offline => Event::Delivery(DeliveryResult::Offline {
                    key,
                    provisional: ProvisionalTicket {
                        queue: "Q".into(),
                        number: 1,
                        issued_at: wall,
                    },
                }),
                Ev::Insurance => Event::Insurance(InsuranceCheckResponse {
                    status: InsuranceStatus::Unavailable,
                    card_number: None,
                    registered_facility: None,
                    valid_from: None,
                    valid_to: None,
                }),
                Ev::Device(device, health) => Event::Device { device, health },
                // Expanded by the test loop; as one event it is the last key of the PIN.
                Ev::RightPin => Event::Touch(Action::KeypadOk),
                Ev::Diagnostics => Event::Diagnostics(Box::new(crate::view::Diagnostics {
                    dead_letters: vec![crate::view::DeadLetterView {
                        key: "k-1".into(),
                        reason: "422".into(),
                        age: "1 min".into(),
                    }],
                    ..Default::default()
                })),
                Ev::EnrolQr => Event::Qr(
                    kiosk_qr::payload::classify(
                        "kiosk-enrol:v1?gw=https%3A%2F%2Fgw.example&tok=AbCdEfGhIjKlMnOpQrSt\
                         &ca=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\
                         &site=s1&kind=clinic"
                            .as_bytes(),
                    )
                    .unwrap(),
                ),
                Ev::EnrolFinished(ok) => Event::EnrolFinished {
                    ok,
                    message: "done".into(),
                },
            }
        }
    }

    fn event() -> impl Strategy<Value = Ev> {
        let health = prop_oneof![
            Just(DeviceHealth::Ok),
            Just(DeviceHealth::Failed),
            Just(DeviceHealth::Absent)
        ];
        let device = prop_oneof![
            Just(Device::CardReader),
            Just(Device::Camera),
            Just(Device::Printer)
        ];
        prop_oneof![
            6 => action().prop_map(Ev::Touch),
            1 => Just(Ev::CardIn),
            1 => Just(Ev::CardOut),
            1 => Just(Ev::Progress),
            1 => Just(Ev::Preview),
            1 => any::<bool>().prop_map(Ev::Finished),
            1 => prop_oneof![
                Just(ReadFailure::CardRemoved),
                Just(ReadFailure::WrongPassword),
                Just(ReadFailure::WrongCard),
                Just(ReadFailure::ReaderGone)
            ]
            .prop_map(Ev::Failed),
            1 => Just(Ev::Qr),
            1 => Just(Ev::QrBad),
            2 => (0u64..90_000).prop_map(Ev::Tick),
            1 => Just(Ev::Refused),
            1 => Just(Ev::Offline),
            1 => Just(Ev::Insurance),
            1 => (device, health).prop_map(|(d, h)| Ev::Device(d, h)),
            1 => Just(Ev::RightPin),
            1 => Just(Ev::Diagnostics),
            1 => Just(Ev::EnrolQr),
            1 => any::<bool>().prop_map(Ev::EnrolFinished),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_event_sequences_never_panic_and_keep_the_invariants(
            clinic in any::<bool>(),
            events in proptest::collection::vec(event(), 0..80),
        ) {
            let mode = if clinic { Mode::Clinic } else { Mode::OneStop };
            let mut rig = Rig::new(mode);
            let mut now = rig.now;
            for e in events {
                // Ticks only move forward from where the rig is.
                let e = match e {
                    Ev::Tick(ms) => {
                        now += ms;
                        Ev::Tick(now)
                    }
                    Ev::RightPin => {
                        for _ in 0..crate::pin::MAX_DIGITS {
                            rig.k.handle(Event::Touch(Action::KeypadBackspace));
                        }
                        for d in PIN.bytes() {
                            rig.k.handle(Event::Touch(Action::KeypadDigit(d - b'0')));
                        }
                        Ev::RightPin
                    }
                    other => other,
                }
                .into_event(rig_key(&rig.k));
                let technician_before = rig.k.in_technician_mode();
                let out = rig.k.handle(e);
                prop_assert!(rig.k.check_invariants().is_ok(), "{:?}", rig.k.check_invariants());
                for c in &out {
                    if let Command::Submit(r) = c {
                        prop_assert!(r.validate().is_ok());
                    }
                    // Technician mode never starts a citizen's read or submission.
                    if technician_before {
                        prop_assert!(
                            !matches!(c, Command::StartCardRead { .. } | Command::Submit(_)),
                            "{:?}",
                            c
                        );
                    }
                }
                if rig.k.in_technician_mode() {
                    prop_assert!(!rig.k.has_session());
                    prop_assert!(rig.k.view().identity.is_none());
                }
            }
            // Cancel always leads home, with nothing left.
            rig.k.handle(Event::Touch(Action::Cancel));
            prop_assert_eq!(rig.k.state(), &State::Attract);
            prop_assert!(!rig.k.has_session());
        }
    }
}

#[test]
fn a_delivery_answer_for_another_registration_is_not_shown() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.reach_submitting();
    // An earlier citizen's registration, delivered late.
    rig.send(Event::Delivery(DeliveryResult::Offline {
        key: IdempotencyKey::new(),
        provisional: ProvisionalTicket {
            queue: "2.001".into(),
            number: 9,
            issued_at: rig.wall,
        },
    }));
    assert_eq!(rig.k.state(), &State::Submitting);
    rig.send(Event::Delivery(DeliveryResult::Refused {
        key: IdempotencyKey::new(),
        code: "x".into(),
    }));
    assert_eq!(rig.k.state(), &State::Submitting);
}

#[test]
fn read_progress_maps_to_screen_steps_in_order() {
    let record = CitizenRecord::new();
    let file = |file| Progress::FileRead {
        file,
        bytes: 10,
        record: &record,
    };
    let steps: Vec<_> = [
        file(LdsFile::Dg13),
        file(LdsFile::Dg1),
        file(LdsFile::Sod),
        file(LdsFile::Dg2),
    ]
    .iter()
    .map(|p| ReadStep::after(p))
    .collect();
    assert_eq!(
        steps,
        [
            Some(ReadStep::Mrz),
            Some(ReadStep::Security),
            Some(ReadStep::ChipCheck),
            Some(ReadStep::Verifying)
        ]
    );
    assert_eq!(ReadStep::after(&file(LdsFile::Com)), None);
    let pcts: Vec<u8> = ReadStep::ALL.iter().map(|s| s.percent()).collect();
    assert!(pcts.windows(2).all(|w| w[0] < w[1]), "{pcts:?}");
}

mod parsers {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Chip bytes are outside data: any DG13/DG1/SOD content gives an identity or an error.
        #[test]
        fn arbitrary_chip_files_never_panic(
            dg13 in proptest::collection::vec(any::<u8>(), 0..400),
            dg1 in proptest::collection::vec(any::<u8>(), 0..100),
            sod in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut record = CitizenRecord::new();
            let _ = record.add_file(LdsFile::Dg13, dg13);
            let _ = record.add_file(LdsFile::Dg1, dg1);
            let _ = record.add_file(LdsFile::Sod, sod);
            let read = CardReadResult { record, verification: Verification::default(), protocol: None };
            if let Ok(i) = Identity::from_card_read(&read) {
                let unverified = matches!(i.assurance(), Assurance::ChipUnverified { .. });
                prop_assert!(unverified, "unverified chip data called verified");
            }
        }

        /// Card-QR-shaped text with arbitrary fields gives an identity or an error.
        #[test]
        fn arbitrary_card_qr_never_panics(
            id in "[0-9]{12}",
            fields in proptest::collection::vec("[^|]{0,20}", 6),
        ) {
            let text = format!("{id}|{}", fields.join("|"));
            if let Ok(Payload::Card(card)) = kiosk_qr::payload::classify(text.as_bytes()) {
                let _ = Identity::from_card_qr(&card);
            }
        }

        /// Valid fields in a DG13 round-trip to the same identity fields.
        #[test]
        fn dg13_fields_round_trip(name in "[A-Za-zÀ-ỹ][A-Za-zÀ-ỹ ]{0,39}", day in 1u8..=28, month in 1u8..=12, year in 1920u16..2020) {
            let mut d = dg13("Không thời hạn");
            d.full_name = Some(name.clone());
            d.date_of_birth = Some(format!("{day:02}/{month:02}/{year}"));
            let mut record = CitizenRecord::new();
            record.add_file(LdsFile::Dg13, d.encode().unwrap()).unwrap();
            let _ = record.add_file(LdsFile::Dg1, vec![0x61, 0x00]);
            record.add_file(LdsFile::Sod, vec![0x77, 0x00]).unwrap();
            let read = CardReadResult { record, verification: Verification::default(), protocol: None };
            let i = Identity::from_card_read(&read).unwrap();
            prop_assert_eq!(i.fields.full_name.as_str(), name.trim());
            let dob = i.fields.date_of_birth;
            prop_assert_eq!((dob.day(), u8::from(dob.month()), dob.year()), (day, month, i32::from(year)));
        }
    }
}

#[test]
fn back_steps_one_screen_at_a_time() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.reach_details();
    rig.touch(Action::ToggleConsent(Purpose::DataProcessing));
    rig.touch(Action::Back);
    assert_eq!(rig.k.state(), &State::Choose);
    // Going back forgets the choice and its consent: choosing again starts unticked.
    rig.touch(Action::SelectProcedure("2.002".into()));
    assert!(rig.view().consents.iter().all(|c| !c.ticked));
    rig.touch(Action::Back);
    rig.touch(Action::Back);
    assert_eq!(rig.k.state(), &State::IdentityShown);
    rig.touch(Action::Back);
    assert_eq!(rig.k.state(), &State::Identify);
    assert!(rig.k.session.as_ref().unwrap().identity.is_none());
    // Actions that do not belong to a screen change nothing.
    rig.touch(Action::Submit);
    rig.touch(Action::Retry);
    assert_eq!(rig.k.state(), &State::Identify);
}

#[test]
fn without_a_printer_the_ticket_is_only_shown() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.send(Event::Device {
        device: Device::Printer,
        health: DeviceHealth::Absent,
    });
    let r = rig.reach_submitting();
    let out = rig.send(Event::Delivery(DeliveryResult::Offline {
        key: r.idempotency_key,
        provisional: ProvisionalTicket {
            queue: "2.001".into(),
            number: 4,
            issued_at: rig.wall,
        },
    }));
    assert!(!out.iter().any(|c| matches!(c, Command::PrintTicket(_))));
    let v = shown(&out).unwrap();
    assert_eq!(v.ticket.as_ref().unwrap().display, "T-2.001-004");
    assert_eq!(v.ticket.as_ref().unwrap().counter_or_room, "Q02");
}

#[test]
fn a_submission_without_answer_does_not_hang_the_kiosk() {
    let mut rig = Rig::new(Mode::OneStop);
    rig.reach_submitting();
    rig.advance(29);
    assert_eq!(rig.k.state(), &State::Submitting);
    assert_eq!(rig.view().countdown_seconds, None);
    rig.advance(1);
    assert_eq!(error_of(&rig.k), Some(ErrorKind::GatewayOffline));
    assert_eq!(rig.view().notice, Some(MessageKey::ForwardGoToCounter));
    rig.advance(30);
    assert_no_personal_data(&rig.k);

    // An answer arriving after that screen still gives the citizen the ticket.
    let mut rig = Rig::new(Mode::OneStop);
    let r = rig.reach_submitting();
    rig.advance(30);
    assert_eq!(error_of(&rig.k), Some(ErrorKind::GatewayOffline));
    let out = rig.send(Event::Delivery(DeliveryResult::Offline {
        key: r.idempotency_key,
        provisional: ProvisionalTicket {
            queue: "2.001".into(),
            number: 5,
            issued_at: rig.wall,
        },
    }));
    assert_eq!(
        shown(&out).unwrap().ticket.as_ref().unwrap().display,
        "T-2.001-005"
    );
}

#[test]
fn settings_come_from_the_config_file() {
    let text = include_str!("../../../../docs/examples/kiosk.toml");
    let config = Config::parse(text, "kiosk.toml").unwrap();
    let k = Kiosk::new(Settings::from_config(&config).unwrap());
    assert_eq!(k.view().site_name, "Bệnh viện Mẫu – Sảnh A");
    assert_eq!(k.settings.mode, Mode::Clinic);
    assert_eq!(k.settings.kiosk_id.as_str(), "bv-hn01-k02");
    assert_eq!(k.settings.timeouts.submit_seconds, 30);
}

#[test]
fn a_hundred_sessions_leave_nothing_behind() {
    let mut rig = Rig::new(Mode::Clinic);
    let home = rig.view();
    for n in 0..100u32 {
        let r = rig.reach_submitting();
        rig.send(Event::Delivery(DeliveryResult::Offline {
            key: r.idempotency_key,
            provisional: ProvisionalTicket {
                queue: "NOI".into(),
                number: n + 1,
                issued_at: rig.wall,
            },
        }));
        rig.touch(Action::Done);
        rig.send(Event::CardRemoved);
        assert_no_personal_data(&rig.k);
        assert_eq!(rig.view(), home, "session {n}");
    }
}

// ---------------------------------------------------------------------------------------------
// Technician mode

mod technician {
    use super::*;
    use crate::view::{DeadLetterView, DiagnosticLine, Diagnostics, TechnicianView};

    const ENROL_QR: &str = "kiosk-enrol:v1?gw=https%3A%2F%2Fgw.example%3A8443\
        &tok=AbCdEfGhIjKlMnOpQrStUv&ca=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\
        &site=bv-hn01&kind=clinic";

    fn enrolment_qr() -> Payload {
        kiosk_qr::payload::classify(ENROL_QR.as_bytes()).unwrap()
    }

    fn refreshes(out: &[Command]) -> usize {
        out.iter()
            .filter(|c| matches!(c, Command::RefreshDiagnostics))
            .count()
    }

    fn tech_view(rig: &Rig) -> TechnicianView {
        rig.view().technician.clone().expect("a technician view")
    }

    fn type_pin(rig: &mut Rig, pin: &str) -> Vec<Command> {
        for d in pin.bytes() {
            rig.touch(Action::KeypadDigit(d - b'0'));
        }
        rig.touch(Action::KeypadOk)
    }

    /// Attract → gesture → right PIN → technician screen.
    fn open(rig: &mut Rig) -> Vec<Command> {
        rig.touch(Action::TechnicianGesture);
        assert_eq!(rig.k.state(), &State::TechnicianPin);
        let out = type_pin(rig, PIN);
        assert_eq!(rig.k.state(), &State::Technician);
        out
    }

    fn diagnostics(dead: &[&str]) -> Box<Diagnostics> {
        Box::new(Diagnostics {
            version: "0.1.0".into(),
            uptime: "3 min".into(),
            reader: DiagnosticLine {
                ok: true,
                summary: "ACS ACR1252 — card present".into(),
                detail: "3B 88 80 01".into(),
            },
            outbox: DiagnosticLine {
                ok: false,
                summary: "2 pending, oldest 5 min".into(),
                detail: "HTTP 503".into(),
            },
            dead_letters: dead
                .iter()
                .map(|k| DeadLetterView {
                    key: (*k).into(),
                    reason: "422 unknown_queue".into(),
                    age: "2 h ago".into(),
                })
                .collect(),
            ..Diagnostics::default()
        })
    }

    #[test]
    fn the_gesture_on_attract_asks_for_the_pin() {
        let mut rig = Rig::new(Mode::Clinic);
        let out = rig.touch(Action::TechnicianGesture);
        assert_eq!(rig.k.state(), &State::TechnicianPin);
        assert!(
            !rig.k.has_session(),
            "no citizen session in technician mode"
        );
        let v = shown(&out).expect("the PIN screen is shown");
        assert_eq!(v.screen, Screen::TechnicianPin);
        assert_eq!(v.title, MessageKey::TechnicianPinTitle);
        assert_eq!(v.notice, Some(MessageKey::TechnicianPinHint));
        assert_eq!(v.keypad.as_deref(), Some(""));
        assert_eq!(v.actions, vec![Action::KeypadOk, Action::Cancel]);
        let t = v.technician.clone().unwrap();
        assert_eq!((t.locked_seconds, t.failed_attempts), (None, 0));
        assert_eq!(
            v.title_text(),
            "Nhập mã PIN kỹ thuật viên",
            "Vietnamese by default"
        );
    }

    #[test]
    fn the_gesture_is_ignored_while_a_citizen_session_holds_data() {
        let mut rig = Rig::new(Mode::Clinic);
        rig.touch(Action::Start);
        assert_eq!(rig.k.state(), &State::Identify);
        rig.touch(Action::TechnicianGesture);
        assert_eq!(rig.k.state(), &State::Identify);
        rig.touch(Action::Cancel);
        rig.reach_identity(true);
        rig.touch(Action::TechnicianGesture);
        assert_eq!(rig.k.state(), &State::IdentityShown);
        assert!(rig.k.tech.is_none());
        let mut rig = Rig::new(Mode::Clinic);
        rig.reach_submitting();
        rig.touch(Action::TechnicianGesture);
        assert_eq!(rig.k.state(), &State::Submitting);
        assert!(rig.k.tech.is_none());
    }

    #[test]
    fn pin_digits_show_as_bullets_and_the_right_pin_opens_the_technician_screen() {
        let mut rig = Rig::new(Mode::OneStop);
        rig.touch(Action::TechnicianGesture);
        rig.touch(Action::KeypadDigit(2));
        rig.touch(Action::KeypadDigit(4));
        rig.touch(Action::KeypadDigit(7));
        assert_eq!(rig.view().keypad.as_deref(), Some("•••"));
        rig.touch(Action::KeypadBackspace);
        assert_eq!(rig.view().keypad.as_deref(), Some("••"));
        // Digits above 9 are not digits.
        rig.touch(Action::KeypadDigit(11));
        assert_eq!(rig.view().keypad.as_deref(), Some("••"));
        rig.touch(Action::KeypadDigit(6));
        rig.touch(Action::KeypadDigit(8));
        let out = rig.touch(Action::KeypadOk);
        assert_eq!(rig.k.state(), &State::Technician);
        assert_eq!(refreshes(&out), 1, "diagnostics asked for on entry");
        let v = shown(&out).unwrap();
        assert_eq!(v.screen, Screen::Technician);
        assert_eq!(v.title, MessageKey::TechnicianTitle);
        assert_eq!(v.notice, Some(MessageKey::TechnicianLoading));
        assert_eq!(v.actions, vec![Action::EnrolFromQr, Action::Done]);
        assert_eq!(v.keypad, None);
        // The digits are gone from memory once checked.
        assert_eq!(rig.k.tech.as_ref().map(|t| t.pin.len()), Some(0));
        assert!(!rig.k.has_session());
    }

    #[test]
    fn the_pin_keypad_takes_at_most_twelve_digits() {
        let mut rig = Rig::new(Mode::OneStop);
        rig.touch(Action::TechnicianGesture);
        for _ in 0..15 {
            rig.touch(Action::KeypadDigit(1));
        }
        assert_eq!(rig.view().keypad.as_deref(), Some("••••••••••••"));
    }

    #[test]
    fn a_wrong_pin_is_counted_and_a_short_one_is_not() {
        let mut rig = Rig::new(Mode::OneStop);
        rig.touch(Action::TechnicianGesture);
        let out = type_pin(&mut rig, "1357");
        assert_eq!(rig.k.state(), &State::TechnicianPin);
        assert_eq!(refreshes(&out), 0);
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianPinWrong));
        assert_eq!(tech_view(&rig).failed_attempts, 1);
        assert_eq!(
            rig.view().keypad.as_deref(),
            Some(""),
            "cleared after a try"
        );
        type_pin(&mut rig, "246");
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianPinFormat));
        assert_eq!(
            tech_view(&rig).failed_attempts,
            1,
            "cannot be the PIN: not counted"
        );
        // Typing again clears the notice; the right PIN resets the count.
        rig.touch(Action::KeypadDigit(2));
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianPinHint));
        rig.touch(Action::KeypadBackspace);
        type_pin(&mut rig, "1357");
        assert_eq!(tech_view(&rig).failed_attempts, 2);
        type_pin(&mut rig, PIN);
        assert_eq!(rig.k.state(), &State::Technician);
        // The count starts afresh after the right PIN.
        rig.touch(Action::Done);
        rig.touch(Action::TechnicianGesture);
        assert_eq!(tech_view(&rig).failed_attempts, 0);
    }

    #[test]
    fn five_wrong_pins_lock_the_pad_until_the_lockout_ends_even_across_attract() {
        let mut rig = Rig::new(Mode::Clinic);
        rig.touch(Action::TechnicianGesture);
        for n in 1..=4 {
            type_pin(&mut rig, "0000");
            assert_eq!(tech_view(&rig).failed_attempts, n);
            assert_eq!(tech_view(&rig).locked_seconds, None);
        }
        type_pin(&mut rig, "0000");
        let t = tech_view(&rig);
        assert_eq!(t.locked_seconds, Some(300));
        assert_eq!(t.failed_attempts, 0, "counted afresh after the lockout");
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianLocked));
        // The right PIN is refused while locked, and digits are not taken.
        let out = type_pin(&mut rig, PIN);
        assert_eq!(rig.k.state(), &State::TechnicianPin);
        assert_eq!(refreshes(&out), 0);
        assert_eq!(rig.view().keypad.as_deref(), Some(""));
        // The countdown follows the monotonic clock.
        rig.advance(100);
        assert_eq!(tech_view(&rig).locked_seconds, Some(200));
        rig.advance_ms(500);
        assert_eq!(tech_view(&rig).locked_seconds, Some(200), "rounded up");
        // Back to attract and in again: still locked.
        rig.touch(Action::Cancel);
        assert_eq!(rig.k.state(), &State::Attract);
        rig.advance(50);
        rig.touch(Action::TechnicianGesture);
        assert_eq!(tech_view(&rig).locked_seconds, Some(150));
        type_pin(&mut rig, PIN);
        assert_eq!(rig.k.state(), &State::TechnicianPin);
        // A clock that goes back does not stretch or shorten it.
        rig.send(Event::Tick {
            now: Now {
                monotonic_ms: 5,
                wall: rig.wall,
            },
        });
        assert_eq!(tech_view(&rig).locked_seconds, Some(150));
        // It ends: the right PIN works again.
        rig.advance(100);
        rig.touch(Action::Cancel);
        rig.advance(50);
        rig.touch(Action::TechnicianGesture);
        assert_eq!(tech_view(&rig).locked_seconds, None);
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianPinHint));
        type_pin(&mut rig, PIN);
        assert_eq!(rig.k.state(), &State::Technician);
    }

    #[test]
    fn attempts_after_a_lockout_start_again_from_the_configured_limit() {
        let mut s = settings(Mode::Clinic);
        s.technician.limits.max_attempts = 2;
        s.technician.limits.lockout_seconds = 10;
        let mut rig = Rig::new(Mode::Clinic);
        rig.k = Kiosk::new(s);
        rig.advance(0);
        rig.touch(Action::TechnicianGesture);
        type_pin(&mut rig, "1111");
        type_pin(&mut rig, "1111");
        assert_eq!(tech_view(&rig).locked_seconds, Some(10));
        rig.advance(5);
        // Idle for less than the idle timeout: still on the pad, 5 s left.
        assert_eq!(tech_view(&rig).locked_seconds, Some(5));
        rig.advance(5);
        assert_eq!(tech_view(&rig).locked_seconds, None);
        type_pin(&mut rig, "1111");
        assert_eq!(
            tech_view(&rig).locked_seconds,
            None,
            "one wrong PIN, not two"
        );
        type_pin(&mut rig, "1111");
        assert_eq!(tech_view(&rig).locked_seconds, Some(10));
    }

    #[test]
    fn an_unusable_pin_hash_opens_nothing() {
        let mut s = settings(Mode::Clinic);
        s.technician.pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$ZGVtbw".into();
        let mut rig = Rig::new(Mode::Clinic);
        rig.k = Kiosk::new(s);
        rig.advance(0);
        rig.touch(Action::TechnicianGesture);
        type_pin(&mut rig, PIN);
        assert_eq!(rig.k.state(), &State::TechnicianPin);
        assert_eq!(tech_view(&rig).failed_attempts, 1);
    }

    #[test]
    fn diagnostics_are_refreshed_every_two_seconds_and_shown() {
        let mut rig = Rig::new(Mode::Clinic);
        open(&mut rig);
        assert_eq!(refreshes(&rig.advance_ms(1_900)), 0);
        assert_eq!(refreshes(&rig.advance_ms(100)), 1);
        assert_eq!(refreshes(&rig.advance_ms(1_000)), 0);
        assert_eq!(refreshes(&rig.advance_ms(1_000)), 1);
        let out = rig.send(Event::Diagnostics(diagnostics(&["k-1", "k-2"])));
        let v = shown(&out).expect("the snapshot is shown");
        assert_eq!(v.notice, Some(MessageKey::TechnicianHint));
        let t = v.technician.clone().unwrap();
        let d = t.diagnostics.unwrap();
        assert_eq!(d.reader.detail, "3B 88 80 01");
        assert_eq!(d.dead_letters.len(), 2);
        assert_eq!(
            v.actions,
            vec![
                Action::EnrolFromQr,
                Action::Done,
                Action::RetryDeadLetter("k-1".into()),
                Action::RetryDeadLetter("k-2".into())
            ]
        );
        assert_eq!(v.title_text(), "Chế độ kỹ thuật viên");
        rig.touch(Action::Language(Language::En));
        assert_eq!(rig.view().title_text(), "Technician mode");
    }

    #[test]
    fn diagnostics_outside_the_technician_screen_are_dropped() {
        let mut rig = Rig::new(Mode::Clinic);
        rig.send(Event::Diagnostics(diagnostics(&["k-1"])));
        rig.touch(Action::TechnicianGesture);
        rig.send(Event::Diagnostics(diagnostics(&["k-1"])));
        type_pin(&mut rig, PIN);
        assert_eq!(tech_view(&rig).diagnostics, None);
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianLoading));
    }

    #[test]
    fn a_listed_dead_letter_is_retried_with_a_status_line() {
        let mut rig = Rig::new(Mode::OneStop);
        open(&mut rig);
        // Nothing listed yet: nothing is retried.
        let out = rig.touch(Action::RetryDeadLetter("k-9".into()));
        assert!(!out.iter().any(|c| matches!(c, Command::RetryDeadLetter(_))));
        assert_eq!(
            rig.view().notice,
            Some(MessageKey::TechnicianUnknownDeadLetter)
        );
        rig.send(Event::Diagnostics(diagnostics(&["k-1"])));
        let out = rig.touch(Action::RetryDeadLetter("k-1".into()));
        let retried: Vec<&String> = out
            .iter()
            .filter_map(|c| match c {
                Command::RetryDeadLetter(k) => Some(k),
                _ => None,
            })
            .collect();
        assert_eq!(retried, vec!["k-1"]);
        assert_eq!(refreshes(&out), 1, "the list is refreshed at once");
        let v = shown(&out).unwrap();
        assert_eq!(v.notice, Some(MessageKey::TechnicianRetryRequested));
        assert_eq!(v.technician.clone().unwrap().status.as_deref(), Some("k-1"));
    }

    #[test]
    fn enrolment_from_a_qr_ignores_citizen_codes_and_reports_the_outcome() {
        let mut rig = Rig::new(Mode::Clinic);
        open(&mut rig);
        // Not asked for yet: an enrolment QR does nothing.
        let out = rig.send(Event::Qr(enrolment_qr()));
        assert!(!out.iter().any(|c| matches!(c, Command::Enrol(_))));
        rig.touch(Action::EnrolFromQr);
        let t = tech_view(&rig);
        assert!(t.awaiting_enrolment_qr);
        assert_eq!(
            rig.view().notice,
            Some(MessageKey::TechnicianShowEnrolmentQr)
        );
        // A citizen's card QR is not an enrolment and starts no session.
        let out = rig.send(Event::Qr(qr()));
        assert!(
            out.iter()
                .all(|c| !matches!(c, Command::Enrol(_) | Command::StartCardRead { .. }))
        );
        assert!(!rig.k.has_session());
        assert_eq!(rig.k.state(), &State::Technician);
        assert_eq!(
            rig.view().notice,
            Some(MessageKey::TechnicianNotEnrolmentQr)
        );
        assert!(tech_view(&rig).awaiting_enrolment_qr, "still waiting");
        rig.send(Event::QrUnreadable);
        assert_eq!(
            rig.view().notice,
            Some(MessageKey::TechnicianNotEnrolmentQr)
        );
        // The enrolment QR.
        let out = rig.send(Event::Qr(enrolment_qr()));
        let enrol = out
            .iter()
            .find_map(|c| match c {
                Command::Enrol(e) => Some(e.clone()),
                _ => None,
            })
            .expect("an enrol command");
        assert_eq!(enrol.site(), "bv-hn01");
        assert!(!tech_view(&rig).awaiting_enrolment_qr);
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianEnrolling));
        // A second QR while enrolling is not a second enrolment.
        let out = rig.send(Event::Qr(enrolment_qr()));
        assert!(!out.iter().any(|c| matches!(c, Command::Enrol(_))));
        let out = rig.send(Event::EnrolFinished {
            ok: true,
            message: "bv-hn01-k07\u{7}".into(),
        });
        assert_eq!(refreshes(&out), 1);
        let v = shown(&out).unwrap();
        assert_eq!(v.notice, Some(MessageKey::TechnicianEnrolOk));
        assert_eq!(
            v.technician.clone().unwrap().status.as_deref(),
            Some("bv-hn01-k07"),
            "control characters dropped"
        );
        // An outcome nobody waits for is ignored.
        rig.send(Event::EnrolFinished {
            ok: false,
            message: "late".into(),
        });
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianEnrolOk));
    }

    #[test]
    fn a_failed_enrolment_says_so_with_the_reason() {
        let mut rig = Rig::new(Mode::Clinic);
        open(&mut rig);
        rig.touch(Action::EnrolFromQr);
        rig.send(Event::Qr(enrolment_qr()));
        rig.send(Event::EnrolFinished {
            ok: false,
            message: "x".repeat(500),
        });
        assert_eq!(rig.view().notice, Some(MessageKey::TechnicianEnrolFailed));
        let status = tech_view(&rig).status.unwrap();
        assert_eq!(status.chars().count(), 200, "bounded");
    }

    #[test]
    fn done_cancel_and_back_return_to_attract() {
        for (pin_screen, action) in [
            (true, Action::Cancel),
            (true, Action::Back),
            (false, Action::Done),
            (false, Action::Cancel),
            (false, Action::Back),
        ] {
            let mut rig = Rig::new(Mode::Clinic);
            if pin_screen {
                rig.touch(Action::TechnicianGesture);
                rig.touch(Action::KeypadDigit(2));
            } else {
                open(&mut rig);
            }
            let out = rig.touch(action.clone());
            assert_eq!(rig.k.state(), &State::Attract, "{action:?}");
            assert!(rig.k.tech.is_none());
            assert!(cleared(&out));
            assert_eq!(shown(&out).unwrap().screen, Screen::Attract);
        }
    }

    #[test]
    fn idle_technician_screens_return_to_attract() {
        let mut rig = Rig::new(Mode::Clinic);
        open(&mut rig);
        rig.advance(100);
        // A touch restarts the idle time.
        rig.touch(Action::Language(Language::En));
        rig.advance(119);
        assert_eq!(rig.k.state(), &State::Technician);
        let out = rig.advance(1);
        assert_eq!(rig.k.state(), &State::Attract);
        assert!(cleared(&out));
        assert_eq!(rig.view().language, Language::Vi, "language reset");
        // The PIN pad too.
        rig.touch(Action::TechnicianGesture);
        rig.touch(Action::KeypadDigit(2));
        rig.advance(120);
        assert_eq!(rig.k.state(), &State::Attract);
        assert!(rig.k.tech.is_none());
    }

    #[test]
    fn citizen_events_are_ignored_in_technician_mode() {
        for on_pin_screen in [true, false] {
            let mut rig = Rig::new(Mode::Clinic);
            if on_pin_screen {
                rig.touch(Action::TechnicianGesture);
            } else {
                open(&mut rig);
            }
            let state = rig.k.state().clone();
            let mut all = Vec::new();
            all.extend(rig.send(Event::CardInserted));
            all.extend(rig.send(Event::Qr(qr())));
            all.extend(rig.touch(Action::Start));
            all.extend(rig.touch(Action::Submit));
            all.extend(rig.send(Event::ReadFinished(chip_identity(true))));
            all.extend(rig.send(Event::Delivery(DeliveryResult::Offline {
                key: IdempotencyKey::new(),
                provisional: ProvisionalTicket {
                    queue: "NOI".into(),
                    number: 1,
                    issued_at: rig.wall,
                },
            })));
            all.extend(rig.send(Event::CardRemoved));
            assert_eq!(rig.k.state(), &state);
            assert!(!rig.k.has_session());
            assert!(
                all.iter()
                    .all(|c| matches!(c, Command::Show(_) | Command::RefreshDiagnostics)),
                "{all:?}"
            );
            let dump = personal_dump(&rig.k);
            assert!(!dump.contains(NAME) && !dump.contains(ID), "{dump}");
        }
    }

    #[test]
    fn nothing_secret_in_debug_output() {
        let mut rig = Rig::new(Mode::Clinic);
        rig.touch(Action::TechnicianGesture);
        rig.touch(Action::KeypadDigit(2));
        rig.touch(Action::KeypadDigit(4));
        let debug = format!("{:?} {:?} {:?}", rig.k, rig.k.settings, rig.view());
        assert!(!debug.contains("argon2"), "{debug}");
        assert!(!debug.contains("24"), "{debug}");
        let json = serde_json::to_string(&rig.view()).unwrap();
        assert!(!json.contains("24"), "{json}");
    }
}
