//! The crate's one error type. No variant carries personal data: record bodies never appear in
//! messages, and idempotency keys are random UUIDs, not personal.

use std::path::PathBuf;

use uuid::Uuid;

/// Everything that can go wrong while storing, sealing or delivering outbox records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The underlying store (sled) failed.
    #[error("outbox store: {0}")]
    Store(String),
    /// A file operation on the state directory failed.
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The key file exists but cannot be used as it is.
    #[error("outbox key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: &'static str },
    /// A stored value failed authentication or decryption (wrong key or tampered bytes).
    #[error("outbox record {what} cannot be decrypted (wrong key or damaged data)")]
    Decrypt { what: &'static str },
    /// A stored value decrypted but is not a record this version understands.
    #[error("outbox record {what} is malformed: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// A registration body larger than the outbox accepts.
    #[error("registration body of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// The same idempotency key is already in the outbox (pending, dead or delivered).
    #[error("idempotency key {0} is already in the outbox")]
    Duplicate(Uuid),
    /// No record with that key in the place the operation expects.
    #[error("no {place} record with idempotency key {key}")]
    NotFound { place: &'static str, key: Uuid },
}

impl From<sled::Error> for OutboxError {
    fn from(e: sled::Error) -> Self {
        OutboxError::Store(e.to_string())
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = OutboxError> = std::result::Result<T, E>;
