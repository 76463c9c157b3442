//! In-process attachment: the chip behind a [`CardTransport`], so the reader's code runs against
//! it without pcscd. A removed card (fault `removed-mid-read`) is [`kiosk_card::Error::CardRemoved`].
//!
//! The chip is shared with a [`CardHandle`], so a test can re-insert the card, change faults
//! or count APDUs while the reader owns the transport (e.g. inside a `SecureChannel`).

use std::sync::{Arc, Mutex, MutexGuard};

use kiosk_card::CardTransport;

use crate::engine::{Answer, Chip};

/// A virtual card on a virtual reader, in the same process.
#[derive(Debug)]
pub struct InProcessCard {
    chip: Arc<Mutex<Chip>>,
}

/// A second handle on the card of an [`InProcessCard`].
#[derive(Debug, Clone)]
pub struct CardHandle {
    chip: Arc<Mutex<Chip>>,
}

fn lock(chip: &Mutex<Chip>) -> MutexGuard<'_, Chip> {
    // A panic while the chip was locked can only come from a test thread; the chip's state is
    // still consistent (every command runs to completion or not at all), so go on with it.
    chip.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl InProcessCard {
    /// Inserts `chip` (powered and reset).
    pub fn new(mut chip: Chip) -> Self {
        chip.reset();
        Self {
            chip: Arc::new(Mutex::new(chip)),
        }
    }

    /// A handle to the same chip.
    pub fn handle(&self) -> CardHandle {
        CardHandle {
            chip: Arc::clone(&self.chip),
        }
    }

    /// Runs `f` on the chip.
    pub fn with_chip<R>(&self, f: impl FnOnce(&mut Chip) -> R) -> R {
        f(&mut lock(&self.chip))
    }
}

impl CardHandle {
    /// Runs `f` on the chip (re-insert it, set faults, read its counters).
    pub fn with_chip<R>(&self, f: impl FnOnce(&mut Chip) -> R) -> R {
        f(&mut lock(&self.chip))
    }

    /// Puts a removed card back (see [`Chip::reinsert`]).
    pub fn reinsert(&self) {
        lock(&self.chip).reinsert();
    }
}

impl CardTransport for InProcessCard {
    fn transmit_raw(&mut self, command: &[u8]) -> kiosk_card::Result<Vec<u8>> {
        // The delay is taken outside the lock so a handle is never blocked by it.
        let delay = lock(&self.chip).delay_per_apdu();
        if let Some(delay) = delay {
            std::thread::sleep(delay);
        }
        match lock(&self.chip).process(command) {
            Answer::Response(bytes) => Ok(bytes),
            Answer::Removed => Err(kiosk_card::Error::CardRemoved),
        }
    }

    fn describe(&self) -> String {
        "kiosk-vcard (in-process)".to_owned()
    }
}
