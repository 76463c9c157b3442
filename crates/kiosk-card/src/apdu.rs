//! ISO 7816-4 command and response APDUs, short and extended length, and status words with names.
//!
//! Both directions decode and encode, so the reader and the virtual card share one definition.

use crate::error::{Error, Result};

/// The largest Le of a short APDU (encoded as `00`).
pub const SHORT_LE_MAX: usize = 256;
/// The largest Le of an extended APDU (encoded as `00 00`).
pub const EXTENDED_LE_MAX: usize = 65_536;
/// The largest command data field of an extended APDU.
pub const EXTENDED_LC_MAX: usize = 65_535;

/// A command APDU.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandApdu {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Command data (Lc is its length). Empty means no Lc field.
    pub data: Vec<u8>,
    /// Expected response length, 1..=65536; `None` means no Le field.
    pub le: Option<usize>,
}

impl std::fmt::Debug for CommandApdu {
    // Data may hold keys or personal data: show the header and sizes only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CommandApdu({:02X} {:02X} {:02X} {:02X}, lc={}, le={:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.le
        )
    }
}

impl CommandApdu {
    /// A command without data and without Le (case 1).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// Sets the command data.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// Sets Le (1..=65536).
    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// Whether this command needs the extended-length encoding.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|le| le > SHORT_LE_MAX)
    }

    /// Encodes the command; short form when it fits, extended otherwise (ISO 7816-4 §5.1).
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.data.len() > EXTENDED_LC_MAX {
            return Err(Error::ApduMalformed {
                what: "command data longer than 65535 bytes",
            });
        }
        if let Some(le) = self.le
            && !(1..=EXTENDED_LE_MAX).contains(&le)
        {
            return Err(Error::ApduMalformed {
                what: "Le outside 1..=65536",
            });
        }
        let mut out = Vec::with_capacity(self.data.len() + 9);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let extended = self.is_extended();
        if !self.data.is_empty() {
            if extended {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            if extended {
                if self.data.is_empty() {
                    out.push(0);
                }
                // 65536 wraps to 00 00 by design.
                out.extend_from_slice(&((le % EXTENDED_LE_MAX) as u16).to_be_bytes());
            } else {
                out.push((le % SHORT_LE_MAX) as u8);
            }
        }
        Ok(out)
    }

    /// Decodes any of the seven ISO 7816-4 cases (1, 2S, 3S, 4S, 2E, 3E, 4E).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (header, body) = bytes.split_first_chunk::<4>().ok_or(Error::ApduMalformed {
            what: "shorter than the 4-byte header",
        })?;
        let [cla, ins, p1, p2] = *header;
        let mut cmd = Self::new(cla, ins, p1, p2);
        let short_le = |b: u8| if b == 0 { SHORT_LE_MAX } else { usize::from(b) };
        let ext_le = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
            0 => EXTENDED_LE_MAX,
            n => usize::from(n),
        };
        match body {
            [] => {}
            [le] => cmd.le = Some(short_le(*le)),
            [0, hi, lo] => cmd.le = Some(ext_le(*hi, *lo)),
            [0, hi, lo, rest @ ..] if !rest.is_empty() => {
                let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
                if lc == 0 {
                    return Err(Error::ApduMalformed {
                        what: "extended Lc of zero",
                    });
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => cmd.data = rest.to_vec(),
                    Some(2) => {
                        cmd.data = rest[..lc].to_vec();
                        cmd.le = Some(ext_le(rest[lc], rest[lc + 1]));
                    }
                    _ => {
                        return Err(Error::ApduMalformed {
                            what: "extended Lc disagrees with length",
                        });
                    }
                }
            }
            [0, ..] => {
                return Err(Error::ApduMalformed {
                    what: "short Lc of zero",
                });
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => cmd.data = rest.to_vec(),
                    Some(1) => {
                        cmd.data = rest[..lc].to_vec();
                        cmd.le = Some(short_le(rest[lc]));
                    }
                    _ => {
                        return Err(Error::ApduMalformed {
                            what: "Lc disagrees with length",
                        });
                    }
                }
            }
        }
        Ok(cmd)
    }
}

