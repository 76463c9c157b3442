//! The one error type of `kiosk-core`.

/// What can go wrong in the core: configuration and registration building. The state machine
/// itself never fails: bad events become screens.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file could not be read.
    #[error("config {file}: cannot read: {reason}")]
    ConfigRead { file: String, reason: String },
    /// The config file is not valid TOML or has an unknown key or a wrong type.
    #[error("config {file}: {reason}")]
    ConfigSyntax { file: String, reason: String },
    /// A key has a value outside its rules.
    #[error("config {file}: key `{key}`: {reason}")]
    ConfigValue {
        file: String,
        key: &'static str,
        reason: String,
    },
    /// The chip read did not give what a registration needs.
    #[error("chip read incomplete: {what}")]
    IncompleteChipRead { what: &'static str },
    /// A value from the card or QR does not fit the registration (never carries the value).
    #[error("identity: {what}")]
    Identity { what: &'static str },
    /// A technician PIN breaks the rules, or could not be hashed (never carries the PIN).
    #[error("technician PIN {reason}")]
    Pin { reason: &'static str },
    /// The registration failed the contract's validation.
    #[error("registration: {0}")]
    Registration(#[from] kiosk_api::Error),
}

/// Result with the core's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
