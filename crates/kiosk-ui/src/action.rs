//! The ids the `.slint` side uses for the core's plain actions (footer buttons, Cancel, keypad
//! OK), and the parsing of the ids of consents, visit types and languages. Only actions the
//! current view allows are ever passed on (see [`crate::binding`]).

use kiosk_api::v1::VisitType;
use kiosk_core::Action;
use kiosk_core::event::Purpose;
use kiosk_core::messages::Language;

/// The id of an action shown as a plain button, or `None` for actions that have their own
/// widget (keypad digits, search, choices, answers, consents, language).
pub fn action_id(action: &Action) -> Option<&'static str> {
    Some(match action {
        Action::Start => "start",
        Action::Cancel => "cancel",
        Action::Back => "back",
        Action::KeypadOk => "keypad_ok",
        Action::KeypadBackspace => "keypad_backspace",
        Action::ContinueWithQr => "continue_with_qr",
        Action::Confirm => "confirm",
        Action::Submit => "submit",
        Action::Retry => "retry",
        Action::Done => "done",
        Action::EnrolFromQr => "enrol_from_qr",
        _ => return None,
    })
}

/// The plain action with this id.
pub fn plain_action(id: &str) -> Option<Action> {
    Some(match id {
        "start" => Action::Start,
        "cancel" => Action::Cancel,
        "back" => Action::Back,
        "keypad_ok" => Action::KeypadOk,
        "keypad_backspace" => Action::KeypadBackspace,
        "continue_with_qr" => Action::ContinueWithQr,
        "confirm" => Action::Confirm,
        "submit" => Action::Submit,
        "retry" => Action::Retry,
        "done" => Action::Done,
        "enrol_from_qr" => Action::EnrolFromQr,
        _ => return None,
    })
}

pub fn purpose_id(p: Purpose) -> &'static str {
    match p {
        Purpose::DataProcessing => "data_processing",
        Purpose::HealthData => "health_data",
        Purpose::InsuranceCheck => "insurance_check",
    }
}

pub fn purpose(id: &str) -> Option<Purpose> {
    [
        Purpose::DataProcessing,
        Purpose::HealthData,
        Purpose::InsuranceCheck,
    ]
    .into_iter()
    .find(|p| purpose_id(*p) == id)
}

pub fn visit_type(id: &str) -> Option<VisitType> {
    Some(match id {
        "first_visit" => VisitType::FirstVisit,
        "follow_up" => VisitType::FollowUp,
        "appointment" => VisitType::Appointment,
        _ => return None,
    })
}

pub fn language_id(l: Language) -> &'static str {
    match l {
        Language::Vi => "vi",
        Language::En => "en",
    }
}

pub fn language(id: &str) -> Option<Language> {
    match id {
        "vi" => Some(Language::Vi),
        "en" => Some(Language::En),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_round_trip() {
        let all = [
            Action::Start,
            Action::Cancel,
            Action::Back,
            Action::KeypadOk,
            Action::KeypadBackspace,
            Action::ContinueWithQr,
            Action::Confirm,
            Action::Submit,
            Action::Retry,
            Action::Done,
            Action::EnrolFromQr,
        ];
        for a in all {
            let id = action_id(&a).expect("a plain action has an id");
            assert_eq!(plain_action(id), Some(a));
        }
        assert_eq!(action_id(&Action::KeypadDigit(3)), None);
        assert_eq!(plain_action("rm -rf"), None);
    }

    #[test]
    fn other_ids_round_trip() {
        for p in [
            Purpose::DataProcessing,
            Purpose::HealthData,
            Purpose::InsuranceCheck,
        ] {
            assert_eq!(purpose(purpose_id(p)), Some(p));
        }
        for l in [Language::Vi, Language::En] {
            assert_eq!(language(language_id(l)), Some(l));
        }
        assert_eq!(visit_type("follow_up"), Some(VisitType::FollowUp));
        assert_eq!(visit_type("x"), None);
        assert_eq!(purpose(""), None);
    }
}
