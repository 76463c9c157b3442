//! `gateway.toml`: the site, its catalog, limits and adapters. Unknown keys are errors that name
//! the key and the file; values are checked at load.

use std::path::{Path, PathBuf};

use kiosk_api::v1::{Catalog, Department, OpeningHours, Procedure, SiteKind, check_code};
use serde::Deserialize;
use time::UtcOffset;

use crate::error::{Error, Result};

/// File name of the configuration inside the state directory.
pub const FILE: &str = "gateway.toml";

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub site: Site,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub enrolment: Enrolment,
    #[serde(default)]
    pub insurance: InsuranceConfig,
    #[serde(default)]
    pub fhir: Option<FhirConfig>,
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub opening_hours: Vec<OpeningHours>,
}

/// `[site]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: String,
    pub kind: SiteKind,
    pub display_name: String,
    /// The URL kiosks use to reach this gateway (goes into enrolment QRs and site config).
    pub public_url: String,
    /// Offset of the site's local time, which decides the service day of queue numbers.
    #[serde(default = "default_offset")]
    pub utc_offset: String,
    /// Average minutes per person, for the estimated wait printed on tickets.
    #[serde(default = "default_minutes_per_ticket")]
    pub minutes_per_ticket: u32,
}

/// `[limits]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted (bytes).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Seconds a client has to finish sending its request headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Seconds for the TLS handshake.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Open connections at most; more are closed at once (clients retry later).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: default_max_body(),
            header_timeout_secs: default_header_timeout(),
            handshake_timeout_secs: default_handshake_timeout(),
            max_connections: default_max_connections(),
        }
    }
}

/// `[enrolment]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// Lifetime of a kiosk certificate, days; kiosks renew before expiry.
    #[serde(default = "default_cert_days")]
    pub certificate_days: u32,
    /// Lifetime of an enrolment token, minutes.
    #[serde(default = "default_token_minutes")]
    pub token_minutes: u32,
}

impl Default for Enrolment {
    fn default() -> Self {
        Enrolment {
            certificate_days: default_cert_days(),
            token_minutes: default_token_minutes(),
        }
    }
}

/// `[insurance]`: which adapter answers insurance checks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(tag = "adapter", rename_all = "snake_case", deny_unknown_fields)]
pub enum InsuranceConfig {
    /// Answers from the `insurance_cards` table (demo and tests).
    #[default]
    Table,
    /// Forwards to the hospital's insurance service over HTTPS.
    Http {
        url: String,
        #[serde(default = "default_upstream_timeout")]
        timeout_secs: u64,
        /// PEM file of the CA that signs the service's certificate.
        ca_file: Option<PathBuf>,
    },
}

/// `[fhir]`: where clinic visits are forwarded, when set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FhirConfig {
    /// Base URL of the FHIR R4 server (the Bundle is POSTed to it).
    pub endpoint: String,
    #[serde(default = "default_upstream_timeout")]
    pub timeout_secs: u64,
    /// Identifier system for the kiosk submission ids on Encounters.
    #[serde(default = "default_submission_system")]
    pub submission_system: String,
    /// Organization reference of the hospital, e.g. `Organization/bv-01`.
    pub organization: Option<String>,
    /// PEM file of the CA that signs the FHIR server's certificate (needed for https).
    pub ca_file: Option<PathBuf>,
}

