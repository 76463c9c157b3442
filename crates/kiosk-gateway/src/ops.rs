//! Operator actions shared by the CLI, the tests and the demo: initialise a state directory,
//! create enrolment tokens, issue or revoke kiosk credentials, list what is stored.

use std::path::Path;

use kiosk_api::v1::{EnrolmentQr, InsuranceCheckResponse, Registration, SiteKind};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::pki;
use crate::seal::Sealer;
use crate::store::{self, KioskRecord, SqliteStore, Store, TokenRecord};

/// What `init` needs.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub site_id: String,
    pub kind: SiteKind,
    /// The URL kiosks will use, e.g. `https://gateway.local:8443`.
    pub public_url: String,
    /// Host names and IP addresses the server certificate is valid for.
    pub server_names: Vec<String>,
}

/// Creates a state directory: CA, server certificate, data key, a sample `gateway.toml` and the
/// database. Refuses to run twice on the same directory.
pub fn init(dir: &Path, options: &InitOptions) -> Result<()> {
    kiosk_api::v1::check_code("site id", &options.site_id)?;
    if options.site_id.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Error::Config {
            file: config::FILE.into(),
            message: "site.id: must be lower-case (the enrolment QR requires it)".into(),
        });
    }
    pki::init(dir, &options.site_id, &options.server_names)?;
    Sealer::create_key(dir)?;
    let config_path = dir.join(config::FILE);
    if !config_path.exists() {
        let text = Config::sample(&options.site_id, options.kind, &options.public_url);
        std::fs::write(&config_path, text).map_err(|e| Error::io_path("write", &config_path, e))?;
    }
    SqliteStore::open(&dir.join(store::DB_FILE))?;
    Ok(())
}

