//! The seam between protocols and readers: anything that can carry one APDU to a card and bring
//! back its answer. PC/SC (behind the `pcsc` feature) and the in-process virtual card implement it,
//! so every protocol runs in tests without hardware.

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::error::Result;

/// Carries command APDUs to one card and returns its responses.
///
/// Implementations put a deadline on every exchange and map "card gone" to
/// [`Error::CardRemoved`](crate::Error::CardRemoved), so callers can tell a removed card from a
/// protocol failure.
pub trait CardTransport: Send {
    /// Sends one encoded command APDU and returns the encoded response (`data ‖ SW1 SW2`).
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>>;

    /// A short description for diagnostics (the reader name).
    fn describe(&self) -> String;

    /// What the transport itself knows about extended-length APDUs: `Some(false)` if it cannot
    /// carry them, `None` if only a probe of the card can tell.
    fn extended_length(&self) -> Option<bool> {
        None
    }

    /// Encodes `command`, sends it and decodes the answer.
    fn transmit(&mut self, command: &CommandApdu) -> Result<ResponseApdu> {
        let raw = self.transmit_raw(&command.encode()?)?;
        ResponseApdu::decode(&raw)
    }
}

/// Lets a caller lend a transport to a protocol and keep it afterwards (e.g. to resume a read
/// on the same card).
impl<T: CardTransport + ?Sized> CardTransport for &mut T {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit_raw(command)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn extended_length(&self) -> Option<bool> {
        (**self).extended_length()
    }
}

impl<T: CardTransport + ?Sized> CardTransport for Box<T> {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit_raw(command)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn extended_length(&self) -> Option<bool> {
        (**self).extended_length()
    }
}

#[cfg(feature = "pcsc")]
pub mod monitor;
#[cfg(feature = "pcsc")]
pub mod pcsc;
