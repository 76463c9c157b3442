//! The session state machine. [`Kiosk::handle`] takes one [`Event`] and returns the
//! [`Command`]s it causes; nothing else changes the state. No I/O, no clock (time comes in
//! `Tick`), no threads.
//!
//! ```text
//! Attract ─start/card/QR/digit─▶ Identify ─CAN known + card─▶ Reading ─finished─▶ IdentityShown
//!    ▲                              │ QR only ─────────────────────────────────────▶ │ confirm
//!    │                                                                               ▼
//!    │  done / timeout    Ticket ◀─delivered/offline── Submitting ◀─submit── Details ◀─select── Choose
//!    └──────────────────  Error (each with its own text and way forward)
//! cancel, the inactivity timeout and the session limit lead from every state to Attract.
//!
//! Attract ─gesture─▶ TechnicianPin ─right PIN─▶ Technician ─done/cancel/idle─▶ Attract
//! ```

use kiosk_api::v1::{
    Assurance, Catalog, Consent, DeviceHealth, IdempotencyKey, InsuranceCheckRequest,
    InsuranceStatus, KioskId, Registration,
};
use kiosk_card::access::citizen_passwords;
use kiosk_card::cccd::{CitizenId, mask_id};
use kiosk_card::protocol::Password;
use kiosk_qr::payload::{CardQr, Payload};
use serde::Serialize;
use time::OffsetDateTime;
use zeroize::{Zeroize, Zeroizing};

use crate::command::Command;
use crate::config::{Config, Mode, Timeouts};
use crate::error::{Error, Result};
use crate::event::{Action, DeliveryResult, Device, Event, Now, Purpose, ReadFailure, ReadStep};
use crate::identity::Identity;
use crate::messages::{Language, MessageKey};
use crate::registration::{self, Choice, Details};
use crate::view::{
    ChoiceView, ConsentView, IdentityView, ProgressView, QuestionView, Screen, TicketView, View,
};

/// Longest search text kept.
pub const MAX_SEARCH_CHARS: usize = 64;
/// Longest answer kept (the contract's limit).
pub const MAX_ANSWER_CHARS: usize = kiosk_api::v1::MAX_TEXT_CHARS;

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Attract,
    Identify,
    Reading {
        step: ReadStep,
    },
    IdentityShown,
    Choose,
    Details,
    Submitting,
    Ticket {
        ticket: TicketView,
    },
    Error {
        kind: ErrorKind,
    },
    /// The technician PIN pad (from attract only, by the hidden gesture).
    TechnicianPin,
    /// The technician's diagnostics and actions (after the right PIN).
    Technician,
}

/// The error screens, each with its text and its way forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The card left the reader mid-read: put it back to continue.
    CardRemoved,
    /// Not a CCCD, unreadable, or not the card of the QR shown.
    WrongCard,
    /// The chip refused the typed digits.
    WrongCan,
    /// The card's expiry date has passed.
    CardExpired,
    CameraMissing,
    ReaderMissing,
    /// The gateway is unreachable and the catalog is unknown, or a submission got no answer.
    GatewayOffline,
    /// The gateway refused the registration.
    SubmitRefused,
}

impl ErrorKind {
    /// The screen's title.
    pub fn title(self) -> MessageKey {
        match self {
            ErrorKind::CardRemoved => MessageKey::ErrorCardRemoved,
            ErrorKind::WrongCard => MessageKey::ErrorWrongCard,
            ErrorKind::WrongCan => MessageKey::ErrorWrongCan,
            ErrorKind::CardExpired => MessageKey::ErrorCardExpired,
            ErrorKind::CameraMissing => MessageKey::ErrorCameraMissing,
            ErrorKind::ReaderMissing => MessageKey::ErrorReaderMissing,
            ErrorKind::GatewayOffline => MessageKey::ErrorGatewayOffline,
            ErrorKind::SubmitRefused => MessageKey::ErrorSubmitRefused,
        }
    }

    /// The way forward.
    pub fn forward(self) -> MessageKey {
        match self {
            ErrorKind::CardRemoved => MessageKey::ForwardPutCardBack,
            ErrorKind::WrongCard => MessageKey::ForwardUseOtherCard,
            ErrorKind::WrongCan => MessageKey::ForwardReenterDigits,
            ErrorKind::CameraMissing => MessageKey::ForwardUseKeypadOrCard,
            ErrorKind::ReaderMissing => MessageKey::ForwardUseQr,
            ErrorKind::CardExpired | ErrorKind::GatewayOffline | ErrorKind::SubmitRefused => {
                MessageKey::ForwardGoToCounter
            }
        }
    }

    fn actions(self) -> Vec<Action> {
        match self {
            ErrorKind::CardRemoved => vec![Action::Cancel],
            ErrorKind::WrongCard
            | ErrorKind::WrongCan
            | ErrorKind::CameraMissing
            | ErrorKind::ReaderMissing => vec![Action::Back, Action::Cancel],
            ErrorKind::CardExpired | ErrorKind::GatewayOffline => vec![Action::Done],
            ErrorKind::SubmitRefused => vec![Action::Retry, Action::Done],
        }
    }
}

