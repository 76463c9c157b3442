//! The crate's one error type. Messages name what was wrong (file, key, field) and never carry
//! personal data.

use std::path::Path;

/// Everything the gateway library can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// File-system trouble, with what we were doing.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is wrong; the message names the file and the key.
    #[error("config {file}: {message}")]
    Config { file: String, message: String },
    /// `init` on a directory that already has a CA.
    #[error("{0} already holds a gateway CA; refusing to overwrite it")]
    AlreadyInitialised(String),
    /// Certificate generation or loading failed.
    #[error("certificate: {0}")]
    Cert(String),
    /// The kiosk's CSR cannot be used.
    #[error("certificate request: {0}")]
    BadCsr(String),
    /// TLS set-up failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The database failed or holds something it should not.
    #[error("store: {0}")]
    Store(String),
    /// Encryption at rest failed (bad key file, corrupt record).
    #[error("sealing: {0}")]
    Seal(&'static str),
    /// An outside service (FHIR server, insurer) failed.
    #[error("upstream {service}: {reason}")]
    Upstream {
        service: &'static str,
        reason: String,
    },
    /// A contract-level problem reported by `kiosk-api`.
    #[error(transparent)]
    Api(#[from] kiosk_api::Error),
}

impl Error {
    pub(crate) fn io(what: &str, source: std::io::Error) -> Self {
        Error::Io {
            what: what.to_string(),
            source,
        }
    }

    pub(crate) fn io_path(verb: &str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            what: format!("{verb} {}", path.display()),
            source,
        }
    }

    pub(crate) fn cert(e: impl std::fmt::Display) -> Self {
        Error::Cert(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.to_string())
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
