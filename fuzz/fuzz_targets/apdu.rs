//! Command and response APDUs: decoding never panics. A decoded command encodes again and
//! decodes to the same command (the encoder may pick the short form where the input used the
//! extended one, so bytes are compared only through a second encode); a response is a bijection
//! with its bytes.
#![no_main]

use kiosk_card::apdu::{CommandApdu, ResponseApdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = CommandApdu::decode(data) {
        assert_eq!(&data[..4], &[cmd.cla, cmd.ins, cmd.p1, cmd.p2]);
        assert!(cmd.data.len() < data.len());
        let encoded = cmd.encode().expect("a decoded command must encode");
        assert!(
            encoded.len() <= data.len(),
            "the encoder never grows a command"
        );
        let back = CommandApdu::decode(&encoded).expect("an encoded command must decode");
        assert_eq!(back, cmd);
        assert_eq!(back.encode().expect("must encode again"), encoded);
    }
    match ResponseApdu::decode(data) {
        Ok(resp) => {
            assert_eq!(resp.data.len() + 2, data.len());
            assert_eq!(resp.encode(), data);
        }
        Err(_) => assert!(data.len() < 2),
    }
});
