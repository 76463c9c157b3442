//! The crate's one error type. Messages name what is wrong (the profile key, the file, the
//! vpcd address) and never carry personal data or key material.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while personalising or attaching the virtual chip. The chip's
/// answers to bad APDUs are status words, not errors: the chip always answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The profile file cannot be read.
    #[error("cannot read profile {}: {source}", path.display())]
    ProfileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The profile is not valid TOML/JSON or has an unknown or missing key.
    #[error("profile {}: {message}", path.display())]
    ProfileSyntax { path: PathBuf, message: String },
    /// A key of the profile has a value the card cannot hold.
    #[error("profile key `{key}` {reason}")]
    ProfileInvalid {
        key: &'static str,
        reason: &'static str,
    },
    /// A `--fault` name that does not exist.
    #[error("unknown fault `{0}` (known: {known})", known = crate::fault::Fault::NAMES.join(", "))]
    UnknownFault(String),
    /// Building the card's files or keys failed.
    #[error("personalisation: {0}")]
    Personalise(String),
    /// An error from the shared card codecs.
    #[error(transparent)]
    Card(#[from] kiosk_card::Error),
    /// The vpcd socket failed.
    #[error("vpcd {addr}: {what}: {source}")]
    Vpcd {
        addr: String,
        what: &'static str,
        source: std::io::Error,
    },
    /// vpcd sent a frame that breaks its framing.
    #[error("vpcd {addr}: {what}")]
    VpcdProtocol { addr: String, what: &'static str },
}

impl Error {
    /// Adds the file to a syntax error raised while parsing text.
    pub(crate) fn in_file(self, path: &Path) -> Self {
        match self {
            Self::ProfileSyntax { message, .. } => Self::ProfileSyntax {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
