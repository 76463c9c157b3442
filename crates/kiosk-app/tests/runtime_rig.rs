//! `kiosk run --headless` with the real PC/SC path: pcscd + vsmartcard-vpcd + the virtual chip
//! (the card rig; needs the Debian packages pcscd and vsmartcard-vpcd, see deploy/dev-setup.sh).
//! The reader monitor turns the card into events, the read goes through `PcscTransport`, and the
//! identity screen shows the chip verified against the rig's CSCA. Rig tests queue on a
//! machine-wide lock (one pcscd per machine).

#![allow(clippy::unwrap_used)] // a panic is a failed test

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kiosk_tests::rig::{CardRig, sample_profile};
use kiosk_vcard::Faults;
use serde_json::Value;

fn wait_view(rx: &mpsc::Receiver<Value>, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no view {what}"));
        if pred(&v["view"]) {
            return v;
        }
    }
}

#[test]
fn kiosk_run_reads_the_card_through_pcscd() {
    let rig = CardRig::start(&sample_profile("an.toml"), Faults::none()).unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::write(
        state.path().join("kiosk.toml"),
        format!(
            r#"mode = "clinic"
site_name = "Phòng khám Thử"
kiosk_id = "test-k01"
trust_store = "{}"
gateway_url = "https://127.0.0.1:9"
technician_pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$abc$def"

[devices]
reader = "{}"
camera = "/dev/video99"
"#,
            rig.trust_dir().display(),
            rig.reader()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--state-dir")
        .arg(state.path())
        .args(["run", "--headless"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, views) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx
                .send(serde_json::from_str::<Value>(&line).unwrap())
                .is_err()
            {
                return;
            }
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut send = |line: &str| writeln!(stdin, "{line}").unwrap();

    // The card already lies on the reader and there is no camera: the session starts on the
    // camera-missing screen (the monitor reported the card), or the citizen touches start.
    std::thread::sleep(Duration::from_millis(1500));
    send(r#"{"action":"start"}"#);
    wait_view(&views, "camera missing", |v| {
        v["title"] == "error_camera_missing"
    });
    send(r#"{"action":"back"}"#);
    wait_view(&views, "identify", |v| v["screen"] == "identify");
    let can = &rig.profile().id[6..];
    for d in can.chars() {
        send(&format!(r#"{{"action":"keypad_digit","value":{d}}}"#));
    }
    send(r#"{"action":"keypad_ok"}"#);
    wait_view(&views, "reading", |v| v["screen"] == "reading");
    let v = wait_view(&views, "identity", |v| v["screen"] == "identity");
    assert_eq!(v["view"]["identity"]["badge"], "badge_chip_verified", "{v}");
    assert_eq!(
        v["view"]["identity"]["full_name"],
        rig.profile().full_name.as_str()
    );
    assert!(v["photo_bytes"].as_u64().unwrap() > 0);
    send(r#"{"action":"cancel"}"#);
    wait_view(&views, "attract", |v| v["screen"] == "attract");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}
