//! The technician mode of the state machine: the hidden gesture on the attract screen, the PIN
//! pad with its lockout, and the diagnostics screen with its actions (dead-letter retry, enrolment
//! from a QR). It never holds a citizen's data: it is entered from attract only, and citizen QR
//! codes and card taps are ignored while it is open.

use kiosk_qr::payload::Payload;
use zeroize::{Zeroize, Zeroizing};

use super::{Kiosk, State};
use crate::command::Command;
use crate::config::Technician as Limits;
use crate::event::Action;
use crate::messages::{Language, MessageKey};
use crate::pin;
use crate::view::{Diagnostics, Screen, TechnicianView, View};

/// How often the diagnostics are refreshed while the technician screen is open.
pub const REFRESH_MS: u64 = 2_000;
/// Longest enrolment outcome text kept for the screen.
const MAX_STATUS_CHARS: usize = 200;
/// Most dead letters offered as retry buttons (the list itself shows them all).
const MAX_RETRY_ACTIONS: usize = 20;

/// The screens' data while the technician mode is open; dropped on the way back to attract.
pub(super) struct TechMode {
    /// Digits typed on the PIN pad (wiped when checked and on drop).
    pub(super) pin: Zeroizing<String>,
    pub(super) last_touch_ms: u64,
    notice: Option<MessageKey>,
    diagnostics: Option<Diagnostics>,
    awaiting_enrolment_qr: bool,
    enrolling: bool,
    status: Option<String>,
    next_refresh_ms: u64,
}

impl TechMode {
    fn new(now_ms: u64) -> Self {
        TechMode {
            // Room for the longest PIN up front, so pushing never leaves a copy behind.
            pin: Zeroizing::new(String::with_capacity(pin::MAX_DIGITS)),
            last_touch_ms: now_ms,
            notice: None,
            diagnostics: None,
            awaiting_enrolment_qr: false,
            enrolling: false,
            status: None,
            next_refresh_ms: now_ms,
        }
    }
}

/// Wrong PINs and the lockout, on the monotonic clock. Lives in the machine, not in the mode, so
/// leaving for attract and coming back does not reset it.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct PinGuard {
    /// Wrong PINs since the last right one or the last lockout.
    failures: u32,
    locked_until_ms: Option<u64>,
}

impl PinGuard {
    /// Milliseconds of lockout left at `now_ms`.
    fn locked_ms_left(&self, now_ms: u64) -> Option<u64> {
        self.locked_until_ms
            .filter(|until| *until > now_ms)
            .map(|until| until - now_ms)
    }

    /// Counts a wrong PIN; true when it starts a lockout.
    fn failure(&mut self, now_ms: u64, limits: &Limits) -> bool {
        self.failures = self.failures.saturating_add(1);
        if self.failures >= limits.max_attempts {
            self.failures = 0;
            let ms = u64::from(limits.lockout_seconds) * 1000;
            self.locked_until_ms = Some(now_ms.saturating_add(ms));
            return true;
        }
        false
    }

    fn success(&mut self) {
        *self = PinGuard::default();
    }
}

/// Display-ready text from the app: bounded and without control characters.
fn status_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_STATUS_CHARS)
        .collect()
}

impl Kiosk {
    pub(super) fn in_technician_mode(&self) -> bool {
        matches!(self.state, State::TechnicianPin | State::Technician)
    }

    /// The hidden gesture on attract: the PIN pad.
    pub(super) fn enter_technician_pin(&mut self) {
        if self.state != State::Attract || self.session.is_some() {
            return;
        }
        self.tech = Some(TechMode::new(self.now_ms));
        self.go(State::TechnicianPin);
    }

    pub(super) fn pin_action(&mut self, action: Action, out: &mut Vec<Command>) {
        let now = self.now_ms;
        let locked = self.pin_guard.locked_ms_left(now).is_some();
        let Some(t) = &mut self.tech else { return };
        match action {
            Action::KeypadDigit(d) if d <= 9 => {
                if locked {
                    t.notice = Some(MessageKey::TechnicianLocked);
                } else if t.pin.len() < pin::MAX_DIGITS {
                    t.pin.push(char::from(b'0' + d));
                    t.notice = None;
                }
            }
            Action::KeypadBackspace => {
                t.pin.pop();
            }
            Action::KeypadOk => {
                if locked {
                    t.pin.zeroize();
                    t.notice = Some(MessageKey::TechnicianLocked);
                    return;
                }
                if pin::check_format(&t.pin).is_err() {
                    // Cannot be the PIN: not counted as an attempt.
                    t.pin.zeroize();
                    t.notice = Some(MessageKey::TechnicianPinFormat);
                    return;
                }
                let right = pin::verify(&self.settings.technician.pin_hash, &t.pin);
                t.pin.zeroize();
                if right {
                    self.pin_guard.success();
                    t.notice = None;
                    t.next_refresh_ms = now.saturating_add(REFRESH_MS);
                    out.push(Command::RefreshDiagnostics);
                    self.go(State::Technician);
                } else {
                    let lockout = self
                        .pin_guard
                        .failure(now, &self.settings.technician.limits);
                    t.notice = Some(if lockout {
                        MessageKey::TechnicianLocked
                    } else {
                        MessageKey::TechnicianPinWrong
                    });
                }
            }
            Action::Back | Action::Done => self.end_session(out),
            _ => {}
        }
    }

