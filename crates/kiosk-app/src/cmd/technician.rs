//! `kiosk technician hash-pin`: turns the technician PIN into the PHC string (Argon2id) that goes
//! into the config's `technician_pin_hash`. The PIN is read from standard input (so it is not in
//! the shell history or the process list), checked against the rules (4–12 digits), wiped after
//! hashing, and never printed.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use zeroize::Zeroizing;

use crate::Global;

/// Longest line read from standard input (a PIN has at most 12 digits; this leaves room for
/// spaces and a line ending and refuses anything that is clearly not a PIN).
const MAX_LINE: u64 = 64;

#[derive(Debug, Subcommand)]
pub enum TechnicianCommand {
    /// Read a PIN (4–12 digits, one line on standard input) and print its hash for
    /// `technician_pin_hash` in kiosk.toml, e.g. `read -rs PIN; echo "$PIN" | kiosk technician
    /// hash-pin`.
    HashPin,
}

pub fn run(global: &Global, command: TechnicianCommand) -> anyhow::Result<()> {
    match command {
        TechnicianCommand::HashPin => {
            let stdin = std::io::stdin();
            let hash = hash_pin_from(stdin.lock())?;
            let mut stdout = std::io::stdout().lock();
            write_hash(&mut stdout, &hash, global.json)
        }
    }
}

/// Reads the first line of `input` as the PIN and hashes it.
fn hash_pin_from(input: impl BufRead) -> anyhow::Result<String> {
    let pin = read_pin(input)?;
    kiosk_core::pin::hash(&pin).context("hashing the PIN")
}

/// The first line, without its line ending and surrounding blanks; the rules checked.
fn read_pin(input: impl BufRead) -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::with_capacity(MAX_LINE as usize + 1));
    let mut limited = input.take(MAX_LINE + 1);
    limited
        .read_line(&mut line)
        .context("reading the PIN from standard input")?;
    if line.len() as u64 > MAX_LINE {
        bail!("the first line of standard input is too long to be a PIN (4 to 12 digits)");
    }
    let pin = Zeroizing::new(line.trim().to_owned());
    if pin.is_empty() {
        bail!("no PIN on standard input (give 4 to 12 digits on one line)");
    }
    kiosk_core::pin::check_format(&pin)?;
    Ok(pin)
}

fn write_hash(out: &mut impl Write, hash: &str, json: bool) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, &json!({ "technician_pin_hash": hash }))?;
        writeln!(out)?;
    } else {
        writeln!(out, "{hash}")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use proptest::prelude::*;

    #[test]
    fn the_hash_verifies_the_pin_that_was_read() {
        let hash = hash_pin_from(&b"13579246\n"[..]).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(kiosk_core::pin::verify(&hash, "13579246"));
        assert!(!kiosk_core::pin::verify(&hash, "13579247"));
        assert_eq!(kiosk_core::pin::check_hash(&hash), Ok(()));
        // It is what the config loader accepts.
        let toml = format!(
            "mode = \"clinic\"\nsite_name = \"S\"\nkiosk_id = \"k1\"\ntrust_store = \"/t\"\n\
             gateway_url = \"https://gw\"\ntechnician_pin_hash = \"{hash}\"\n"
        );
        let config = kiosk_core::Config::parse(&toml, "kiosk.toml").unwrap();
        assert!(kiosk_core::pin::verify(
            &config.technician_pin_hash,
            "13579246"
        ));
    }

    #[test]
    fn line_endings_and_blanks_around_the_pin_are_dropped() {
        for input in [
            "2468\r\n",
            "  2468  \n",
            "2468",
            "2468\nsecond line ignored\n",
        ] {
            let pin = read_pin(input.as_bytes()).unwrap();
            assert_eq!(pin.as_str(), "2468", "{input:?}");
        }
    }

    #[test]
    fn bad_pins_are_refused_with_a_reason_and_without_the_pin() {
        for (input, reason) in [
            ("", "no PIN"),
            ("\n", "no PIN"),
            ("123\n", "4 to 12 digits"),
            ("1234567890123\n", "4 to 12 digits"),
            ("12a45\n", "digits only"),
            ("12 34\n", "digits only"),
        ] {
            let e = format!("{:#}", read_pin(input.as_bytes()).unwrap_err());
            assert!(e.contains(reason), "{input:?}: {e}");
            let digits = input.trim();
            if digits.len() >= 3 {
                assert!(!e.contains(digits), "the PIN leaked: {e}");
            }
        }
        let long = "9".repeat(500);
        let e = format!("{:#}", read_pin(long.as_bytes()).unwrap_err());
        assert!(e.contains("too long"), "{e}");
    }

    #[test]
    fn output_is_the_bare_hash_or_one_json_line() {
        let mut text = Vec::new();
        write_hash(&mut text, "$argon2id$x", false).unwrap();
        assert_eq!(text, b"$argon2id$x\n");
        let mut json = Vec::new();
        write_hash(&mut json, "$argon2id$x", true).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["technician_pin_hash"], "$argon2id$x");
        assert_eq!(json.iter().filter(|b| **b == b'\n').count(), 1);
    }

    #[test]
    fn the_command_line_parses() {
        let cli = crate::Cli::try_parse_from(["kiosk", "technician", "hash-pin"]).unwrap();
        assert!(matches!(
            cli.command,
            crate::Command::Technician(TechnicianCommand::HashPin)
        ));
        let e = crate::Cli::try_parse_from(["kiosk", "technician", "hash-pin", "1234"]);
        assert!(e.is_err(), "the PIN is never an argument");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_pin(&bytes[..]);
        }
    }
}
