//! The kiosk's TOML configuration, validated once at start.
//!
//! Unknown keys are errors (a typo must never silently fall back to a default), and every value
//! error names the key and the file. Defaults, when a key is left out:
//!
//! | key | default |
//! |---|---|
//! | `language` | `vi` |
//! | `timeouts.inactivity_seconds` | 60 |
//! | `timeouts.warning_seconds` | 15 (countdown shown before the inactivity timeout) |
//! | `timeouts.session_limit_seconds` | 600 (hard limit of one session) |
//! | `timeouts.ticket_seconds` | 20 (ticket screen before returning to attract) |
//! | `timeouts.error_seconds` | 30 (error screen before returning to attract) |
//! | `timeouts.submit_seconds` | 30 (longest wait for the outbox's answer before the "gateway offline" screen) |
//! | `devices.reader` | `auto` (first PC/SC reader with a card slot) |
//! | `devices.camera` | `/dev/video0` |
//! | `devices.printer` | none (no printing) |
//! | `technician.max_attempts` | 5 (wrong PINs before the lockout) |
//! | `technician.lockout_seconds` | 300 (no PIN accepted for this long after that) |
//! | `technician.idle_seconds` | 120 (technician screens without a touch before attract) |
//!
//! `mode`, `site_name`, `kiosk_id`, `trust_store`, `gateway_url` and `technician_pin_hash` have no
//! default.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::messages::Language;

/// Largest config file accepted (a real one is well under 4 KiB).
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

/// One-stop counter or clinic reception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    OneStop,
    Clinic,
}

/// The validated configuration. `Debug` leaves out the PIN hash (a short PIN falls to an
/// offline guess from its hash).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub mode: Mode,
    /// Shown on the attract screen.
    pub site_name: String,
    /// This kiosk's id (as in its certificate).
    pub kiosk_id: String,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub devices: Devices,
    /// CSCA trust store (a directory or a master list) for passive authentication.
    pub trust_store: PathBuf,
    /// Base URL of the site gateway, `https://host[:port]`.
    pub gateway_url: String,
    /// PHC-format hash of the technician PIN (`$argon2id$…`); never the PIN.
    pub technician_pin_hash: String,
    #[serde(default)]
    pub technician: Technician,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("site_name", &self.site_name)
            .field("kiosk_id", &self.kiosk_id)
            .field("language", &self.language)
            .field("timeouts", &self.timeouts)
            .field("devices", &self.devices)
            .field("trust_store", &self.trust_store)
            .field("gateway_url", &self.gateway_url)
            .field("technician", &self.technician)
            .finish_non_exhaustive()
    }
}

/// Session timeouts, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    pub inactivity_seconds: u32,
    pub warning_seconds: u32,
    pub session_limit_seconds: u32,
    pub ticket_seconds: u32,
    pub error_seconds: u32,
    pub submit_seconds: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            inactivity_seconds: 60,
            warning_seconds: 15,
            session_limit_seconds: 600,
            ticket_seconds: 20,
            error_seconds: 30,
            submit_seconds: 30,
        }
    }
}

/// The technician mode's limits (`[technician]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Technician {
    /// Wrong PINs in a row before the lockout.
    pub max_attempts: u32,
    /// How long no PIN is accepted after `max_attempts` wrong ones.
    pub lockout_seconds: u32,
    /// Technician screens without a touch before the kiosk returns to attract.
    pub idle_seconds: u32,
}

impl Default for Technician {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            lockout_seconds: 300,
            idle_seconds: 120,
        }
    }
}

/// Which devices to use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Devices {
    /// PC/SC reader name, or `auto`.
    pub reader: String,
    /// V4L2 device path.
    pub camera: PathBuf,
    /// `/dev/usb/lpN` or `tcp://host:9100`; absent: no printer.
    pub printer: Option<String>,
}

