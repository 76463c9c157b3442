//! `kiosk-api` owns the contract between a kiosk and its site gateway: the versioned message
//! types ([`v1`]), their validation, and the mutual-TLS [`client`] whose every failure is
//! classified for the delivery worker (retry later, dead-letter, or refused).
//!
//! The gateway (`kiosk-gateway`) uses the same types, so both sides agree by construction;
//! `docs/api.yaml` describes them for everyone else and a test keeps it in step.

pub mod client;
pub mod error;
pub mod pin;
pub mod redact;
pub mod sample;
pub mod v1;

pub use client::{ClientSettings, GatewayClient, Timeouts, enrol};
pub use error::{Error, Result};
