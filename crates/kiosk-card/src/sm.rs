//! ICAO 9303-11 §9.8 secure messaging, both sides: the terminal's [`SecureChannel`] (a
//! [`CardTransport`] that protects every command and verifies every answer, so file reading is
//! the same code with and without SM) and the chip's [`ChipSm`] (used by the virtual card).
//!
//! Data objects: `87` (encrypted data with the `01` padding indicator; `85` without it for odd
//! INS such as READ BINARY `B1`), `97` (Le), `99` (status word), `8E` (8-byte MAC). The send
//! sequence counter (SSC, one cipher block: 8 bytes for 3DES, 16 for AES) is incremented once
//! before protecting a command and once before verifying its answer; for AES the CBC IV is
//! `E(KS_Enc, SSC)`, for 3DES it is zero.
//!
//! **A chip that answers in plain.** When a protected command comes back as a bare status word
//! (6987/6988 after a MAC failure, 6982 when the chip has dropped the session), the chip no
//! longer has our keys. The channel does not advance the SSC for that answer, marks itself lost
//! and returns [`Error::SessionLost`] — for this and every later command — rather than
//! continuing out of step. The caller re-establishes access ([`crate::access`]) to get a fresh
//! channel and resumes where it was (e.g. [`crate::files::resume`] from the last offset).

use zeroize::Zeroizing;

use crate::apdu::{CommandApdu, EXTENDED_LE_MAX, ResponseApdu, SHORT_LE_MAX, StatusWord};
use crate::crypto::{CipherAlg, SecretKey, ct_eq, pad, unpad};
use crate::error::{Error, Result};
use crate::tlv;
use crate::transport::CardTransport;

/// Session keys and send sequence counter shared by both sides' wrappers.
#[derive(Clone)]
pub struct SmKeys {
    enc: SecretKey,
    mac: SecretKey,
    ssc: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SmKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmKeys({:?}, ..)", self.enc.alg())
    }
}

impl SmKeys {
    /// Keys of one algorithm and the starting SSC (one block long).
    pub fn new(enc: SecretKey, mac: SecretKey, ssc: &[u8]) -> Result<Self> {
        if enc.alg() != mac.alg() || ssc.len() != enc.alg().block_len() {
            return Err(Error::Crypto {
                what: "SM keys disagree in algorithm or SSC length",
            });
        }
        Ok(Self {
            enc,
            mac,
            ssc: Zeroizing::new(ssc.to_vec()),
        })
    }

    pub fn alg(&self) -> CipherAlg {
        self.enc.alg()
    }

    /// The current SSC (for tests and diagnostics; not secret on its own).
    pub fn ssc(&self) -> &[u8] {
        &self.ssc
    }

    pub fn enc_key(&self) -> &SecretKey {
        &self.enc
    }

    pub fn mac_key(&self) -> &SecretKey {
        &self.mac
    }

    fn increment_ssc(&mut self) {
        for b in self.ssc.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }

    fn iv(&self) -> Result<Vec<u8>> {
        match self.alg() {
            CipherAlg::Tdes => Ok(vec![0; 8]),
            _ => self.enc.encrypt_block(&self.ssc),
        }
    }

    fn mac_over(&self, parts: &[&[u8]]) -> Result<[u8; 8]> {
        let mut m = Zeroizing::new(self.ssc.to_vec());
        for p in parts {
            m.extend_from_slice(p);
        }
        self.mac.mac8(&pad(&m, self.alg().block_len()))
    }

    fn encrypt_do(&self, tag: u8, plain: &[u8]) -> Result<Vec<u8>> {
        let bl = self.alg().block_len();
        let cipher = self.enc.cbc_encrypt(&self.iv()?, &pad(plain, bl))?;
        let mut value = Vec::with_capacity(cipher.len() + 1);
        if tag == 0x87 {
            value.push(0x01);
        }
        value.extend_from_slice(&cipher);
        Ok(tlv::encode(u32::from(tag), &value))
    }

