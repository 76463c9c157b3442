//! The binding between kiosk-core's [`View`] and the Slint window: `apply` sets every property
//! from a view, `clear` drops every personal value, and `dispatch_*` turn the window's
//! callbacks into the [`Action`]s the current view allows (a stale or forged click is ignored).

use kiosk_core::Action;
use kiosk_core::event::ReadStep;
use kiosk_core::messages::MessageKey;
use kiosk_core::view::{Screen, View};
use slint::{Image, ModelRc, SharedString, VecModel};

use crate::action::{self, action_id};
use crate::{
    ChoiceData, ConsentData, DeadLetterData, DiagnosticData, IdentityData, KioskWindow,
    QuestionData, StepData, TicketData,
};

/// Longest search text or answer the on-screen keyboards build (the core caps answers too).
pub const MAX_TYPED_CHARS: usize = 120;

/// The screen id `kiosk.slint` switches on.
pub fn screen_id(screen: Screen) -> &'static str {
    match screen {
        Screen::Attract => "attract",
        Screen::Identify => "identify",
        Screen::Reading => "reading",
        Screen::Identity => "identity",
        Screen::Choose => "choose",
        Screen::Details => "details",
        Screen::Submitting => "submitting",
        Screen::Ticket => "ticket",
        Screen::Error => "error",
        Screen::TechnicianPin => "technician_pin",
        Screen::Technician => "technician",
    }
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn s(text: &str) -> SharedString {
    SharedString::from(text)
}

