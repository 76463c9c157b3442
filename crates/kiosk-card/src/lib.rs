//! `kiosk-card` reads and verifies the Vietnamese chip ID card (CCCD 2021+, Căn cước 2024+), an
//! ICAO 9303 eMRTD, over any [`CardTransport`].
//!
//! Layers, from the wire up (after JMRTD's split):
//! - [`apdu`], [`tlv`]: ISO 7816-4 encoding, shared with the virtual card;
//! - [`transport`]: the reader seam (PC/SC behind the `pcsc` feature);
//!
//! No UI and no network live here.

pub mod apdu;
pub mod cccd;
pub mod error;
pub mod tlv;
pub mod transport;

pub use apdu::{CommandApdu, ResponseApdu, StatusWord};
pub use error::{Error, Result};
pub use transport::CardTransport;