/// A response APDU: data and the two status bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl std::fmt::Debug for ResponseApdu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResponseApdu({} bytes, {})", self.data.len(), self.sw)
    }
}

impl ResponseApdu {
    pub fn new(data: impl Into<Vec<u8>>, sw: StatusWord) -> Self {
        Self {
            data: data.into(),
            sw,
        }
    }

    /// Splits `data ‖ SW1 SW2`.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (data, sw) = bytes.split_last_chunk::<2>().ok_or(Error::ApduMalformed {
            what: "response shorter than its status word",
        })?;
        Ok(Self {
            data: data.to_vec(),
            sw: StatusWord(u16::from_be_bytes(*sw)),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }

    /// The data if the status is success (9000), else [`Error::Status`] naming `command`.
    pub fn ok(self, command: &'static str) -> Result<Vec<u8>> {
        if self.sw.is_success() {
            Ok(self.data)
        } else {
            Err(Error::Status {
                command,
                sw: self.sw,
            })
        }
    }
}

/// A status word (SW1 SW2).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const SUCCESS: Self = Self(0x9000);
    pub const END_OF_FILE_WARNING: Self = Self(0x6282);
    pub const WRONG_LENGTH: Self = Self(0x6700);
    pub const SM_DATA_MISSING: Self = Self(0x6987);
    pub const SM_DATA_INCORRECT: Self = Self(0x6988);
    pub const SECURITY_STATUS_NOT_SATISFIED: Self = Self(0x6982);
    pub const AUTH_METHOD_BLOCKED: Self = Self(0x6983);
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    pub const WRONG_DATA: Self = Self(0x6A80);
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const INCORRECT_P1P2: Self = Self(0x6A86);
    pub const LC_INCONSISTENT_WITH_P1P2: Self = Self(0x6A87);
    pub const REFERENCED_DATA_NOT_FOUND: Self = Self(0x6A88);
    pub const WRONG_P1P2: Self = Self(0x6B00);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    pub const NO_PRECISE_DIAGNOSIS: Self = Self(0x6F00);

    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    pub fn sw2(self) -> u8 {
        self.0 as u8
    }

    pub fn is_success(self) -> bool {
        self == Self::SUCCESS
    }

    /// For `6Cxx`: the exact Le the card wants (00 means 256).
    pub fn correct_le(self) -> Option<usize> {
        (self.sw1() == 0x6C).then(|| {
            if self.sw2() == 0 {
                256
            } else {
                usize::from(self.sw2())
            }
        })
    }

    /// For `63Cx`: the retries left.
    pub fn retries_left(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some(self.sw2() & 0x0F)
    }

    /// The ISO 7816-4 meaning, for messages a technician reads.
    pub fn name(self) -> &'static str {
        match self.0 {
            0x9000 => "success",
            0x6282 => "end of file reached before Le bytes",
            0x6700 => "wrong length",
            0x6881 => "logical channel not supported",
            0x6882 => "secure messaging not supported",
            0x6982 => "security status not satisfied",
            0x6983 => "authentication method blocked",
            0x6984 => "reference data not usable",
            0x6985 => "conditions of use not satisfied",
            0x6986 => "command not allowed (no current EF)",
            0x6987 => "expected secure messaging data objects missing",
            0x6988 => "incorrect secure messaging data objects",
            0x6A80 => "incorrect parameters in the data field",
            0x6A81 => "function not supported",
            0x6A82 => "file or application not found",
            0x6A86 => "incorrect parameters P1-P2",
            0x6A87 => "Lc inconsistent with P1-P2",
            0x6A88 => "referenced data not found",
            0x6B00 => "wrong parameters P1-P2 (offset outside the file)",
            0x6D00 => "instruction not supported",
            0x6E00 => "class not supported",
            0x6F00 => "no precise diagnosis",
            sw if sw & 0xFF00 == 0x6100 => "more data available",
            sw if sw & 0xFF00 == 0x6C00 => "wrong Le (exact length in SW2)",
            sw if sw & 0xFFF0 == 0x63C0 => "verification failed (retries left in SW2)",
            _ => "unknown status",
        }
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X} ({})", self.0, self.name())
    }
}

