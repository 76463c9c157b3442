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

    // ---- LDS ----
    /// An LDS file (EF.COM, a data group, EF.SOD) does not have the structure its standard gives.
    #[error("{file}: {what}")]
    LdsMalformed {
        file: &'static str,
        what: &'static str,
    },
    /// An LDS file is larger than any genuine card holds; it is refused before it is parsed.
    #[error("{file}: {len} bytes exceeds the limit of {max}")]
    LdsTooLarge {
        file: &'static str,
        len: usize,
        max: usize,
    },
    /// The DER decoder refused an ASN.1 structure (the detail names position and kind only).
    #[error("{file}: invalid DER: {detail}")]
    LdsDer { file: &'static str, detail: String },
    /// A check digit of the machine-readable zone does not match its field.
    #[error("MRZ check digit of the {field} does not match")]
    MrzCheckDigit { field: &'static str },
    /// The machine-readable zone has the wrong shape or a character outside `0-9A-Z<`.
    #[error("MRZ: {what}")]
    MrzMalformed { what: &'static str },
    /// EF.SOD names a hash algorithm this crate does not compute.
    #[error("unsupported hash algorithm {oid}")]
    UnsupportedHashAlgorithm { oid: String },
    /// A value cannot be written into an LDS file (too long, wrong characters, no data groups).
    #[error("cannot encode {file}: {what}")]
    LdsEncode {
        file: &'static str,
        what: &'static str,
    },

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

    // ---- crypto, secure messaging, access protocols ----
    /// A cryptographic operation was given unusable input (key size, point, scalar).
    #[error("crypto: {what}")]
    Crypto { what: &'static str },
    /// A secure-messaging response failed to verify or decode. The session is no longer usable:
    /// re-establish access (PACE/BAC) and resume.
    #[error("secure messaging: {what}")]
    SecureMessaging { what: &'static str },
    /// The chip answered a protected command with a plain (unprotected) status word, e.g. 6988
    /// or 6982: it has dropped the session. The send sequence counter was not advanced for the
    /// answer; re-establish access and resume from the last good offset.
    #[error("{command}: chip dropped secure messaging, answered plain {sw}")]
    SessionLost {
        command: &'static str,
        sw: StatusWord,
    },
    /// The chip rejected the password (CAN or MRZ key): wrong key, not a protocol fault.
    #[error("{protocol}: the card rejected the access key (wrong CAN or MRZ data)")]
    WrongPassword { protocol: &'static str },
    /// An authentication protocol failed for a reason other than the password.
    #[error("{protocol} failed: {what}")]
    Protocol {
        protocol: &'static str,
        what: &'static str,
    },
    /// Chip or Active Authentication ran, and the chip failed it (a possible clone).
    #[error("{protocol}: the chip failed authentication: {what}")]
    AuthenticationFailed {
        protocol: &'static str,
        what: &'static str,
    },
    /// The file is protected by Extended Access Control (e.g. DG3/DG4 fingerprints): the chip
    /// answered 6982. Expected on a CCCD; not a failure of the read.
    #[error("file {fid:04X} is EAC-protected (6982)")]
    FileProtected { fid: u16 },
    /// A file announces a length beyond the cap for its kind; nothing was allocated.
    #[error("file {fid:04X} announces {len} bytes, more than the {max}-byte cap")]
    FileTooLarge { fid: u16, len: usize, max: usize },
    /// The reader cannot carry extended-length APDUs; nothing was sent (the SM counter is
    /// unchanged), so the caller may retry with a short length.
    #[error("the reader does not support extended-length APDUs")]
    ExtendedLengthRefused,
    /// A security info, key or algorithm the card advertises that this reader does not implement.
    #[error("unsupported: {what}")]
    Unsupported { what: &'static str },
    // ---- PA ----
    /// A DER structure (certificate, key, parameters, signature, master list) could not be decoded.
    #[error("malformed {what}: {detail}")]
    Asn1 { what: &'static str, detail: String },
    /// An algorithm, hash or curve that passive authentication does not implement.
    #[error("unsupported {what}: {oid}")]
    UnsupportedAlgorithm { what: &'static str, oid: String },
    /// A public key that is not valid for its algorithm (point off the curve, size out of bounds).
    #[error("invalid {algorithm} public key: {reason}")]
    InvalidPublicKey {
        algorithm: &'static str,
        reason: &'static str,
    },
    /// The signature bytes are not a well-formed signature of the algorithm.
    #[error("malformed {algorithm} signature: {reason}")]
    MalformedSignature {
        algorithm: String,
        reason: &'static str,
    },
    /// The signature is well formed but does not verify under the key.
    #[error("{algorithm} signature does not verify")]
    SignatureMismatch { algorithm: String },
    /// Signing failed (test and virtual-card keys only).
    #[error("signing with {algorithm} failed: {reason}")]
    Signing {
        algorithm: String,
        reason: &'static str,
    },
    /// A certificate does not chain to a trust anchor; the reason names the failed rule.
    #[error("certificate chain: {0}")]
    Chain(String),
    /// A trust-store source (file, folder, master list) could not be used.
    #[error("trust store {source_name}: {reason}")]
    TrustSource { source_name: String, reason: String },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
