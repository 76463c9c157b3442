//! The view model: what one screen shows, display-ready. Text is by [`MessageKey`]; personal
//! values are formatted here (the one place that formats personal data for display) and the ID
//! is always masked. `Debug` never prints personal values; the strings are wiped on drop.

use serde::Serialize;
use zeroize::Zeroize;

use crate::event::{Action, Purpose, ReadStep};
use crate::messages::{Language, MessageKey};

/// Which screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Screen {
    Attract,
    Identify,
    Reading,
    Identity,
    Choose,
    Details,
    Submitting,
    Ticket,
    Error,
    /// The technician PIN pad (reached by the hidden gesture).
    TechnicianPin,
    /// The technician's diagnostics and actions.
    Technician,
}

/// One screen's content.
#[derive(Clone, PartialEq, Serialize)]
pub struct View {
    pub screen: Screen,
    pub language: Language,
    pub site_name: String,
    pub title: MessageKey,
    /// A second line: a hint, a notice or the way forward from an error.
    pub notice: Option<MessageKey>,
    /// Seconds left before the session ends for inactivity (shown in the last seconds only).
    pub countdown_seconds: Option<u32>,
    /// The buttons the screen offers.
    pub actions: Vec<Action>,
    /// Digits typed so far, as bullets.
    pub keypad: Option<String>,
    pub progress: Option<ProgressView>,
    pub identity: Option<IdentityView>,
    pub search: Option<String>,
    pub categories: Vec<String>,
    pub category: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub questions: Vec<QuestionView>,
    pub consents: Vec<ConsentView>,
    pub insurance: Option<MessageKey>,
    pub ticket: Option<TicketView>,
    /// The technician screens' content (no personal data).
    pub technician: Option<TechnicianView>,
}

impl View {
    pub(crate) fn new(
        screen: Screen,
        language: Language,
        site_name: &str,
        title: MessageKey,
    ) -> Self {
        View {
            screen,
            language,
            site_name: site_name.into(),
            title,
            notice: None,
            countdown_seconds: None,
            actions: vec![],
            keypad: None,
            progress: None,
            identity: None,
            search: None,
            categories: vec![],
            category: None,
            choices: vec![],
            questions: vec![],
            consents: vec![],
            insurance: None,
            ticket: None,
            technician: None,
        }
    }

    /// The title in the view's language.
    pub fn title_text(&self) -> &'static str {
        self.title.text(self.language)
    }

    /// The notice in the view's language.
    pub fn notice_text(&self) -> Option<&'static str> {
        self.notice.map(|k| k.text(self.language))
    }
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("screen", &self.screen)
            .field("title", &self.title)
            .field("notice", &self.notice)
            .field("countdown_seconds", &self.countdown_seconds)
            .finish_non_exhaustive()
    }
}

impl Drop for View {
    fn drop(&mut self) {
        if let Some(s) = &mut self.search {
            s.zeroize();
        }
        for q in &mut self.questions {
            q.answer.zeroize();
        }
    }
}

/// Read progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProgressView {
    pub step: ReadStep,
    pub step_text: MessageKey,
    pub percent: u8,
}

/// The identity card on screen.
#[derive(Clone, PartialEq, Serialize)]
pub struct IdentityView {
    pub full_name: String,
    /// `0010******45`.
    pub masked_id: String,
    /// `DD/MM/YYYY`.
    pub date_of_birth: String,
    pub address: Option<String>,
    pub has_photo: bool,
    pub badge: MessageKey,
    /// Why the chip data is not verified (technical, no personal data).
    pub badge_reason: Option<String>,
}

impl Drop for IdentityView {
    fn drop(&mut self) {
        self.full_name.zeroize();
        self.masked_id.zeroize();
        self.date_of_birth.zeroize();
        self.address.zeroize();
    }
}

/// A procedure or department to choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceView {
    pub code: String,
    pub name: String,
    /// Counter or room.
    pub place: String,
}

/// A question of the chosen procedure with the answer so far.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct QuestionView {
    pub id: String,
    pub label: String,
    pub answer: String,
}

/// One consent box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    pub purpose: Purpose,
    pub text: MessageKey,
    pub ticked: bool,
    pub required: bool,
}

/// The ticket as shown and printed (no personal data on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketView {
    /// e.g. `K01-007`, or `T-K01-003` when provisional.
    pub display: String,
    pub counter_or_room: String,
    pub estimated_wait_minutes: Option<u32>,
    pub provisional: bool,
}

/// The technician screens. Nothing here is personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TechnicianView {
    /// PIN screen: seconds until a PIN may be tried again after repeated failures.
    pub locked_seconds: Option<u32>,
    /// PIN screen: failed attempts since the last success or lockout.
    pub failed_attempts: u32,
    /// Diagnostics screen: the newest snapshot the app gave.
    pub diagnostics: Option<Diagnostics>,
    /// Diagnostics screen: waiting for an enrolment QR in front of the camera.
    pub awaiting_enrolment_qr: bool,
    /// Outcome of the last technician action (enrolment, retry), display-ready.
    pub status: Option<String>,
}

/// A snapshot of the kiosk's health the app gathers for the technician screen. Display-ready
/// text (the app formats it); no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Diagnostics {
    /// Program version.
    pub version: String,
    /// e.g. `3 h 12 min`.
    pub uptime: String,
    /// Reader name and state; detail: the last ATR in hex.
    pub reader: DiagnosticLine,
    /// Camera device and frame rate; detail: decode rate over the last frames.
    pub camera: DiagnosticLine,
    /// Printer state.
    pub printer: DiagnosticLine,
    /// Gateway reachability and latency; detail: the last error.
    pub gateway: DiagnosticLine,
    /// Outbox depth and oldest item; detail: the last delivery error.
    pub outbox: DiagnosticLine,
    /// Registrations the gateway refused for good, newest first.
    pub dead_letters: Vec<DeadLetterView>,
}

/// One line of the diagnostics: healthy or not, a summary and a detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DiagnosticLine {
    pub ok: bool,
    pub summary: String,
    pub detail: String,
}

/// A dead letter as the technician sees it (the key is a random id, not personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetterView {
    pub key: String,
    pub reason: String,
    /// e.g. `2 h ago`.
    pub age: String,
}
