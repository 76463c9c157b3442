//! `--headless`: touches (and, in the demo, demo controls) as JSON lines on standard input, in
//! the same shape the views print them (`{"action":"start"}`, `{"action":"keypad_digit",
//! "value":3}`, `{"demo":"tap_card"}`). Lines are bounded; a bad line gets an error naming what
//! was wrong and is skipped.

use std::io::BufRead;

use kiosk_core::Action;
use kiosk_core::event::Purpose;
use serde_json::Value;

/// Longest input line read.
pub const MAX_LINE: usize = 4096;

/// One line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Touch(Action),
    Demo(DemoCommand),
}

/// The demo panel's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoCommand {
    TapCard,
    RemoveCard,
    ShowCardQr,
    ShowVneidQr,
    GatewayOnline,
    GatewayOffline,
}

fn text(v: Option<&Value>, what: &str) -> Result<String, String> {
    v.and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("`{what}` needs a string value"))
}

fn enumerated<T: serde::de::DeserializeOwned>(v: Option<&Value>, what: &str) -> Result<T, String> {
    v.cloned()
        .ok_or_else(|| format!("`{what}` needs a value"))
        .and_then(|v| serde_json::from_value(v).map_err(|_| format!("`{what}`: unknown value")))
}

/// Parses the `action`/`value` object of a touch.
pub fn parse_action(obj: &serde_json::Map<String, Value>) -> Result<Action, String> {
    let name = obj
        .get("action")
        .and_then(Value::as_str)
        .ok_or("missing `action`")?;
    let value = obj.get("value");
    Ok(match name {
        "start" => Action::Start,
        "cancel" => Action::Cancel,
        "back" => Action::Back,
        "keypad_digit" => {
            let d = value
                .and_then(Value::as_u64)
                .filter(|d| *d <= 9)
                .ok_or("`keypad_digit` needs a digit 0–9")?;
            Action::KeypadDigit(u8::try_from(d).map_err(|_| "digit out of range")?)
        }
        "keypad_backspace" => Action::KeypadBackspace,
        "keypad_ok" => Action::KeypadOk,
        "continue_with_qr" => Action::ContinueWithQr,
        "confirm" => Action::Confirm,
        "search" => Action::Search(text(value, name)?),
        "category" => Action::Category(match value {
            None | Some(Value::Null) => None,
            v => Some(text(v, name)?),
        }),
        "select_procedure" => Action::SelectProcedure(text(value, name)?),
        "select_department" => Action::SelectDepartment(text(value, name)?),
        "answer" => {
            let v = value
                .and_then(Value::as_object)
                .ok_or("`answer` needs {\"question\":…,\"text\":…}")?;
            Action::Answer {
                question: text(v.get("question"), "answer.question")?,
                text: text(v.get("text"), "answer.text")?,
            }
        }
        "visit_type" => Action::VisitType(enumerated(value, name)?),
        "toggle_consent" => Action::ToggleConsent(match value.and_then(Value::as_str) {
            Some("data_processing") => Purpose::DataProcessing,
            Some("health_data") => Purpose::HealthData,
            Some("insurance_check") => Purpose::InsuranceCheck,
            _ => {
                return Err(
                    "`toggle_consent`: data_processing, health_data or insurance_check".into(),
                );
            }
        }),
        "submit" => Action::Submit,
        "retry" => Action::Retry,
        "done" => Action::Done,
        "language" => Action::Language(enumerated(value, name)?),
        "technician_gesture" => Action::TechnicianGesture,
        "retry_dead_letter" => Action::RetryDeadLetter(text(value, name)?),
        "enrol_from_qr" => Action::EnrolFromQr,
        other => return Err(format!("unknown action `{other}`")),
    })
}

/// Parses one input line.
pub fn parse_line(line: &str) -> Result<Input, String> {
    if line.len() > MAX_LINE {
        return Err(format!("line longer than {MAX_LINE} bytes"));
    }
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON (column {})", e.column()))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    if let Some(demo) = obj.get("demo") {
        return Ok(Input::Demo(match demo.as_str() {
            Some("tap_card") => DemoCommand::TapCard,
            Some("remove_card") => DemoCommand::RemoveCard,
            Some("show_card_qr") => DemoCommand::ShowCardQr,
            Some("show_vneid_qr") => DemoCommand::ShowVneidQr,
            Some("gateway_online") => DemoCommand::GatewayOnline,
            Some("gateway_offline") => DemoCommand::GatewayOffline,
            _ => return Err("unknown demo command".into()),
        }));
    }
    parse_action(obj).map(Input::Touch)
}

