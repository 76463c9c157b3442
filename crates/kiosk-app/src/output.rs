//! Result output per CONVENTIONS.md: human text (personal data masked) or, with `--json`, one
//! JSON object per line with full values. Results go to stdout; progress and errors to stderr.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints `value` as one JSON line, or the text `human` produces.
    pub fn line<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut stdout, value)?;
            writeln!(stdout)?;
        } else {
            writeln!(stdout, "{}", human())?;
        }
        stdout.flush()?;
        Ok(())
    }
}
