//! The crate's one error type. Variants are grouped by the layer that raises them; every variant
//! says what was wrong without carrying personal data (no ID numbers, names or raw DG bytes).

use crate::apdu::StatusWord;

/// Everything that can go wrong while talking to or interpreting a card.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- TLV codec ----
    /// The input ended before the TLV it announced.
    #[error("TLV truncated: {what}")]
    TlvTruncated { what: &'static str },
    /// The bytes are not a TLV this codec accepts (e.g. indefinite length, over-long tag).
    #[error("malformed TLV: {what}")]
    TlvMalformed { what: &'static str },
    /// A TLV had another tag than the structure requires.
    #[error("expected tag {expected:#X}, found {found:#X}")]
    UnexpectedTag { expected: u32, found: u32 },

    // ---- APDU ----
    /// Bytes that cannot be a command or response APDU.
    #[error("malformed APDU: {what}")]
    ApduMalformed { what: &'static str },
    /// The card answered a command with an error status word.
    #[error("{command}: card answered {sw}")]
    Status {
        command: &'static str,
        sw: StatusWord,
    },

    // ---- transport ----
    /// No card in the reader, or it was taken away during the operation.
    #[error("card removed")]
    CardRemoved,
    /// The reader is gone or pcscd is not answering.
    #[error("reader unavailable: {0}")]
    ReaderUnavailable(String),
    /// A device call did not finish within its deadline.
    #[error("timed out after {millis} ms: {what}")]
    Timeout { what: &'static str, millis: u64 },
    /// Any other transport failure, with the transport's own words.
    #[error("transport: {0}")]
    Transport(String),

    // ---- CCCD rules ----
    /// A citizen ID number that is not a valid 12-digit CCCD number.
    #[error("invalid citizen ID: {what}")]
    InvalidCitizenId { what: &'static str },
    /// MRZ key fields (document number, dates) that cannot form BAC/PACE key material.
    #[error("invalid MRZ key information: {what}")]
    InvalidMrzKey { what: &'static str },
    /// A calendar date that does not exist or is not in the expected format.
    #[error("invalid date: {what}")]
    InvalidDate { what: &'static str },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
