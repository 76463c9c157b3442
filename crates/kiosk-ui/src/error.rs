//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong in the UI crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Slint could not create the window or run the event loop.
    #[error("the UI platform failed: {0}")]
    Platform(String),
    /// The event loop is gone (the UI was closed): the update is lost on purpose.
    #[error("the UI event loop is not running")]
    EventLoopGone,
    /// An image (photo, camera frame) could not be shown; the reason names no personal data.
    #[error("image not shown: {0}")]
    Image(&'static str),
    /// A screenshot could not be written.
    #[error("screenshot {path}: {reason}")]
    Screenshot { path: PathBuf, reason: String },
    /// The core refused to build a screenshot scene.
    #[error("screenshot scene {scene}: {reason}")]
    Scene { scene: String, reason: String },
}

/// Result with this crate's error.
pub type Result<T> = std::result::Result<T, Error>;

impl From<slint::PlatformError> for Error {
    fn from(e: slint::PlatformError) -> Self {
        Error::Platform(e.to_string())
    }
}
