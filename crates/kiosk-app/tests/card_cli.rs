//! `kiosk card …` end to end through real pcscd + vsmartcard-vpcd + the virtual chip (the card
//! rig). Needs the Debian packages pcscd and vsmartcard-vpcd (deploy/dev-setup.sh); rig tests
//! queue on a machine-wide lock, since only one pcscd can run.

#![allow(clippy::unwrap_used)] // a panic is a failed test

use std::process::{Command, Output};

use kiosk_tests::rig::{CardRig, sample_profile};
use kiosk_vcard::{Fault, Faults};
use serde_json::Value;

fn kiosk(rig: &CardRig, args: &[&str]) -> Output {
    let state = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--state-dir")
        .arg(state.path())
        .args(args)
        .args(["--reader", rig.reader()])
        .output()
        .unwrap()
}

fn read_args<'a>(rig: &'a CardRig, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["card".into(), "read".into(), "--trust".into()];
    v.push(rig.trust_dir().display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run(rig: &CardRig, extra: &[&str]) -> Output {
    let args = read_args(rig, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    kiosk(rig, &refs)
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let line = text.lines().next().unwrap_or_else(|| {
        panic!(
            "no output; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(line).unwrap()
}

fn assert_verified(v: &Value) {
    for check in [
        "sod_hashes",
        "sod_signature",
        "ds_certificate_chain",
        "chip_authentication",
        "active_authentication",
    ] {
        assert_eq!(
            v["verification"][check]["status"], "passed",
            "{check}: {}",
            v["verification"][check]
        );
    }
    assert_eq!(v["assurance"], "chip-verified");
}

#[test]
fn read_by_id_and_by_mrz_through_pcscd() {
    let rig = CardRig::start(&sample_profile("an.toml"), Faults::none()).unwrap();
    let p = rig.profile();

    let out = run(&rig, &["--id", &p.id, "--json"]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_verified(&v);
    assert_eq!(v["citizen"]["id_number"], p.id.as_str());
    assert_eq!(v["citizen"]["full_name"], p.full_name.as_str());
    assert!(
        v["protocol"].as_str().unwrap().starts_with("PACE"),
        "{}",
        v["protocol"]
    );
    assert!(v["photo"]["bytes"].as_u64().unwrap() > 1000);

    let mrz = format!(
        "{},{},{}",
        p.doc_no9(),
        p.date_of_birth.yymmdd(),
        p.mrz_expiry()
    );
    let out = run(&rig, &["--mrz", &mrz, "--json"]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_verified(&json(&out));

    // For people: the ID is masked, the name is there.
    let out = run(&rig, &["--can", &p.can()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains(&p.id),
        "the full ID must not be printed: {text}"
    );
    assert!(text.contains(&kiosk_card::cccd::mask_id(&p.id)), "{text}");
    assert!(text.contains(&p.full_name), "{text}");
    assert!(text.contains("chip-verified"), "{text}");
}

#[test]
fn readers_and_watch_see_the_card() {
    let rig = CardRig::start(&sample_profile("binh.toml"), Faults::none()).unwrap();
    let out = kiosk_plain(&["card", "readers", "--json"]);
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let readers: Vec<Value> = line
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let vpcd = readers
        .iter()
        .find(|r| r["reader"] == rig.reader())
        .expect("the vpcd reader is listed");
    assert_eq!(vpcd["card_present"], true);

    let out = kiosk_plain(&["card", "watch", "--json", "--timeout", "3"]);
    assert!(out.status.success());
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "card_inserted" && e["reader"] == rig.reader()),
        "{events:?}"
    );
}

fn kiosk_plain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(args)
        .output()
        .unwrap()
}

/// Reads a card with `fault` through the rig; the rig is gone when this returns.
fn faulty(fault: Fault) -> Output {
    let rig = CardRig::start(&sample_profile("an.toml"), Faults::none().with(fault)).unwrap();
    let id = rig.profile().id.clone();
    run(&rig, &["--id", &id, "--json"])
}

#[test]
fn each_fault_has_its_own_outcome() {
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let out = faulty(Fault::WrongPassword);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rejected the access key"),
        "{}",
        stderr(&out)
    );

    let out = faulty(Fault::CorruptDg);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["verification"]["sod_hashes"]["status"], "failed");
    assert!(
        stderr(&out).contains("verification failed"),
        "{}",
        stderr(&out)
    );

    let out = faulty(Fault::ClonedChip);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["verification"]["chip_authentication"]["status"], "failed");
    assert_eq!(
        v["verification"]["active_authentication"]["status"],
        "failed"
    );

    let out = faulty(Fault::RemovedMidRead { after_apdus: 2 });
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("card removed"), "{}", stderr(&out));

    let out = faulty(Fault::NoExtendedLength);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_verified(&json(&out));

    let out = faulty(Fault::Slow {
        per_apdu: std::time::Duration::from_millis(20),
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_verified(&json(&out));
}
