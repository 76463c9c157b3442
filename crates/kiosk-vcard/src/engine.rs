//! The APDU engine: decodes one command, applies the chip's rules (file selection, access
//! conditions, secure messaging, authentication state, faults) and always produces an answer.
//! Nothing here panics on bad input; every malformed command gets an ISO 7816-4 status word.

use std::time::Duration;

use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use kiosk_card::tlv;

use kiosk_card::sm::{ChipSm, SmKeys};

use crate::auth::{ChipKeys, Outcome, Protocols};
use crate::fault::Faults;
use crate::fs::{Access, EMRTD_AID, Ef, FileSystem, Location, MF_FID};

/// The ATR the chip answers with (T=1, no historical bytes worth parsing).
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// The largest response data the chip produces for one READ BINARY, like real chips with
/// extended length (and far below the 64 KiB limit of the encoding).
const MAX_READ: usize = 0xFFFF;

/// What the chip does with a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `data ‖ SW1 SW2`.
    Response(Vec<u8>),
    /// The card is no longer there (fault `removed-mid-read`): the transport must report a
    /// removed card (in-process) or drop the connection (vpcd).
    Removed,
}

/// The virtual chip: a file system, keys, faults and the session state.
pub struct Chip {
    fs: FileSystem,
    keys: ChipKeys,
    faults: Faults,
    // Session state, lost on reset.
    applet_selected: bool,
    current: Option<usize>,
    protocols: Protocols,
    authenticated: bool,
    sm: Option<ChipSm>,
    // Counters for fault injection and benchmarks.
    apdu_count: u64,
    dg2_reads: u32,
    /// Whether the last READ BINARY answer reached the end of its file.
    last_read_complete: bool,
    removed: bool,
}

impl std::fmt::Debug for Chip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chip")
            .field("faults", &self.faults)
            .field("authenticated", &self.authenticated)
            .field("apdu_count", &self.apdu_count)
            .finish_non_exhaustive()
    }
}

impl Chip {
    /// A chip with the given files, keys and faults, freshly powered.
    pub fn new(fs: FileSystem, keys: ChipKeys, faults: Faults) -> Self {
        let protocols = Protocols::new(&keys);
        Self {
            fs,
            keys,
            faults,
            applet_selected: false,
            current: None,
            protocols,
            authenticated: false,
            sm: None,
            apdu_count: 0,
            dg2_reads: 0,
            last_read_complete: false,
            removed: false,
        }
    }

    /// Power cycle or warm reset: the session (selection, keys, authentication) is lost.
    pub fn reset(&mut self) -> [u8; 5] {
        self.applet_selected = false;
        self.current = None;
        self.protocols = Protocols::new(&self.keys);
        self.authenticated = false;
        self.sm = None;
        ATR
    }

    /// Puts a removed card back (the next session starts from scratch and the removal fault
    /// does not fire again).
    pub fn reinsert(&mut self) {
        self.removed = false;
        self.faults = std::mem::take(&mut self.faults).without("removed-mid-read");
        self.reset();
    }

    /// The files, for tests and benchmarks.
    pub fn files(&self) -> &FileSystem {
        &self.fs
    }

    /// The files, mutable: for tests and fault scenarios that change content after
    /// personalisation (the SOD is not re-signed).
    pub fn files_mut(&mut self) -> &mut FileSystem {
        &mut self.fs
    }

    /// APDUs processed since creation.
    pub fn apdu_count(&self) -> u64 {
        self.apdu_count
    }

