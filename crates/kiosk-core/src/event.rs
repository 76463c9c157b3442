//! Events in: everything the devices, the delivery worker, the timer and the touchscreen tell
//! the core.

use kiosk_api::v1::{
    Catalog, DeviceHealth, IdempotencyKey, InsuranceCheckResponse, ProvisionalTicket, Ticket,
    VisitType,
};
use kiosk_card::lds::LdsFile;
use kiosk_card::read::Progress;
use kiosk_qr::payload::Payload;
use serde::Serialize;
use time::OffsetDateTime;

use crate::identity::Identity;
use crate::messages::{Language, MessageKey};
use crate::view::Diagnostics;

/// Something happened.
#[derive(Debug)]
pub enum Event {
    /// A card is on the reader.
    CardInserted,
    /// The card left the reader.
    CardRemoved,
    /// The read advanced.
    ReadProgress(ReadStep),
    /// The personal data group has been read: a display-only preview
    /// ([`Identity::preview`]) for the reading screen.
    ReadPreview(Box<Identity>),
    /// The read finished (passive authentication included).
    ReadFinished(Box<Identity>),
    /// The read stopped.
    ReadFailed(ReadFailure),
    /// The camera saw a QR that parsed.
    Qr(Payload),
    /// The camera saw a QR that did not parse (its error is not personal data, but it is not
    /// shown: the citizen gets a generic notice).
    QrUnreadable,
    /// A touch on the screen (keypad digits included).
    Touch(Action),
    /// The timer: monotonic milliseconds (never goes back) and wall-clock time (for dates on
    /// the registration and the card's expiry).
    Tick { now: Now },
    /// The gateway's catalog (at start and on every refresh).
    Catalog(Box<Catalog>),
    /// The gateway answered the insurance check.
    Insurance(InsuranceCheckResponse),
    /// What became of the last submitted registration.
    Delivery(DeliveryResult),
    /// A device's health changed.
    Device {
        device: Device,
        health: DeviceHealth,
    },
    /// The language was switched (also available as a touch action).
    Language(Language),
    /// A fresh diagnostics snapshot (answer to [`Command::RefreshDiagnostics`]).
    ///
    /// [`Command::RefreshDiagnostics`]: crate::Command::RefreshDiagnostics
    Diagnostics(Box<Diagnostics>),
    /// How an enrolment started from the technician screen ended: display-ready text (the new
    /// kiosk id, or the reason it failed; no secrets).
    EnrolFinished { ok: bool, message: String },
}

/// A point in time as the app's timer gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Milliseconds on a monotonic clock.
    pub monotonic_ms: u64,
    /// Wall-clock time.
    pub wall: OffsetDateTime,
}

/// The devices the core cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    CardReader,
    Camera,
    Printer,
}

/// The steps of a card read the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadStep {
    Opening,
    PersonalData,
    Mrz,
    Security,
    ChipCheck,
    Photo,
    Verifying,
}

impl ReadStep {
    /// All steps in reading order.
    pub const ALL: [ReadStep; 7] = [
        ReadStep::Opening,
        ReadStep::PersonalData,
        ReadStep::Mrz,
        ReadStep::Security,
        ReadStep::ChipCheck,
        ReadStep::Photo,
        ReadStep::Verifying,
    ];

    /// The step's text on the reading screen.
    pub fn text(self) -> MessageKey {
        match self {
            ReadStep::Opening => MessageKey::StepOpening,
            ReadStep::PersonalData => MessageKey::StepPersonalData,
            ReadStep::Mrz => MessageKey::StepMrz,
            ReadStep::Security => MessageKey::StepSecurity,
            ReadStep::ChipCheck => MessageKey::StepChipCheck,
            ReadStep::Photo => MessageKey::StepPhoto,
            ReadStep::Verifying => MessageKey::StepVerifying,
        }
    }

    /// Percent done when this step is reached.
    pub fn percent(self) -> u8 {
        match self {
            ReadStep::Opening => 5,
            ReadStep::PersonalData => 20,
            ReadStep::Mrz => 35,
            ReadStep::Security => 45,
            ReadStep::ChipCheck => 60,
            ReadStep::Photo => 75,
            ReadStep::Verifying => 95,
        }
    }

