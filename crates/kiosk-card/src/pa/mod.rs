//! Passive authentication (ICAO Doc 9303 Part 11 §5.1): signature verification for every
//! algorithm a Document Signer or CSCA may use, certificate chains, the trust store, and the
//! checks that fill the [`crate::verification::Verification`] report.

pub mod curves;
pub mod ecc;
pub mod ecdsa;
pub mod rsa;
pub mod signature;

#[cfg(test)]
mod wycheproof_vectors;
