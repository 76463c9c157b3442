//! The crate's one error type. Delivery code decides what to do from the variant alone:
//! retry later, dead-letter with the server's reason, or stop and call a technician.

use std::time::Duration;

/// Everything a call to the gateway, or building a message, can end in.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Try again later: connect failure, timeout, reset, 408, 429, 5xx or a garbled answer.
    /// `retry_after` is the server's `Retry-After` when it sent one.
    #[error("retryable: {reason}")]
    Retryable {
        retry_after: Option<Duration>,
        reason: String,
    },
    /// The gateway refused this request for good (a 4xx other than 401/403/408/429); resending
    /// the same bytes will fail again. `reason` is the server's own explanation.
    #[error("rejected with HTTP {status}: {reason}")]
    Permanent { status: u16, reason: String },
    /// A trust or identity problem: the server's certificate is not from the pinned CA, or the
    /// gateway does not accept this kiosk's certificate (revoked, expired, unknown). Nothing is
    /// wrong with the message; the kiosk must be re-enrolled or the network fixed.
    #[error("refused: {reason}")]
    Refused { reason: String },
    /// Local configuration the client cannot use (bad PEM, bad URL, key mismatch).
    #[error("client configuration: {0}")]
    Config(String),
    /// A message that breaks the contract (validation before sending or after receiving).
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// JSON that does not match the types.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Shorthand for a validation failure.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            reason: reason.into(),
        }
    }

    /// Whether a delivery worker should keep the record and try again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Retryable { .. })
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
