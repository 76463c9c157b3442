//! Reading elementary files over any [`CardTransport`] — plain or a
//! [`SecureChannel`](crate::sm::SecureChannel), the code is the same.
//!
//! A read starts with READ BINARY by short file identifier (`P1 = 80|SFI`, which also selects the
//! file) when the file has one, else SELECT by FID (`00 A4 02 0C`). The first 8 bytes give the
//! TLV header and so the file's length ([`tlv::read_header`]), which is capped before anything is
//! allocated. The rest comes in the largest chunk that works: extended length is probed once,
//! then a ladder steps down (1024 → 223 → 160 → 112 → 64 → 32) on `6700`, `6Cxx` or a transport
//! refusal, and the [`ReadProfile`] the caller keeps per reader remembers the size that worked.
//! Offsets above 32767 use READ BINARY `B1` with an offset data object `54`.
//!
//! A read that breaks off (card moved, session lost) keeps its bytes in the [`FileRead`]; after
//! access has been re-established, [`resume`] continues from the same offset.

use zeroize::Zeroizing;

use crate::apdu::{CommandApdu, StatusWord};
use crate::error::{Error, Result};
use crate::tlv;
use crate::transport::CardTransport;

/// The default cap on any file's length.
pub const MAX_FILE_LEN: usize = 256 * 1024;

/// Chunk sizes tried, largest first. The first is the extended-length probe, sized so that
/// the protected answer (padding, DO'87', DO'99', DO'8E') still fits in 65536 bytes.
pub const LADDER: [usize; 7] = [0xFE00, 1024, 223, 160, 112, 64, 32];

/// The first read: enough for any tag and length the LDS uses.
const HEADER_PROBE: usize = 8;

/// The largest offset READ BINARY `B0` can address (15 bits; bit 8 of P1 marks an SFI).
const MAX_B0_OFFSET: usize = 0x7FFF;

/// An elementary file: its file identifier and, if it has one, its short file identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    pub fid: u16,
    pub sfi: Option<u8>,
}

impl FileId {
    pub const fn new(fid: u16, sfi: Option<u8>) -> Self {
        Self { fid, sfi }
    }

    /// Data group `n` (1..=16): FID `01nn`, SFI `n`.
    pub const fn data_group(n: u8) -> Self {
        Self {
            fid: 0x0100 | n as u16,
            sfi: Some(n),
        }
    }
}

/// EF.CardAccess (in the master file).
pub const EF_CARD_ACCESS: FileId = FileId::new(0x011C, Some(0x1C));
/// EF.COM.
pub const EF_COM: FileId = FileId::new(0x011E, Some(0x1E));
/// EF.SOD.
pub const EF_SOD: FileId = FileId::new(0x011D, Some(0x1D));

/// What the caller keeps per reader: the chunk size that works with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadProfile {
    rung: usize,
    confirmed: bool,
}

impl ReadProfile {
    /// A fresh profile: extended length will be probed unless the transport already says it
    /// cannot carry it.
    pub fn for_transport<T: CardTransport + ?Sized>(t: &T) -> Self {
        let mut p = Self::default();
        if t.extended_length() == Some(false) {
            p.rung = first_short_rung();
        }
        p
    }

    /// A profile that never tries extended length (plain reads before access, e.g.
    /// EF.CardAccess).
    pub fn short() -> Self {
        Self {
            rung: first_short_rung(),
            confirmed: false,
        }
    }

    /// The chunk size reads use now.
    pub fn chunk(&self) -> usize {
        LADDER[self.rung]
    }

    /// Whether [`Self::chunk`] has worked at least once.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed
    }

    /// Whether extended length is (still) in use.
    pub fn uses_extended_length(&self) -> bool {
        self.chunk() > 256
    }

    /// One rung down; false at the bottom.
    fn step_down(&mut self) -> bool {
        if self.confirmed || self.rung + 1 >= LADDER.len() {
            // A size that has worked before stays: the failure is not about length.
            return false;
        }
        self.rung += 1;
        true
    }

    /// Skip straight to short lengths (the transport refused an extended APDU).
    fn refuse_extended(&mut self) {
        self.rung = self.rung.max(first_short_rung());
        self.confirmed = false;
    }
}