/// Reads lines from `input` until it ends, handing each parsed one to `f`; bad lines are
/// reported on stderr and skipped. Never reads more than [`MAX_LINE`] bytes per line.
pub fn read_lines(mut input: impl BufRead, mut f: impl FnMut(Input)) {
    let mut buf = Vec::new();
    loop {
        // Lines may hold typed data: wipe the last one, whichever way it was left.
        zeroize::Zeroize::zeroize(&mut buf);
        let n = match std::io::Read::take(&mut input, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
        {
            Ok(n) => n,
            Err(e) => {
                eprintln!("input: {e}");
                return;
            }
        };
        if n == 0 {
            return;
        }
        if buf.last() != Some(&b'\n') && n > MAX_LINE {
            eprintln!("input: line longer than {MAX_LINE} bytes, skipped");
            if skip_line(&mut input).is_err() {
                return;
            }
            continue;
        }
        let Ok(line) = std::str::from_utf8(&buf) else {
            eprintln!("input: not UTF-8, skipped");
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(i) => f(i),
            // The message names the field, never echoes the value (it may be typed data).
            Err(e) => eprintln!("input: {e}"),
        }
    }
}

/// Drops the rest of the current line without holding it in memory (it may be endless).
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            input.consume(i + 1);
            return Ok(());
        }
        let n = chunk.len();
        input.consume(n);
    }
}

/// Why [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Standard input ended.
    Eof,
    /// SIGTERM, SIGINT or SIGHUP.
    Signal(i32),
}

/// Hands every stdin line to `f` (on a thread of its own) until a termination signal, or until
/// stdin ends when `stop_on_eof` (a service's stdin is `/dev/null`: `kiosk run` keeps going).
pub fn serve(stop_on_eof: bool, f: impl FnMut(Input) + Send + 'static) -> anyhow::Result<Ended> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let (tx, rx) = std::sync::mpsc::channel();
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    let signal_handle = signals.handle();
    let tx2 = tx.clone();
    std::thread::Builder::new()
        .name("kiosk-signals".into())
        .spawn(move || {
            for s in signals.forever() {
                let _ = tx2.send(Ended::Signal(s));
            }
        })?;
    std::thread::Builder::new()
        .name("kiosk-stdin".into())
        .spawn(move || {
            read_lines(std::io::stdin().lock(), f);
            let _ = tx.send(Ended::Eof);
        })?;
    let ended = loop {
        match rx.recv() {
            Ok(Ended::Eof) if !stop_on_eof => continue,
            Ok(e) => break e,
            Err(_) => break Ended::Eof,
        }
    };
    signal_handle.close();
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every action the core defines, serialised by the core's own serde, parses back to itself.
    #[test]
    fn every_action_round_trips_through_its_json() {
        let actions = vec![
            Action::Start,
            Action::Cancel,
            Action::Back,
            Action::KeypadDigit(7),
            Action::KeypadBackspace,
            Action::KeypadOk,
            Action::ContinueWithQr,
            Action::Confirm,
            Action::Search("chứng thực".into()),
            Action::Category(Some("Quầy 2".into())),
            Action::Category(None),
            Action::SelectProcedure("HT-01".into()),
            Action::SelectDepartment("NOI".into()),
            Action::Answer {
                question: "phone".into(),
                text: "0901".into(),
            },
            Action::VisitType(kiosk_api::v1::VisitType::FollowUp),
            Action::ToggleConsent(Purpose::DataProcessing),
            Action::ToggleConsent(Purpose::HealthData),
            Action::ToggleConsent(Purpose::InsuranceCheck),
            Action::Submit,
            Action::Retry,
            Action::Done,
            Action::Language(kiosk_core::messages::Language::En),
            Action::TechnicianGesture,
            Action::RetryDeadLetter("0190-…".into()),
            Action::EnrolFromQr,
        ];
        for a in actions {
            let line = serde_json::to_string(&a).unwrap();
            assert_eq!(parse_line(&line), Ok(Input::Touch(a.clone())), "{line}");
        }
    }

    #[test]
    fn demo_commands_and_errors() {
        assert_eq!(
            parse_line(r#"{"demo":"tap_card"}"#),
            Ok(Input::Demo(DemoCommand::TapCard))
        );
        assert!(parse_line(r#"{"action":"keypad_digit","value":12}"#).is_err());
        let e = parse_line(r#"{"action":"fly"}"#).unwrap_err();
        assert!(e.contains("fly"), "{e}");
        assert!(parse_line("[1,2]").is_err());
        assert!(
            parse_line(&"x".repeat(MAX_LINE + 1))
                .unwrap_err()
                .contains("longer")
        );
    }

    #[test]
    fn read_lines_skips_bad_and_overlong_lines() {
        let input = format!(
            "{{\"action\":\"start\"}}\n{}\nnot json\n\n{{\"demo\":\"remove_card\"}}\n",
            "y".repeat(MAX_LINE * 2)
        );
        let mut got = Vec::new();
        read_lines(input.as_bytes(), |i| got.push(i));
        assert_eq!(
            got,
            vec![
                Input::Touch(Action::Start),
                Input::Demo(DemoCommand::RemoveCard)
            ]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            read_lines(bytes.as_slice(), |_| {});
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let _ = parse_line(s);
            }
        }

        #[test]
        fn arbitrary_json_objects_never_panic(name in "[a-z_]{0,20}", value in proptest::option::of(".{0,20}"), n in any::<i64>()) {
            let _ = parse_line(&serde_json::json!({"action": name, "value": value}).to_string());
            let _ = parse_line(&serde_json::json!({"action": name, "value": n}).to_string());
        }
    }
}
