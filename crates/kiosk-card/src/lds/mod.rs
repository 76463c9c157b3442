//! The Logical Data Structure of ICAO Doc 9303 Part 10: which elementary files a CCCD holds, how
//! they are addressed, the order a kiosk reads them in, and a typed codec per file.
//!
//! Every codec here decodes what the reader got from the card and encodes what the virtual card
//! serves, so both sides share one definition of each file.

pub mod com;
pub mod dg1;
pub mod dg13;
pub mod dg14;
pub mod dg15;
pub mod dg2;
pub mod sod;

use crate::tlv::Tag;

/// The largest file accepted for the image data groups (DG2…DG7): a face JPEG 2000 or JPEG is
/// tens of kB; anything beyond this is refused before it is read or parsed.
pub const MAX_IMAGE_FILE_LEN: usize = 1024 * 1024;
/// The largest file accepted for every other elementary file.
pub const MAX_FILE_LEN: usize = 64 * 1024;

/// An elementary file of the eMRTD application (plus EF.CardAccess from the master file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LdsFile {
    CardAccess,
    Com,
    Sod,
    Dg1,
    Dg2,
    Dg3,
    Dg4,
    Dg5,
    Dg6,
    Dg7,
    Dg8,
    Dg9,
    Dg10,
    Dg11,
    Dg12,
    Dg13,
    Dg14,
    Dg15,
    Dg16,
}

/// Data groups by number, index 0 = DG1: [`LdsFile::ALL`] after its three other files.
const DGS: &[LdsFile] = LdsFile::ALL.split_at(3).1;

/// The tags of DG1…DG16 (Doc 9303 Part 10 §4.6.1), index 0 = DG1.
const DG_TAGS: [Tag; 16] = [
    0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70,
];

/// What a kiosk reads, in order: DG13 first (name and data on screen as soon as possible), then
/// what passive, chip and active authentication need, and the slow photo last. EAC-protected
/// files (DG3, DG4) are never in it.
pub const KIOSK_READ_ORDER: [LdsFile; 6] = [
    LdsFile::Dg13,
    LdsFile::Dg1,
    LdsFile::Sod,
    LdsFile::Dg14,
    LdsFile::Dg15,
    LdsFile::Dg2,
];

impl LdsFile {
    /// Every file, EF.CardAccess, EF.COM, EF.SOD, then DG1…DG16.
    pub const ALL: [LdsFile; 19] = [
        LdsFile::CardAccess,
        LdsFile::Com,
        LdsFile::Sod,
        LdsFile::Dg1,
        LdsFile::Dg2,
        LdsFile::Dg3,
        LdsFile::Dg4,
        LdsFile::Dg5,
        LdsFile::Dg6,
        LdsFile::Dg7,
        LdsFile::Dg8,
        LdsFile::Dg9,
        LdsFile::Dg10,
        LdsFile::Dg11,
        LdsFile::Dg12,
        LdsFile::Dg13,
        LdsFile::Dg14,
        LdsFile::Dg15,
        LdsFile::Dg16,
    ];

    /// The data group with number `n` (1..=16).
    pub fn dg(n: u8) -> Option<LdsFile> {
        DGS.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The data-group number, for DG1…DG16.
    pub fn dg_number(self) -> Option<u8> {
        DGS.iter()
            .position(|f| *f == self)
            .and_then(|i| u8::try_from(i + 1).ok())
    }

    /// The file whose outermost tag is `tag` (as EF.COM lists them).
    pub fn from_tag(tag: Tag) -> Option<LdsFile> {
        Self::ALL.into_iter().find(|f| f.tag() == tag)
    }

    /// The file with identifier `fid` (the virtual card answers SELECT with it).
    pub fn from_fid(fid: u16) -> Option<LdsFile> {
        Self::ALL.into_iter().find(|f| f.fid() == fid)
    }

    /// The file with short identifier `sfi` (READ BINARY with P1 = `0x80 | sfi`).
    pub fn from_sfi(sfi: u8) -> Option<LdsFile> {
        Self::ALL.into_iter().find(|f| f.sfi() == sfi)
    }

    /// The file identifier for SELECT.
    pub fn fid(self) -> u16 {
        match self {
            LdsFile::CardAccess => 0x011C,
            LdsFile::Com => 0x011E,
            LdsFile::Sod => 0x011D,
            dg => 0x0100 + u16::from(dg.dg_number().unwrap_or(0)),
        }
    }

    /// The short file identifier for READ BINARY with P1 = `0x80 | sfi`.
    pub fn sfi(self) -> u8 {
        match self {
            LdsFile::CardAccess => 0x1C,
            LdsFile::Com => 0x1E,
            LdsFile::Sod => 0x1D,
            dg => dg.dg_number().unwrap_or(0),
        }
    }

    /// The outermost tag of the file's content.
    pub fn tag(self) -> Tag {
        match self {
            LdsFile::CardAccess => 0x31,
            LdsFile::Com => 0x60,
            LdsFile::Sod => 0x77,
            dg => dg
                .dg_number()
                .and_then(|n| DG_TAGS.get(usize::from(n) - 1))
                .copied()
                .unwrap_or(0),
        }
    }

    /// The usual name (`DG13`, `EF.SOD`), for logs and errors.
    pub fn name(self) -> &'static str {
        const DG_NAMES: [&str; 16] = [
            "DG1", "DG2", "DG3", "DG4", "DG5", "DG6", "DG7", "DG8", "DG9", "DG10", "DG11", "DG12",
            "DG13", "DG14", "DG15", "DG16",
        ];
        match self {
            LdsFile::CardAccess => "EF.CardAccess",
            LdsFile::Com => "EF.COM",
            LdsFile::Sod => "EF.SOD",
            dg => dg
                .dg_number()
                .and_then(|n| DG_NAMES.get(usize::from(n) - 1))
                .copied()
                .unwrap_or("DG?"),
        }
    }