    /// The step a card-read progress report means, if any (the next thing being done).
    pub fn after(progress: &Progress<'_>) -> Option<ReadStep> {
        Some(match progress {
            Progress::Opened { .. } => ReadStep::PersonalData,
            Progress::FileRead { file, .. } => match file {
                LdsFile::Dg13 => ReadStep::Mrz,
                LdsFile::Dg1 => ReadStep::Security,
                LdsFile::Sod | LdsFile::Dg14 | LdsFile::Dg15 => ReadStep::ChipCheck,
                LdsFile::Dg2 => ReadStep::Verifying,
                _ => return None,
            },
            Progress::ChipAuthentication { .. } | Progress::ActiveAuthentication { .. } => {
                ReadStep::Photo
            }
            Progress::Reopening { .. } => ReadStep::Opening,
        })
    }
}

/// Why a read stopped, as far as the screen is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// The card left the reader (the read can resume when it is back).
    CardRemoved,
    /// The chip refused the CAN / MRZ key.
    WrongPassword,
    /// Not a CCCD, or its data cannot be used.
    WrongCard,
    /// The reader went away.
    ReaderGone,
}

impl ReadFailure {
    /// Classifies a card-read error.
    pub fn from_error(e: &kiosk_card::Error) -> Self {
        use kiosk_card::Error as E;
        match e {
            // A timeout or a transport fault mid-read is almost always a card that moved:
            // lifting and placing it again resumes the read.
            E::CardRemoved | E::Timeout { .. } | E::Transport(_) => ReadFailure::CardRemoved,
            E::WrongPassword { .. } => ReadFailure::WrongPassword,
            E::ReaderUnavailable(_) => ReadFailure::ReaderGone,
            _ => ReadFailure::WrongCard,
        }
    }
}

/// The delivery worker's answer to a submission. Each names the registration by its
/// idempotency key, so a late answer about an earlier citizen's registration is never shown to
/// the next one.
#[derive(Debug, Clone)]
pub enum DeliveryResult {
    /// The gateway numbered it.
    Ticket(Box<Ticket>),
    /// The registration is safe in the outbox but the gateway is unreachable: the outbox gave
    /// it a provisional number from its durable sequence.
    Offline {
        key: IdempotencyKey,
        provisional: ProvisionalTicket,
    },
    /// The gateway refused it for good; `code` is the gateway's machine code (no personal data).
    Refused { key: IdempotencyKey, code: String },
}

impl DeliveryResult {
    /// The registration this answer is about.
    pub fn key(&self) -> IdempotencyKey {
        match self {
            DeliveryResult::Ticket(t) => t.idempotency_key,
            DeliveryResult::Offline { key, .. } | DeliveryResult::Refused { key, .. } => *key,
        }
    }
}

/// What a touch asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "value", rename_all = "snake_case")]
pub enum Action {
    /// Leave the attract screen.
    Start,
    /// Abandon the session (every screen has it).
    Cancel,
    /// Go one step back.
    Back,
    KeypadDigit(u8),
    KeypadBackspace,
    KeypadOk,
    /// Use the QR identity without the chip.
    ContinueWithQr,
    /// The identity shown is mine.
    Confirm,
    /// Search text for the procedure list.
    Search(String),
    /// Filter by category (`None`: all).
    Category(Option<String>),
    SelectProcedure(String),
    SelectDepartment(String),
    /// Answer to one of the procedure's questions.
    Answer {
        question: String,
        text: String,
    },
    VisitType(VisitType),
    /// Tick or untick one consent box.
    ToggleConsent(Purpose),
    Submit,
    /// Send the same registration again (same idempotency key).
    Retry,
    /// Leave the ticket or error screen.
    Done,
    /// Switch language.
    Language(Language),
    /// The hidden technician gesture was made (the UI detects it; the core asks for the PIN).
    TechnicianGesture,
    /// Technician: send a dead letter again (by idempotency key).
    RetryDeadLetter(String),
    /// Technician: enrol this kiosk from the next enrolment QR the camera sees.
    EnrolFromQr,
}

/// Consent purposes, one box each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    DataProcessing,
    HealthData,
    InsuranceCheck,
}
