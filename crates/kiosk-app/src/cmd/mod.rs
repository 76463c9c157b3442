//! Dispatch from the parsed command line to each noun's module.

pub mod card;

use crate::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Card(c) => card::run(&cli.global, c),
    }
}
