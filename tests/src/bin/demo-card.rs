//! `make demo` (until the kiosk UI lands): reads a virtual citizen's card through real pcscd,
//! exactly as a technician would with `kiosk card read`, then a cloned card, which the kiosk must
//! refuse to call verified.
//!
//! Usage: `demo-card PATH/TO/kiosk`

use std::process::Command;

use anyhow::{Context, Result, bail};
use kiosk_tests::rig::{CardRig, sample_profile};
use kiosk_vcard::{Fault, Faults};

fn main() -> Result<()> {
    let kiosk = std::env::args()
        .nth(1)
        .context("usage: demo-card PATH/TO/kiosk")?;
    let state = tempfile::tempdir()?;

    banner("1/2  A genuine card: Nguyễn Văn An (fictional), read by the last 6 digits of the ID");
    let rig = CardRig::start(&sample_profile("an.toml"), Faults::none())?;
    let id = rig.profile().id.clone();
    let ok = read(&kiosk, &rig, &id, state.path())?;
    drop(rig);
    if !ok {
        bail!("the genuine card did not verify");
    }

    banner("2/2  A cloned chip: the data is copied, the chip's keys are not");
    let rig = CardRig::start(
        &sample_profile("binh.toml"),
        Faults::none().with(Fault::ClonedChip),
    )?;
    let id = rig.profile().id.clone();
    let ok = read(&kiosk, &rig, &id, state.path())?;
    drop(rig);
    if ok {
        bail!("the cloned card was not detected");
    }
    banner("Done: the genuine card is chip-verified, the clone is refused.");
    Ok(())
}

fn banner(text: &str) {
    eprintln!("\n==== {text}\n");
}

/// Runs `kiosk card read` against the rig's reader; true when it exits 0.
fn read(kiosk: &str, rig: &CardRig, id: &str, state: &std::path::Path) -> Result<bool> {
    let cmd = format!(
        "kiosk card read --reader '{}' --id {} --trust {}",
        rig.reader(),
        kiosk_card::cccd::mask_id(id),
        rig.trust_dir().display()
    );
    eprintln!("$ {cmd}\n");
    let status = Command::new(kiosk)
        .arg("--state-dir")
        .arg(state)
        .args([
            "card",
            "read",
            "--reader",
            rig.reader(),
            "--id",
            id,
            "--trust",
        ])
        .arg(rig.trust_dir())
        .status()
        .with_context(|| format!("running {kiosk}"))?;
    Ok(status.success())
}
