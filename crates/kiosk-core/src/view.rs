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
