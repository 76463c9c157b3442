//! The citizen record a card read produces: every DG13 field, the MRZ from DG1, the portrait from
//! DG2, and the raw bytes of every file read (the backend re-verifies them against EF.SOD).
//!
//! The record fills in file by file as the reader gets them (DG13 first, so the name can be
//! shown before the photo arrives). Everything in it is personal data: `Debug` and
//! [`CitizenRecord::summary`] show a masked ID and which files are present, never values, and
//! every part is zeroized when the record is dropped.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::cccd::mask_id;
use crate::error::Result;
use crate::lds::LdsFile;
use crate::lds::dg1::{Dg1, Mrz};
use crate::lds::dg2::{Dg2, FaceImage};
use crate::lds::dg13::Dg13;

/// One file as read from the card.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RawFile {
    #[zeroize(skip)]
    pub file: LdsFile,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for RawFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({} bytes)", self.file.name(), self.bytes.len())
    }
}

/// What was read from one card.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CitizenRecord {
    /// DG13, once read.
    pub dg13: Option<Dg13>,
    /// The MRZ from DG1, once read.
    pub mrz: Option<Mrz>,
    /// The portrait from DG2, once read.
    pub photo: Option<FaceImage>,
    /// Every file read, in the order it was added (one entry per file).
    files: Vec<RawFile>,
}

impl std::fmt::Debug for CitizenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