    pub(super) fn technician_action(&mut self, action: Action, out: &mut Vec<Command>) {
        let now = self.now_ms;
        let Some(t) = &mut self.tech else { return };
        match action {
            Action::RetryDeadLetter(key) => {
                // Only a key the screen lists: the UI takes it from the diagnostics.
                let listed = t
                    .diagnostics
                    .as_ref()
                    .is_some_and(|d| d.dead_letters.iter().any(|l| l.key == key));
                if listed {
                    t.notice = Some(MessageKey::TechnicianRetryRequested);
                    t.status = Some(key.clone());
                    t.next_refresh_ms = now.saturating_add(REFRESH_MS);
                    out.push(Command::RetryDeadLetter(key));
                    out.push(Command::RefreshDiagnostics);
                } else {
                    t.notice = Some(MessageKey::TechnicianUnknownDeadLetter);
                    t.status = None;
                }
            }
            Action::EnrolFromQr if !t.enrolling => {
                t.awaiting_enrolment_qr = true;
                t.notice = Some(MessageKey::TechnicianShowEnrolmentQr);
                t.status = None;
            }
            Action::Done | Action::Back => self.end_session(out),
            _ => {}
        }
    }

    /// A QR while the technician mode is open: an enrolment QR when one is awaited; anything
    /// else (a citizen's card QR included) is dropped here and starts nothing.
    pub(super) fn technician_qr(&mut self, payload: Payload, out: &mut Vec<Command>) {
        let now = self.now_ms;
        if self.state != State::Technician {
            return;
        }
        let Some(t) = &mut self.tech else { return };
        if !t.awaiting_enrolment_qr {
            return;
        }
        t.last_touch_ms = now;
        match payload {
            Payload::Enrolment(e) => {
                t.awaiting_enrolment_qr = false;
                t.enrolling = true;
                t.notice = Some(MessageKey::TechnicianEnrolling);
                t.status = None;
                out.push(Command::Enrol(Box::new(e)));
            }
            _ => t.notice = Some(MessageKey::TechnicianNotEnrolmentQr),
        }
    }

    pub(super) fn technician_qr_unreadable(&mut self) {
        if self.state != State::Technician {
            return;
        }
        if let Some(t) = &mut self.tech
            && t.awaiting_enrolment_qr
        {
            t.notice = Some(MessageKey::TechnicianNotEnrolmentQr);
        }
    }

    pub(super) fn diagnostics(&mut self, snapshot: Diagnostics) {
        if self.state != State::Technician {
            return;
        }
        if let Some(t) = &mut self.tech {
            t.diagnostics = Some(snapshot);
        }
    }

    pub(super) fn enrol_finished(&mut self, ok: bool, message: &str, out: &mut Vec<Command>) {
        if self.state != State::Technician {
            return;
        }
        let now = self.now_ms;
        let Some(t) = &mut self.tech else { return };
        if !t.enrolling {
            return;
        }
        t.enrolling = false;
        t.notice = Some(if ok {
            MessageKey::TechnicianEnrolOk
        } else {
            MessageKey::TechnicianEnrolFailed
        });
        t.status = Some(status_text(message));
        // The gateway line changes with a new enrolment: show it at once.
        t.next_refresh_ms = now.saturating_add(REFRESH_MS);
        out.push(Command::RefreshDiagnostics);
    }

    /// The idle timeout and the periodic refresh.
    pub(super) fn technician_tick(&mut self, out: &mut Vec<Command>) {
        let now = self.now_ms;
        let idle_ms = u64::from(self.settings.technician.limits.idle_seconds) * 1000;
        let technician_screen = self.state == State::Technician;
        let Some(t) = &mut self.tech else { return };
        if now >= t.last_touch_ms.saturating_add(idle_ms) {
            self.end_session(out);
            return;
        }
        if technician_screen && now >= t.next_refresh_ms {
            t.next_refresh_ms = now.saturating_add(REFRESH_MS);
            out.push(Command::RefreshDiagnostics);
        }
    }

    pub(super) fn render_pin(&self, lang: Language, site: &str) -> View {
        let mut v = View::new(
            Screen::TechnicianPin,
            lang,
            site,
            MessageKey::TechnicianPinTitle,
        );
        let t = self.tech.as_ref();
        let locked_seconds = self
            .pin_guard
            .locked_ms_left(self.now_ms)
            .map(|ms| u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX));
        v.notice = Some(if locked_seconds.is_some() {
            MessageKey::TechnicianLocked
        } else {
            t.and_then(|t| t.notice)
                .unwrap_or(MessageKey::TechnicianPinHint)
        });
        v.keypad = Some("•".repeat(t.map_or(0, |t| t.pin.len())));
        v.actions = vec![Action::KeypadOk, Action::Cancel];
        v.technician = Some(TechnicianView {
            locked_seconds,
            failed_attempts: self.pin_guard.failures,
            ..TechnicianView::default()
        });
        v
    }

    pub(super) fn render_technician(&self, lang: Language, site: &str) -> View {
        let mut v = View::new(Screen::Technician, lang, site, MessageKey::TechnicianTitle);
        let Some(t) = self.tech.as_ref() else {
            return v;
        };
        v.notice = Some(t.notice.unwrap_or(if t.diagnostics.is_some() {
            MessageKey::TechnicianHint
        } else {
            MessageKey::TechnicianLoading
        }));
        v.actions = vec![Action::EnrolFromQr, Action::Done];
        if let Some(d) = &t.diagnostics {
            v.actions.extend(
                d.dead_letters
                    .iter()
                    .take(MAX_RETRY_ACTIONS)
                    .map(|l| Action::RetryDeadLetter(l.key.clone())),
            );
        }
        v.technician = Some(TechnicianView {
            diagnostics: t.diagnostics.clone(),
            awaiting_enrolment_qr: t.awaiting_enrolment_qr,
            status: t.status.clone(),
            ..TechnicianView::default()
        });
        v
    }
}