fn default_offset() -> String {
    "+07:00".into()
}
fn default_minutes_per_ticket() -> u32 {
    5
}
fn default_max_body() -> usize {
    256 * 1024
}
fn default_header_timeout() -> u64 {
    10
}
fn default_handshake_timeout() -> u64 {
    10
}
fn default_max_connections() -> usize {
    1024
}
fn default_cert_days() -> u32 {
    30
}
fn default_token_minutes() -> u32 {
    30
}
fn default_upstream_timeout() -> u64 {
    5
}
fn default_submission_system() -> String {
    "urn:kiosk:submission-id".into()
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let err = |message: String| Error::Config {
            file: file.to_string(),
            message,
        };
        let config: Config = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        config.check().map_err(err)?;
        Ok(config)
    }

    fn check(&self) -> std::result::Result<(), String> {
        check_code("site.id", &self.site.id).map_err(|e| e.to_string())?;
        // The enrolment QR (kiosk-qr) accepts lower-case site ids only.
        if self.site.id.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err("site.id: must be lower-case".into());
        }
        self.utc_offset()?;
        if !self.site.public_url.starts_with("https://") {
            return Err("site.public_url: must start with https://".into());
        }
        if self.limits.max_connections == 0 || self.limits.max_connections > 65_536 {
            return Err("limits.max_connections: must be between 1 and 65536".into());
        }
        if self.limits.max_body_bytes < 1024 || self.limits.max_body_bytes > 16 * 1024 * 1024 {
            return Err("limits.max_body_bytes: must be between 1 KiB and 16 MiB".into());
        }
        for (i, p) in self.procedures.iter().enumerate() {
            check_code("procedures.code", &p.code).map_err(|e| format!("procedures[{i}]: {e}"))?;
        }
        for (i, d) in self.departments.iter().enumerate() {
            check_code("departments.code", &d.code)
                .map_err(|e| format!("departments[{i}]: {e}"))?;
        }
        for (i, h) in self.opening_hours.iter().enumerate() {
            let ok = (1..=7).contains(&h.weekday) && is_hhmm(&h.opens) && is_hhmm(&h.closes);
            if !ok {
                return Err(format!(
                    "opening_hours[{i}]: weekday must be 1–7 and times HH:MM"
                ));
            }
        }
        if let Some(f) = &self.fhir
            && !(f.endpoint.starts_with("https://") || f.endpoint.starts_with("http://"))
        {
            return Err("fhir.endpoint: must be an http(s) URL".into());
        }
        Ok(())
    }

    /// The site's UTC offset.
    pub fn utc_offset(&self) -> std::result::Result<UtcOffset, String> {
        let fmt = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
        UtcOffset::parse(&self.site.utc_offset, fmt)
            .map_err(|_| format!("site.utc_offset: `{}` is not ±HH:MM", self.site.utc_offset))
    }

    /// The catalog kiosks download.
    pub fn catalog(&self) -> Catalog {
        Catalog {
            site_id: self.site.id.clone(),
            site_kind: self.site.kind,
            procedures: self.procedures.clone(),
            departments: self.departments.clone(),
            opening_hours: self.opening_hours.clone(),
        }
    }

    /// Counter or room for a queue code, if the catalog knows it.
    pub fn place_of(&self, queue: &str) -> Option<String> {
        match self.site.kind {
            SiteKind::Clinic => self
                .departments
                .iter()
                .find(|d| d.code == queue)
                .map(|d| d.room.clone()),
            SiteKind::OneStop => self
                .procedures
                .iter()
                .find(|p| p.code == queue)
                .map(|p| p.counter.clone()),
        }
    }

    /// A starting configuration written by `init`, with a small sample catalog.
    pub fn sample(site_id: &str, kind: SiteKind, public_url: &str) -> String {
        let catalog = match kind {
            SiteKind::Clinic => {
                r#"[[departments]]
code = "NOI"
name_vi = "Khoa Nội"
name_en = "Internal medicine"
room = "P101"

[[departments]]
code = "NHI"
name_vi = "Khoa Nhi"
name_en = "Paediatrics"
room = "P205"
"#
            }
            SiteKind::OneStop => {
                r#"[[procedures]]
code = "1.001"
name_vi = "Đăng ký thường trú"
name_en = "Permanent residence registration"
counter = "Q01"
questions = [{ id = "new_address", label_vi = "Địa chỉ mới", label_en = "New address" }]

[[procedures]]
code = "2.002"
name_vi = "Chứng thực bản sao"
name_en = "Certified copy"
counter = "Q02"
"#
            }
        };
        format!(
            r#"[site]
id = "{site_id}"
kind = "{kind}"
display_name = "{site_id}"
public_url = "{public_url}"
utc_offset = "+07:00"
minutes_per_ticket = 5

[limits]
max_body_bytes = 262144

[enrolment]
certificate_days = 30
token_minutes = 30

[insurance]
adapter = "table"

# [fhir]
# endpoint = "https://his.example/fhir"

[[opening_hours]]
weekday = 1
opens = "07:30"
closes = "17:00"

{catalog}"#
        )
    }
}

fn is_hhmm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && s[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && s[3..].parse::<u8>().is_ok_and(|m| m < 60)
        && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_configs_load() {
        for kind in [SiteKind::Clinic, SiteKind::OneStop] {
            let text = Config::sample("site-1", kind, "https://127.0.0.1:8443");
            let config = Config::parse(&text, "gateway.toml").unwrap();
            assert_eq!(config.site.kind, kind);
            assert_eq!(
                config.utc_offset().unwrap(),
                UtcOffset::from_hms(7, 0, 0).unwrap()
            );
        }
    }

    #[test]
    fn unknown_key_is_named_with_the_file() {
        let text = Config::sample("s", SiteKind::Clinic, "https://x").replace(
            "minutes_per_ticket = 5",
            "minutes_per_ticket = 5\ncolour = \"red\"",
        );
        let err = Config::parse(&text, "/etc/gw.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
        assert!(err.contains("/etc/gw.toml"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let text = Config::sample("s", SiteKind::Clinic, "https://x").replace("+07:00", "seven");
        let err = Config::parse(&text, "g.toml").unwrap_err().to_string();
        assert!(err.contains("site.utc_offset"), "{err}");
        let text = Config::sample("s", SiteKind::Clinic, "https://x").replace("17:00", "25:00");
        let err = Config::parse(&text, "g.toml").unwrap_err().to_string();
        assert!(err.contains("opening_hours[0]"), "{err}");
        let text = Config::sample("Site-A", SiteKind::Clinic, "https://x");
        let err = Config::parse(&text, "g.toml").unwrap_err().to_string();
        assert!(err.contains("site.id: must be lower-case"), "{err}");
    }

    #[test]
    fn hhmm_checks() {
        assert!(is_hhmm("07:30"));
        assert!(!is_hhmm("7:30"));
        assert!(!is_hhmm("24:00"));
        assert!(!is_hhmm("+1:30"));
    }
}
