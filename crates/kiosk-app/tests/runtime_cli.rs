//! `kiosk demo --headless` and `kiosk run --headless` as processes: views on stdout, touches and
//! demo commands on stdin, and the systemd notifications on a fake `NOTIFY_SOCKET` (a Unix
//! datagram socket in a temporary folder). No hardware: the demo has its virtual card, and
//! `kiosk run` must start even when no reader, camera or gateway is there.

#![allow(clippy::unwrap_used)] // a panic is a failed test

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Collects the notifications sent to the socket until `until` is seen or the time runs out.
fn notifications(sock: &UnixDatagram, until: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).trim().to_owned();
            let done = msg == until;
            seen.push(msg);
            if done {
                break;
            }
        }
    }
    seen
}

/// Reads stdout lines on a thread so the test can wait with a timeout.
fn lines(child: &mut Child) -> mpsc::Receiver<Value> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

fn wait_screen(rx: &mpsc::Receiver<Value>, screen: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no `{screen}` view"));
        if v["view"]["screen"] == screen {
            return v;
        }
    }
}

#[test]
fn headless_demo_flow_with_ready_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["demo", "--headless"])
        .env("NOTIFY_SOCKET", &path)
        // 400 ms watchdog: pings at most every 100 ms.
        .env("WATCHDOG_USEC", "400000")
        .env("WATCHDOG_PID", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let views = lines(&mut child);
    let first = wait_screen(&views, "attract");
    assert_eq!(first["view"]["title"], "attract_title");
    let ready = notifications(&sock, "READY=1", Duration::from_secs(10));
    assert_eq!(
        ready.last().map(String::as_str),
        Some("READY=1"),
        "{ready:?}"
    );

    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"action":"start"}}"#).unwrap();
    wait_screen(&views, "identify");
    writeln!(stdin, r#"{{"demo":"show_card_qr"}}"#).unwrap();
    writeln!(stdin, r#"{{"demo":"tap_card"}}"#).unwrap();
    let identity = wait_screen(&views, "identity");
    assert_eq!(identity["view"]["identity"]["masked_id"], "0010******45");
    assert_eq!(identity["view"]["identity"]["badge"], "badge_chip_verified");
    assert!(identity["photo_bytes"].as_u64().unwrap() > 0);
    // The full ID never appears on stdout.
    assert!(!identity.to_string().contains("001099012345"));
    let pings = notifications(&sock, "WATCHDOG=1", Duration::from_secs(10));
    assert_eq!(
        pings.last().map(String::as_str),
        Some("WATCHDOG=1"),
        "{pings:?}"
    );

    // Closing stdin ends the demo: STOPPING=1, exit 0.
    drop(stdin);
    let stopping = notifications(&sock, "STOPPING=1", Duration::from_secs(20));
    assert_eq!(
        stopping.last().map(String::as_str),
        Some("STOPPING=1"),
        "{stopping:?}"
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn kiosk_run_starts_without_devices_or_gateway_and_stops_on_sigterm() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            r#"mode = "clinic"
site_name = "Phòng khám Thử"
kiosk_id = "test-k01"
trust_store = "{}"
gateway_url = "https://127.0.0.1:9"
technician_pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$abc$def"

[devices]
reader = "No Such Reader 00 00"
camera = "/dev/video99"
printer = "tcp://127.0.0.1:9"
"#,
            state.path().join("trust").display()
        ),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--state-dir")
        .arg(state.path())
        .args(["run", "--headless"])
        .env("NOTIFY_SOCKET", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let views = lines(&mut child);
    wait_screen(&views, "attract");
    let ready = notifications(&sock, "READY=1", Duration::from_secs(10));
    assert_eq!(
        ready.last().map(String::as_str),
        Some("READY=1"),
        "{ready:?}"
    );
    // No reader and no camera: the citizen is sent on to the right screen, not a crash.
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"action":"start"}}"#).unwrap();
    let error = wait_screen(&views, "error");
    let title = error["view"]["title"].as_str().unwrap().to_owned();
    assert!(
        title == "error_reader_missing" || title == "error_camera_missing",
        "{title}"
    );
    // stdin closing does not stop the service; SIGTERM does, cleanly.
    drop(stdin);
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "stopped on EOF");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopping = notifications(&sock, "STOPPING=1", Duration::from_secs(20));
    assert_eq!(
        stopping.last().map(String::as_str),
        Some("STOPPING=1"),
        "{stopping:?}"
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn kiosk_run_refuses_a_bad_config_naming_the_key() {
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("kiosk.toml"), "mode = \"hospital\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--state-dir")
        .arg(state.path())
        .args(["run", "--headless"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kiosk.toml") && err.contains("mode"), "{err}");
}
