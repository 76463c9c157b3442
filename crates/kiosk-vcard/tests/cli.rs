//! The `kiosk-vcard` binary: trust output, exit codes and messages (without attaching to vpcd).

// Helpers outside #[test] functions unwrap as well: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::process::Command;

mod common;

fn vcard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiosk-vcard"))
}

#[test]
fn write_trust_writes_a_csca_pem_that_parses_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &std::path::Path| {
        let o = vcard()
            .arg("--profile")
            .arg(common::profile_path("khanh.toml"))
            .arg("--write-trust")
            .arg(out)
            .args(["--seed", "9", "--no-attach"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        // The ID is masked in progress messages.
        assert!(
            stderr.contains("0920******11") && !stderr.contains("092078009911"),
            "{stderr}"
        );
        std::fs::read_to_string(out.join("csca.pem")).unwrap()
    };
    let key = |pem: &str| {
        let certs = x509_cert::Certificate::load_pem_chain(pem.as_bytes()).unwrap();
        assert_eq!(certs.len(), 1);
        certs[0].tbs_certificate().subject_public_key_info().clone()
    };
    let pem = run(dir.path());
    // The same seed gives the same CSCA key (the signature bytes may differ).
    let again = tempfile::tempdir().unwrap();
    assert_eq!(key(&run(again.path())), key(&pem));
    assert!(dir.path().join("ds.pem").exists());
}

#[test]
fn exit_codes_follow_the_conventions() {
    // Usage error: 2.
    let o = vcard().output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // Unknown fault: 1, and the message lists the known ones.
    let o = vcard()
        .arg("--profile")
        .arg(common::profile_path("an.toml"))
        .args(["--fault", "melted", "--no-attach"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cloned-chip"));
    // Invalid profile: 1, and the message names the key.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(common::profile_path("lan.toml"))
        .unwrap()
        .replace("08/03/1985", "08/03/1986");
    std::fs::write(&bad, text).unwrap();
    let o = vcard()
        .arg("--profile")
        .arg(&bad)
        .arg("--no-attach")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("`id`") && stderr.contains("date_of_birth"),
        "{stderr}"
    );
}

#[test]
fn every_sample_profile_loads_and_personalises() {
    for name in [
        "an.toml",
        "lan.toml",
        "binh.toml",
        "thao.json",
        "khanh.toml",
    ] {
        let p = common::load(name);
        let chip = kiosk_vcard::personalise(&p, &kiosk_vcard::Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .chip;
        assert!(
            chip.files().get(kiosk_vcard::fs::Ef::Sod).is_some(),
            "{name}"
        );
        // The sample's MRZ expiry is one the reader tries from the ID, DOB and issue date alone
        // (the renewal ages of the law), so BAC by ID works on every sample.
        let date = |d: kiosk_vcard::profile::Date| {
            kiosk_card::cccd::Date::new(d.year, d.month, d.day).unwrap()
        };
        let candidates =
            kiosk_card::cccd::expiry_candidates(date(p.date_of_birth), date(p.issue_date));
        assert!(
            candidates.contains(&p.mrz_expiry()),
            "{name}: {} not in {candidates:?}",
            p.mrz_expiry()
        );
    }
}

/// Attached to a local listener playing vpcd, the binary answers the ATR request and exits 0
/// on SIGTERM (sent with `kill` from procps).
#[test]
fn attaches_to_vpcd_and_exits_cleanly_on_sigterm() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut child = vcard()
        .arg("--profile")
        .arg(common::profile_path("thao.json"))
        .args(["--vpcd", &addr])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    s.write_all(&[0x00, 0x01, 0x04]).unwrap();
    let mut frame = [0u8; 7];
    s.read_exact(&mut frame).unwrap();
    assert_eq!(frame, [0x00, 0x05, 0x3B, 0x80, 0x80, 0x01, 0x01]);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("attached to vpcd") && stderr.contains("stopped"),
        "{stderr}"
    );
}
