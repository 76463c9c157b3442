//! `kiosk`: the appliance binary and the technician's tools (`kiosk card …`, `kiosk qr …`,
//! `kiosk outbox …`, `kiosk enrol`). Each noun's subcommands live in `cmd/<noun>.rs`.

mod cmd;
mod output;
mod runtime;
mod window;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Self-service kiosk for chip ID cards (CCCD / Căn cước).
#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands (CONVENTIONS.md).
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Where the kiosk keeps config, keys, certificates and the outbox.
    #[arg(
        long,
        global = true,
        env = "KIOSK_STATE_DIR",
        default_value = "/var/lib/kiosk"
    )]
    pub state_dir: PathBuf,
    /// Configuration file (default: `kiosk.toml` inside the state directory).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// One JSON object per line with full values, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // Each noun adds one variant here and one module in cmd/.
    /// The chip ID card reader: list readers, watch events, read and verify a card.
    #[command(subcommand)]
    Card(cmd::card::CardCommand),
    /// QR codes: decode image files, watch the camera, benchmark the engines.
    Qr(cmd::qr::QrArgs),
    /// The durable outbox of registrations: status, lists, retry, purge, enqueue, drain.
    Outbox(cmd::outbox::OutboxArgs),
    /// Provision this kiosk with its site gateway (token + CSR → client certificate).
    Enrol(cmd::enrol::EnrolArgs),
    /// Technician tools: the PIN hash for the config.
    #[command(subcommand)]
    Technician(cmd::technician::TechnicianCommand),
    /// Run the kiosk (the appliance): devices, session, outbox, screen.
    Run(cmd::run::RunArgs),
    /// The kiosk on an in-process world: gateway, virtual card, sample QR codes.
    Demo(cmd::demo::DemoArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cmd::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
