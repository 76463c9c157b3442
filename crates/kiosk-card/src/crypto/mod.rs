//! The cryptography ICAO 9303-11 builds on, over RustCrypto: block ciphers, padding and MACs
//! ([`cipher`]), the key derivation function ([`mod@kdf`]), elliptic-curve operations ([`ec`]) and
//! the randomness seam the protocols use ([`random`]). The common items are re-exported here.

pub mod cipher;
pub mod ec;
pub mod kdf;
pub mod random;

pub use cipher::{CipherAlg, SecretKey, ct_eq, pad, unpad};
pub use kdf::{KdfPurpose, kdf, sha1};
pub use random::{OsRandom, RandomSource, ScriptedRandom};