    fn decrypt_do(&self, tag: u32, value: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let cipher = if tag == 0x87 {
            match value.split_first() {
                Some((0x01, rest)) => rest,
                _ => {
                    return Err(Error::SecureMessaging {
                        what: "DO'87' without padding indicator 01",
                    });
                }
            }
        } else {
            value
        };
        let bl = self.alg().block_len();
        if cipher.is_empty() || !cipher.len().is_multiple_of(bl) {
            return Err(Error::SecureMessaging {
                what: "encrypted data is not whole cipher blocks",
            });
        }
        let plain = Zeroizing::new(self.enc.cbc_decrypt(&self.iv()?, cipher)?);
        Ok(Zeroizing::new(unpad(&plain)?.to_vec()))
    }

    /// Terminal side: protects `cmd` (increments the SSC).
    pub fn protect_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu> {
        if cmd.cla & 0x0C == 0x0C {
            return Err(Error::SecureMessaging {
                what: "command is already protected",
            });
        }
        self.increment_ssc();
        let cla = cmd.cla | 0x0C;
        let header = pad(&[cla, cmd.ins, cmd.p1, cmd.p2], self.alg().block_len());
        let do87 = if cmd.data.is_empty() {
            Vec::new()
        } else {
            let tag = if cmd.ins & 1 == 1 { 0x85 } else { 0x87 };
            self.encrypt_do(tag, &cmd.data)?
        };
        let do97 = match cmd.le {
            None => Vec::new(),
            Some(le) if le <= SHORT_LE_MAX && !cmd.is_extended() => {
                tlv::encode(0x97, &[(le % SHORT_LE_MAX) as u8])
            }
            Some(le) => tlv::encode(0x97, &((le % EXTENDED_LE_MAX) as u16).to_be_bytes()),
        };
        let mac = self.mac_over(&[&header, &do87, &do97])?;
        let mut data = do87;
        data.extend_from_slice(&do97);
        tlv::encode_into(&mut data, 0x8E, &mac);
        // Extended only when the plain command is (or its protected data outgrew 255 bytes):
        // a short protected Le `00` lets the chip answer up to 256 bytes, which covers every
        // small answer (tokens, ECDSA signatures) on readers without extended length. Callers
        // that expect a long answer ask for Le > 256 (see `max_plain_le` for file chunks).
        let extended = cmd.is_extended() || data.len() > 255;
        Ok(CommandApdu {
            cla,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data,
            le: Some(if extended {
                EXTENDED_LE_MAX
            } else {
                SHORT_LE_MAX
            }),
        })
    }

    /// Terminal side: verifies and decrypts a protected answer (increments the SSC). The caller
    /// has already handled a plain answer (see the module doc).
    pub fn unprotect_response(&mut self, resp: &ResponseApdu) -> Result<ResponseApdu> {
        self.increment_ssc();
        let objects = parse_objects(&resp.data)?;
        let mac = objects.mac.ok_or(Error::SecureMessaging {
            what: "response without DO'8E' MAC",
        })?;
        let do99 = objects.status.ok_or(Error::SecureMessaging {
            what: "response without DO'99' status",
        })?;
        let expected = self.mac_over(&[objects.data_raw.unwrap_or(&[]), do99.raw])?;
        if !ct_eq(&expected, mac) {
            return Err(Error::SecureMessaging {
                what: "response MAC does not verify",
            });
        }
        let sw = match do99.value {
            [a, b] => StatusWord(u16::from_be_bytes([*a, *b])),
            _ => {
                return Err(Error::SecureMessaging {
                    what: "DO'99' is not two bytes",
                });
            }
        };
        let data = match objects.data {
            Some((tag, value)) => self.decrypt_do(tag, value)?.to_vec(),
            None => Vec::new(),
        };
        Ok(ResponseApdu::new(data, sw))
    }

