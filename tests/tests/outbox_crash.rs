//! Crash safety of the outbox: a child process enqueues continuously and is killed with SIGKILL
//! at random moments, many times over the same store. Afterwards the store must open and pass
//! its full consistency check, and a drain over mTLS to a real in-process gateway must deliver
//! every key the child printed exactly once.
//!
//! `KIOSK_CRASH_ROUNDS` sets the number of kills (default 12 for `make test`; `make bench` runs a
//! long series).

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use kiosk_api::Timeouts;
use kiosk_outbox::{DrainMode, Outbox, WorkerConfig};
use kiosk_tests::outbox_rig::{GatewayRig, delivery};
use rand::Rng;
use uuid::Uuid;

fn rounds() -> usize {
    std::env::var("KIOSK_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

/// Runs the child once, kills it after a random delay, returns the keys it printed.
fn run_and_kill(state: &Path, kiosk: &str, rng: &mut impl Rng) -> (Vec<Uuid>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outbox_crash_child"))
        .arg(state)
        .arg(kiosk)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_enqueue_loses_and_duplicates_nothing() {
    let rig = GatewayRig::start().await.expect("gateway");
    let (kiosk, creds) = rig.enrol().expect("enrol");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");

    let (printed, state) = {
        let kiosk = kiosk.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            let mut rng = rand::rng();
            let mut printed: Vec<Uuid> = Vec::new();
            for round in 0..rounds() {
                let (keys, stderr) = run_and_kill(&state, &kiosk, &mut rng);
                assert!(
                    !stderr.contains("failed"),
                    "round {round}: child failed: {stderr}"
                );
                printed.extend(keys);
            }
            (printed, state)
        })
        .await
        .expect("kill loop")
    };
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

    let deliver = delivery(&rig.url(), &creds, Timeouts::default()).expect("client");
    let report = kiosk_outbox::worker::drain(
        &outbox,
        &deliver,
        &WorkerConfig::default(),
        DrainMode::UntilEmpty {
            deadline: Duration::from_secs(300),
        },
    )
    .await
    .expect("drain");
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_eq!(report.dead, 0, "{:?}", outbox.dead());

    // At the gateway: one stored registration per key (the rig fails on a duplicate row), every
    // printed key among them, and nothing the outbox did not hold.
    let stored = rig.registrations().expect("gateway rows");
    for key in &printed {
        assert!(
            stored.contains_key(key),
            "printed key {key} never reached the gateway"
        );
    }
    assert_eq!(stored.len(), check.pending);
    // Each delivered record left exactly one receipt with the gateway's ticket.
    let receipts = outbox.receipts().expect("receipts");
    assert_eq!(receipts.len(), stored.len());
    for r in &receipts {
        assert_eq!(stored.get(&r.key), Some(&r.ticket));
    }
    outbox.check().expect("store consistent after the drain");
    eprintln!(
        "{} kills, {} printed keys, {} enqueued, {} delivered exactly once",
        rounds(),
        printed.len(),
        check.pending,
        stored.len()
    );
    rig.shutdown().await;
}