/// Sets every property of the window from `view`. `photo` is the decoded portrait, if any.
pub fn apply(w: &KioskWindow, view: &View, photo: Option<Image>) {
    let lang = view.language;
    // Static labels follow the view's language; "en" is the source language of the `@tr`
    // strings and always available, "vi" is bundled.
    let _ = slint::select_bundled_translation(action::language_id(lang));

    w.set_screen(s(screen_id(view.screen)));
    w.set_language(s(action::language_id(lang)));
    w.set_site_name(s(&view.site_name));
    w.set_title_text(s(view.title_text()));
    w.set_notice_text(s(view.notice_text().unwrap_or_default()));
    w.set_countdown(
        view.countdown_seconds
            .map_or(-1, |c| i32::try_from(c).unwrap_or(i32::MAX)),
    );
    w.set_can_cancel(view.actions.contains(&Action::Cancel));
    let footer: Vec<SharedString> = view
        .actions
        .iter()
        .filter_map(action_id)
        .filter(|id| !matches!(*id, "cancel" | "keypad_ok" | "enrol_from_qr"))
        .map(s)
        .collect();
    w.set_actions(model(footer));
    w.set_keypad(s(view.keypad.as_deref().unwrap_or_default()));

    // Reading progress: every step with its state.
    match &view.progress {
        Some(p) => {
            let current = ReadStep::ALL
                .iter()
                .position(|st| *st == p.step)
                .unwrap_or(0);
            let steps = ReadStep::ALL
                .iter()
                .enumerate()
                .map(|(i, st)| StepData {
                    text: s(st.text().text(lang)),
                    state: s(match i.cmp(&current) {
                        std::cmp::Ordering::Less => "done",
                        std::cmp::Ordering::Equal => "current",
                        std::cmp::Ordering::Greater => "pending",
                    }),
                })
                .collect();
            w.set_percent(i32::from(p.percent));
            w.set_steps(model(steps));
        }
        None => {
            w.set_percent(0);
            w.set_steps(model(vec![]));
        }
    }

    match &view.identity {
        Some(id) => {
            w.set_identity(IdentityData {
                full_name: s(&id.full_name),
                masked_id: s(&id.masked_id),
                date_of_birth: s(&id.date_of_birth),
                address: s(id.address.as_deref().unwrap_or_default()),
                has_photo: id.has_photo,
                badge: s(id.badge.text(lang)),
                badge_kind: s(match id.badge {
                    MessageKey::BadgeChipVerified => "verified",
                    MessageKey::BadgeChecking => "checking",
                    _ => "unverified",
                }),
                badge_reason: s(id.badge_reason.as_deref().unwrap_or_default()),
            });
            w.set_has_identity(true);
            w.set_photo(photo.unwrap_or_default());
        }
        None => {
            w.set_identity(IdentityData::default());
            w.set_has_identity(false);
            w.set_photo(Image::default());
        }
    }

    w.set_has_search(view.search.is_some());
    w.set_search(s(view.search.as_deref().unwrap_or_default()));
    w.set_categories(model(view.categories.iter().map(|c| s(c)).collect()));
    w.set_category(s(view.category.as_deref().unwrap_or_default()));
    w.set_choices(model(
        view.choices
            .iter()
            .map(|c| ChoiceData {
                code: s(&c.code),
                name: s(&c.name),
                place: s(&c.place),
            })
            .collect(),
    ));
    w.set_questions(model(
        view.questions
            .iter()
            .map(|q| QuestionData {
                id: s(&q.id),
                label: s(&q.label),
                answer: s(&q.answer),
            })
            .collect(),
    ));
    w.set_consents(model(
        view.consents
            .iter()
            .map(|c| ConsentData {
                purpose: s(action::purpose_id(c.purpose)),
                text: s(c.text.text(lang)),
                ticked: c.ticked,
                required: c.required,
            })
            .collect(),
    ));
    w.set_insurance(s(view.insurance.map(|k| k.text(lang)).unwrap_or_default()));
    w.set_clinic(view.screen == Screen::Details && is_clinic(view));
    if view.screen != Screen::Details {
        w.set_editing_question(SharedString::default());
        w.set_visit_type(SharedString::default());
    } else if view.questions.len() == 1 && w.get_editing_question().is_empty() {
        // One question: the keyboard is for it, no need to touch the field first.
        w.set_editing_question(s(&view.questions[0].id));
    }

    match &view.ticket {
        Some(t) => w.set_ticket(TicketData {
            display: s(&t.display),
            place: s(&t.counter_or_room),
            wait_minutes: t
                .estimated_wait_minutes
                .map_or(-1, |m| i32::try_from(m).unwrap_or(i32::MAX)),
            provisional: t.provisional,
        }),
        None => w.set_ticket(TicketData::default()),
    }

    let tech = view.technician.clone().unwrap_or_default();
    w.set_locked_seconds(
        tech.locked_seconds
            .map_or(-1, |l| i32::try_from(l).unwrap_or(i32::MAX)),
    );
    w.set_failed_attempts(i32::try_from(tech.failed_attempts).unwrap_or(i32::MAX));
    w.set_awaiting_qr(tech.awaiting_enrolment_qr);
    w.set_tech_status(s(tech.status.as_deref().unwrap_or_default()));
    match &tech.diagnostics {
        Some(d) => {
            w.set_tech_version(s(&d.version));
            w.set_tech_uptime(s(&d.uptime));
            let line = |name: &str, l: &kiosk_core::view::DiagnosticLine| DiagnosticData {
                name: s(name),
                ok: l.ok,
                summary: s(&l.summary),
                detail: s(&l.detail),
            };
            w.set_tech_lines(model(vec![
                line("reader", &d.reader),
                line("camera", &d.camera),
                line("printer", &d.printer),
                line("gateway", &d.gateway),
                line("outbox", &d.outbox),
            ]));
            w.set_dead_letters(model(
                d.dead_letters
                    .iter()
                    .map(|dl| DeadLetterData {
                        key: s(&dl.key),
                        reason: s(&dl.reason),
                        age: s(&dl.age),
                    })
                    .collect(),
            ));
        }
        None => {
            w.set_tech_version(SharedString::default());
            w.set_tech_uptime(SharedString::default());
            w.set_tech_lines(model(vec![]));
            w.set_dead_letters(model(vec![]));
        }
    }
    if view.screen != Screen::Technician {
        w.set_camera_preview(Image::default());
    }
}

/// Drops every personal value from the window: identity, photo, search, answers, choices,
/// keypad bullets, ticket. The screen itself stays until the next view.
pub fn clear(w: &KioskWindow) {
    w.set_identity(IdentityData::default());
    w.set_has_identity(false);
    w.set_photo(Image::default());
    w.set_keypad(SharedString::default());
    w.set_search(SharedString::default());
    w.set_choices(model(vec![]));
    w.set_questions(model(vec![]));
    w.set_consents(model(vec![]));
    w.set_insurance(SharedString::default());
    w.set_editing_question(SharedString::default());
    w.set_visit_type(SharedString::default());
    w.set_ticket(TicketData::default());
}

/// A clinic view: it asks for health-data consent.
fn is_clinic(view: &View) -> bool {
    view.consents
        .iter()
        .any(|c| c.purpose == kiosk_core::event::Purpose::HealthData)
}

fn has_keypad(view: &View) -> bool {
    view.keypad.is_some() || view.screen == Screen::TechnicianPin
}

