//! The chip authentication protocols of ICAO 9303-11, each in its own module with both sides:
//! the terminal function that runs it over a [`CardTransport`](crate::CardTransport) and the
//! chip-side state machine the virtual card answers with.
//!
//! - [`bac`]: Basic Access Control (3DES, key from the MRZ);
//! - [`pace`]: PACE with ECDH Generic Mapping (CAN or MRZ password);
//! - [`ca`]: Chip Authentication v1 with ECDH (new session keys from the DG14 key);
//! - [`aa`]: Active Authentication (RSA ISO/IEC 9796-2 or ECDSA over a random challenge).
//!
//! Chip-side handlers answer protocol faults with status words (like a card) and return
//! [`ChipStep::established`] once the session keys exist. When a step's answer must still go out
//! under the *old* keys (Chip Authentication), the virtual card wraps the response first and
//! switches keys afterwards.

pub mod aa;
pub mod bac;
pub mod ca;
pub mod pace;

use zeroize::Zeroizing;

use crate::apdu::{ResponseApdu, StatusWord};
use crate::cccd::MrzKeyInfo;
use crate::crypto::sha1;
use crate::error::Result;
use crate::sm::SmKeys;

/// The secret a citizen's card is opened with.
#[derive(Clone)]
pub enum Password {
    /// Card Access Number (for the CCCD: the last 6 digits of the ID).
    Can(Zeroizing<String>),
    /// The MRZ key fields (BAC, or PACE with the MRZ password).
    Mrz(MrzKeyInfo),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Can(_) => f.write_str("Password::Can(..)"),
            Self::Mrz(_) => f.write_str("Password::Mrz(..)"),
        }
    }
}

impl Password {
    /// A CAN password from its digits.
    pub fn can(digits: &str) -> Self {
        Self::Can(Zeroizing::new(digits.to_owned()))
    }

    /// The MSE:Set AT password reference (`83 01 xx`): 01 = MRZ, 02 = CAN.
    pub fn pace_reference(&self) -> u8 {
        match self {
            Self::Mrz(_) => 0x01,
            Self::Can(_) => 0x02,
        }
    }

    /// `f(π)` of ICAO 9303-11 §4.4.3.1: SHA-1 of the MRZ information, or the CAN's bytes.
    pub fn pace_secret(&self) -> Result<Zeroizing<Vec<u8>>> {
        match self {
            Self::Mrz(m) => Ok(sha1(m.mrz_information()?.as_bytes())),
            Self::Can(c) => Ok(Zeroizing::new(c.as_bytes().to_vec())),
        }
    }

    /// Human name for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Mrz(_) => "MRZ",
            Self::Can(_) => "CAN",
        }
    }
}

/// What a chip-side handler answers to one command.
#[derive(Debug)]
pub struct ChipStep {
    pub response: ResponseApdu,
    /// New session keys once the protocol has completed (apply after sending `response`).
    pub established: Option<SmKeys>,
}

impl ChipStep {
    pub(crate) fn reply(data: Vec<u8>, sw: StatusWord) -> Self {
        Self {
            response: ResponseApdu::new(data, sw),
            established: None,
        }
    }

    pub(crate) fn status(sw: StatusWord) -> Self {
        Self::reply(Vec::new(), sw)
    }
}
