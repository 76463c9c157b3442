//! Dispatch from the parsed command line to each noun's module.

use crate::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {}
}
