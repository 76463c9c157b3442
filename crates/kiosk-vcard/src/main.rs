//! `kiosk-vcard`: runs a virtual CCCD chip personalised from a (fictional) citizen profile and
//! attaches it to pcscd through vpcd. Exit codes: 0 stopped cleanly, 1 failure, 2 usage error.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use clap::Parser;
use kiosk_vcard::fault::{Fault, Faults};
use kiosk_vcard::personalise::AaAlgorithm;
use kiosk_vcard::profile::mask_id;
use kiosk_vcard::vpcd::{self, Event, VpcdOptions};
use kiosk_vcard::{Options, Profile, personalise};

#[derive(Parser, Debug)]
#[command(
    name = "kiosk-vcard",
    version,
    about = "A virtual CCCD chip for tests and the demo"
)]
struct Cli {
    /// Citizen profile (TOML or JSON), e.g. crates/kiosk-vcard/profiles/an.toml.
    #[arg(long, value_name = "FILE")]
    profile: PathBuf,
    /// vpcd's address (the first virtual reader listens on 35963).
    #[arg(long, value_name = "HOST:PORT", default_value = vpcd::DEFAULT_ADDR)]
    vpcd: String,
    /// Inject a fault (repeatable): removed-mid-read, wrong-password, corrupt-dg, cloned-chip,
    /// no-extended-length, slow.
    #[arg(long, value_name = "NAME")]
    fault: Vec<String>,
    /// Write the test CSCA (and DS) certificate as PEM into DIR, then serve.
    #[arg(long, value_name = "DIR")]
    write_trust: Option<PathBuf>,
    /// Active Authentication key: ecdsa (brainpoolP256r1, default), rsa1024 or rsa2048.
    #[arg(long, value_name = "ALG", default_value = "ecdsa")]
    aa: String,
    /// Seed of every key: the same seed gives the same CSCA, DS and chip keys.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Personalise, write the trust files, and exit without attaching.
    #[arg(long)]
    no_attach: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk-vcard: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut faults = Faults::none();
    for name in &cli.fault {
        faults = faults.with(Fault::parse(name)?);
    }
    let profile = Profile::load(&cli.profile)?;
    let personalised = personalise(
        &profile,
        &Options {
            seed: cli.seed,
            faults: faults.clone(),
            aa: AaAlgorithm::parse(&cli.aa)?,
        },
    )?;
    if let Some(dir) = &cli.write_trust {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, pem) in [
            ("csca.pem", personalised.pki.csca_pem()?),
            ("ds.pem", personalised.pki.ds_pem()?),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, pem)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        eprintln!(
            "kiosk-vcard: wrote the test CSCA to {}",
            dir.join("csca.pem").display()
        );
    }
    let fault_names: Vec<&str> = faults.iter().map(Fault::name).collect();
    eprintln!(
        "kiosk-vcard: personalised for {} (seed {}, faults: {})",
        mask_id(&profile.id),
        cli.seed,
        if fault_names.is_empty() {
            "none".to_owned()
        } else {
            fault_names.join(", ")
        }
    );
    if cli.no_attach {
        return Ok(());
    }

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
    }
    let opts = VpcdOptions {
        addr: cli.vpcd.clone(),
        ..VpcdOptions::default()
    };
    let mut chip = personalised.chip;
    let addr = cli.vpcd.clone();
    let exit = vpcd::run(&mut chip, &opts, &stop, |event| match event {
        Event::Waiting => eprintln!("kiosk-vcard: waiting for vpcd at {addr}"),
        Event::Attached => eprintln!("kiosk-vcard: attached to vpcd at {addr}"),
        Event::Detached => eprintln!("kiosk-vcard: detached from vpcd"),
    })?;
    eprintln!(
        "kiosk-vcard: stopped ({exit:?}) after {} APDUs",
        chip.apdu_count()
    );
    Ok(())
}
