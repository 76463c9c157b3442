//! Scenes for screenshots, the demo and the UI tests: a fictional citizen, sample catalogs and
//! [`Driver`], which drives the **real** [`Kiosk`] with events the way the app's device threads
//! would. Nothing here is real personal data.

use kiosk_api::v1::{
    Catalog, Department, IdempotencyKey, KioskId, Procedure, ProvisionalTicket, Question, SiteKind,
    Ticket,
};
use kiosk_card::lds::LdsFile;
use kiosk_card::lds::dg2::{FaceImage, ImageType};
use kiosk_card::lds::dg13::Dg13;
use kiosk_card::read::CardReadResult;
use kiosk_card::{Check, CitizenRecord, Verification};
use kiosk_core::config::{Mode, Timeouts};
use kiosk_core::event::{DeliveryResult, Now};
use kiosk_core::identity::Identity;
use kiosk_core::messages::Language;
use kiosk_core::{Action, Command, Event, Kiosk, Settings, View};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};

/// The fictional citizen.
pub const ID: &str = "001089012345";
pub const NAME: &str = "Nguyễn Văn Thử";
pub const ADDRESS: &str = "Số 1 Phố Mẫu, Phường Thử, Hà Nội";
pub const DATE_OF_BIRTH: &str = "14/03/1989";
/// The last six digits of [`ID`], typed on the keypad.
pub const CAN_DIGITS: &str = "012345";

fn scene_err(scene: &str, reason: impl ToString) -> Error {
    Error::Scene {
        scene: scene.into(),
        reason: reason.to_string(),
    }
}

/// A one-stop catalog: three procedures at two counters, one with a question.
pub fn one_stop_catalog() -> Catalog {
    let proc =
        |code: &str, vi: &str, en: &str, counter: &str, questions: Vec<Question>| Procedure {
            code: code.into(),
            name_vi: vi.into(),
            name_en: en.into(),
            counter: counter.into(),
            questions,
        };
    Catalog {
        site_id: "ub-demo".into(),
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
            proc(
                "3.001",
                "Cấp lại giấy khai sinh",
                "Birth certificate reissue",
                "Q03",
                vec![],
            ),
        ],
        departments: vec![],
        opening_hours: vec![],
    }
}

/// A clinic catalog: two departments.
pub fn clinic_catalog() -> Catalog {
    let dep = |code: &str, vi: &str, en: &str, room: &str| Department {
        code: code.into(),
        name_vi: vi.into(),
        name_en: en.into(),
        room: room.into(),
    };
    Catalog {
        site_id: "bv-demo".into(),
        site_kind: SiteKind::Clinic,
        procedures: vec![],
        departments: vec![
            dep("NOI", "Khoa Nội", "Internal medicine", "P101"),
            dep("NHI", "Khoa Nhi", "Paediatrics", "P205"),
            dep("MAT", "Khoa Mắt", "Ophthalmology", "P310"),
        ],
        opening_hours: vec![],
    }
}

/// A finished chip read of the fictional citizen with a synthetic JPEG portrait. `verified`:
/// passive authentication passed; otherwise the chain could not be checked.
pub fn card_read(verified: bool, expiry: &str) -> Result<CardReadResult> {
    let mut dg13 = Dg13::default();
    dg13.id_number = Some(ID.into());
    dg13.full_name = Some(NAME.into());
    dg13.date_of_birth = Some(DATE_OF_BIRTH.into());
    dg13.sex = Some("Nam".into());
    dg13.place_of_residence = Some(ADDRESS.into());
    dg13.issue_date = Some("01/07/2021".into());
    dg13.expiry_date = Some(expiry.into());
    let mut record = CitizenRecord::new();
    let bytes = dg13.encode().map_err(|e| scene_err("card", e))?;
    record
        .add_file(LdsFile::Dg13, bytes)
        .map_err(|e| scene_err("card", e))?;
    // The MRZ is not needed on screen: undecodable DG1 bytes are kept as they are.
    let _ = record.add_file(LdsFile::Dg1, vec![0x61, 0x02, 0x5f, 0x1f]);
    record
        .add_file(LdsFile::Sod, vec![0x77, 0x02, 0x30, 0x00])
        .map_err(|e| scene_err("card", e))?;
    let jpeg = kiosk_vcard::photo::synthetic_portrait(7).map_err(|e| scene_err("card", e))?;
    record.photo = Some(FaceImage {
        image_type: ImageType::Jpeg,
        width: 0,
        height: 0,
        feature_points: 0,
        data: jpeg,
    });
    let verification = Verification {
        sod_hashes: Check::Passed,
        sod_signature: Check::Passed,
        ds_certificate_chain: if verified {
            Check::Passed
        } else {
            Check::not_possible("no CSCA certificate for this issuer")
        },
        ..Verification::default()
    };
    Ok(CardReadResult {
        record,
        verification,
        protocol: None,
    })
}

