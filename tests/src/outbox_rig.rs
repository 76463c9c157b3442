//! Shared pieces of the outbox tests: sample registration lines for a fictional citizen, a
//! recording gateway fake that counts deliveries per idempotency key, and a file walker for the
//! encryption-at-rest check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kiosk_outbox::Pending;
use kiosk_outbox::worker::{Accepted, Deliver, DeliveryError};
use uuid::Uuid;

/// The fictional citizen used by the outbox tests (not a real person).
pub const CITIZEN_ID: &str = "079188001234";
pub const CITIZEN_NAME: &str = "TRẦN THỊ BÍCH NGỌC";

/// One registration as a JSON line carrying the sample citizen's data.
pub fn registration_line(key: Uuid) -> String {
    serde_json::json!({
        "idempotency_key": key,
        "kiosk_id": "HN-CLINIC-01",
        "kind": { "type": "clinic_visit", "department_code": "NOI" },
        "identity": { "id_number": CITIZEN_ID, "full_name": CITIZEN_NAME, "date_of_birth": "1988-03-14" },
    })
    .to_string()
}

/// A gateway fake for tests that do not need HTTP: idempotent like the real one, and counts how
/// many times each key was *accepted as new*.
#[derive(Debug, Default)]
pub struct RecordingGateway {
    accepted: Mutex<HashMap<Uuid, u32>>,
}

impl RecordingGateway {
    /// How many distinct keys were registered, and how many times each was sent.
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
