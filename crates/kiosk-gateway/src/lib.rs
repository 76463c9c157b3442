//! `kiosk-gateway` is the reference site backend that a province or hospital runs next to its
//! kiosks: the enrolment CA ([`pki`]), registrations with idempotency and gap-free queue numbers
//! ([`routes`], [`store`]), the catalog and insurance-check adapter ([`insurance`]), and the FHIR
//! R4 export of clinic visits ([`fhir`]). It speaks the `kiosk-api` v1 contract over mutual TLS
//! ([`server`]).
//!
//! Tests and the demo run it in-process: [`ops::init`] a temporary directory, [`server::start`]
//! on port 0, and [`ops::issue_kiosk_credentials`] for a client.

pub mod config;
pub mod error;
pub mod fhir;
pub mod insurance;
pub mod ops;
pub mod pki;
pub mod routes;
pub mod seal;
pub mod server;
pub mod store;
pub mod upstream;

pub use error::{Error, Result};
pub use server::{RunningGateway, start};
