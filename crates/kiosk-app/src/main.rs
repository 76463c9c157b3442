//! `kiosk`: the appliance binary and the technician's tools.

use clap::Parser;

/// Self-service kiosk for chip ID cards (CCCD / Căn cước).
#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