/// A plain button (`action(id)` callback).
pub fn plain(view: &View, id: &str) -> Option<Action> {
    let a = action::plain_action(id)?;
    let allowed = view.actions.contains(&a)
        || match a {
            Action::KeypadOk | Action::KeypadBackspace => has_keypad(view),
            Action::Start => view.screen == Screen::Attract,
            Action::EnrolFromQr => view.screen == Screen::Technician,
            _ => false,
        };
    allowed.then_some(a)
}

pub fn digit(view: &View, d: i32) -> Option<Action> {
    let d = u8::try_from(d).ok().filter(|d| *d <= 9)?;
    has_keypad(view).then_some(Action::KeypadDigit(d))
}

/// Applies one keyboard edit (`key`, `backspace`, `clear`) to `text`, bounded.
pub fn edit(text: &str, op: &str, key: &str) -> Option<String> {
    let mut out = text.to_owned();
    match op {
        "key" => {
            let k: String = key.chars().filter(|c| !c.is_control()).take(1).collect();
            if k.is_empty() || out.chars().count() >= MAX_TYPED_CHARS {
                return None;
            }
            out.push_str(&k);
        }
        "backspace" => {
            out.pop()?;
        }
        "clear" => out.clear(),
        _ => return None,
    }
    Some(out)
}

pub fn search(view: &View, op: &str, key: &str) -> Option<Action> {
    if view.screen != Screen::Choose {
        return None;
    }
    let current = view.search.as_deref()?;
    edit(current, op, key).map(Action::Search)
}

pub fn category(view: &View, c: &str) -> Option<Action> {
    if view.screen != Screen::Choose {
        return None;
    }
    if c.is_empty() {
        return Some(Action::Category(None));
    }
    view.categories
        .iter()
        .any(|x| x == c)
        .then(|| Action::Category(Some(c.to_owned())))
}

pub fn select(view: &View, code: &str) -> Option<Action> {
    if view.screen != Screen::Choose || !view.choices.iter().any(|c| c.code == code) {
        return None;
    }
    Some(if view.title == MessageKey::ChooseDepartmentTitle {
        Action::SelectDepartment(code.to_owned())
    } else {
        Action::SelectProcedure(code.to_owned())
    })
}

pub fn answer(view: &View, question: &str, op: &str, key: &str) -> Option<Action> {
    if view.screen != Screen::Details {
        return None;
    }
    let q = view.questions.iter().find(|q| q.id == question)?;
    let text = edit(&q.answer, op, key)?;
    Some(Action::Answer {
        question: q.id.clone(),
        text,
    })
}

pub fn consent(view: &View, purpose: &str) -> Option<Action> {
    let p = action::purpose(purpose)?;
    (view.screen == Screen::Details && view.consents.iter().any(|c| c.purpose == p))
        .then_some(Action::ToggleConsent(p))
}

pub fn visit_type(view: &View, id: &str) -> Option<Action> {
    let v = action::visit_type(id)?;
    (view.screen == Screen::Details && is_clinic(view)).then_some(Action::VisitType(v))
}

pub fn language(id: &str) -> Option<Action> {
    action::language(id).map(Action::Language)
}

pub fn retry_dead_letter(view: &View, key: &str) -> Option<Action> {
    let known = view
        .technician
        .as_ref()
        .and_then(|t| t.diagnostics.as_ref())
        .is_some_and(|d| d.dead_letters.iter().any(|dl| dl.key == key));
    known.then(|| Action::RetryDeadLetter(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edit_types_deletes_and_clears() {
        assert_eq!(edit("AB", "key", "C").as_deref(), Some("ABC"));
        assert_eq!(edit("AB", "backspace", "").as_deref(), Some("A"));
        assert_eq!(edit("", "backspace", ""), None);
        assert_eq!(edit("AB", "clear", "").as_deref(), Some(""));
        assert_eq!(edit("AB", "key", "\u{7}"), None);
        assert_eq!(edit("AB", "rm", ""), None);
        // Vietnamese text is deleted by character, not by byte.
        assert_eq!(edit("Đà", "backspace", "").as_deref(), Some("Đ"));
    }

    #[test]
    fn edit_is_bounded() {
        let full = "A".repeat(MAX_TYPED_CHARS);
        assert_eq!(edit(&full, "key", "B"), None);
    }

    proptest! {
        #[test]
        fn edit_never_panics_nor_grows_past_the_cap(
            text in ".{0,130}", op in "key|backspace|clear|.{0,5}", key in ".{0,4}"
        ) {
            if let Some(out) = edit(&text, &op, &key) {
                prop_assert!(out.chars().count() <= MAX_TYPED_CHARS.max(text.chars().count()));
            }
        }
    }
}