fn first_short_rung() -> usize {
    LADDER
        .iter()
        .position(|c| *c <= 256)
        .unwrap_or(LADDER.len() - 1)
}

/// A file read in progress (or done). Holds personal data: zeroized on drop, never printed.
pub struct FileRead {
    file: FileId,
    data: Zeroizing<Vec<u8>>,
    total: Option<usize>,
    selected: bool,
    max_len: usize,
}

impl std::fmt::Debug for FileRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FileRead({:04X}, {} of {:?} bytes)",
            self.file.fid,
            self.data.len(),
            self.total
        )
    }
}

impl FileRead {
    pub fn new(file: FileId) -> Self {
        Self {
            file,
            data: Zeroizing::new(Vec::new()),
            total: None,
            selected: false,
            max_len: MAX_FILE_LEN,
        }
    }

    /// Sets the cap on the file's announced length.
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    pub fn file(&self) -> FileId {
        self.file
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.data.len()
    }

    /// The file's length once the header has been read.
    pub fn total_len(&self) -> Option<usize> {
        self.total
    }

    pub fn is_complete(&self) -> bool {
        self.total.is_some_and(|t| self.data.len() >= t)
    }

    /// The file's bytes; an error if the read has not completed.
    pub fn finish(self) -> Result<Zeroizing<Vec<u8>>> {
        if !self.is_complete() {
            return Err(Error::Protocol {
                protocol: "READ BINARY",
                what: "file read not complete",
            });
        }
        Ok(self.data)
    }

