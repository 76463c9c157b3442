//! Shared pieces of the outbox tests: a reference gateway running in this process with an
//! enrolled kiosk, registration lines for the fictional sample citizen, a recording fake for
//! tests that need no network, and a file walker for the encryption-at-rest check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_api::v1::{KioskId, SiteKind};
use kiosk_api::{ClientSettings, GatewayClient, Timeouts};
use kiosk_gateway::RunningGateway;
use kiosk_gateway::ops::{self, KioskCredentials};
use kiosk_outbox::Pending;
use kiosk_outbox::WorkerConfig;
use kiosk_outbox::gateway_delivery::GatewayDelivery;
use kiosk_outbox::worker::{Accepted, Backoff, Deliver, DeliveryError};
use uuid::Uuid;
use zeroize::Zeroizing;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The sample citizen's ID number and name (fictional, from `kiosk_api::sample`).
pub fn citizen() -> (String, String) {
    let f = kiosk_api::sample::chip_identity().fields;
    (f.id_number.clone(), f.full_name.clone())
}

/// A clinic registration for the sample citizen from `kiosk`, with a fresh idempotency key, as
/// the JSON line the outbox stores.
pub fn registration_line(kiosk: &KioskId) -> (Uuid, String) {
    let r = kiosk_api::sample::clinic_registration(kiosk, "NOI");
    let key = r.idempotency_key.as_uuid();
    // Serialising a sample built from valid parts cannot fail; an empty line would be refused
    // loudly by the outbox tests anyway.
    (key, serde_json::to_string(&r).unwrap_or_default())
}

/// A kiosk id for tests that never reach a gateway.
pub fn offline_kiosk() -> Result<KioskId, BoxError> {
    Ok(KioskId::new("site1-k0001".to_owned())?)
}

/// A reference gateway in a temporary directory on a free port.
pub struct GatewayRig {
    pub dir: tempfile::TempDir,
    pub gateway: RunningGateway,
}

impl std::fmt::Debug for GatewayRig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayRig")
            .field("url", &self.url())
            .finish()
    }
}

impl GatewayRig {
    pub async fn start() -> Result<Self, BoxError> {
        let dir = tempfile::tempdir()?;
        ops::init(
            dir.path(),
            &ops::InitOptions {
                site_id: "site1".into(),
                kind: SiteKind::Clinic,
                public_url: "https://127.0.0.1:8443".into(),
                server_names: vec!["127.0.0.1".into(), "localhost".into()],
            },
        )?;
        let gateway = kiosk_gateway::start(dir.path(), "127.0.0.1:0".parse()?).await?;
        Ok(GatewayRig { dir, gateway })
    }

    pub fn url(&self) -> String {
        self.gateway.url()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Enrols a kiosk (certificate issued directly, as the gateway's own tests do).
    pub fn enrol(&self) -> Result<(KioskId, KioskCredentials), BoxError> {
        let creds = ops::issue_kiosk_credentials(self.path(), Some("outbox test"))?;
        Ok((KioskId::new(creds.kiosk_id.clone())?, creds))
    }

    /// The gateway's TLS server configuration (for the fault proxy's HTTP-level faults).
    pub fn tls(&self) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, BoxError> {
        Ok(Arc::new(kiosk_gateway::server::tls_config(self.path())?))
    }

    /// Every registration the gateway stored: key → (kiosk, ticket display).
    pub fn registrations(&self) -> Result<HashMap<Uuid, String>, BoxError> {
        let rows = self.gateway.state.store.registrations(None)?;
        let mut out = HashMap::new();
        for r in rows {
            let key = Uuid::parse_str(&r.key)?;
            if out.insert(key, r.ticket.display.clone()).is_some() {
                return Err(format!("gateway stored key {key} twice").into());
            }
        }
        Ok(out)
    }

    pub fn revoke(&self, kiosk: &KioskId) -> Result<bool, BoxError> {
        Ok(ops::revoke(self.path(), kiosk.as_str())?)
    }

    pub async fn shutdown(self) {
        self.gateway.shutdown().await;
    }
}

/// The kiosk side: a delivery adapter for `url` with `creds`, with the given timeouts.
pub fn delivery(
    url: &str,
    creds: &KioskCredentials,
    timeouts: Timeouts,
) -> Result<GatewayDelivery, BoxError> {
    Ok(GatewayDelivery::new(client(url, creds, timeouts)?))
}

/// The kiosk's mTLS client for `url` with `creds`.
pub fn client(
    url: &str,
    creds: &KioskCredentials,
    timeouts: Timeouts,
) -> Result<GatewayClient, BoxError> {
    Ok(GatewayClient::new(&ClientSettings {
        base_url: url.to_owned(),
        ca_pem: creds.ca_pem.clone(),
        cert_pem: creds.cert_pem.clone(),
        key_pem: Zeroizing::new(creds.key_pem.clone()),
        timeouts,
    })?)
}

/// Client timeouts short enough for tests on loopback.
pub fn test_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(2),
    }
}

/// A worker that retries within milliseconds, so fault tests finish quickly.
pub fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        backoff: Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        attempt_timeout: Duration::from_secs(10),
    }
}

/// A gateway fake for tests that do not need HTTP: idempotent like the real one, and counts how
/// many times each key was sent.
#[derive(Debug, Default)]
pub struct RecordingGateway {
    accepted: Mutex<HashMap<Uuid, u32>>,
}

impl RecordingGateway {
    pub fn counts(&self) -> HashMap<Uuid, u32> {
        self.accepted.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Deliver for RecordingGateway {
    async fn deliver(&self, record: &Pending) -> Result<Accepted, DeliveryError> {
        let mut m = self.accepted.lock().map_err(|_| DeliveryError::Retryable {
            reason: "poisoned".into(),
            retry_after: None,
        })?;
        let n = m.entry(record.key()).or_insert(0);
        *n += 1;
        Ok(Accepted {
            ticket: format!("NOI-{:04}", m.len()),
        })
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

/// Whether `needle` occurs anywhere in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