/// Opens the store of a state directory.
pub fn open_store(dir: &Path) -> Result<SqliteStore> {
    let path = dir.join(store::DB_FILE);
    if !path.exists() {
        return Err(Error::Store(format!(
            "{} not found; run `kiosk-gateway init` first",
            path.display()
        )));
    }
    SqliteStore::open(&path)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh kiosk id for a site: `SITE-` and 8 random hex digits.
pub fn new_kiosk_id(site_id: &str) -> String {
    let suffix: [u8; 4] = rand::random();
    format!("{site_id}-{}", hex::encode(suffix))
}

/// A new single-use token and the QR payload that carries it.
#[derive(Debug)]
pub struct NewToken {
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub qr: EnrolmentQr,
}

/// Creates a single-use enrolment token for `site` (which must be this gateway's site, of kind
/// `kind` when given). Only its hash is stored.
pub fn create_token(dir: &Path, site: Option<&str>, kind: Option<SiteKind>) -> Result<NewToken> {
    let config = Config::load(&dir.join(config::FILE))?;
    if let Some(site) = site
        && site != config.site.id
    {
        return Err(Error::Config {
            file: config::FILE.into(),
            message: format!("this gateway serves site {}, not {site}", config.site.id),
        });
    }
    if let Some(kind) = kind
        && kind != config.site.kind
    {
        return Err(Error::Config {
            file: config::FILE.into(),
            message: format!(
                "site {} is a {} site, not {kind}",
                config.site.id, config.site.kind
            ),
        });
    }
    let bytes: [u8; 32] = rand::random();
    let token = hex::encode(bytes);
    let expires_at =
        OffsetDateTime::now_utc() + Duration::minutes(i64::from(config.enrolment.token_minutes));
    open_store(dir)?.add_token(
        &token_hash(&token),
        &TokenRecord {
            site_id: config.site.id.clone(),
            expires_at,
        },
    )?;
    let qr = EnrolmentQr {
        gateway_url: config.site.public_url.clone(),
        token: token.clone(),
        ca_sha256: pki::ca_fingerprint(dir)?,
        site: config.site.id.clone(),
        kind: config.site.kind,
    };
    Ok(NewToken {
        token,
        expires_at,
        qr,
    })
}

/// Credentials for a kiosk, as `kiosk-api`'s client wants them.
#[derive(Clone)]
pub struct KioskCredentials {
    pub kiosk_id: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

impl std::fmt::Debug for KioskCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskCredentials")
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

/// Enrols a kiosk without the network round trip: generates its key here and registers it.
/// For tests, benchmarks and the demo, where the "kiosk" runs on the gateway's machine.
pub fn issue_kiosk_credentials(dir: &Path, label: Option<&str>) -> Result<KioskCredentials> {
    let config = Config::load(&dir.join(config::FILE))?;
    let kiosk_id = new_kiosk_id(&config.site.id);
    let lifetime = Duration::days(i64::from(config.enrolment.certificate_days));
    let (cert, key_pem) = pki::issue_with_new_key(dir, &kiosk_id, lifetime)?;
    open_store(dir)?.put_kiosk(&KioskRecord {
        kiosk_id: kiosk_id.clone(),
        site_id: config.site.id.clone(),
        label: label.map(str::to_string),
        serial: cert.serial.clone(),
        not_after: cert.not_after,
        enrolled_at: OffsetDateTime::now_utc(),
        revoked_at: None,
        last_seen: None,
        last_status: None,
    })?;
    Ok(KioskCredentials {
        kiosk_id,
        cert_pem: cert.pem,
        key_pem,
        ca_pem: pki::ca_pem(dir)?,
    })
}

/// Revokes a kiosk: every request with any of its certificates is refused from now on.
pub fn revoke(dir: &Path, kiosk_id: &str) -> Result<bool> {
    open_store(dir)?.revoke_kiosk(kiosk_id, OffsetDateTime::now_utc())
}

/// One line of `registrations list --json`.
#[derive(Debug, Serialize)]
pub struct RegistrationLine {
    pub key: String,
    pub kiosk: String,
    pub kind: String,
    pub ticket: String,
    pub queue: String,
    pub number: u32,
    pub service_day: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional: Option<String>,
    pub received_at: String,
    /// Only with `--with-identity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
}

/// Stored registrations since `since`, optionally with the decrypted registration.
pub fn list_registrations(
    dir: &Path,
    since: Option<OffsetDateTime>,
    with_identity: bool,
) -> Result<Vec<RegistrationLine>> {
    let store = open_store(dir)?;
    let sealer = if with_identity {
        Some(Sealer::load(dir)?)
    } else {
        None
    };
    let mut out = Vec::new();
    for row in store.registrations(since)? {
        let registration = match &sealer {
            Some(s) => {
                let plain = s.open(row.key.as_bytes(), &row.body_sealed)?;
                Some(
                    serde_json::from_slice(&plain)
                        .map_err(|e| Error::Store(format!("stored registration: {e}")))?,
                )
            }
            None => None,
        };
        out.push(RegistrationLine {
            key: row.key,
            kiosk: row.kiosk_id,
            kind: row.kind,
            ticket: row.ticket.display.clone(),
            queue: row.ticket.queue.clone(),
            number: row.ticket.number,
            service_day: row.ticket.service_day.to_string(),
            provisional: row.provisional,
            received_at: rfc3339(row.received_at),
            registration,
        });
    }
    Ok(out)
}

/// One line of `kiosk list --json`.
#[derive(Debug, Serialize)]
pub struct KioskLine {
    pub kiosk: String,
    pub site: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub certificate_serial: String,
    pub certificate_not_after: String,
    pub enrolled_at: String,
    pub revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<serde_json::Value>,
}

/// All kiosks.
pub fn list_kiosks(dir: &Path) -> Result<Vec<KioskLine>> {
    Ok(open_store(dir)?
        .kiosks()?
        .into_iter()
        .map(|k| KioskLine {
            kiosk: k.kiosk_id,
            site: k.site_id,
            label: k.label,
            certificate_serial: k.serial,
            certificate_not_after: rfc3339(k.not_after),
            enrolled_at: rfc3339(k.enrolled_at),
            revoked: k.revoked_at.is_some(),
            last_seen: k.last_seen.map(rfc3339),
            last_status: k.last_status.and_then(|s| serde_json::from_str(&s).ok()),
        })
        .collect())
}

/// Adds an answer to the demo insurance table.
pub fn add_insurance_card(
    dir: &Path,
    id_number: &str,
    answer: &InsuranceCheckResponse,
) -> Result<()> {
    let sealer = Sealer::load(dir)?;
    let hash = crate::insurance::id_hash(id_number);
    let json = serde_json::to_vec(answer).map_err(|e| Error::Store(e.to_string()))?;
    let sealed = sealer.seal(hash.as_bytes(), &json)?;
    open_store(dir)?.put_insurance_card(&hash, &sealed)
}

/// Keys an `insurance import` line may have.
const IMPORT_KEYS: [&str; 6] = [
    "id_number",
    "status",
    "card_number",
    "registered_facility",
    "valid_from",
    "valid_to",
];

/// Longest line `insurance import` accepts.
const MAX_IMPORT_LINE: usize = 4096;

/// Imports insurance answers from JSON lines; all or nothing is checked before anything is
/// written, and errors name the line, never its content.
pub fn import_insurance(dir: &Path, reader: impl std::io::BufRead) -> Result<usize> {
    let mut parsed = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = zeroize::Zeroizing::new(line.map_err(|e| Error::io("read import", e))?);
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| Error::Config {
            file: "insurance import".into(),
            message: format!("line {n}: {reason}"),
        };
        if line.len() > MAX_IMPORT_LINE {
            return Err(bad(format!("longer than {MAX_IMPORT_LINE} bytes")));
        }
        let mut value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&line).map_err(|e| bad(crate::routes::scrub(&e.to_string())))?;
        if let Some(key) = value.keys().find(|k| !IMPORT_KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown key `{}`",
                key.chars().take(32).collect::<String>()
            )));
        }
        let id_number = match value.remove("id_number") {
            Some(serde_json::Value::String(id))
                if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) =>
            {
                zeroize::Zeroizing::new(id)
            }
            _ => return Err(bad("id_number must be a string of exactly 12 digits".into())),
        };
        let answer: InsuranceCheckResponse =
            serde_json::from_value(serde_json::Value::Object(value))
                .map_err(|e| bad(crate::routes::scrub(&e.to_string())))?;
        parsed.push((id_number, answer));
    }
    for (id_number, answer) in &parsed {
        add_insurance_card(dir, id_number, answer)?;
    }
    Ok(parsed.len())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Sends again every clinic visit the FHIR server has not accepted (failed or interrupted
/// forwards). Conditional creates make a repeat harmless. Returns (forwarded, still failing).
pub async fn retry_fhir(dir: &Path) -> Result<(usize, usize)> {
    let config = Config::load(&dir.join(config::FILE))?;
    let Some(fhir) = config.fhir.clone() else {
        return Err(Error::Config {
            file: config::FILE.into(),
            message: "fhir: no [fhir] section; nothing to forward to".into(),
        });
    };
    let client = crate::upstream::client(fhir.ca_file.as_deref(), fhir.timeout_secs)?;
    let sealer = Sealer::load(dir)?;
    let store = open_store(dir)?;
    let (mut ok, mut failed) = (0, 0);
    for row in store.unforwarded()? {
        let plain = sealer.open(row.key.as_bytes(), &row.body_sealed)?;
        let registration: Registration = serde_json::from_slice(&plain)
            .map_err(|e| Error::Store(format!("stored registration: {e}")))?;
        let Some(bundle) = crate::fhir::transaction_bundle(&registration, &row.ticket, &fhir)
        else {
            continue;
        };
        let outcome = crate::fhir::send(&client, &fhir, &bundle).await;
        if outcome == crate::fhir::FORWARDED {
            ok += 1;
        } else {
            failed += 1;
        }
        store.set_forward_state(&row.key, &outcome)?;
    }
    Ok((ok, failed))
}