    /// Chip side: verifies and decrypts a protected command (increments the SSC). On error the
    /// chip answers `6988` in plain and forgets the session.
    pub fn unprotect_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu> {
        if cmd.cla & 0x0C != 0x0C {
            return Err(Error::SecureMessaging {
                what: "command is not protected",
            });
        }
        self.increment_ssc();
        let objects = parse_objects(&cmd.data)?;
        let mac = objects.mac.ok_or(Error::SecureMessaging {
            what: "command without DO'8E' MAC",
        })?;
        let header = pad(&[cmd.cla, cmd.ins, cmd.p1, cmd.p2], self.alg().block_len());
        let le_raw = objects.le.map(|t| t.raw).unwrap_or(&[]);
        let expected = self.mac_over(&[&header, objects.data_raw.unwrap_or(&[]), le_raw])?;
        if !ct_eq(&expected, mac) {
            return Err(Error::SecureMessaging {
                what: "command MAC does not verify",
            });
        }
        let le = match objects.le.map(|t| t.value) {
            None => None,
            Some([0]) => Some(SHORT_LE_MAX),
            Some([n]) => Some(usize::from(*n)),
            Some([0, 0]) => Some(EXTENDED_LE_MAX),
            Some([a, b]) => Some(usize::from(u16::from_be_bytes([*a, *b]))),
            Some(_) => {
                return Err(Error::SecureMessaging {
                    what: "DO'97' is not one or two bytes",
                });
            }
        };
        let data = match objects.data {
            Some((tag, value)) => self.decrypt_do(tag, value)?.to_vec(),
            None => Vec::new(),
        };
        Ok(CommandApdu {
            cla: cmd.cla & !0x0C,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data,
            le,
        })
    }

    /// Chip side: protects an answer to the command just unprotected (increments the SSC).
    /// `odd_ins` selects DO'85' (no padding indicator) for odd instructions.
    pub fn protect_response(&mut self, resp: &ResponseApdu, odd_ins: bool) -> Result<ResponseApdu> {
        self.increment_ssc();
        let do87 = if resp.data.is_empty() {
            Vec::new()
        } else {
            self.encrypt_do(if odd_ins { 0x85 } else { 0x87 }, &resp.data)?
        };
        let do99 = tlv::encode(0x99, &resp.sw.0.to_be_bytes());
        let mac = self.mac_over(&[&do87, &do99])?;
        let mut data = do87;
        data.extend_from_slice(&do99);
        tlv::encode_into(&mut data, 0x8E, &mac);
        // The outer status repeats the inner one for errors, as chips do.
        let outer = if resp.sw.sw1() == 0x62 || resp.sw.sw1() == 0x63 || resp.sw.is_success() {
            StatusWord::SUCCESS
        } else {
            resp.sw
        };
        Ok(ResponseApdu::new(data, outer))
    }
}

/// The protected answer's size for an unprotected Le (DO'87' with padding and indicator, DO'99',
/// DO'8E'): decides whether the protected command needs extended length.
pub fn protected_response_len(le: usize, alg: CipherAlg) -> usize {
    let bl = alg.block_len();
    let enc = (le / bl + 1) * bl + 1;
    let len_bytes = if enc < 0x80 {
        1
    } else if enc < 0x100 {
        2
    } else {
        3
    };
    1 + len_bytes + enc + 4 + 10
}

/// The largest unprotected Le whose protected answer still fits in `max_response` bytes.
pub fn max_plain_le(max_response: usize, alg: CipherAlg) -> usize {
    let mut le = max_response.min(EXTENDED_LE_MAX);
    while le > 1 && protected_response_len(le, alg) > max_response {
        le -= 1;
    }
    le
}

struct Objects<'a> {
    data: Option<(u32, &'a [u8])>,
    data_raw: Option<&'a [u8]>,
    le: Option<tlv::Tlv<'a>>,
    status: Option<tlv::Tlv<'a>>,
    mac: Option<&'a [u8]>,
}

