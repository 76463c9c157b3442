//! Secure messaging, chip side: [`ChipSm::unwrap_command`] on command bytes from the fuzz input.
//!
//! Input: `control ‖ rest` (see `sm_session::control`).
//! - forged: `rest` is the protected command as received. It never verifies (a fuzzer cannot
//!   forge the MAC);
//! - honest: `rest = flip_pos(2) ‖ plain command APDU`; the terminal's keys protect it, the chip
//!   must unwrap exactly that command (CLA without the SM bits), and its wrapped answer must
//!   verify on the terminal side (both SSCs in step);
//! - tampered: as honest, with one byte of the protected command's header or data objects
//!   changed: refused.
#![no_main]

#[path = "sm_session.rs"]
mod sm_session;

use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use kiosk_card::sm::ChipSm;
use libfuzzer_sys::fuzz_target;
use sm_session::{Mode, control, keys};

fuzz_target!(|data: &[u8]| {
    let Some((&ctrl, rest)) = data.split_first() else {
        return;
    };
    let (aes, mode) = control(ctrl);
    let mut chip = ChipSm::new(keys(aes));

    if mode == Mode::Forged {
        assert!(
            chip.unwrap_command(rest).is_err(),
            "a forged command must not verify"
        );
        return;
    }

    let [f0, f1, plain @ ..] = rest else {
        return;
    };
    let Ok(mut plain) = CommandApdu::decode(plain) else {
        return;
    };
    // A command that already claims SM is refused by the terminal before anything is sent.
    plain.cla &= !0x0C;
    let mut terminal = keys(aes);
    let mut protected = terminal
        .protect_command(&plain)
        .expect("any plain command can be protected");
    if mode == Mode::Tampered {
        // Header and data objects only: the outer Lc and Le are not covered by the MAC.
        let pos = usize::from(u16::from_be_bytes([*f0, *f1])) % (4 + protected.data.len());
        let xor = (*f1).max(1);
        match pos {
            0 => protected.cla ^= xor,
            1 => protected.ins ^= xor,
            2 => protected.p1 ^= xor,
            3 => protected.p2 ^= xor,
            n => protected.data[n - 4] ^= xor,
        }
    }
    let Ok(raw) = protected.encode() else {
        // Longer than an extended APDU carries once protected: nothing to send.
        return;
    };
    let unwrapped = chip.unwrap_command(&raw);
    if mode == Mode::Tampered {
        assert!(unwrapped.is_err(), "a tampered command must not verify");
        return;
    }
    let unwrapped = unwrapped.expect("an honestly protected command must verify");
    assert_eq!(unwrapped, plain);
    let answer = ResponseApdu::new(plain.data.clone(), StatusWord::SUCCESS);
    let wrapped = chip
        .wrap_response(&answer)
        .expect("the chip must wrap any answer");
    let wrapped = ResponseApdu::decode(&wrapped).expect("a wrapped answer has a status word");
    let back = terminal
        .unprotect_response(&wrapped)
        .expect("the chip's answer must verify");
    assert_eq!(back, answer);
});
