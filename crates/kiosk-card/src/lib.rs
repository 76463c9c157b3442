//! `kiosk-card` reads and verifies the Vietnamese chip ID card (CCCD 2021+, Căn cước 2024+), an
//! ICAO 9303 eMRTD, over any [`CardTransport`].
//!
//! Layers, from the wire up (after JMRTD's split):
//! - [`apdu`], [`tlv`]: ISO 7816-4 encoding, shared with the virtual card;
//! - [`transport`]: the reader seam (PC/SC behind the `pcsc` feature);
//! - [`pa`]: passive authentication (signatures, certificate chains, trust store);
//! - [`verification`]: the report every check writes into;
//! - [`crypto`], [`sm`]: ICAO primitives and secure messaging ([`sm::SecureChannel`] is itself a
//!   transport, so file reading is the same with and without it);
//! - [`protocol`]: BAC, PACE, Chip and Active Authentication, terminal and chip sides;
//! - [`security_infos`], [`lds`]: EF.CardAccess, DG14, DG15 and the other LDS files;
//! - [`files`], [`access`]: reading files (chunking, fallback, resume) and opening the chip;
//! - [`cccd`]: the Vietnamese ID number rules (CAN, MRZ key, expiry candidates, masking);
//!
//! No UI and no network live here.

pub mod access;
pub mod apdu;
pub mod cccd;
pub mod crypto;
pub mod error;
pub mod files;
pub mod lds;
pub mod pa;
pub mod protocol;
pub mod record;
pub mod security_infos;
pub mod sm;
pub mod tlv;
pub mod transport;
pub mod verification;

pub use apdu::{CommandApdu, ResponseApdu, StatusWord};
pub use error::{Error, Result};
pub use record::CitizenRecord;
pub use transport::CardTransport;
pub use verification::{Check, Verification};