/// Splits SM data objects, in the order ICAO requires, rejecting duplicates and unknown tags.
fn parse_objects(data: &[u8]) -> Result<Objects<'_>> {
    let mut out = Objects {
        data: None,
        data_raw: None,
        le: None,
        status: None,
        mac: None,
    };
    for item in tlv::iter(data) {
        let t = item.map_err(|_| Error::SecureMessaging {
            what: "malformed data objects",
        })?;
        if out.mac.is_some() {
            return Err(Error::SecureMessaging {
                what: "data after DO'8E'",
            });
        }
        let dup = Error::SecureMessaging {
            what: "duplicate data object",
        };
        match t.tag {
            0x85 | 0x87 => {
                if out.data.is_some() {
                    return Err(dup);
                }
                out.data = Some((t.tag, t.value));
                out.data_raw = Some(t.raw);
            }
            0x97 => {
                if out.le.replace(t).is_some() {
                    return Err(dup);
                }
            }
            0x99 => {
                if out.status.replace(t).is_some() {
                    return Err(dup);
                }
            }
            0x8E => {
                if t.value.len() != 8 {
                    return Err(Error::SecureMessaging {
                        what: "DO'8E' is not 8 bytes",
                    });
                }
                out.mac = Some(t.value);
            }
            _ => {
                return Err(Error::SecureMessaging {
                    what: "unexpected data object",
                });
            }
        }
    }
    Ok(out)
}

/// A [`CardTransport`] that runs every command through secure messaging.
pub struct SecureChannel<T: CardTransport> {
    inner: T,
    keys: SmKeys,
    lost: Option<StatusWord>,
}

impl<T: CardTransport> std::fmt::Debug for SecureChannel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SecureChannel({}, {:?}, lost={:?})",
            self.inner.describe(),
            self.keys,
            self.lost
        )
    }
}

impl<T: CardTransport> SecureChannel<T> {
    pub fn new(inner: T, keys: SmKeys) -> Self {
        Self {
            inner,
            keys,
            lost: None,
        }
    }

    /// The keys and SSC in use.
    pub fn keys(&self) -> &SmKeys {
        &self.keys
    }

    /// Replaces the session keys (Chip Authentication), keeping the transport.
    pub fn rekey(&mut self, keys: SmKeys) {
        self.keys = keys;
        self.lost = None;
    }

    /// Whether the chip has dropped the session (see the module doc).
    pub fn is_lost(&self) -> bool {
        self.lost.is_some()
    }

    /// The underlying transport (e.g. to re-establish access after the session was lost).
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The underlying transport, borrowed.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: CardTransport> CardTransport for SecureChannel<T> {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let cmd = CommandApdu::decode(command)?;
        Ok(self.transmit(&cmd)?.encode())
    }

    fn describe(&self) -> String {
        format!("{} (secure messaging)", self.inner.describe())
    }

    fn extended_length(&self) -> Option<bool> {
        self.inner.extended_length()
    }

    fn transmit(&mut self, command: &CommandApdu) -> Result<ResponseApdu> {
        if let Some(sw) = self.lost {
            return Err(Error::SessionLost {
                command: "secure messaging",
                sw,
            });
        }
        // Protect on a copy first: a command the reader cannot carry must not move the SSC.
        let mut keys = self.keys.clone();
        let protected = keys.protect_command(command)?;
        if protected.is_extended() && self.inner.extended_length() == Some(false) {
            return Err(Error::ExtendedLengthRefused);
        }
        self.keys = keys;
        let raw = match self.inner.transmit_raw(&protected.encode()?) {
            Ok(raw) => raw,
            Err(e) => {
                // Whether the chip saw the command is unknown: its SSC may differ from ours.
                self.lost = Some(StatusWord::NO_PRECISE_DIAGNOSIS);
                return Err(e);
            }
        };
        let resp = match ResponseApdu::decode(&raw) {
            Ok(r) => r,
            Err(e) => {
                self.lost = Some(StatusWord::NO_PRECISE_DIAGNOSIS);
                return Err(e);
            }
        };
        if resp.data.is_empty() && !resp.sw.is_success() {
            // Plain status word: the chip has left secure messaging. Do not touch the SSC.
            self.lost = Some(resp.sw);
            return Err(Error::SessionLost {
                command: command_name(command.ins),
                sw: resp.sw,
            });
        }
        match self.keys.unprotect_response(&resp) {
            Ok(r) => Ok(r),
            Err(e) => {
                // A response that fails to verify leaves both sides' SSCs unknown.
                self.lost = Some(resp.sw);
                Err(e)
            }
        }
    }
}

