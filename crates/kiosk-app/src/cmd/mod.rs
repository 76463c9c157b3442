//! Dispatch from the parsed command line to each noun's module.

pub mod outbox;

use crate::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Outbox(args) => outbox::run(&cli.global, args),
    }
}