/// The identity of a finished chip read.
pub fn chip_identity(verified: bool, expiry: &str) -> Result<Box<Identity>> {
    let read = card_read(verified, expiry)?;
    Identity::from_card_read(&read)
        .map(Box::new)
        .map_err(|e| scene_err("identity", e))
}

/// The reading screen's preview (name shown while the rest loads).
pub fn preview_identity() -> Result<Box<Identity>> {
    let read = card_read(true, "14/03/2029")?;
    Identity::preview(&read.record)
        .map(Box::new)
        .map_err(|e| scene_err("preview", e))
}

/// Drives a real [`Kiosk`] with events, keeping the last view shown, the commands given and a
/// simulated clock.
pub struct Driver {
    pub kiosk: Kiosk,
    pub now_ms: u64,
    pub wall: OffsetDateTime,
    /// The last `Command::Show`.
    pub shown: Option<View>,
    /// The key of the last `Command::Submit`.
    pub submitted: Option<IdempotencyKey>,
    /// Whether the last batch of commands held `ClearPersonalData`.
    pub cleared: bool,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

/// The scenes' technician PIN.
pub const TECHNICIAN_PIN: &str = "246810";

impl Driver {
    /// A kiosk in `mode` at the fictional site, with its catalog (`None`: the gateway never
    /// answered).
    pub fn new(mode: Mode, catalog: Option<Catalog>) -> Result<Driver> {
        let kiosk_id = KioskId::new("kiosk-01").map_err(|e| scene_err("settings", e))?;
        let site_name = match mode {
            Mode::OneStop => "UBND phường Thử",
            Mode::Clinic => "Bệnh viện Đa khoa Thử",
        };
        let settings = Settings {
            mode,
            site_name: site_name.into(),
            kiosk_id,
            language: Language::Vi,
            timeouts: Timeouts::default(),
            technician: kiosk_core::state::TechnicianSettings {
                pin_hash: kiosk_core::pin::hash(TECHNICIAN_PIN)
                    .map_err(|e| scene_err("technician PIN", e))?,
                limits: kiosk_core::config::Technician::default(),
            },
        };
        let mut d = Driver {
            kiosk: Kiosk::new(settings),
            now_ms: 1_000,
            wall: time::macros::datetime!(2026-11-27 03:00 UTC),
            shown: None,
            submitted: None,
            cleared: false,
        };
        d.advance_ms(0);
        if let Some(c) = catalog {
            d.send(Event::Catalog(Box::new(c)));
        }
        Ok(d)
    }

    /// Feeds one event; returns the commands.
    pub fn send(&mut self, e: Event) -> Vec<Command> {
        let out = self.kiosk.handle(e);
        self.cleared = false;
        for c in &out {
            match c {
                Command::Show(v) => self.shown = Some((**v).clone()),
                Command::Submit(r) => self.submitted = Some(r.idempotency_key),
                Command::ClearPersonalData => self.cleared = true,
                _ => {}
            }
        }
        out
    }

    pub fn touch(&mut self, a: Action) -> Vec<Command> {
        self.send(Event::Touch(a))
    }

    pub fn advance_ms(&mut self, ms: u64) -> Vec<Command> {
        self.now_ms += ms;
        self.wall += Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX));
        let now = Now {
            monotonic_ms: self.now_ms,
            wall: self.wall,
        };
        self.send(Event::Tick { now })
    }

    /// Types digits on the keypad, then OK.
    pub fn digits(&mut self, digits: &str) {
        self.type_digits(digits);
        self.touch(Action::KeypadOk);
    }

    /// Types digits on the keypad (no OK).
    pub fn type_digits(&mut self, digits: &str) {
        for d in digits.bytes().filter(u8::is_ascii_digit) {
            self.touch(Action::KeypadDigit(d - b'0'));
        }
    }

    /// The view on screen now (the last shown, or the machine's current one).
    pub fn view(&self) -> View {
        self.shown.clone().unwrap_or_else(|| self.kiosk.view())
    }

    /// The gateway's ticket for the last submission.
    pub fn ticket(&self, display: &str, room: &str) -> Result<DeliveryResult> {
        let key = self
            .submitted
            .ok_or_else(|| scene_err("ticket", "nothing was submitted"))?;
        Ok(DeliveryResult::Ticket(Box::new(Ticket {
            idempotency_key: key,
            queue: room.into(),
            number: 7,
            display: display.into(),
            counter_or_room: room.into(),
            estimated_wait_minutes: 12,
            service_day: self.wall.date(),
            issued_at: self.wall,
            provisional_ticket: None,
        })))
    }

    /// The outbox's provisional number for the last submission (gateway offline).
    pub fn provisional(&self, queue: &str, number: u32) -> Result<DeliveryResult> {
        let key = self
            .submitted
            .ok_or_else(|| scene_err("provisional", "nothing was submitted"))?;
        Ok(DeliveryResult::Offline {
            key,
            provisional: ProvisionalTicket {
                queue: queue.into(),
                number,
                issued_at: self.wall,
            },
        })
    }
}