/// A name for error messages.
pub fn command_name(ins: u8) -> &'static str {
    match ins {
        0xA4 => "SELECT",
        0xB0 | 0xB1 => "READ BINARY",
        0x84 => "GET CHALLENGE",
        0x82 => "EXTERNAL AUTHENTICATE",
        0x88 => "INTERNAL AUTHENTICATE",
        0x22 => "MSE",
        0x86 | 0x87 => "GENERAL AUTHENTICATE",
        _ => "command",
    }
}

/// The chip's side of a secure-messaging session (used by the virtual card).
#[derive(Debug)]
pub struct ChipSm {
    keys: SmKeys,
    last_ins: u8,
}

impl ChipSm {
    pub fn new(keys: SmKeys) -> Self {
        Self { keys, last_ins: 0 }
    }

    pub fn keys(&self) -> &SmKeys {
        &self.keys
    }

    /// Decodes and unprotects a command. On error the chip should answer plain `6988`
    /// ([`StatusWord::SM_DATA_INCORRECT`]) and drop this state.
    pub fn unwrap_command(&mut self, raw: &[u8]) -> Result<CommandApdu> {
        let cmd = CommandApdu::decode(raw)?;
        let plain = self.keys.unprotect_command(&cmd)?;
        self.last_ins = plain.ins;
        Ok(plain)
    }

