//! The crate's one error type. Messages name what was wrong (which field, which key, which file)
//! and never carry the personal data that was being parsed: no ID numbers, names or dates.

use std::path::PathBuf;

/// Everything that can go wrong while reading frames, decoding QR codes or parsing payloads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- payload, any kind ----
    /// The QR code held no bytes at all.
    #[error("QR payload is empty")]
    EmptyPayload,
    /// The payload is longer than any code the kiosk accepts.
    #[error("QR payload is {len} bytes, more than the {max} accepted")]
    PayloadTooLong { len: usize, max: usize },
    /// The payload bytes are not UTF-8; the kiosk never guesses another encoding.
    #[error("QR payload is not valid UTF-8 (first bad byte at offset {valid_up_to})")]
    NotUtf8 { valid_up_to: usize },

    /// A payload kept as an opaque token has characters no token may have.
    #[error("QR token: {reason}")]
    Token { reason: &'static str },

    // ---- card QR ----
    /// A card QR has 7 `|`-separated fields (2024 cards add trailing ones).
    #[error("card QR has {found} fields, expected 7 (or up to {max} on newer cards)")]
    CardFieldCount { found: usize, max: usize },
    /// One field of a card QR is malformed; `reason` says how, without the value.
    #[error("card QR field `{field}`: {reason}")]
    CardField {
        field: &'static str,
        reason: &'static str,
    },
    /// The 12-digit ID number breaks the CCCD numbering rules (kiosk-card's words).
    #[error("card QR ID number: {0}")]
    CardId(#[source] kiosk_card::Error),

    // ---- enrolment QR ----
    /// Not an enrolment URI at all (wrong scheme).
    #[error("enrolment QR must start with `kiosk-enrol:`")]
    EnrolmentScheme,
    /// An enrolment URI of a version this kiosk does not understand.
    #[error("enrolment QR version `{found}` is not supported (this kiosk reads v1)")]
    EnrolmentVersion { found: String },
    /// A required key is absent.
    #[error("enrolment QR lacks `{key}`")]
    EnrolmentMissing { key: &'static str },
    /// A key appears twice: refused rather than picking one.
    #[error("enrolment QR has `{key}` twice")]
    EnrolmentDuplicate { key: String },
    /// A key this version does not define.
    #[error("enrolment QR has unknown key `{key}`")]
    EnrolmentUnknownKey { key: String },
    /// A value is malformed.
    #[error("enrolment QR `{key}`: {reason}")]
    EnrolmentValue {
        key: &'static str,
        reason: &'static str,
    },

    // ---- dossier / appointment codes ----
    /// Looks like a dossier receipt code but one part is wrong.
    #[error("dossier code: {reason}")]
    DossierCode { reason: &'static str },

    // ---- frames and sources ----
    /// A frame buffer whose length does not match its dimensions, or absurd dimensions.
    #[error("frame of {width}x{height} cannot hold {len} bytes (or exceeds the size cap)")]
    FrameSize { width: u32, height: u32, len: usize },
    /// An image file could not be read or decoded.
    #[error("image {path}: {reason}")]
    Image { path: PathBuf, reason: String },
    /// A file or folder could not be opened.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A folder given as a frame source holds no image files.
    #[error("no image files (png, jpg, pgm) in {path}")]
    NoImages { path: PathBuf },
    /// The camera could not be opened or stopped delivering frames.
    #[error("camera: {0}")]
    Camera(String),

    // ---- decoders ----
    /// An engine name that does not exist.
    #[error("unknown QR engine `{0}` (known: rqrr, zxing)")]
    UnknownEngine(String),
    /// The engine exists but this build does not include it.
    #[error("QR engine `{engine}` is not in this build (cargo feature `{feature}`)")]
    EngineNotBuilt {
        engine: &'static str,
        feature: &'static str,
    },
    /// The zxing-cpp library reported an error.
    #[error("zxing-cpp: {0}")]
    Zxing(String),

    /// The QR encoder refused the data (too long for any QR version).
    #[error("QR encoding: {0}")]
    QrEncode(String),

    // ---- benchmark ----
    /// A benchmark folder or manifest that cannot be used.
    #[error("benchmark: {0}")]
    Bench(String),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