    /// Reads until the file is complete. On error the bytes read so far stay here for
    /// [`resume`].
    pub fn run<T: CardTransport + ?Sized>(
        &mut self,
        t: &mut T,
        profile: &mut ReadProfile,
    ) -> Result<()> {
        // Each round either adds bytes, steps the ladder down, or fails: bounded.
        let mut stalls = 0;
        loop {
            if let Some(total) = self.total
                && self.data.len() >= total
            {
                self.data.truncate(total);
                return Ok(());
            }
            let offset = self.data.len();
            let by_sfi = !self.selected && self.file.sfi.is_some() && offset <= 0xFF;
            if !self.selected && !by_sfi {
                self.select(t)?;
            }
            let mut want = match self.total {
                None => HEADER_PROBE.min(profile.chunk()),
                Some(total) => (total - offset).min(profile.chunk()),
            };
            if offset > MAX_B0_OFFSET {
                // Leave room for the DO'53' header around the data within the chunk size.
                want = want.min(profile.chunk().saturating_sub(4)).max(1);
            }
            match self.read_at(t, offset, want, by_sfi) {
                Ok(Chunk::Data(bytes)) => {
                    if bytes.is_empty() {
                        stalls += 1;
                        if stalls > 2 {
                            return Err(Error::Protocol {
                                protocol: "READ BINARY",
                                what: "card returned no data before the end of the file",
                            });
                        }
                        continue;
                    }
                    stalls = 0;
                    if by_sfi {
                        self.selected = true;
                    }
                    if want == profile.chunk() {
                        profile.confirmed = true;
                    }
                    let room = self.total.map_or(usize::MAX, |t| t - offset);
                    self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    if self.total.is_none() {
                        self.learn_length()?;
                    }
                }
                Ok(Chunk::TooLong { exact }) => {
                    match exact {
                        // The card names the length it has left: take exactly that once.
                        Some(n) if n < want && n > 0 => {
                            let bytes = self.read_exact(t, offset, n, by_sfi)?;
                            if by_sfi {
                                self.selected = true;
                            }
                            self.data.extend_from_slice(&bytes);
                            if self.total.is_none() {
                                self.learn_length()?;
                            }
                        }
                        _ => {
                            if !profile.step_down() {
                                return Err(Error::Status {
                                    command: "READ BINARY",
                                    sw: StatusWord::WRONG_LENGTH,
                                });
                            }
                        }
                    }
                }
                Err(Error::ExtendedLengthRefused) if want > 256 => profile.refuse_extended(),
                Err(Error::Transport(_)) if want > 256 => {
                    // The reader refused the extended APDU; a secure channel will report
                    // itself lost on the next command if the session suffered.
                    profile.refuse_extended();
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn learn_length(&mut self) -> Result<()> {
        match tlv::read_header(&self.data) {
            Ok(h) => {
                let len = h.total_len();
                if len > self.max_len {
                    return Err(Error::FileTooLarge {
                        fid: self.file.fid,
                        len,
                        max: self.max_len,
                    });
                }
                self.total = Some(len);
                self.data.truncate(len);
                Ok(())
            }
            // Fewer bytes than a header: the next read brings more.
            Err(Error::TlvTruncated { .. }) if self.data.len() < HEADER_PROBE => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn select<T: CardTransport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        let resp = t.transmit(
            &CommandApdu::new(0x00, 0xA4, 0x02, 0x0C)
                .with_data(self.file.fid.to_be_bytes().to_vec()),
        )?;
        match resp.sw {
            StatusWord::SUCCESS => {
                self.selected = true;
                Ok(())
            }
            StatusWord::SECURITY_STATUS_NOT_SATISFIED => {
                Err(Error::FileProtected { fid: self.file.fid })
            }
            sw => Err(Error::Status {
                command: "SELECT",
                sw,
            }),
        }
    }

    fn read_exact<T: CardTransport + ?Sized>(
        &mut self,
        t: &mut T,
        offset: usize,
        n: usize,
        by_sfi: bool,
    ) -> Result<Vec<u8>> {
        match self.read_at(t, offset, n, by_sfi)? {
            Chunk::Data(b) if !b.is_empty() => Ok(b[..b.len().min(n)].to_vec()),
            _ => Err(Error::Protocol {
                protocol: "READ BINARY",
                what: "card refused the length it asked for (6Cxx)",
            }),
        }
    }

    fn read_at<T: CardTransport + ?Sized>(
        &mut self,
        t: &mut T,
        offset: usize,
        want: usize,
        by_sfi: bool,
    ) -> Result<Chunk> {
        let odd = offset > MAX_B0_OFFSET;
        let cmd = if odd {
            let off = (offset as u32).to_be_bytes();
            let skip = off.iter().take_while(|b| **b == 0).count().min(3);
            // The answer is wrapped in DO'53': ask for its header too.
            CommandApdu::new(0x00, 0xB1, 0x00, 0x00)
                .with_data(tlv::encode(0x54, &off[skip..]))
                .with_le((want + 4).min(crate::apdu::EXTENDED_LE_MAX))
        } else if by_sfi {
            let sfi = self.file.sfi.unwrap_or(0);
            CommandApdu::new(0x00, 0xB0, 0x80 | sfi, offset as u8).with_le(want)
        } else {
            CommandApdu::new(0x00, 0xB0, (offset >> 8) as u8, offset as u8).with_le(want)
        };
        let resp = t.transmit(&cmd)?;
        match resp.sw {
            StatusWord::SUCCESS | StatusWord::END_OF_FILE_WARNING => {
                if odd {
                    let (do53, _) = tlv::parse(&resp.data)?;
                    if do53.tag != 0x53 {
                        return Err(Error::UnexpectedTag {
                            expected: 0x53,
                            found: do53.tag,
                        });
                    }
                    Ok(Chunk::Data(do53.value.to_vec()))
                } else {
                    Ok(Chunk::Data(resp.data))
                }
            }
            StatusWord::WRONG_LENGTH => Ok(Chunk::TooLong { exact: None }),
            sw if sw.correct_le().is_some() => Ok(Chunk::TooLong {
                exact: sw.correct_le(),
            }),
            StatusWord::SECURITY_STATUS_NOT_SATISFIED if offset == 0 => {
                Err(Error::FileProtected { fid: self.file.fid })
            }
            sw => Err(Error::Status {
                command: "READ BINARY",
                sw,
            }),
        }
    }
}

enum Chunk {
    Data(Vec<u8>),
    TooLong { exact: Option<usize> },
}

/// Reads a whole file.
pub fn read_file<T: CardTransport + ?Sized>(
    t: &mut T,
    file: FileId,
    profile: &mut ReadProfile,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut r = FileRead::new(file);
    r.run(t, profile)?;
    r.finish()
}

/// Continues a read that broke off, over a newly established session: the file is selected
/// again and reading goes on from the bytes already held.
pub fn resume<T: CardTransport + ?Sized>(
    t: &mut T,
    partial: &mut FileRead,
    profile: &mut ReadProfile,
) -> Result<()> {
    partial.selected = false;
    partial.run(t, profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::ResponseApdu;
    use std::collections::HashMap;

    /// A scripted card: a few files, a largest Le it accepts (6700 above), optional strict
    /// 6Cxx at the end of a file, optional transport limit, and a budget of APDUs before the
    /// card "goes away".
    struct FakeCard {
        files: HashMap<u16, (Option<u8>, Vec<u8>)>,
        protected: Vec<u16>,
        max_le: usize,
        strict_6c: bool,
        extended_ok: Option<bool>,
        budget: Option<usize>,
        current: Option<u16>,
        log: Vec<CommandApdu>,
    }

    impl FakeCard {
        fn new(max_le: usize) -> Self {
            Self {
                files: HashMap::new(),
                protected: vec![],
                max_le,
                strict_6c: false,
                extended_ok: None,
                budget: None,
                current: None,
                log: vec![],
            }
        }

        fn with_file(mut self, fid: u16, sfi: Option<u8>, len: usize) -> Self {
            self.files.insert(fid, (sfi, sample_file(len)));
            self
        }

        fn answer(&mut self, cmd: &CommandApdu) -> ResponseApdu {
            let sw = |v| ResponseApdu::new(vec![], StatusWord(v));
            match cmd.ins {
                0xA4 => {
                    let fid = u16::from_be_bytes([cmd.data[0], cmd.data[1]]);
                    if self.protected.contains(&fid) {
                        return sw(0x6982);
                    }
                    if self.files.contains_key(&fid) {
                        self.current = Some(fid);
                        sw(0x9000)
                    } else {
                        sw(0x6A82)
                    }
                }
                0xB0 | 0xB1 => {
                    let le = cmd.le.unwrap_or(0);
                    if le > self.max_le {
                        return sw(0x6700);
                    }
                    let offset = if cmd.ins == 0xB1 {
                        let t = tlv::parse_exact(&cmd.data, 0x54).unwrap();
                        t.value.iter().fold(0usize, |a, b| a << 8 | usize::from(*b))
                    } else if cmd.p1 & 0x80 != 0 {
                        let sfi = cmd.p1 & 0x1F;
                        let Some((fid, _)) = self.files.iter().find(|(_, (s, _))| *s == Some(sfi))
                        else {
                            return sw(0x6A82);
                        };
                        self.current = Some(*fid);
                        usize::from(cmd.p2)
                    } else {
                        assert!(cmd.p1 & 0x80 == 0);
                        usize::from(cmd.p1) << 8 | usize::from(cmd.p2)
                    };
                    let Some(fid) = self.current else {
                        return sw(0x6986);
                    };
                    let data = &self.files[&fid].1;
                    if offset > data.len() {
                        return sw(0x6B00);
                    }
                    let le = if cmd.ins == 0xB1 { le - 4 } else { le };
                    let end = (offset + le).min(data.len());
                    if self.strict_6c && end - offset < le {
                        return sw(0x6C00 | (end - offset) as u16);
                    }
                    let chunk = data[offset..end].to_vec();
                    let status = if end - offset < le { 0x6282 } else { 0x9000 };
                    let body = if cmd.ins == 0xB1 {
                        tlv::encode(0x53, &chunk)
                    } else {
                        chunk
                    };
                    ResponseApdu::new(body, StatusWord(status))
                }
                _ => sw(0x6D00),
            }
        }
    }

    impl CardTransport for FakeCard {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            let cmd = CommandApdu::decode(c)?;
            if let Some(b) = self.budget.as_mut() {
                if *b == 0 {
                    return Err(Error::CardRemoved);
                }
                *b -= 1;
            }
            if cmd.is_extended() && self.extended_ok == Some(false) {
                return Err(Error::Transport("reader refuses extended APDUs".into()));
            }
            self.log.push(cmd.clone());
            Ok(self.answer(&cmd).encode())
        }
        fn describe(&self) -> String {
            "fake".into()
        }
        fn extended_length(&self) -> Option<bool> {
            self.extended_ok
        }
    }

    /// A TLV file of exactly `len` bytes whose content bytes count up.
    fn sample_file(len: usize) -> Vec<u8> {
        let mut header = Vec::new();
        tlv::encode_tag(&mut header, 0x75);
        let mut value_len = len - 2;
        loop {
            let mut h = header.clone();
            tlv::encode_length(&mut h, value_len);
            if h.len() + value_len == len {
                header = h;
                break;
            }
            value_len -= 1;
        }
        let mut out = header;
        out.extend((0..value_len).map(|i| (i % 251) as u8));
        out
    }

    #[test]
    fn ladder_steps_down_on_6700_and_is_remembered() {
        let mut card = FakeCard::new(160)
            .with_file(0x0102, Some(2), 20_000)
            .with_file(0x010D, Some(0x0D), 1_000);
        let mut profile = ReadProfile::for_transport(&card);
        let dg2 = read_file(&mut card, FileId::data_group(2), &mut profile).unwrap();
        assert_eq!(&dg2[..], &sample_file(20_000)[..]);
        assert_eq!(profile.chunk(), 160);
        assert!(profile.is_confirmed());
        // The first command read by SFI; then 0xFE00, 1024 and 223 were refused once each.
        assert_eq!(card.log[0].p1, 0x82);
        let refused = card.log.iter().filter(|c| c.le.unwrap_or(0) > 160).count();
        assert_eq!(refused, 3);
        // The next file starts at the remembered size: no more refusals.
        card.log.clear();
        let dg13 = read_file(&mut card, FileId::data_group(13), &mut profile).unwrap();
        assert_eq!(&dg13[..], &sample_file(1_000)[..]);
        assert!(card.log.iter().all(|c| c.le.unwrap_or(0) <= 160));
        assert_eq!(card.log.len(), 1 + 1_000usize.div_ceil(160));
    }

    #[test]
    fn extended_length_reads_a_big_file_in_few_apdus() {
        let mut card = FakeCard::new(65_536).with_file(0x0102, Some(2), 20_000);
        let mut profile = ReadProfile::for_transport(&card);
        let dg2 = read_file(&mut card, FileId::data_group(2), &mut profile).unwrap();
        assert_eq!(dg2.len(), 20_000);
        assert_eq!(card.log.len(), 2);
        assert!(profile.uses_extended_length());
    }

    #[test]
    fn transport_without_extended_length_never_gets_one() {
        let mut card = FakeCard::new(65_536).with_file(0x0102, Some(2), 5_000);
        card.extended_ok = Some(false);
        let mut profile = ReadProfile::for_transport(&card);
        assert_eq!(profile.chunk(), 223);
        let dg2 = read_file(&mut card, FileId::data_group(2), &mut profile).unwrap();
        assert_eq!(&dg2[..], &sample_file(5_000)[..]);
        assert!(card.log.iter().all(|c| !c.is_extended()));
    }

    #[test]
    fn transport_refusal_steps_to_short_lengths() {
        let mut card = FakeCard::new(65_536).with_file(0x0102, Some(2), 3_000);
        card.extended_ok = Some(false);
        // The profile was made without asking the transport.
        let mut profile = ReadProfile::default();
        let dg2 = read_file(&mut card, FileId::data_group(2), &mut profile).unwrap();
        assert_eq!(&dg2[..], &sample_file(3_000)[..]);
        assert_eq!(profile.chunk(), 223);
    }

    #[test]
    fn strict_6cxx_gets_the_exact_length() {
        // A 5-byte file is shorter than the 8-byte header probe.
        let mut card = FakeCard::new(223).with_file(0x011C, Some(0x1C), 5);
        card.strict_6c = true;
        let mut profile = ReadProfile::default();
        let ef = read_file(&mut card, EF_CARD_ACCESS, &mut profile).unwrap();
        assert_eq!(&ef[..], &sample_file(5)[..]);
        let les: Vec<_> = card.log.iter().map(|c| (c.p1, c.le)).collect();
        assert_eq!(les, vec![(0x9C, Some(8)), (0x9C, Some(5))]);
    }

    #[test]
    fn offsets_above_32767_use_b1_with_do54() {
        let mut card = FakeCard::new(1_024).with_file(0x0102, None, 40_000);
        let mut profile = ReadProfile::default();
        let dg2 = read_file(&mut card, FileId::new(0x0102, None), &mut profile).unwrap();
        assert_eq!(&dg2[..], &sample_file(40_000)[..]);
        assert_eq!(card.log[0].ins, 0xA4);
        let b1: Vec<_> = card.log.iter().filter(|c| c.ins == 0xB1).collect();
        assert!(!b1.is_empty());
        // The first B1 starts exactly where B0 could go no further.
        let b0_max = card
            .log
            .iter()
            .filter(|c| c.ins == 0xB0)
            .map(|c| (usize::from(c.p1) << 8 | usize::from(c.p2)) + c.le.unwrap())
            .max()
            .unwrap();
        assert!(b0_max > MAX_B0_OFFSET);
        assert_eq!(b1[0].data[0], 0x54);
    }

    #[test]
    fn resume_continues_from_the_last_offset() {
        let mut card = FakeCard::new(223).with_file(0x0102, Some(2), 10_000);
        card.budget = Some(20);
        let mut profile = ReadProfile::default();
        let mut read = FileRead::new(FileId::data_group(2));
        let err = read.run(&mut card, &mut profile).unwrap_err();
        assert!(matches!(err, Error::CardRemoved));
        let got = read.offset();
        assert!(got > 1_000 && got < 10_000, "{got}");
        assert!(!read.is_complete());
        // "Re-established": a fresh session on the same card.
        card.budget = None;
        card.current = None;
        card.log.clear();
        resume(&mut card, &mut read, &mut profile).unwrap();
        assert_eq!(card.log[0].ins, 0xA4, "offset > 255: select by FID first");
        let first_read = &card.log[1];
        assert_eq!(
            usize::from(first_read.p1) << 8 | usize::from(first_read.p2),
            got
        );
        assert_eq!(&read.finish().unwrap()[..], &sample_file(10_000)[..]);
    }

    #[test]
    fn eac_files_and_missing_files_and_caps() {
        let mut card = FakeCard::new(223).with_file(0x0102, Some(2), 300_000);
        card.protected.push(0x0103);
        let mut profile = ReadProfile::default();
        let err = read_file(&mut card, FileId::new(0x0103, None), &mut profile).unwrap_err();
        assert!(matches!(err, Error::FileProtected { fid: 0x0103 }));
        let err = read_file(&mut card, FileId::new(0x010B, None), &mut profile).unwrap_err();
        assert!(matches!(
            err,
            Error::Status {
                command: "SELECT",
                sw: StatusWord(0x6A82)
            }
        ));
        card.log.clear();
        let err = read_file(&mut card, FileId::data_group(2), &mut profile).unwrap_err();
        assert!(
            matches!(err, Error::FileTooLarge { len: 300_000, .. }),
            "{err:?}"
        );
        assert_eq!(card.log.len(), 1, "nothing read beyond the header");
    }

    #[test]
    fn works_through_secure_messaging() {
        use crate::crypto::{CipherAlg, SecretKey};
        use crate::sm::{ChipSm, SecureChannel, SmKeys};
        struct SmCard(FakeCard, ChipSm);
        impl CardTransport for SmCard {
            fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
                let cmd = self.1.unwrap_command(c)?;
                self.0.log.push(cmd.clone());
                let r = self.0.answer(&cmd);
                self.1.wrap_response(&r)
            }
            fn describe(&self) -> String {
                "sm card".into()
            }
        }
        let keys = || {
            SmKeys::new(
                SecretKey::new(CipherAlg::Aes128, &[1; 16]).unwrap(),
                SecretKey::new(CipherAlg::Aes128, &[2; 16]).unwrap(),
                &[0; 16],
            )
            .unwrap()
        };
        // 1024-byte chunks: offsets beyond 32767 go through B1 / DO'85' under SM.
        let card = FakeCard::new(1_024).with_file(0x0102, Some(2), 40_000);
        let mut ch = SecureChannel::new(SmCard(card, ChipSm::new(keys())), keys());
        let mut profile = ReadProfile::default();
        let dg2 = read_file(&mut ch, FileId::data_group(2), &mut profile).unwrap();
        assert_eq!(&dg2[..], &sample_file(40_000)[..]);
        assert!(ch.inner_mut().0.log.iter().any(|c| c.ins == 0xB1));
        assert_eq!(profile.chunk(), 1_024);
    }
}
