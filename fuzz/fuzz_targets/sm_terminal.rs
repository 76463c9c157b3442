//! Secure messaging, terminal side: a [`SecureChannel`] sends READ BINARY through a transport
//! whose answer comes from the fuzz input.
//!
//! Input: `control ‖ rest` (see `sm_session::control`).
//! - forged: `rest` is the chip's raw answer. It never verifies (a fuzzer cannot forge the MAC),
//!   the channel then counts as lost, and the next command is refused with `SessionLost`;
//! - honest: `rest = flip_pos(2) ‖ SW(2) ‖ data`; a chip with the same keys unwraps the command
//!   (which must be exactly what was sent) and wraps `data ‖ SW`; the channel must return them
//!   unchanged, twice in a row (so both SSCs stay in step);
//! - tampered: as honest, with one byte of the wrapped answer's data objects changed: refused,
//!   channel lost.
#![no_main]

#[path = "sm_session.rs"]
mod sm_session;

use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use kiosk_card::error::{Error, Result};
use kiosk_card::sm::{ChipSm, SecureChannel};
use kiosk_card::transport::CardTransport;
use libfuzzer_sys::fuzz_target;
use sm_session::{Mode, control, keys};

/// Plays the card: either returns the raw bytes it was given, or runs a real chip-side session.
struct FuzzCard {
    chip: Option<ChipSm>,
    /// Raw answer (forged) or the plain answer to wrap (honest, tampered), used once.
    answer: Option<(Vec<u8>, StatusWord)>,
    /// Where to change the wrapped answer (tampered).
    flip: Option<(usize, u8)>,
    /// The plain commands the chip unwrapped.
    seen: Vec<CommandApdu>,
}

impl CardTransport for FuzzCard {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let Some(chip) = self.chip.as_mut() else {
            let (raw, _) = self.answer.take().expect("one forged answer per run");
            return Ok(raw);
        };
        let plain = chip
            .unwrap_command(command)
            .expect("the chip must accept an honestly protected command");
        self.seen.push(plain);
        let (data, sw) = self
            .answer
            .take()
            .unwrap_or((Vec::new(), StatusWord::SUCCESS));
        let mut wrapped = chip
            .wrap_response(&ResponseApdu::new(data, sw))
            .expect("the chip must wrap any answer");
        if let Some((pos, xor)) = self.flip.take() {
            // Only the data objects: the outer status word is not covered by the MAC.
            let objects = wrapped.len() - 2;
            wrapped[pos % objects] ^= xor;
        }
        Ok(wrapped)
    }

    fn describe(&self) -> String {
        "fuzz card".to_owned()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctrl, rest)) = data.split_first() else {
        return;
    };
    let (aes, mode) = control(ctrl);
    let ins = if ctrl & 8 == 0 { 0xB0 } else { 0xB1 };
    let read = CommandApdu::new(0x00, ins, 0x00, 0x00).with_le(0x20);

    if mode == Mode::Forged {
        let card = FuzzCard {
            chip: None,
            answer: Some((rest.to_vec(), StatusWord::SUCCESS)),
            flip: None,
            seen: Vec::new(),
        };
        let mut channel = SecureChannel::new(card, keys(aes));
        assert!(
            channel.transmit(&read).is_err(),
            "a forged answer must not verify"
        );
        assert!(channel.is_lost());
        assert!(matches!(
            channel.transmit(&read),
            Err(Error::SessionLost { .. })
        ));
        return;
    }

    let [f0, f1, s0, s1, answer @ ..] = rest else {
        return;
    };
    let sw = StatusWord(u16::from_be_bytes([*s0, *s1]));
    let flip = (mode == Mode::Tampered)
        .then(|| (usize::from(u16::from_be_bytes([*f0, *f1])), (*f1).max(1)));
    let card = FuzzCard {
        chip: Some(ChipSm::new(keys(aes))),
        answer: Some((answer.to_vec(), sw)),
        flip,
        seen: Vec::new(),
    };
    let mut channel = SecureChannel::new(card, keys(aes));
    let first = channel.transmit(&read);
    if mode == Mode::Tampered {
        assert!(first.is_err(), "a tampered answer must not verify");
        assert!(channel.is_lost());
        return;
    }
    let first = first.expect("an honest answer must verify");
    assert_eq!(first.data, answer);
    assert_eq!(first.sw, sw);
    let second = channel
        .transmit(&read)
        .expect("the session stays in step after an honest answer");
    assert!(second.data.is_empty() && second.sw.is_success());
    let card = channel.into_inner();
    assert_eq!(card.seen, [read.clone(), read]);
});
