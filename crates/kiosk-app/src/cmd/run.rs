//! `kiosk run`: the appliance. Loads the configuration, opens the state, starts the runtime
//! with the real devices (PC/SC reader, camera, printer, the enrolled gateway, the outbox).
//! The screen is the Slint window, full screen (under `cage` on the appliance); `--headless`
//! shows views as JSON lines on stdout and reads touches as JSON lines on stdin instead.

use std::sync::Arc;

use anyhow::{Context, bail};
use kiosk_card::pa::trust::TrustStore;
use kiosk_core::{Config, Settings};

use crate::Global;
use crate::runtime::card::CardSetup;
use crate::runtime::display::JsonLinesDisplay;
use crate::runtime::gateway::Gateway;
use crate::runtime::headless::{self, Input};
use crate::runtime::printer::PrinterTarget;
use crate::runtime::{Runtime, Setup, Timing, Watchdog};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// No window: views as JSON lines on stdout, touches as JSON lines on stdin.
    #[arg(long)]
    pub headless: bool,
}

/// The configuration file: `--config`, else `kiosk.toml` in the state directory.
pub fn config_path(global: &Global) -> std::path::PathBuf {
    global
        .config
        .clone()
        .unwrap_or_else(|| global.state_dir.join("kiosk.toml"))
}

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<()> {
    if !args.headless {
        crate::window::check_display()?;
    } else if crate::runtime::display::stdout_is_journal() {
        // The JSON lines are the screen: names, dates of birth and addresses. Under systemd
        // stdout is the journal, and personal data never goes to logs.
        bail!(
            "--headless writes what the screen shows (names, addresses) to stdout, and stdout is \
             the journal here: run the window (without --headless) as a service"
        );
    }
    let config = Config::load(&config_path(global))?;
    let settings = Settings::from_config(&config)?;
    let trust = load_trust(&config)?;
    let outbox = Arc::new(crate::cmd::outbox::open(&global.state_dir)?);
    let printer = PrinterTarget::from_config(config.devices.printer.as_deref())?;
    let watchdog = Watchdog::from_env();
    let gateway = Arc::new(Gateway::from_state_dir(&global.state_dir));
    match gateway.status().url {
        // The enrolment decides where registrations go; a different config value is a mistake
        // the technician should see.
        Some(url) if url.trim_end_matches('/') != config.gateway_url.trim_end_matches('/') => {
            eprintln!(
                "warning: gateway_url {} differs from the enrolment's {url}; the enrolment's is used",
                config.gateway_url
            );
        }
        Some(_) => {}
        None => eprintln!("warning: this kiosk is not enrolled: registrations wait in the outbox"),
    }
    let setup = Setup {
        settings,
        state_dir: global.state_dir.clone(),
        card: CardSetup::Pcsc {
            reader: config.devices.reader.clone(),
        },
        camera: crate::runtime::camera::configured_source(&config.devices.camera),
        printer,
        trust,
        outbox,
        gateway,
        timing: Timing::default(),
        watchdog: watchdog.clone(),
        // Headless: the core thread's ticks are the sign of life; with a window, the UI loop's.
        ping_on_tick: args.headless,
        tap: None,
    };
    if !args.headless {
        let window = crate::window::Window::new(false)?;
        let runtime = Runtime::start(setup, Box::new(window.display()))?;
        let result = window.run(runtime.handle(), watchdog, None, runtime.camera(), true);
        eprintln!("kiosk: stopping (window closed)");
        runtime.stop();
        return result;
    }
    let display = JsonLinesDisplay::new(std::io::stdout());
    let runtime = Runtime::start(setup, Box::new(display))?;
    let handle = runtime.handle();
    // Under systemd stdin is /dev/null: only a signal stops the kiosk.
    let ended = headless::serve(false, move |input| match input {
        Input::Touch(a) => {
            handle.touch(a);
        }
        Input::Demo(_) => eprintln!("input: demo commands work only in `kiosk demo`"),
    })?;
    eprintln!("kiosk: stopping ({ended:?})");
    runtime.stop();
    Ok(())
}

/// The CSCA trust store named in the config. A missing or empty one still runs the kiosk (every
/// chip is then "not verified", and says why), with a warning.
fn load_trust(config: &Config) -> anyhow::Result<TrustStore> {
    let loaded: anyhow::Result<TrustStore> = match TrustStore::load(&config.trust_store) {
        Ok(store) => {
            for s in store.skipped() {
                eprintln!("warning: trust store: skipped {}: {}", s.source, s.reason);
            }
            if store.is_empty() {
                eprintln!(
                    "warning: trust store {} holds no CSCA: chips cannot be verified",
                    config.trust_store.display()
                );
            }
            Ok(store)
        }
        Err(e) => {
            eprintln!(
                "warning: trust store {}: {e}; chips cannot be verified",
                config.trust_store.display()
            );
            Ok(TrustStore::new())
        }
    };
    loaded.context("trust store")
}
