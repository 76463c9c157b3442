//! Dispatch from the parsed command line to each noun's module.

pub mod card;
pub mod card_read;
pub mod demo;
pub mod enrol;
pub mod outbox;
pub mod qr;
pub mod run;
pub mod technician;

use crate::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Card(c) => card::run(&cli.global, c),
        Command::Qr(args) => qr::run(args, &cli.global),
        Command::Outbox(args) => outbox::run(&cli.global, args),
        Command::Enrol(args) => enrol::run(&cli.global, args),
        Command::Technician(c) => technician::run(&cli.global, c),
        Command::Run(args) => run::run(&cli.global, args),
        Command::Demo(args) => demo::run(&cli.global, args),
    }
}