    /// Whether reading needs Terminal Authentication (EAC): the fingerprints (DG3) and iris
    /// (DG4). A kiosk never has the terminal certificates, and the card answers 6982.
    pub fn is_eac_protected(self) -> bool {
        matches!(self, LdsFile::Dg3 | LdsFile::Dg4)
    }

    /// The largest size accepted for this file; a larger length in the file's first bytes is
    /// refused before the rest is read.
    pub fn max_len(self) -> usize {
        match self {
            LdsFile::Dg2
            | LdsFile::Dg3
            | LdsFile::Dg4
            | LdsFile::Dg5
            | LdsFile::Dg6
            | LdsFile::Dg7 => MAX_IMAGE_FILE_LEN,
            _ => MAX_FILE_LEN,
        }
    }
}

/// The files to read from a card whose EF.COM lists `present`, in the kiosk's order: the files of
/// [`KIOSK_READ_ORDER`] first (EF.SOD always, since EF.COM does not list it), then any other
/// listed data group that is not EAC-protected, and DG2 last.
pub fn read_order(present: &[LdsFile]) -> Vec<LdsFile> {
    let listed = |f: &LdsFile| *f == LdsFile::Sod || present.contains(f);
    let mut order: Vec<LdsFile> = KIOSK_READ_ORDER
        .iter()
        .copied()
        .filter(|f| *f != LdsFile::Dg2 && listed(f))
        .collect();
    for &f in DGS {
        if present.contains(&f) && !f.is_eac_protected() && f != LdsFile::Dg2 && !order.contains(&f)
        {
            order.push(f);
        }
    }
    if present.contains(&LdsFile::Dg2) {
        order.push(LdsFile::Dg2);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_doc_9303_and_the_cccd_facts() {
        // (file, FID, SFI, tag) from facts/cccd-chip.md "Files".
        let table = [
            (LdsFile::CardAccess, 0x011C, 0x1C, 0x31),
            (LdsFile::Com, 0x011E, 0x1E, 0x60),
            (LdsFile::Sod, 0x011D, 0x1D, 0x77),
            (LdsFile::Dg1, 0x0101, 0x01, 0x61),
            (LdsFile::Dg2, 0x0102, 0x02, 0x75),
            (LdsFile::Dg3, 0x0103, 0x03, 0x63),
            (LdsFile::Dg13, 0x010D, 0x0D, 0x6D),
            (LdsFile::Dg14, 0x010E, 0x0E, 0x6E),
            (LdsFile::Dg15, 0x010F, 0x0F, 0x6F),
            (LdsFile::Dg16, 0x0110, 0x10, 0x70),
        ];
        for (file, fid, sfi, tag) in table {
            assert_eq!(file.fid(), fid, "{}", file.name());
            assert_eq!(file.sfi(), sfi, "{}", file.name());
            assert_eq!(file.tag(), tag, "{}", file.name());
            assert_eq!(LdsFile::from_tag(tag), Some(file));
            assert_eq!(LdsFile::from_fid(fid), Some(file));
            assert_eq!(LdsFile::from_sfi(sfi), Some(file));
        }
        assert_eq!(LdsFile::Dg13.name(), "DG13");
        assert_eq!(LdsFile::dg(13), Some(LdsFile::Dg13));
        assert_eq!(LdsFile::dg(0), None);
        assert_eq!(LdsFile::dg(17), None);
        assert_eq!(LdsFile::from_fid(0x0111), None);
        assert_eq!(LdsFile::from_sfi(0), None);
        assert!(LdsFile::Dg3.is_eac_protected() && LdsFile::Dg4.is_eac_protected());
        assert!(!LdsFile::Dg2.is_eac_protected());
        assert_eq!(LdsFile::Dg2.max_len(), MAX_IMAGE_FILE_LEN);
    }

    #[test]
    fn read_order_puts_dg13_first_dg2_last_and_skips_eac() {
        // EF.COM of a CCCD lists DG1, DG2, DG3, DG13, DG14, DG15.
        let present = [
            LdsFile::Dg1,
            LdsFile::Dg2,
            LdsFile::Dg3,
            LdsFile::Dg13,
            LdsFile::Dg14,
            LdsFile::Dg15,
        ];
        assert_eq!(read_order(&present), KIOSK_READ_ORDER.to_vec());
        let passport = [LdsFile::Dg1, LdsFile::Dg2, LdsFile::Dg4, LdsFile::Dg11];
        assert_eq!(
            read_order(&passport),
            vec![LdsFile::Dg1, LdsFile::Sod, LdsFile::Dg11, LdsFile::Dg2]
        );
    }
}
