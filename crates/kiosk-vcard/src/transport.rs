//! In-process attachment: the chip behind a [`CardTransport`], so the reader's code runs against
//! it without pcscd. A removed card (fault `removed-mid-read`) is [`kiosk_card::Error::CardRemoved`].

use kiosk_card::CardTransport;

use crate::engine::{Answer, Chip};

/// A virtual card on a virtual reader, in the same process.
#[derive(Debug)]
pub struct InProcessCard {
    chip: Chip,
}

impl InProcessCard {
    /// Inserts `chip` (powered and reset).
    pub fn new(mut chip: Chip) -> Self {
        chip.reset();
        Self { chip }
    }

    pub fn chip(&self) -> &Chip {
        &self.chip
    }

    /// For tests that change faults or re-insert the card.
    pub fn chip_mut(&mut self) -> &mut Chip {
        &mut self.chip
    }

    pub fn into_chip(self) -> Chip {
        self.chip
    }
}

impl CardTransport for InProcessCard {
    fn transmit_raw(&mut self, command: &[u8]) -> kiosk_card::Result<Vec<u8>> {
        if let Some(delay) = self.chip.delay_per_apdu() {
            std::thread::sleep(delay);
        }
        match self.chip.process(command) {
            Answer::Response(bytes) => Ok(bytes),
            Answer::Removed => Err(kiosk_card::Error::CardRemoved),
        }
    }

    fn describe(&self) -> String {
        "kiosk-vcard (in-process)".to_owned()
    }
}
