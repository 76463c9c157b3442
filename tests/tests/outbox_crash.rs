//! Crash safety of the outbox: a child process enqueues continuously and is killed with SIGKILL
//! at random moments, many times over the same store. Afterwards the store must open and pass
//! its full consistency check, and a drain must deliver every key the child printed exactly once.
//!
//! `KIOSK_CRASH_ROUNDS` sets the number of kills (default 12 for `make test`; `make bench` runs a
//! long series).

use std::collections::HashSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use kiosk_outbox::{DrainMode, Outbox, WorkerConfig};
use kiosk_tests::outbox_rig::RecordingGateway;
use rand::Rng;
use uuid::Uuid;

fn rounds() -> usize {
    std::env::var("KIOSK_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

/// Runs the child once, kills it after a random delay, returns the keys it printed.
fn run_and_kill(state: &std::path::Path, rng: &mut impl Rng) -> (Vec<Uuid>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outbox_crash_child"))
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crash child");
    std::thread::sleep(Duration::from_millis(rng.random_range(20..400)));
    // std's kill() is SIGKILL on Unix: no destructor, no flush, no chance to tidy up.
    child.kill().expect("SIGKILL");
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    child.wait().expect("reap");
    // Only complete lines count: a key cut off mid-line was never fully printed.
    let complete = match stdout.rfind('\n') {
        Some(i) => &stdout[..=i],
        None => "",
    };
    let keys = complete
        .lines()
        .map(|l| l.parse().expect("child prints UUIDs"))
        .collect();
    (keys, stderr)
}

#[test]
fn sigkill_during_enqueue_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let mut rng = rand::rng();
    let mut printed: Vec<Uuid> = Vec::new();
    for round in 0..rounds() {
        let (keys, stderr) = run_and_kill(&state, &mut rng);
        assert!(
            !stderr.contains("error"),
            "round {round}: child failed: {stderr}"
        );
        printed.extend(keys);
    }
    assert!(
        printed.len() > rounds(),
        "the child printed only {} keys over {} rounds: the test proves nothing",
        printed.len(),
        rounds()
    );
    let unique: HashSet<Uuid> = printed.iter().copied().collect();
    assert_eq!(unique.len(), printed.len(), "a key was printed twice");

    let outbox = Outbox::open(&state).expect("store opens after the kills");
    let check = outbox.check().expect("store is consistent after the kills");
    assert!(check.pending >= printed.len());

    let gateway = RecordingGateway::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let report = rt
        .block_on(kiosk_outbox::worker::drain(
            &outbox,
            &gateway,
            &WorkerConfig::default(),
            DrainMode::UntilEmpty {
                deadline: Duration::from_secs(120),
            },
        ))
        .expect("drain");
    assert_eq!(report.remaining, 0);
    let counts = gateway.counts();
    for key in &printed {
        assert_eq!(
            counts.get(key),
            Some(&1),
            "key {key} not delivered exactly once"
        );
    }
    // Keys enqueued but killed before printing are delivered too, also exactly once.
    assert!(counts.values().all(|&n| n == 1));
    assert_eq!(counts.len(), check.pending);
    eprintln!(
        "{} kills, {} printed keys, {} delivered",
        rounds(),
        printed.len(),
        counts.len()
    );
}