    /// Sets the faults in-process. Only the faults of the chip's behaviour take effect here
    /// (`removed-mid-read`, `no-extended-length`, `slow`); those that change its content or
    /// keys (`corrupt-dg`, `cloned-chip`, `wrong-password`) are applied by
    /// [`crate::personalise::personalise`].
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The delay the `slow` fault asks for, applied by the transport (so the engine stays
    /// free of sleeps and a vpcd loop can still see SIGTERM).
    pub fn delay_per_apdu(&self) -> Option<Duration> {
        self.faults.slow()
    }

    /// Processes one raw command APDU.
    pub fn process(&mut self, raw: &[u8]) -> Answer {
        self.apdu_count += 1;
        if self.removed {
            return Answer::Removed;
        }
        let outer_extended = is_extended_encoding(raw);
        let Ok(cmd) = CommandApdu::decode(raw) else {
            return Answer::Response(sw_only(StatusWord::WRONG_LENGTH));
        };

        // Class byte: 00 plain, 0C secure messaging, bit 5 (0x10) command chaining.
        if cmd.cla & !0x1C != 0 {
            return Answer::Response(sw_only(StatusWord::CLA_NOT_SUPPORTED));
        }
        let protected = cmd.cla & 0x0C == 0x0C;
        let refuses_extended = self.faults.has("no-extended-length");
        if refuses_extended && outer_extended && !(protected && self.sm.is_some()) {
            return Answer::Response(sw_only(StatusWord::WRONG_LENGTH));
        }

        if !protected {
            if self.sm.is_some() {
                // A plain command ends the secure channel (ICAO 9303-11 §9.8): keys and
                // access are gone; the command is then treated like any plain one.
                self.drop_session();
            }
            let (resp, _) = self.dispatch(&cmd);
            return self.finish(&cmd, resp.encode());
        }

        let Some(channel) = self.sm.as_mut() else {
            return Answer::Response(sw_only(StatusWord::SM_DATA_MISSING));
        };
        let inner = match channel.unwrap_command(raw) {
            Ok(inner) => inner,
            Err(_) => {
                // A bad MAC or malformed SM object ends the session; the answer is plain.
                self.drop_session();
                return Answer::Response(sw_only(StatusWord::SM_DATA_INCORRECT));
            }
        };
        // Under SM the refusal is a protected 6700 and the session stays: the reader can step
        // down to short lengths without re-opening the card.
        if refuses_extended && (outer_extended || inner.le.is_some_and(|le| le > 256)) {
            let wrapped = self.wrap(ResponseApdu::new(Vec::new(), StatusWord::WRONG_LENGTH));
            return self.finish(&inner, wrapped);
        }
        let (resp, rekey) = self.dispatch(&inner);
        let wrapped = self.wrap(resp);
        if let Some(keys) = rekey {
            // Chip Authentication: this answer still goes under the old keys.
            self.sm = Some(ChipSm::new(keys));
        }
        self.finish(&inner, wrapped)
    }

    /// Ends the secure channel and access, as a chip does after an SM error or a plain command.
    fn drop_session(&mut self) {
        self.sm = None;
        self.authenticated = false;
        self.protocols = Protocols::new(&self.keys);
    }

    fn wrap(&mut self, resp: ResponseApdu) -> Vec<u8> {
        match self.sm.as_mut() {
            Some(channel) => match channel.wrap_response(&resp) {
                Ok(wrapped) => wrapped,
                Err(_) => sw_only(StatusWord::NO_PRECISE_DIAGNOSIS),
            },
            None => resp.encode(),
        }
    }

    /// Applies the removal fault after the answer to a DG2 read was computed.
    fn finish(&mut self, cmd: &CommandApdu, encoded: Vec<u8>) -> Answer {
        if matches!(cmd.ins, 0xB0 | 0xB1)
            && self.current.and_then(|i| self.fs.file(i)).map(|f| f.fid) == Some(Ef::Dg2.fid())
        {
            self.dg2_reads += 1;
            // The card goes after `after` answered DG2 reads, or on the read that would
            // complete the photo, whichever comes first: the reader never gets the whole DG2,
            // even when it asks for it in one extended APDU.
            if let Some(after) = self.faults.removed_after()
                && (self.dg2_reads > after || self.last_read_complete)
            {
                self.removed = true;
                return Answer::Removed;
            }
        }
        Answer::Response(encoded)
    }

    /// Runs one (unwrapped) command. The second value is a secure channel to switch to after
    /// the answer is sent (Chip Authentication).
    fn dispatch(&mut self, cmd: &CommandApdu) -> (ResponseApdu, Option<SmKeys>) {
        let status = |sw| (ResponseApdu::new(Vec::new(), sw), None);
        // Chaining is only meaningful for GENERAL AUTHENTICATE.
        if cmd.cla & 0x10 != 0 && cmd.ins != 0x86 {
            return status(StatusWord(0x6884));
        }
        match cmd.ins {
            0xA4 => (self.select(cmd), None),
            0xB0 | 0xB1 => (self.read_binary(cmd), None),
            0x84 | 0x82 | 0x22 | 0x86 | 0x88 => self.authenticate(cmd),
            _ => status(StatusWord::INS_NOT_SUPPORTED),
        }
    }

    fn authenticate(&mut self, cmd: &CommandApdu) -> (ResponseApdu, Option<SmKeys>) {
        let secure = self.sm.is_some();
        match crate::auth::handle(
            &mut self.protocols,
            &mut self.keys,
            cmd,
            secure,
            self.authenticated,
        ) {
            Outcome::Respond(resp) => (resp, None),
            Outcome::Established { response, keys } => {
                // BAC/PACE: the answer is plain, everything after it under the new keys.
                self.sm = Some(ChipSm::new(keys));
                self.authenticated = true;
                (response, None)
            }
            Outcome::Rekey { response, keys } => (response, Some(keys)),
        }
    }

    fn select(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        let sw = |sw| ResponseApdu::new(Vec::new(), sw);
        // P2 b4-b3: 00 FCI, 04 FCP, 0C no data; b2-b1: first occurrence only.
        let want_fci = match cmd.p2 {
            0x0C => false,
            0x00 | 0x04 => true,
            _ => return sw(StatusWord::INCORRECT_P1P2),
        };
        match cmd.p1 {
            0x04 => {
                if cmd.data.as_slice() != EMRTD_AID {
                    return sw(StatusWord::FILE_NOT_FOUND);
                }
                self.applet_selected = true;
                self.current = None;
                let data = if want_fci {
                    let aid = tlv::encode(0x84, &EMRTD_AID);
                    tlv::encode(0x6F, &aid)
                } else {
                    Vec::new()
                };
                ResponseApdu::new(data, StatusWord::SUCCESS)
            }
            0x00 | 0x02 => {
                let fid = match cmd.data.as_slice() {
                    [] if cmd.p1 == 0x00 => MF_FID,
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return sw(StatusWord::LC_INCONSISTENT_WITH_P1P2),
                };
                if fid == MF_FID {
                    self.applet_selected = false;
                    self.current = None;
                    return sw(StatusWord::SUCCESS);
                }
                let Some(index) = self.fs.by_fid(self.location(), fid) else {
                    return sw(StatusWord::FILE_NOT_FOUND);
                };
                let Some(file) = self.fs.file(index) else {
                    return sw(StatusWord::FILE_NOT_FOUND);
                };
                if file.access == Access::Eac {
                    return sw(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
                }
                self.current = Some(index);
                let data = if want_fci {
                    let size = u16::try_from(file.content.len()).unwrap_or(u16::MAX);
                    let mut fcp = tlv::encode(0x80, &size.to_be_bytes());
                    fcp.extend(tlv::encode(0x82, &[0x01]));
                    fcp.extend(tlv::encode(0x83, &file.fid.to_be_bytes()));
                    tlv::encode(0x62, &fcp)
                } else {
                    Vec::new()
                };
                ResponseApdu::new(data, StatusWord::SUCCESS)
            }
            _ => sw(StatusWord::INCORRECT_P1P2),
        }
    }

    fn location(&self) -> Location {
        if self.applet_selected {
            Location::Applet
        } else {
            Location::Master
        }
    }

    fn read_binary(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        self.last_read_complete = false;
        let sw = |sw| ResponseApdu::new(Vec::new(), sw);
        let Some(le) = cmd.le else {
            return sw(StatusWord::WRONG_LENGTH);
        };
        let odd = cmd.ins == 0xB1;
        // Which file, and at which offset.
        let (file_ref, offset) = if odd {
            // B1: P1-P2 name the file (0000 = current EF, 00xx with xx ≤ 1F = SFI), the offset
            // is DO'54' in the data field.
            let file_ref = match (cmd.p1, cmd.p2) {
                (0, 0) => FileRef::Current,
                (0, sfi) if sfi <= 0x1F => FileRef::Sfi(sfi),
                (hi, lo) => FileRef::Fid(u16::from_be_bytes([hi, lo])),
            };
            let offset = match tlv::parse_exact(&cmd.data, 0x54) {
                Ok(t) if !t.value.is_empty() && t.value.len() <= 3 => t
                    .value
                    .iter()
                    .fold(0usize, |n, b| (n << 8) | usize::from(*b)),
                _ => return sw(StatusWord::WRONG_DATA),
            };
            (file_ref, offset)
        } else if cmd.p1 & 0x80 != 0 {
            if cmd.p1 & 0x60 != 0 {
                return sw(StatusWord::INCORRECT_P1P2);
            }
            (FileRef::Sfi(cmd.p1 & 0x1F), usize::from(cmd.p2))
        } else {
            (
                FileRef::Current,
                usize::from(u16::from_be_bytes([cmd.p1, cmd.p2])),
            )
        };
        if !odd && !cmd.data.is_empty() {
            return sw(StatusWord::LC_INCONSISTENT_WITH_P1P2);
        }
        let index = match file_ref {
            FileRef::Current => match self.current {
                Some(i) => i,
                None => return sw(StatusWord(0x6986)),
            },
            FileRef::Sfi(sfi) => match self.fs.by_sfi(self.location(), sfi) {
                Some(i) => i,
                None => return sw(StatusWord::FILE_NOT_FOUND),
            },
            FileRef::Fid(fid) => match self.fs.by_fid(self.location(), fid) {
                Some(i) => i,
                None => return sw(StatusWord::FILE_NOT_FOUND),
            },
        };
        let Some(file) = self.fs.file(index) else {
            return sw(StatusWord::FILE_NOT_FOUND);
        };
        match file.access {
            Access::Always => {}
            Access::Eac => return sw(StatusWord::SECURITY_STATUS_NOT_SATISFIED),
            Access::AfterAuthentication => {
                if !(self.authenticated && self.sm.is_some()) {
                    return sw(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
                }
            }
        }
        self.current = Some(index);
        let content = &file.content;
        if offset >= content.len() {
            return sw(StatusWord::WRONG_P1P2);
        }
        let remaining = content.len() - offset;
        let budget = if odd {
            // DO'53' header counts against Le.
            do53_capacity(le)
        } else {
            le
        }
        .min(MAX_READ);
        let n = remaining.min(budget);
        self.last_read_complete = n == remaining;
        let chunk = &content[offset..offset + n];
        let data = if odd {
            tlv::encode(0x53, chunk)
        } else {
            chunk.to_vec()
        };
        // Fewer bytes than asked: "end of file reached before Le bytes" (ISO 7816-4).
        let status = if n < budget {
            StatusWord::END_OF_FILE_WARNING
        } else {
            StatusWord::SUCCESS
        };
        ResponseApdu::new(data, status)
    }
}

enum FileRef {
    Current,
    Sfi(u8),
    Fid(u16),
}

/// How many content bytes fit in `le` bytes of a DO'53'.
fn do53_capacity(le: usize) -> usize {
    let header = |n: usize| {
        1 + match n {
            0..=0x7F => 1,
            0x80..=0xFF => 2,
            _ => 3,
        }
    };
    let mut n = le.saturating_sub(2);
    while n > 0 && n + header(n) > le {
        n -= 1;
    }
    n
}

/// Whether a raw command uses the extended-length encoding (`00` before a 2-byte Lc or Le).
fn is_extended_encoding(raw: &[u8]) -> bool {
    raw.len() >= 7 && raw[4] == 0
}

fn sw_only(sw: StatusWord) -> Vec<u8> {
    sw.0.to_be_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// The sample citizen's chip with a 40 000-byte DG2, so offsets above 32767 exist.
    pub(crate) fn test_chip(faults: Faults) -> Chip {
        let profile = crate::profile::Profile::parse(
            crate::profile::tests::SAMPLE,
            crate::profile::Format::Toml,
            None,
        )
        .unwrap();
        let opts = crate::personalise::Options {
            seed: 3,
            faults,
            ..Default::default()
        };
        let mut chip = crate::personalise::personalise(&profile, &opts)
            .unwrap()
            .chip;
        chip.fs
            .put(Ef::Dg2, (0..40_000u32).map(|i| (i % 251) as u8).collect());
        chip
    }

    fn sw_of(a: &Answer) -> u16 {
        match a {
            Answer::Response(r) => u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]),
            Answer::Removed => panic!("removed"),
        }
    }

    fn data_of(a: &Answer) -> Vec<u8> {
        match a {
            Answer::Response(r) => r[..r.len() - 2].to_vec(),
            Answer::Removed => panic!("removed"),
        }
    }

    #[test]
    fn card_access_reads_plain_by_sfi_and_by_fid() {
        let mut chip = test_chip(Faults::none());
        let a = chip.process(&h("00B09C0000"));
        assert_eq!(data_of(&a), h(crate::personalise::tests::CARD_ACCESS_HEX));
        assert_eq!(sw_of(&a), 0x6282, "short file, Le 256");
        assert_eq!(sw_of(&chip.process(&h("00A4020C02011C"))), 0x9000);
        let a = chip.process(&h("00B0000004"));
        assert_eq!(
            data_of(&a),
            h(crate::personalise::tests::CARD_ACCESS_HEX)[..4]
        );
        assert_eq!(sw_of(&a), 0x9000);
    }

    #[test]
    fn select_variants() {
        let mut chip = test_chip(Faults::none());
        // Applet by AID, no FCI.
        let a = chip.process(&h("00A4040C07A0000002471001"));
        assert_eq!(a, Answer::Response(h("9000")));
        // With FCI.
        let a = chip.process(&h("00A4040007A000000247100100"));
        assert_eq!(data_of(&a), h("6F0984 07A0000002471001"));
        // Unknown AID.
        assert_eq!(sw_of(&chip.process(&h("00A4040C07A0000002471002"))), 0x6A82);
        // EF.COM by FID with FCP: size, type, FID.
        let com_len = chip.files().get(Ef::Com).unwrap().len() as u8;
        let a = chip.process(&h("00A40200 02011E 00"));
        let mut fcp = h("620B 8002 00");
        fcp.push(com_len);
        fcp.extend(h("820101 8302011E"));
        assert_eq!(data_of(&a), fcp);
        // DG3 is EAC-protected; DG11 absent; bad P1.
        assert_eq!(sw_of(&chip.process(&h("00A4020C020103"))), 0x6982);
        assert_eq!(sw_of(&chip.process(&h("00A4020C02010B"))), 0x6A82);
        assert_eq!(sw_of(&chip.process(&h("00A4090C020101"))), 0x6A86);
        // Applet files are not visible from the MF.
        assert_eq!(sw_of(&chip.process(&h("00A4000C023F00"))), 0x9000);
        assert_eq!(sw_of(&chip.process(&h("00A4020C020101"))), 0x6A82);
    }

    #[test]
    fn applet_files_answer_6982_before_access() {
        let mut chip = test_chip(Faults::none());
        chip.process(&h("00A4040C07A0000002471001"));
        assert_eq!(sw_of(&chip.process(&h("00A4020C02011E"))), 0x9000);
        assert_eq!(chip.process(&h("00B0000004")), Answer::Response(h("6982")));
        assert_eq!(chip.process(&h("00B0810000")), Answer::Response(h("6982")));
        assert_eq!(
            chip.process(&h("00B1 0002 03 540180 00")),
            Answer::Response(h("6982"))
        );
    }

    #[test]
    fn malformed_and_unknown_commands_get_status_words() {
        let mut chip = test_chip(Faults::none());
        assert_eq!(chip.process(&[]), Answer::Response(h("6700")));
        assert_eq!(chip.process(&h("00A4")), Answer::Response(h("6700")));
        assert_eq!(chip.process(&h("00CA000000")), Answer::Response(h("6D00")));
        assert_eq!(
            chip.process(&h("80A4000C023F00")),
            Answer::Response(h("6E00"))
        );
        assert_eq!(chip.process(&h("0CB0000004")), Answer::Response(h("6987")));
        // READ BINARY without a current file, without Le, past the end.
        assert_eq!(chip.process(&h("00B0000004")), Answer::Response(h("6986")));
        assert_eq!(chip.process(&h("00B09C00")), Answer::Response(h("6700")));
        assert_eq!(chip.process(&h("00B09CFF10")), Answer::Response(h("6B00")));
    }

    #[test]
    fn do53_capacity_fits_header_and_data() {
        assert_eq!(do53_capacity(256), 253); // 53 81 FD + 253
        assert_eq!(do53_capacity(129), 127); // 53 7F + 127
        assert_eq!(do53_capacity(65_536), 65_532);
        assert_eq!(do53_capacity(2), 0);
    }

    #[test]
    fn no_extended_length_fault_refuses_extended_apdus() {
        let mut chip = test_chip(Faults::none().with(Fault::NoExtendedLength));
        assert_eq!(
            chip.process(&h("00B09C00000400")),
            Answer::Response(h("6700"))
        );
        let mut chip = test_chip(Faults::none());
        assert_eq!(sw_of(&chip.process(&h("00B09C00000400"))), 0x6282);
    }

    proptest::proptest! {
        // Each case personalises a chip (brainpoolP512r1 signatures): fewer, longer cases.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        fn arbitrary_apdus_always_get_an_answer(
            cmds in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 1..20)
        ) {
            let mut chip = test_chip(Faults::none());
            for c in cmds {
                match chip.process(&c) {
                    Answer::Response(r) => proptest::prop_assert!(r.len() >= 2),
                    Answer::Removed => proptest::prop_assert!(false, "removed without fault"),
                }
            }
        }
    }
}