impl std::fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn icao_examples_encode_as_printed() {
        // READ BINARY by SFI 1C (EF.CardAccess), Le 256.
        let c = CommandApdu::new(0x00, 0xB0, 0x9C, 0x00).with_le(256);
        assert_eq!(c.encode().unwrap(), h("00B09C0000"));
        // Appendix G.1 MSE:Set AT.
        let c =
            CommandApdu::new(0x00, 0x22, 0xC1, 0xA4).with_data(h("800A04007F00070202040202830101"));
        assert_eq!(
            c.encode().unwrap(),
            h("0022C1A40F800A04007F00070202040202830101")
        );
        // Appendix D EXTERNAL AUTHENTICATE: case 4 short with Le 28.
        let c = CommandApdu::new(0x00, 0x82, 0, 0)
            .with_data(vec![0; 0x28])
            .with_le(0x28);
        let enc = c.encode().unwrap();
        assert_eq!(enc.len(), 4 + 1 + 0x28 + 1);
        assert_eq!(CommandApdu::decode(&enc).unwrap(), c);
    }

    #[test]
    fn extended_forms() {
        let c = CommandApdu::new(0x0C, 0xB0, 0, 0).with_le(65_536);
        assert_eq!(c.encode().unwrap(), h("0CB00000000000"));
        let c = CommandApdu::new(0x00, 0xB1, 0, 0)
            .with_data(vec![7; 300])
            .with_le(1000);
        let enc = c.encode().unwrap();
        assert_eq!(&enc[4..7], &[0, 0x01, 0x2C]);
        assert_eq!(&enc[enc.len() - 2..], &[0x03, 0xE8]);
        assert_eq!(CommandApdu::decode(&enc).unwrap(), c);
    }

    #[test]
    fn malformed_commands_are_errors() {
        assert!(CommandApdu::decode(&h("00A4")).is_err());
        assert!(CommandApdu::decode(&h("00A4020C0501")).is_err());
        assert!(CommandApdu::decode(&h("00A4020C00000501")).is_err());
        assert!(ResponseApdu::decode(&[0x90]).is_err());
        assert!(CommandApdu::new(0, 0, 0, 0).with_le(0).encode().is_err());
    }

    #[test]
    fn status_words_explain_themselves() {
        assert_eq!(
            StatusWord(0x6982).to_string(),
            "6982 (security status not satisfied)"
        );
        assert_eq!(StatusWord(0x6C10).correct_le(), Some(16));
        assert_eq!(StatusWord(0x63C2).retries_left(), Some(2));
        let r = ResponseApdu::decode(&h("01029000")).unwrap();
        assert_eq!(r.clone().ok("READ BINARY").unwrap(), vec![1, 2]);
        let r = ResponseApdu::decode(&h("6A82")).unwrap();
        assert!(matches!(
            r.ok("SELECT"),
            Err(Error::Status {
                sw: StatusWord(0x6A82),
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn every_command_round_trips(
            cla in any::<u8>(), ins in any::<u8>(), p1 in any::<u8>(), p2 in any::<u8>(),
            data in proptest::collection::vec(any::<u8>(), 0..400),
            le in proptest::option::of(1usize..=65_536),
        ) {
            let c = CommandApdu { cla, ins, p1, p2, data, le };
            let enc = c.encode().unwrap();
            prop_assert_eq!(CommandApdu::decode(&enc).unwrap(), c);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = CommandApdu::decode(&bytes);
            let _ = ResponseApdu::decode(&bytes);
        }
    }
}