/// What the machine needs from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub site_name: String,
    pub kiosk_id: KioskId,
    pub language: Language,
    pub timeouts: Timeouts,
    pub technician: TechnicianSettings,
}

impl Settings {
    /// From a validated config.
    pub fn from_config(config: &Config) -> Result<Self> {
        Ok(Settings {
            mode: config.mode,
            site_name: config.site_name.clone(),
            kiosk_id: KioskId::new(config.kiosk_id.clone()).map_err(Error::from)?,
            language: config.language,
            timeouts: config.timeouts,
            technician: TechnicianSettings {
                pin_hash: config.technician_pin_hash.clone(),
                limits: config.technician,
            },
        })
    }
}

/// The technician mode's PIN hash and limits. `Debug` leaves the hash out.
#[derive(Clone)]
pub struct TechnicianSettings {
    /// PHC string of the PIN (`Config::technician_pin_hash`).
    pub pin_hash: String,
    pub limits: crate::config::Technician,
}

impl std::fmt::Debug for TechnicianSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TechnicianSettings")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Everything one citizen's session holds. Dropped (and so wiped) on every return to attract.
struct Session {
    started_ms: u64,
    last_activity_ms: u64,
    keypad: Zeroizing<String>,
    can: Option<Zeroizing<String>>,
    qr: Option<CardQr>,
    identity: Option<Identity>,
    /// Display-only data while the chip is being read.
    preview: Option<Identity>,
    search: Zeroizing<String>,
    category: Option<String>,
    choice: Option<Choice>,
    details: Details,
    consent: Consent,
    insurance_pending: bool,
    submission: Option<Registration>,
    notice: Option<MessageKey>,
}

impl Session {
    fn new(now_ms: u64) -> Self {
        Session {
            started_ms: now_ms,
            last_activity_ms: now_ms,
            keypad: Zeroizing::new(String::new()),
            can: None,
            qr: None,
            identity: None,
            preview: None,
            search: Zeroizing::new(String::new()),
            category: None,
            choice: None,
            details: Details::default(),
            // Unticked until the citizen ticks each box.
            consent: Consent {
                data_processing: false,
                health_data: false,
                insurance_check: false,
            },
            insurance_pending: false,
            submission: None,
            notice: None,
        }
    }

    fn clear_choice(&mut self) {
        self.choice = None;
        self.details = Details::default();
        self.consent = Consent {
            data_processing: false,
            health_data: false,
            insurance_check: false,
        };
        self.insurance_pending = false;
        self.submission = None;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(c) = &mut self.category {
            c.zeroize();
        }
    }
}

/// One procedure or department, in the display language.
struct Offer {
    code: String,
    name: String,
    /// Counter or room; for procedures also the category.
    place: String,
    /// Both names, folded for search.
    searchable: String,
}

#[derive(Debug, Clone, Copy)]
struct DeviceStates {
    reader: DeviceHealth,
    camera: DeviceHealth,
    printer: DeviceHealth,
}

fn usable(h: DeviceHealth) -> bool {
    matches!(h, DeviceHealth::Ok | DeviceHealth::Degraded)
}