impl CitizenRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// A record from files already read.
    pub fn from_files(files: impl IntoIterator<Item = (LdsFile, Vec<u8>)>) -> Result<Self> {
        let mut record = Self::new();
        for (file, bytes) in files {
            record.add_file(file, bytes)?;
        }
        Ok(record)
    }

    /// Adds a file as read from the card: its bytes are kept, and DG13, DG1 and DG2 are decoded
    /// into their fields. The bytes are kept even when decoding fails (the error is returned), so
    /// nothing read is lost; a file added twice replaces the earlier copy.
    pub fn add_file(&mut self, file: LdsFile, bytes: Vec<u8>) -> Result<()> {
        let decoded = match file {
            LdsFile::Dg13 => Dg13::decode(&bytes).map(|d| self.dg13 = Some(d)),
            LdsFile::Dg1 => Dg1::decode(&bytes).map(|d| self.mrz = Some(d.mrz.clone())),
            LdsFile::Dg2 => Dg2::decode(&bytes).map(|d| self.photo = d.portrait().cloned()),
            _ => Ok(()),
        };
        self.files.retain(|f| f.file != file);
        self.files.push(RawFile { file, bytes });
        decoded
    }

    /// The bytes of `file` as read, if it was.
    pub fn raw(&self, file: LdsFile) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.file == file)
            .map(|f| f.bytes.as_slice())
    }

    /// Every file read, in reading order.
    pub fn raw_files(&self) -> &[RawFile] {
        &self.files
    }

    /// The 12-digit ID: from DG13, else from the MRZ's optional data.
    pub fn id_number(&self) -> Option<&str> {
        self.dg13
            .as_ref()
            .and_then(|d| d.id_number.as_deref())
            .or_else(|| self.mrz.as_ref().and_then(|m| m.cccd_id_number()))
    }

    /// The ID for display and logs (`0010******45`).
    pub fn masked_id(&self) -> String {
        self.id_number().map(mask_id).unwrap_or_else(|| "-".into())
    }

    /// Whether DG1 and DG13 agree on the ID number and the date of birth; `None` until both are
    /// read and carry them. A mismatch means a corrupted or tampered card (passive
    /// authentication decides which file is genuine).
    pub fn mrz_matches_dg13(&self) -> Option<bool> {
        let dg13 = self.dg13.as_ref()?;
        let mrz = self.mrz.as_ref()?;
        let id13 = dg13.id_number.as_deref()?;
        let id_mrz = mrz.cccd_id_number()?;
        let dob = dg13.date_of_birth_parsed().ok()?;
        Some(id13 == id_mrz && dob.yymmdd() == mrz.date_of_birth)
    }

    /// One line without personal data: masked ID and which parts are present.
    pub fn summary(&self) -> String {
        let files: Vec<&str> = self.files.iter().map(|f| f.file.name()).collect();
        let photo = match &self.photo {
            Some(p) => format!("{:?} {} bytes", p.image_type, p.data.len()),
            None => "none".into(),
        };
        format!(
            "CitizenRecord(id {}, dg13 {}, mrz {}, photo {}, files [{}])",
            self.masked_id(),
            if self.dg13.is_some() { "yes" } else { "no" },
            if self.mrz.is_some() { "yes" } else { "no" },
            photo,
            files.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cccd::CitizenId;
    use crate::error::Error;
    use crate::lds::dg1::MrzSex;
    use crate::lds::dg2::ImageType;

    fn dg13(id: &str, dob: &str) -> Vec<u8> {
        let mut d = Dg13::default();
        d.id_number = Some(id.into());
        d.full_name = Some("Nguyễn Văn An".into());
        d.date_of_birth = Some(dob.into());
        d.encode().unwrap()
    }

    fn dg1() -> Vec<u8> {
        let id = CitizenId::parse("001099012345").unwrap();
        let mrz = Mrz::for_cccd(&id, "990115", MrzSex::Male, "240115", "Nguyễn Văn An").unwrap();
        Dg1 { mrz }.encode().unwrap()
    }

    #[test]
    fn fills_in_file_by_file_and_keeps_raw_bytes() {
        let mut r = CitizenRecord::new();
        assert_eq!(r.id_number(), None);
        let d13 = dg13("001099012345", "15/01/1999");
        r.add_file(LdsFile::Dg13, d13.clone()).unwrap();
        assert_eq!(r.id_number(), Some("001099012345"));
        assert_eq!(r.mrz_matches_dg13(), None);
        r.add_file(LdsFile::Dg1, dg1()).unwrap();
        r.add_file(LdsFile::Sod, vec![0x77, 0x00]).unwrap();
        let photo = Dg2::with_face(ImageType::Jpeg, 2, 3, vec![0xFF, 0xD8, 0xFF, 0xD9])
            .encode()
            .unwrap();
        r.add_file(LdsFile::Dg2, photo).unwrap();
        assert_eq!(r.mrz_matches_dg13(), Some(true));
        assert_eq!(r.raw(LdsFile::Dg13), Some(&d13[..]));
        assert_eq!(r.raw(LdsFile::Sod), Some(&[0x77, 0x00][..]));
        assert_eq!(r.photo.as_ref().unwrap().data, vec![0xFF, 0xD8, 0xFF, 0xD9]);
        let order: Vec<LdsFile> = r.raw_files().iter().map(|f| f.file).collect();
        assert_eq!(
            order,
            vec![LdsFile::Dg13, LdsFile::Dg1, LdsFile::Sod, LdsFile::Dg2]
        );
    }

    #[test]
    fn mismatch_between_dg1_and_dg13_is_reported() {
        let r = CitizenRecord::from_files([
            (LdsFile::Dg13, dg13("001099012345", "16/01/1999")),
            (LdsFile::Dg1, dg1()),
        ])
        .unwrap();
        assert_eq!(r.mrz_matches_dg13(), Some(false));
    }

    #[test]
    fn a_bad_file_is_an_error_but_its_bytes_are_kept() {
        let mut r = CitizenRecord::new();
        let err = r.add_file(LdsFile::Dg13, vec![0x6D, 0x02, 0x31, 0x00]);
        assert!(matches!(
            err,
            Err(Error::LdsMalformed { .. }) | Err(Error::UnexpectedTag { .. })
        ));
        assert_eq!(r.raw(LdsFile::Dg13), Some(&[0x6D, 0x02, 0x31, 0x00][..]));
        assert!(r.dg13.is_none());
    }

    #[test]
    fn summary_and_debug_mask_everything() {
        let r = CitizenRecord::from_files([
            (LdsFile::Dg13, dg13("001099012345", "15/01/1999")),
            (LdsFile::Dg1, dg1()),
        ])
        .unwrap();
        let text = format!("{r:?} {}", r.summary());
        assert!(text.contains("0010******45"), "{text}");
        for secret in ["001099012345", "099012345", "Nguyễn", "NGUYEN", "1999"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