impl Default for Devices {
    fn default() -> Self {
        Self {
            reader: "auto".into(),
            camera: PathBuf::from("/dev/video0"),
            printer: None,
        }
    }
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| Error::ConfigRead {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(Error::ConfigRead {
                file,
                reason: format!("{} bytes exceeds {MAX_CONFIG_BYTES}", bytes.len()),
            });
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| Error::ConfigSyntax {
            file: file.clone(),
            reason: format!("not UTF-8 after byte {}", e.valid_up_to()),
        })?;
        Self::parse(text, &file)
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(Error::ConfigSyntax {
                file: file.into(),
                reason: format!("{} bytes exceeds {MAX_CONFIG_BYTES}", text.len()),
            });
        }
        let config: Config = toml::from_str(text).map_err(|e| Error::ConfigSyntax {
            file: file.into(),
            // toml's message names the key (and the line) for unknown and mistyped keys.
            reason: e.to_string().trim_end().replace('\n', " "),
        })?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &str) -> Result<()> {
        let bad = |key: &'static str, reason: &str| Error::ConfigValue {
            file: file.into(),
            key,
            reason: reason.into(),
        };
        if self.site_name.trim().is_empty() || self.site_name.chars().count() > 100 {
            return Err(bad("site_name", "must be 1–100 characters"));
        }
        kiosk_api::v1::KioskId::new(self.kiosk_id.clone()).map_err(|_| {
            bad(
                "kiosk_id",
                "must be 1–64 characters of A–Z, a–z, 0–9, '.', '_' or '-'",
            )
        })?;
        let t = &self.timeouts;
        let tech = &self.technician;
        for (key, value, min, max) in [
            ("timeouts.inactivity_seconds", t.inactivity_seconds, 10, 600),
            ("timeouts.warning_seconds", t.warning_seconds, 0, 120),
            (
                "timeouts.session_limit_seconds",
                t.session_limit_seconds,
                60,
                3600,
            ),
            ("timeouts.ticket_seconds", t.ticket_seconds, 5, 300),
            ("timeouts.error_seconds", t.error_seconds, 5, 300),
            ("timeouts.submit_seconds", t.submit_seconds, 5, 300),
            ("technician.max_attempts", tech.max_attempts, 1, 20),
            (
                "technician.lockout_seconds",
                tech.lockout_seconds,
                10,
                86_400,
            ),
            ("technician.idle_seconds", tech.idle_seconds, 15, 3600),
        ] {
            if !(min..=max).contains(&value) {
                return Err(bad(key, &format!("must be between {min} and {max}")));
            }
        }
        if t.warning_seconds >= t.inactivity_seconds {
            return Err(bad(
                "timeouts.warning_seconds",
                "must be shorter than timeouts.inactivity_seconds",
            ));
        }
        if t.session_limit_seconds < t.inactivity_seconds {
            return Err(bad(
                "timeouts.session_limit_seconds",
                "must not be shorter than timeouts.inactivity_seconds",
            ));
        }
        if self.devices.reader.trim().is_empty() {
            return Err(bad("devices.reader", "must be a reader name or `auto`"));
        }
        if self.devices.camera.as_os_str().is_empty() {
            return Err(bad("devices.camera", "must be a device path"));
        }
        if let Some(p) = &self.devices.printer
            && !(p.starts_with("/dev/") || p.starts_with("tcp://"))
        {
            return Err(bad(
                "devices.printer",
                "must be a /dev/… path or tcp://host:port",
            ));
        }
        if self.trust_store.as_os_str().is_empty() {
            return Err(bad("trust_store", "must be a path"));
        }
        let url = self.gateway_url.as_str();
        let host = url.strip_prefix("https://").unwrap_or("");
        if host.is_empty() || host.starts_with('/') || url.chars().any(char::is_whitespace) {
            return Err(bad("gateway_url", "must be https://host[:port]"));
        }
        if !self.technician_pin_hash.starts_with('$') || self.technician_pin_hash.len() < 20 {
            return Err(bad(
                "technician_pin_hash",
                "must be a PHC hash string (e.g. $argon2id$…), never the PIN itself",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../docs/examples/kiosk.toml");

    fn minimal() -> String {
        r#"
mode = "one-stop"
site_name = "UBND phường Thử"
kiosk_id = "ub-01"
trust_store = "/var/lib/kiosk/csca"
gateway_url = "https://gw.example"
technician_pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$abc$def"
"#
        .into()
    }

    #[test]
    fn the_sample_file_loads() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/kiosk.toml");
        let c = Config::load(&path).unwrap();
        assert_eq!(c.mode, Mode::Clinic);
        assert_eq!(c.kiosk_id, "bv-hn01-k02");
        assert_eq!(c.language, Language::Vi);
        assert_eq!(c.devices.printer.as_deref(), Some("/dev/usb/lp0"));
        assert_eq!(c, Config::parse(SAMPLE, "kiosk.toml").unwrap());
        let debug = format!("{c:?}");
        assert!(
            debug.contains("bv-hn01-k02") && !debug.contains("argon2"),
            "{debug}"
        );
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let c = Config::parse(&minimal(), "k.toml").unwrap();
        assert_eq!(c.mode, Mode::OneStop);
        assert_eq!(c.language, Language::Vi);
        assert_eq!(c.timeouts.inactivity_seconds, 60);
        assert_eq!(c.timeouts.warning_seconds, 15);
        assert_eq!(c.timeouts.session_limit_seconds, 600);
        assert_eq!(c.devices.reader, "auto");
        assert_eq!(c.devices.printer, None);
        assert_eq!(
            (
                c.technician.max_attempts,
                c.technician.lockout_seconds,
                c.technician.idle_seconds
            ),
            (5, 300, 120)
        );
    }

    #[test]
    fn the_technician_section_is_read_and_checked() {
        let text = format!(
            "{}\n[technician]\nmax_attempts = 3\nlockout_seconds = 60\nidle_seconds = 45\n",
            minimal()
        );
        let c = Config::parse(&text, "k.toml").unwrap();
        assert_eq!(
            c.technician,
            Technician {
                max_attempts: 3,
                lockout_seconds: 60,
                idle_seconds: 45
            }
        );
        for (line, key) in [
            ("max_attempts = 0", "technician.max_attempts"),
            ("lockout_seconds = 5", "technician.lockout_seconds"),
            ("idle_seconds = 100000", "technician.idle_seconds"),
        ] {
            let text = format!("{}\n[technician]\n{line}\n", minimal());
            let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
            assert!(e.contains(key) && e.contains("k.toml"), "{key}: {e}");
        }
        let text = format!("{}\n[technician]\nattempts = 3\n", minimal());
        let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
        assert!(e.contains("attempts") && e.contains("k.toml"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key_and_the_file() {
        let text = format!("{}\nsite_nmae = \"x\"\n", minimal());
        let e = Config::parse(&text, "/etc/kiosk.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/etc/kiosk.toml") && e.contains("site_nmae"),
            "{e}"
        );
        let text = format!("{}\n[timeouts]\ninactivity = 5\n", minimal());
        let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
        assert!(e.contains("inactivity"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            ("mode = \"one-stop\"", "mode = \"hospital\"", "mode"),
            ("kiosk_id = \"ub-01\"", "kiosk_id = \"ub 01\"", "kiosk_id"),
            (
                "gateway_url = \"https://gw.example\"",
                "gateway_url = \"http://gw.example\"",
                "gateway_url",
            ),
            (
                "technician_pin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$abc$def\"",
                "technician_pin_hash = \"1234\"",
                "technician_pin_hash",
            ),
            (
                "site_name = \"UBND phường Thử\"",
                "site_name = \" \"",
                "site_name",
            ),
        ];
        for (from, to, key) in cases {
            let text = minimal().replace(from, to);
            assert_ne!(text, minimal());
            let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
            assert!(e.contains(key) && e.contains("k.toml"), "{key}: {e}");
        }
        let text = format!("{}\n[timeouts]\ninactivity_seconds = 5\n", minimal());
        let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
        assert!(e.contains("timeouts.inactivity_seconds"), "{e}");
        let text = format!("{}\n[timeouts]\nwarning_seconds = 60\n", minimal());
        let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
        assert!(e.contains("timeouts.warning_seconds"), "{e}");
        let text = format!("{}\n[devices]\nprinter = \"lp0\"\n", minimal());
        let e = Config::parse(&text, "k.toml").unwrap_err().to_string();
        assert!(e.contains("devices.printer"), "{e}");
    }

    #[test]
    fn a_missing_file_names_the_file() {
        let e = Config::load(Path::new("/nonexistent/kiosk.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/kiosk.toml"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = Config::parse(&text, "k.toml");
        }

        #[test]
        fn arbitrary_values_never_panic(n in proptest::num::u32::ANY, s in "[ -~]{0,40}") {
            let text = format!("{}\nlanguage = \"{}\"\n[timeouts]\ninactivity_seconds = {n}\n", minimal(), s.replace(['"', '\\'], ""));
            let _ = Config::parse(&text, "k.toml");
        }
    }
}