/// The kiosk's session state machine.
pub struct Kiosk {
    settings: Settings,
    catalog: Option<Catalog>,
    language: Language,
    now_ms: u64,
    wall: Option<OffsetDateTime>,
    card_present: bool,
    devices: DeviceStates,
    state: State,
    state_since_ms: u64,
    session: Option<Session>,
    /// The technician mode's screen data (never personal data); only in the technician states.
    tech: Option<technician::TechMode>,
    /// Wrong PINs and the lockout: kept across returns to attract.
    pin_guard: technician::PinGuard,
    shown: Option<View>,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk")
            .field("state", &self.state)
            .field("session", &self.session.is_some())
            .field("card_present", &self.card_present)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl Kiosk {
    /// A kiosk on the attract screen. Devices count as working until told otherwise.
    pub fn new(settings: Settings) -> Self {
        Kiosk {
            language: settings.language,
            settings,
            catalog: None,
            now_ms: 0,
            wall: None,
            card_present: false,
            devices: DeviceStates {
                reader: DeviceHealth::Ok,
                camera: DeviceHealth::Ok,
                printer: DeviceHealth::Ok,
            },
            state: State::Attract,
            state_since_ms: 0,
            session: None,
            tech: None,
            pin_guard: technician::PinGuard::default(),
            shown: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whether a session (and so personal data) is held.
    pub fn has_session(&self) -> bool {
        self.session.is_some()
    }

    /// The portrait of the current identity, for the UI to decode.
    pub fn photo(&self) -> Option<&[u8]> {
        self.session.as_ref()?.identity.as_ref()?.photo()
    }

    /// The screen as it should look now.
    pub fn view(&self) -> View {
        self.render()
    }

    /// Feeds one event; returns what to do.
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        let mut out = Vec::new();
        self.step(event, &mut out);
        let view = self.render();
        if self.shown.as_ref() != Some(&view) {
            self.shown = Some(view.clone());
            out.push(Command::Show(Box::new(view)));
        }
        out
    }

    /// Checks that the state and the session agree; the machine keeps this true after every
    /// event (the property test drives it with random events).
    pub fn check_invariants(&self) -> std::result::Result<(), String> {
        let s = self.session.as_ref();
        let has_identity = s.is_some_and(|s| s.identity.is_some());
        let ok = match &self.state {
            State::Attract => s.is_none(),
            State::Identify | State::Reading { .. } | State::Error { .. } => s.is_some(),
            State::IdentityShown | State::Choose => has_identity,
            State::Details => has_identity && s.is_some_and(|s| s.choice.is_some()),
            State::Submitting => s.is_some_and(|s| s.submission.is_some()),
            State::Ticket { .. } => s.is_some(),
            // Technician mode never holds a citizen's data.
            State::TechnicianPin | State::Technician => s.is_none() && self.tech.is_some(),
        };
        let technician = matches!(self.state, State::TechnicianPin | State::Technician);
        if !technician && self.tech.is_some() {
            return Err(format!("state {:?} with technician data", self.state));
        }
        if ok {
            Ok(())
        } else {
            Err(format!(
                "state {:?} with session {}",
                self.state,
                if s.is_some() { "present" } else { "absent" }
            ))
        }
    }

    // -----------------------------------------------------------------------------------------

    fn step(&mut self, event: Event, out: &mut Vec<Command>) {
        match event {
            Event::Tick { now } => self.tick(now, out),
            Event::Diagnostics(d) => self.diagnostics(*d),
            Event::EnrolFinished { ok, message } => self.enrol_finished(ok, &message, out),
            Event::Language(l) => self.language = l,
            Event::Catalog(c) => self.catalog = Some(*c),
            Event::Device { device, health } => self.device(device, health, out),
            Event::CardInserted => {
                self.card_present = true;
                self.card_inserted(out);
            }
            Event::CardRemoved => {
                self.card_present = false;
                if matches!(self.state, State::Reading { .. }) {
                    self.activity();
                    self.go(State::Error {
                        kind: ErrorKind::CardRemoved,
                    });
                }
            }
            Event::ReadProgress(step) => {
                if matches!(self.state, State::Reading { .. }) {
                    self.activity();
                    self.state = State::Reading { step };
                }
            }
            Event::ReadPreview(preview) => {
                if matches!(self.state, State::Reading { .. })
                    && let Some(s) = &mut self.session
                {
                    s.last_activity_ms = self.now_ms;
                    s.preview = Some(*preview);
                }
            }
            Event::ReadFinished(identity) => {
                if matches!(self.state, State::Reading { .. }) {
                    self.activity();
                    self.read_finished(*identity);
                }
            }
            Event::ReadFailed(failure) => {
                if matches!(self.state, State::Reading { .. }) {
                    self.activity();
                    self.read_failed(failure);
                }
            }
            Event::Qr(payload) if self.in_technician_mode() => self.technician_qr(payload, out),
            Event::Qr(payload) => self.qr(payload, out),
            Event::QrUnreadable if self.in_technician_mode() => self.technician_qr_unreadable(),
            Event::QrUnreadable => {
                if self.state == State::Identify {
                    self.activity();
                    self.set_notice(MessageKey::NoticeQrNotUnderstood);
                }
            }
            Event::Touch(action) => {
                self.activity();
                self.action(action, out);
            }
            Event::Insurance(answer) => {
                if let Some(s) = &mut self.session
                    && s.insurance_pending
                {
                    s.insurance_pending = false;
                    s.details.insurance = Some(answer);
                }
            }
            Event::Delivery(result) => {
                let ours = self
                    .session
                    .as_ref()
                    .and_then(|s| s.submission.as_ref())
                    .is_some_and(|r| r.idempotency_key == result.key());
                // A late answer after the no-answer screen is still this citizen's ticket.
                let waiting = matches!(
                    self.state,
                    State::Submitting
                        | State::Error {
                            kind: ErrorKind::GatewayOffline
                        }
                );
                if waiting && ours {
                    self.delivered(result, out);
                }
            }
        }
    }

    fn go(&mut self, state: State) {
        let reading = matches!(state, State::Reading { .. });
        self.state = state;
        self.state_since_ms = self.now_ms;
        if let Some(s) = &mut self.session {
            s.notice = None;
            if !reading {
                s.preview = None;
            }
        }
    }

    fn set_notice(&mut self, key: MessageKey) {
        if let Some(s) = &mut self.session {
            s.notice = Some(key);
        }
    }

    fn activity(&mut self) {
        if let Some(t) = &mut self.tech {
            t.last_touch_ms = self.now_ms;
        }
        if let Some(s) = &mut self.session {
            s.last_activity_ms = self.now_ms;
        }
    }

    fn begin(&mut self) {
        if self.session.is_none() {
            self.session = Some(Session::new(self.now_ms));
        }
    }

    /// Back to attract: the session and everything in it is dropped (each part wipes itself).
    fn end_session(&mut self, out: &mut Vec<Command>) {
        if matches!(self.state, State::Reading { .. }) {
            out.push(Command::CancelCardRead);
        }
        self.session = None;
        // The technician's PIN digits and screen data go too (the PIN wipes itself).
        self.tech = None;
        self.language = self.settings.language;
        self.go(State::Attract);
        out.push(Command::ClearPersonalData);
    }

    /// Identify, unless a device it needs is missing.
    fn go_identify(&mut self) {
        if !usable(self.devices.reader) {
            self.go(State::Error {
                kind: ErrorKind::ReaderMissing,
            });
        } else if !usable(self.devices.camera) {
            self.go(State::Error {
                kind: ErrorKind::CameraMissing,
            });
        } else {
            self.go(State::Identify);
        }
    }

    fn deadline_ms(&self) -> Option<u64> {
        let t = &self.settings.timeouts;
        let s = self.session.as_ref()?;
        let secs = |n: u32| u64::from(n) * 1000;
        let limit = s.started_ms.saturating_add(secs(t.session_limit_seconds));
        let idle = s
            .last_activity_ms
            .saturating_add(secs(t.inactivity_seconds));
        match self.state {
            State::Attract | State::Submitting => None,
            State::Ticket { .. } => {
                Some(self.state_since_ms.saturating_add(secs(t.ticket_seconds)))
            }
            State::Error { .. } => {
                Some(limit.min(self.state_since_ms.saturating_add(secs(t.error_seconds))))
            }
            _ => Some(limit.min(idle)),
        }
    }

    fn tick(&mut self, now: Now, out: &mut Vec<Command>) {
        // A monotonic clock never goes back; if the app's does, keep ours.
        self.now_ms = self.now_ms.max(now.monotonic_ms);
        self.wall = Some(now.wall);
        // The app always answers a submission; if it does not, the kiosk must not hang on this
        // screen for the next citizen. The registration may still be in the outbox: staff find it.
        let submit_ms = u64::from(self.settings.timeouts.submit_seconds) * 1000;
        if self.state == State::Submitting
            && self.now_ms >= self.state_since_ms.saturating_add(submit_ms)
        {
            self.go(State::Error {
                kind: ErrorKind::GatewayOffline,
            });
            return;
        }
        if let Some(deadline) = self.deadline_ms()
            && self.now_ms >= deadline
        {
            self.end_session(out);
        }
        self.technician_tick(out);
    }

    fn device(&mut self, device: Device, health: DeviceHealth, out: &mut Vec<Command>) {
        match device {
            Device::CardReader => self.devices.reader = health,
            Device::Camera => self.devices.camera = health,
            Device::Printer => self.devices.printer = health,
        }
        match (device, &self.state) {
            (Device::CardReader, State::Reading { .. }) if !usable(health) => {
                out.push(Command::CancelCardRead);
                self.go(State::Error {
                    kind: ErrorKind::ReaderMissing,
                });
            }
            (Device::CardReader, State::Identify) if !usable(health) => self.go(State::Error {
                kind: ErrorKind::ReaderMissing,
            }),
            (Device::Camera, State::Identify) if !usable(health) => self.go(State::Error {
                kind: ErrorKind::CameraMissing,
            }),
            _ => {}
        }
    }

    fn card_inserted(&mut self, out: &mut Vec<Command>) {
        match self.state {
            State::Attract => {
                self.begin();
                self.go_identify();
            }
            State::Identify => {
                self.activity();
                if !self.start_read(out) {
                    self.set_notice(MessageKey::IdentifyHint);
                }
            }
            State::Error {
                kind: ErrorKind::CardRemoved,
            } => {
                self.activity();
                self.start_read(out);
            }
            _ => {}
        }
    }

    /// Starts (or resumes) the read when the passwords are known and the card is there.
    fn start_read(&mut self, out: &mut Vec<Command>) -> bool {
        if !self.card_present || !usable(self.devices.reader) {
            return false;
        }
        let Some(s) = &self.session else {
            return false;
        };
        let passwords = if let Some(qr) = &s.qr {
            citizen_passwords(qr.citizen_id(), Some((qr.birth_date(), qr.issue_date())))
                .unwrap_or_else(|_| vec![Password::Can(qr.can())])
        } else if let Some(can) = &s.can {
            vec![Password::Can(can.clone())]
        } else {
            return false;
        };
        out.push(Command::StartCardRead { passwords });
        self.go(State::Reading {
            step: ReadStep::Opening,
        });
        true
    }

    fn read_finished(&mut self, identity: Identity) {
        let today = self.wall.map(|w| w.date());
        let Some(s) = &mut self.session else { return };
        if let Some(qr) = &s.qr
            && qr.id() != identity.id_number()
        {
            self.go(State::Error {
                kind: ErrorKind::WrongCard,
            });
            return;
        }
        if today.is_some_and(|t| identity.expired_on(t)) {
            self.go(State::Error {
                kind: ErrorKind::CardExpired,
            });
            return;
        }
        s.identity = Some(identity);
        self.go(State::IdentityShown);
    }

    fn read_failed(&mut self, failure: ReadFailure) {
        let from_qr = self.session.as_ref().is_some_and(|s| s.qr.is_some());
        let kind = match failure {
            ReadFailure::CardRemoved => ErrorKind::CardRemoved,
            // Digits from the card's own QR cannot be mistyped: the QR is another card's.
            ReadFailure::WrongPassword if from_qr => ErrorKind::WrongCard,
            ReadFailure::WrongPassword => ErrorKind::WrongCan,
            ReadFailure::WrongCard => ErrorKind::WrongCard,
            ReadFailure::ReaderGone => ErrorKind::ReaderMissing,
        };
        self.go(State::Error { kind });
    }

    fn qr(&mut self, payload: Payload, out: &mut Vec<Command>) {
        let Payload::Card(card) = payload else {
            if self.state == State::Identify {
                self.activity();
                self.set_notice(MessageKey::NoticeQrNotUnderstood);
            }
            return;
        };
        match self.state {
            State::Attract => {
                self.begin();
                self.go_identify();
            }
            State::Identify => {}
            _ => return,
        }
        self.activity();
        if let Some(s) = &mut self.session {
            s.keypad.clear();
            s.can = None;
            s.qr = Some(card);
        }
        if self.state == State::Identify && !self.start_read(out) {
            self.set_notice(MessageKey::IdentifyQrReceived);
        }
    }

    fn action(&mut self, action: Action, out: &mut Vec<Command>) {
        match action {
            Action::Cancel => {
                if self.state != State::Attract {
                    self.end_session(out);
                }
                return;
            }
            Action::Language(l) => {
                self.language = l;
                return;
            }
            _ => {}
        }
        match self.state.clone() {
            State::Attract => match action {
                Action::Start => {
                    self.begin();
                    self.go_identify();
                }
                Action::KeypadDigit(_) => {
                    self.begin();
                    self.go_identify();
                    if self.state == State::Identify {
                        self.keypad(action, out);
                    }
                }
                // Only here: on attract no citizen's data is held.
                Action::TechnicianGesture => self.enter_technician_pin(),
                _ => {}
            },
            State::TechnicianPin => self.pin_action(action, out),
            State::Technician => self.technician_action(action, out),
            State::Identify => match action {
                Action::KeypadDigit(_) | Action::KeypadBackspace | Action::KeypadOk => {
                    self.keypad(action, out)
                }
                Action::ContinueWithQr => {
                    let identity = self
                        .session
                        .as_ref()
                        .and_then(|s| s.qr.as_ref())
                        .map(Identity::from_card_qr);
                    match identity {
                        Some(Ok(identity)) => {
                            if let Some(s) = &mut self.session {
                                s.identity = Some(identity);
                            }
                            self.go(State::IdentityShown);
                        }
                        Some(Err(_)) => self.go(State::Error {
                            kind: ErrorKind::WrongCard,
                        }),
                        None => self.set_notice(MessageKey::NoticeNotAvailable),
                    }
                }
                _ => {}
            },
            State::Reading { .. } | State::Submitting => {}
            State::IdentityShown => match action {
                Action::Confirm => {
                    if self.offers().is_empty() {
                        self.go(State::Error {
                            kind: ErrorKind::GatewayOffline,
                        });
                    } else {
                        self.go(State::Choose);
                    }
                }
                Action::Back => {
                    if let Some(s) = &mut self.session {
                        s.identity = None;
                    }
                    self.go_identify();
                }
                _ => {}
            },
            State::Choose => self.choose(action),
            State::Details => self.details(action, out),
            State::Ticket { .. } => {
                if action == Action::Done {
                    self.end_session(out);
                }
            }
            State::Error { kind } => self.error_action(kind, action, out),
        }
    }

    fn keypad(&mut self, action: Action, out: &mut Vec<Command>) {
        let Some(s) = &mut self.session else { return };
        match action {
            Action::KeypadDigit(d) if d <= 9 && s.keypad.len() < 12 => {
                s.keypad.push(char::from(b'0' + d));
                s.notice = None;
            }
            Action::KeypadBackspace => {
                s.keypad.pop();
            }
            Action::KeypadOk => {
                let can = match s.keypad.len() {
                    6 => Some(Zeroizing::new(s.keypad.as_str().to_owned())),
                    12 => CitizenId::parse(&s.keypad).ok().map(|id| id.can()),
                    _ => None,
                };
                let Some(can) = can else {
                    s.notice = Some(MessageKey::NoticeKeypadInvalid);
                    return;
                };
                s.keypad.clear();
                s.qr = None;
                s.can = Some(can);
                if !self.start_read(out) {
                    self.set_notice(MessageKey::PlaceCard);
                }
            }
            _ => {}
        }
    }

    /// What this kiosk's mode offers: procedures (one-stop) or departments (clinic).
    fn offers(&self) -> Vec<Offer> {
        let Some(c) = &self.catalog else {
            return vec![];
        };
        let vi = self.language == Language::Vi;
        let offer = |code: &str, name_vi: &str, name_en: &str, place: &str| Offer {
            code: code.into(),
            name: if vi { name_vi } else { name_en }.into(),
            place: place.into(),
            searchable: fold(&format!("{name_vi} {name_en}")),
        };
        match self.settings.mode {
            Mode::OneStop => c
                .procedures
                .iter()
                .map(|p| offer(&p.code, &p.name_vi, &p.name_en, &p.counter))
                .collect(),
            Mode::Clinic => c
                .departments
                .iter()
                .map(|d| offer(&d.code, &d.name_vi, &d.name_en, &d.room))
                .collect(),
        }
    }

    fn choose(&mut self, action: Action) {
        let mode = self.settings.mode;
        let Some(s) = &mut self.session else { return };
        match action {
            Action::Search(text) => {
                s.search = Zeroizing::new(text.chars().take(MAX_SEARCH_CHARS).collect());
            }
            Action::Category(c) => {
                s.category = c.map(|c| c.chars().take(MAX_SEARCH_CHARS).collect())
            }
            Action::SelectProcedure(code) if mode == Mode::OneStop => {
                self.select(Choice::Procedure(code))
            }
            Action::SelectDepartment(code) if mode == Mode::Clinic => {
                self.select(Choice::Department(code))
            }
            Action::SelectProcedure(_) | Action::SelectDepartment(_) => {
                s.notice = Some(MessageKey::NoticeNotAvailable)
            }
            Action::Back => self.go(State::IdentityShown),
            _ => {}
        }
    }

    /// Takes a choice from the catalog (a code not on offer gets a notice) and asks for details.
    fn select(&mut self, choice: Choice) {
        let (Choice::Procedure(code) | Choice::Department(code)) = &choice;
        if !self.offers().iter().any(|o| &o.code == code) {
            self.set_notice(MessageKey::NoticeNotAvailable);
            return;
        }
        if let Some(s) = &mut self.session {
            s.clear_choice();
            s.choice = Some(choice);
        }
        self.go(State::Details);
    }

    fn questions(&self) -> Vec<kiosk_api::v1::Question> {
        let (Some(c), Some(Choice::Procedure(code))) = (
            &self.catalog,
            self.session.as_ref().and_then(|s| s.choice.as_ref()),
        ) else {
            return vec![];
        };
        c.procedures
            .iter()
            .find(|p| &p.code == code)
            .map(|p| p.questions.clone())
            .unwrap_or_default()
    }

    fn details(&mut self, action: Action, out: &mut Vec<Command>) {
        let questions = self.questions();
        let clinic = self.settings.mode == Mode::Clinic;
        let wall = self.wall;
        let Some(s) = &mut self.session else { return };
        match action {
            Action::Answer { question, text } if questions.iter().any(|q| q.id == question) => {
                // Control characters are dropped here: the contract refuses them.
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_ANSWER_CHARS)
                    .collect();
                if let Some(mut old) = s.details.answers.insert(question, text) {
                    old.zeroize();
                }
            }
            Action::VisitType(v) if clinic => s.details.visit_type = Some(v),
            Action::ToggleConsent(purpose) => match purpose {
                Purpose::DataProcessing => s.consent.data_processing ^= true,
                Purpose::HealthData if clinic => s.consent.health_data ^= true,
                Purpose::InsuranceCheck if clinic => {
                    s.consent.insurance_check ^= true;
                    if s.consent.insurance_check {
                        if let Some(i) = &s.identity {
                            s.insurance_pending = true;
                            out.push(Command::CheckInsurance(InsuranceCheckRequest {
                                id_number: i.fields.id_number.clone(),
                                full_name: i.fields.full_name.clone(),
                                date_of_birth: i.fields.date_of_birth,
                            }));
                        }
                    } else {
                        // Withdrawn consent: the answer is dropped and a late one ignored.
                        s.insurance_pending = false;
                        s.details.insurance = None;
                    }
                }
                _ => {}
            },
            Action::Submit => {
                if !s.consent.data_processing {
                    s.notice = Some(MessageKey::NoticeConsentRequired);
                    return;
                }
                if clinic && !s.consent.health_data {
                    s.notice = Some(MessageKey::NoticeHealthConsentRequired);
                    return;
                }
                let unanswered = questions.iter().any(|q| {
                    s.details
                        .answers
                        .get(&q.id)
                        .is_none_or(|a| a.trim().is_empty())
                });
                if unanswered {
                    s.notice = Some(MessageKey::NoticeAnswerRequired);
                    return;
                }
                let (Some(identity), Some(choice)) = (&s.identity, &s.choice) else {
                    return;
                };
                // The key is made here, once per submission; Retry resends this registration.
                let built = registration::build(
                    &self.settings.kiosk_id,
                    identity,
                    choice,
                    &s.details,
                    s.consent,
                    wall.unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    IdempotencyKey::new(),
                );
                match built {
                    Ok(r) => {
                        out.push(Command::Submit(Box::new(r.clone())));
                        s.submission = Some(r);
                        self.go(State::Submitting);
                    }
                    Err(_) => self.go(State::Error {
                        kind: ErrorKind::SubmitRefused,
                    }),
                }
            }
            Action::Back => {
                s.clear_choice();
                self.go(State::Choose);
            }
            _ => {}
        }
    }

    fn place_of_choice(&self) -> String {
        let Some(choice) = self.session.as_ref().and_then(|s| s.choice.as_ref()) else {
            return String::new();
        };
        let code = match choice {
            Choice::Procedure(c) | Choice::Department(c) => c,
        };
        self.offers()
            .into_iter()
            .find(|o| &o.code == code)
            .map(|o| o.place)
            .unwrap_or_default()
    }

    fn delivered(&mut self, result: DeliveryResult, out: &mut Vec<Command>) {
        let ticket = match result {
            DeliveryResult::Ticket(t) => TicketView {
                display: t.display.clone(),
                counter_or_room: t.counter_or_room.clone(),
                estimated_wait_minutes: Some(t.estimated_wait_minutes),
                provisional: false,
            },
            DeliveryResult::Offline { provisional: p, .. } => TicketView {
                display: p.display(),
                counter_or_room: self.place_of_choice(),
                estimated_wait_minutes: None,
                provisional: true,
            },
            DeliveryResult::Refused { .. } => {
                self.go(State::Error {
                    kind: ErrorKind::SubmitRefused,
                });
                return;
            }
        };
        // Without a working printer the screen is the ticket.
        if usable(self.devices.printer) {
            out.push(Command::PrintTicket(ticket.clone()));
        }
        self.go(State::Ticket { ticket });
    }

    fn error_action(&mut self, kind: ErrorKind, action: Action, out: &mut Vec<Command>) {
        match (kind, action) {
            (_, Action::Done) if kind.actions().contains(&Action::Done) => self.end_session(out),
            (ErrorKind::SubmitRefused, Action::Retry) => {
                let Some(r) = self.session.as_ref().and_then(|s| s.submission.clone()) else {
                    return;
                };
                out.push(Command::Submit(Box::new(r)));
                self.go(State::Submitting);
            }
            (ErrorKind::WrongCan, Action::Back) => {
                if let Some(s) = &mut self.session {
                    s.keypad.clear();
                    s.can = None;
                }
                self.go(State::Identify);
            }
            (ErrorKind::WrongCard, Action::Back) => {
                if let Some(s) = &mut self.session {
                    s.keypad.clear();
                    s.can = None;
                    s.qr = None;
                    s.identity = None;
                }
                self.go(State::Identify);
            }
            // The other way in is still open: Identify without the missing device.
            (ErrorKind::CameraMissing | ErrorKind::ReaderMissing, Action::Back) => {
                self.go(State::Identify)
            }
            _ => {}
        }
    }

    // -----------------------------------------------------------------------------------------
    // The view

    fn render(&self) -> View {
        let lang = self.language;
        let site = &self.settings.site_name;
        let s = self.session.as_ref();
        let mut v = match &self.state {
            State::Attract => {
                let mut v = View::new(Screen::Attract, lang, site, MessageKey::AttractTitle);
                v.notice = Some(MessageKey::AttractHint);
                v.actions = vec![Action::Start];
                v
            }
            State::Identify => {
                let mut v = View::new(Screen::Identify, lang, site, MessageKey::IdentifyTitle);
                v.notice = Some(MessageKey::IdentifyHint);
                v.keypad = Some("•".repeat(s.map_or(0, |s| s.keypad.len())));
                v.actions = vec![Action::KeypadOk, Action::Cancel];
                if s.is_some_and(|s| s.qr.is_some()) {
                    v.actions.insert(0, Action::ContinueWithQr);
                }
                v
            }
            State::Reading { step } => {
                let mut v = View::new(Screen::Reading, lang, site, MessageKey::ReadingTitle);
                v.identity = s.and_then(|s| s.preview.as_ref()).map(|p| {
                    let mut view = identity_view(p);
                    view.badge = MessageKey::BadgeChecking;
                    view.badge_reason = None;
                    view
                });
                v.progress = Some(ProgressView {
                    step: *step,
                    step_text: step.text(),
                    percent: step.percent(),
                });
                v.actions = vec![Action::Cancel];
                v
            }
            State::IdentityShown => {
                let mut v = View::new(Screen::Identity, lang, site, MessageKey::IdentityTitle);
                v.identity = s.and_then(|s| s.identity.as_ref()).map(identity_view);
                v.actions = vec![Action::Confirm, Action::Back, Action::Cancel];
                v
            }
            State::Choose => {
                let title = match self.settings.mode {
                    Mode::OneStop => MessageKey::ChooseProcedureTitle,
                    Mode::Clinic => MessageKey::ChooseDepartmentTitle,
                };
                let mut v = View::new(Screen::Choose, lang, site, title);
                let search = s.map(|s| fold(&s.search)).unwrap_or_default();
                let category = s.and_then(|s| s.category.clone());
                let offers = self.offers();
                if self.settings.mode == Mode::OneStop {
                    // Procedures are grouped by the counter that handles them.
                    let mut cats: Vec<String> = offers.iter().map(|o| o.place.clone()).collect();
                    cats.sort();
                    cats.dedup();
                    v.categories = cats;
                    v.search = s.map(|s| s.search.to_string());
                    v.category = category.clone();
                }
                v.choices = offers
                    .into_iter()
                    .filter(|o| search.is_empty() || o.searchable.contains(search.as_str()))
                    .filter(|o| category.as_ref().is_none_or(|c| &o.place == c))
                    .map(|o| ChoiceView {
                        code: o.code,
                        name: o.name,
                        place: o.place,
                    })
                    .collect();
                v.actions = vec![Action::Back, Action::Cancel];
                v
            }
            State::Details => {
                let mut v = View::new(Screen::Details, lang, site, MessageKey::DetailsTitle);
                v.identity = s.and_then(|s| s.identity.as_ref()).map(identity_view);
                v.questions = self
                    .questions()
                    .into_iter()
                    .map(|q| QuestionView {
                        answer: s
                            .and_then(|s| s.details.answers.get(&q.id).cloned())
                            .unwrap_or_default(),
                        label: if lang == Language::Vi {
                            q.label_vi
                        } else {
                            q.label_en
                        },
                        id: q.id,
                    })
                    .collect();
                let consent = s.map(|s| s.consent);
                let ticked = |p: Purpose| {
                    consent.is_some_and(|c| match p {
                        Purpose::DataProcessing => c.data_processing,
                        Purpose::HealthData => c.health_data,
                        Purpose::InsuranceCheck => c.insurance_check,
                    })
                };
                let mut boxes = vec![(
                    Purpose::DataProcessing,
                    MessageKey::ConsentDataProcessing,
                    true,
                )];
                if self.settings.mode == Mode::Clinic {
                    boxes.push((Purpose::HealthData, MessageKey::ConsentHealthData, true));
                    boxes.push((
                        Purpose::InsuranceCheck,
                        MessageKey::ConsentInsuranceCheck,
                        false,
                    ));
                    v.insurance = s.and_then(|s| {
                        if s.insurance_pending {
                            Some(MessageKey::InsuranceChecking)
                        } else {
                            s.details.insurance.as_ref().map(|i| match i.status {
                                InsuranceStatus::Valid => MessageKey::InsuranceValid,
                                InsuranceStatus::Expired => MessageKey::InsuranceExpired,
                                InsuranceStatus::NotFound => MessageKey::InsuranceNotFound,
                                InsuranceStatus::Unavailable => MessageKey::InsuranceUnavailable,
                            })
                        }
                    });
                }
                v.consents = boxes
                    .into_iter()
                    .map(|(purpose, text, required)| ConsentView {
                        purpose,
                        text,
                        ticked: ticked(purpose),
                        required,
                    })
                    .collect();
                v.actions = vec![Action::Submit, Action::Back, Action::Cancel];
                v
            }
            State::Submitting => {
                View::new(Screen::Submitting, lang, site, MessageKey::SubmittingTitle)
            }
            State::Ticket { ticket } => {
                let (title, notice) = if ticket.provisional {
                    (
                        MessageKey::TicketProvisionalTitle,
                        MessageKey::ForwardProvisional,
                    )
                } else {
                    (MessageKey::TicketTitle, MessageKey::TicketHint)
                };
                let mut v = View::new(Screen::Ticket, lang, site, title);
                v.notice = Some(notice);
                v.ticket = Some(ticket.clone());
                v.actions = vec![Action::Done];
                v
            }
            State::TechnicianPin => self.render_pin(lang, site),
            State::Technician => self.render_technician(lang, site),
            State::Error { kind } => {
                let mut v = View::new(Screen::Error, lang, site, kind.title());
                let forward = match kind {
                    // Both ways in are gone: only staff can help.
                    ErrorKind::CameraMissing | ErrorKind::ReaderMissing
                        if !usable(self.devices.reader) && !usable(self.devices.camera) =>
                    {
                        MessageKey::ForwardGoToCounter
                    }
                    _ => kind.forward(),
                };
                v.notice = Some(forward);
                v.actions = kind.actions();
                v
            }
        };
        if let Some(n) = s.and_then(|s| s.notice) {
            v.notice = Some(n);
        }
        if let Some(deadline) = self.deadline_ms() {
            let left = deadline.saturating_sub(self.now_ms);
            let warning = u64::from(self.settings.timeouts.warning_seconds) * 1000;
            if left <= warning {
                v.countdown_seconds = Some(u32::try_from(left.div_ceil(1000)).unwrap_or(u32::MAX));
                v.notice = Some(MessageKey::CountdownWarning);
            }
        }
        v
    }
}

/// Lower case without diacritics (`Đăng ký` → `dang ky`): citizens often type without accents.
fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

fn identity_view(i: &Identity) -> IdentityView {
    let d = i.fields.date_of_birth;
    let (badge, badge_reason) = match &i.assurance {
        Assurance::ChipVerified => (MessageKey::BadgeChipVerified, None),
        Assurance::ChipUnverified { reason } => {
            (MessageKey::BadgeChipUnverified, Some(reason.clone()))
        }
        Assurance::QrOnly => (MessageKey::BadgeQrOnly, None),
        Assurance::Manual => (MessageKey::BadgeManual, None),
    };
    IdentityView {
        full_name: i.fields.full_name.clone(),
        masked_id: mask_id(&i.fields.id_number),
        date_of_birth: format!("{:02}/{:02}/{:04}", d.day(), u8::from(d.month()), d.year()),
        address: i.fields.place_of_residence.clone(),
        has_photo: i.photo.is_some(),
        badge,
        badge_reason,
    }
}

mod technician;

#[cfg(test)]
mod tests;