    /// Protects the answer to the last unwrapped command and encodes it.
    pub fn wrap_response(&mut self, resp: &ResponseApdu) -> Result<Vec<u8>> {
        let odd = self.last_ins & 1 == 1;
        Ok(self.keys.protect_response(resp, odd)?.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn appendix_d_keys() -> SmKeys {
        SmKeys::new(
            SecretKey::new(CipherAlg::Tdes, &h("979EC13B1CBFE9DCD01AB0FED307EAE5")).unwrap(),
            SecretKey::new(CipherAlg::Tdes, &h("F1CB1F1FB5ADF208806B89DC579DC1F8")).unwrap(),
            &h("887022120C06C226"),
        )
        .unwrap()
    }

    /// Answers each command with the next scripted response and records what it saw.
    struct Script {
        answers: VecDeque<Vec<u8>>,
        seen: Vec<Vec<u8>>,
    }

    impl CardTransport for Script {
        fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
            self.seen.push(command.to_vec());
            self.answers
                .pop_front()
                .ok_or(Error::Transport("script exhausted".into()))
        }
        fn describe(&self) -> String {
            "script".into()
        }
    }

    #[test]
    fn appendix_d_select_and_read_binary_byte_exact() {
        let script = Script {
            answers: [
                "990290008E08FA855A5D4C50A8ED9000",
                "8709019FF0EC34F992265199029000 8E08AD55CC17140B2DED 9000",
                "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A 99029000 8E08C8B2787EAEA07D74 9000",
            ]
            .into_iter()
            .map(h)
            .collect(),
            seen: Vec::new(),
        };
        let mut ch = SecureChannel::new(script, appendix_d_keys());
        let r = ch
            .transmit(&CommandApdu::new(0, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1E]))
            .unwrap();
        assert_eq!(r.sw, StatusWord::SUCCESS);
        assert!(r.data.is_empty());
        let r = ch
            .transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(4))
            .unwrap();
        assert_eq!(r.data, h("60145F01"));
        let r = ch
            .transmit(&CommandApdu::new(0, 0xB0, 0, 4).with_le(0x12))
            .unwrap();
        assert_eq!(r.data, h("04303130365F36063034303030305C026175"));
        let seen = &ch.inner_mut().seen;
        assert_eq!(
            seen[0],
            h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
        );
        assert_eq!(seen[1], h("0CB000000D9701048E08ED6705417E96BA5500"));
        assert_eq!(seen[2], h("0CB000040D9701128E082EA28A70F3C7B53500"));
    }

    #[test]
    fn chip_side_reproduces_appendix_d_answers() {
        let mut term = appendix_d_keys();
        let mut chip = ChipSm::new(appendix_d_keys());
        let select = CommandApdu::new(0, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1E]);
        let cmd = term.protect_command(&select).unwrap();
        assert_eq!(chip.unwrap_command(&cmd.encode().unwrap()).unwrap(), select);
        let raw = chip
            .wrap_response(&ResponseApdu::new(vec![], StatusWord::SUCCESS))
            .unwrap();
        assert_eq!(raw, h("990290008E08FA855A5D4C50A8ED9000"));
        term.unprotect_response(&ResponseApdu::decode(&raw).unwrap())
            .unwrap();
        let cmd = term
            .protect_command(&CommandApdu::new(0, 0xB0, 0, 0).with_le(4))
            .unwrap();
        let plain = chip.unwrap_command(&cmd.encode().unwrap()).unwrap();
        assert_eq!(plain, CommandApdu::new(0, 0xB0, 0, 0).with_le(4));
        let raw = chip
            .wrap_response(&ResponseApdu::new(h("60145F01"), StatusWord::SUCCESS))
            .unwrap();
        assert_eq!(
            raw,
            h("8709019FF0EC34F992265199029000 8E08AD55CC17140B2DED 9000")
        );
    }

    fn aes_pair(alg: CipherAlg) -> (SmKeys, SmKeys) {
        let mk = || {
            SmKeys::new(
                SecretKey::new(alg, &vec![0x11; alg.key_len()]).unwrap(),
                SecretKey::new(alg, &vec![0x22; alg.key_len()]).unwrap(),
                &vec![0; alg.block_len()],
            )
            .unwrap()
        };
        (mk(), mk())
    }

    #[test]
    fn round_trip_with_extended_lengths_both_algorithms() {
        for alg in [CipherAlg::Tdes, CipherAlg::Aes128, CipherAlg::Aes256] {
            let (mut term, chip_keys) = aes_pair(alg);
            let mut chip = ChipSm::new(chip_keys);
            for (data, le) in [
                (vec![], Some(4)),
                (vec![0xAB; 300], Some(1000)),
                (vec![1, 2], None),
                (vec![], Some(65_536)),
                (vec![0x54, 0x02, 0x80, 0x00], Some(200)),
            ] {
                let ins = if data.first() == Some(&0x54) {
                    0xB1
                } else {
                    0xB0
                };
                let cmd = CommandApdu {
                    cla: 0,
                    ins,
                    p1: 0,
                    p2: 0,
                    data: data.clone(),
                    le,
                };
                let prot = term.protect_command(&cmd).unwrap();
                let enc = prot.encode().unwrap();
                assert_eq!(
                    prot.is_extended(),
                    data.len() > 200 || le.is_some_and(|l| l > 200),
                    "{alg:?} {le:?}"
                );
                let got = chip.unwrap_command(&enc).unwrap();
                assert_eq!(got, cmd);
                let answer =
                    ResponseApdu::new(vec![0x5A; le.unwrap_or(0).min(3000)], StatusWord::SUCCESS);
                let raw = chip.wrap_response(&answer).unwrap();
                let back = term
                    .unprotect_response(&ResponseApdu::decode(&raw).unwrap())
                    .unwrap();
                assert_eq!(back, answer);
            }
        }
    }

    #[test]
    fn tampered_mac_is_rejected_on_both_sides() {
        let (mut term, chip_keys) = aes_pair(CipherAlg::Aes128);
        let mut chip = ChipSm::new(chip_keys);
        let mut enc = term
            .protect_command(&CommandApdu::new(0, 0xB0, 0, 0).with_le(8))
            .unwrap()
            .encode()
            .unwrap();
        let n = enc.len();
        enc[n - 2] ^= 1;
        assert!(matches!(
            chip.unwrap_command(&enc),
            Err(Error::SecureMessaging {
                what: "command MAC does not verify"
            })
        ));

        let (term_keys, chip_keys) = aes_pair(CipherAlg::Aes128);
        let mut chip = ChipSm::new(chip_keys);
        let mut ch = SecureChannel::new(
            Script {
                answers: VecDeque::new(),
                seen: Vec::new(),
            },
            term_keys,
        );
        let cmd = ch
            .keys
            .protect_command(&CommandApdu::new(0, 0xB0, 0, 0).with_le(8))
            .unwrap();
        chip.unwrap_command(&cmd.encode().unwrap()).unwrap();
        let mut raw = chip
            .wrap_response(&ResponseApdu::new(vec![1; 8], StatusWord::SUCCESS))
            .unwrap();
        raw[3] ^= 0x40;
        // Feed the tampered answer through the channel for the next command.
        ch.keys = aes_pair(CipherAlg::Aes128).0;
        ch.inner.answers.push_back(raw);
        let err = ch
            .transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(8))
            .unwrap_err();
        assert!(matches!(err, Error::SecureMessaging { .. }), "{err:?}");
        assert!(ch.is_lost());
    }

    #[test]
    fn plain_status_answer_is_session_lost_and_ssc_not_advanced() {
        let (term_keys, _) = aes_pair(CipherAlg::Aes128);
        let mut ch = SecureChannel::new(
            Script {
                answers: [h("6988")].into(),
                seen: Vec::new(),
            },
            term_keys,
        );
        let err = ch
            .transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(8))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::SessionLost {
                command: "READ BINARY",
                sw: StatusWord(0x6988)
            }
        ));
        // Incremented once for the command only.
        let mut expected = [0u8; 16];
        expected[15] = 1;
        assert_eq!(ch.keys().ssc(), &expected[..]);
        // Every later command fails fast without reaching the card.
        let err = ch
            .transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(8))
            .unwrap_err();
        assert!(matches!(err, Error::SessionLost { .. }));
        assert_eq!(ch.inner_mut().seen.len(), 1);
    }

    #[test]
    fn garbage_answer_loses_the_session() {
        let (term_keys, _) = aes_pair(CipherAlg::Aes128);
        let mut ch = SecureChannel::new(
            Script {
                answers: [vec![0x90]].into(),
                seen: Vec::new(),
            },
            term_keys,
        );
        assert!(
            ch.transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(8))
                .is_err()
        );
        assert!(ch.is_lost());
    }

    #[test]
    fn protected_response_sizes() {
        // 223 is the largest short-APDU read under SM (JMRTD's default).
        assert_eq!(max_plain_le(256, CipherAlg::Aes128), 223);
        assert!(protected_response_len(223, CipherAlg::Aes128) <= 256);
        assert!(protected_response_len(224, CipherAlg::Aes128) > 256);
        // 3DES pads to 8 bytes, so a little more fits.
        assert_eq!(max_plain_le(256, CipherAlg::Tdes), 231);
    }

    proptest! {
        #[test]
        fn unwrap_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let (mut term, chip_keys) = aes_pair(CipherAlg::Aes128);
            let mut chip = ChipSm::new(chip_keys);
            let _ = chip.unwrap_command(&bytes);
            if let Ok(r) = ResponseApdu::decode(&bytes) {
                let _ = term.unprotect_response(&r);
            }
            let (mut t3, _) = aes_pair(CipherAlg::Tdes);
            if let Ok(r) = ResponseApdu::decode(&bytes) {
                let _ = t3.unprotect_response(&r);
            }
        }

        #[test]
        fn protect_unprotect_round_trips(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            le in proptest::option::of(1usize..=65_536),
            answer in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let (mut term, chip_keys) = aes_pair(CipherAlg::Aes192);
            let mut chip = ChipSm::new(chip_keys);
            let cmd = CommandApdu { cla: 0, ins: 0xB0, p1: 1, p2: 2, data, le };
            let prot = term.protect_command(&cmd).unwrap();
            prop_assert_eq!(chip.unwrap_command(&prot.encode().unwrap()).unwrap(), cmd);
            let resp = ResponseApdu::new(answer, StatusWord(0x6282));
            let raw = chip.wrap_response(&resp).unwrap();
            prop_assert_eq!(term.unprotect_response(&ResponseApdu::decode(&raw).unwrap()).unwrap(), resp);
        }
    }
}
