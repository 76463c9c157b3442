//! The chip's ISO 7816-4 file system: the MF with EF.CardAccess, and the eMRTD applet with the
//! LDS files. Files are plain byte strings; who may read them is decided here, the reading
//! itself by the APDU engine.

use zeroize::Zeroize;

/// The eMRTD (LDS1) applet's AID.
pub const EMRTD_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// The master file's identifier.
pub const MF_FID: u16 = 0x3F00;

/// Where a file lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The master file (EF.CardAccess, EF.ATR/INFO).
    Master,
    /// The eMRTD applet.
    Applet,
}

/// Who may read a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, plain or under SM (EF.CardAccess).
    Always,
    /// After BAC or PACE, under SM only.
    AfterAuthentication,
    /// Only after Terminal Authentication, which this chip does not offer: always 6982 (DG3).
    Eac,
}

/// One elementary file.
pub struct File {
    pub fid: u16,
    pub sfi: u8,
    pub location: Location,
    pub access: Access,
    pub content: Vec<u8>,
}

impl std::fmt::Debug for File {
    // Contents are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "File({:04X}, sfi {:02X}, {} bytes)",
            self.fid,
            self.sfi,
            self.content.len()
        )
    }
}

impl Drop for File {
    fn drop(&mut self) {
        self.content.zeroize();
    }
}

/// The well-known files of the CCCD and their identifiers (facts/cccd-chip.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ef {
    CardAccess,
    Com,
    Sod,
    Dg1,
    Dg2,
    Dg3,
    Dg13,
    Dg14,
    Dg15,
}

impl Ef {
    pub const fn fid(self) -> u16 {
        match self {
            Self::CardAccess => 0x011C,
            Self::Com => 0x011E,
            Self::Sod => 0x011D,
            Self::Dg1 => 0x0101,
            Self::Dg2 => 0x0102,
            Self::Dg3 => 0x0103,
            Self::Dg13 => 0x010D,
            Self::Dg14 => 0x010E,
            Self::Dg15 => 0x010F,
        }
    }

    pub const fn sfi(self) -> u8 {
        (self.fid() & 0x1F) as u8
    }

    const fn location(self) -> Location {
        match self {
            Self::CardAccess => Location::Master,
            _ => Location::Applet,
        }
    }

    const fn access(self) -> Access {
        match self {
            Self::CardAccess => Access::Always,
            Self::Dg3 => Access::Eac,
            _ => Access::AfterAuthentication,
        }
    }
}

/// All files of the chip.
#[derive(Debug, Default)]
pub struct FileSystem {
    files: Vec<File>,
}

impl FileSystem {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a well-known file.
    pub fn put(&mut self, ef: Ef, content: Vec<u8>) {
        self.files.retain(|f| f.fid != ef.fid());
        self.files.push(File {
            fid: ef.fid(),
            sfi: ef.sfi(),
            location: ef.location(),
            access: ef.access(),
            content,
        });
    }

    /// The content of a well-known file, if present.
    pub fn get(&self, ef: Ef) -> Option<&[u8]> {
        self.by_fid(ef.location(), ef.fid())
            .map(|i| self.files[i].content.as_slice())
    }

    /// Mutable content, for fault injection after signing.
    pub fn get_mut(&mut self, ef: Ef) -> Option<&mut Vec<u8>> {
        let i = self.by_fid(ef.location(), ef.fid())?;
        Some(&mut self.files[i].content)
    }

    /// Finds a file by FID in a location; the applet also sees the MF's files, as real chips
    /// let EF.CardAccess be selected from inside the applet.
    pub fn by_fid(&self, location: Location, fid: u16) -> Option<usize> {
        self.files.iter().position(|f| {
            f.fid == fid && (f.location == location || f.location == Location::Master)
        })
    }

    /// Finds a file by short file identifier.
    pub fn by_sfi(&self, location: Location, sfi: u8) -> Option<usize> {
        self.files.iter().position(|f| {
            f.sfi == sfi && (f.location == location || f.location == Location::Master)
        })
    }

    pub fn file(&self, index: usize) -> Option<&File> {
        self.files.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_fid_and_sfi_respects_location() {
        let mut fs = FileSystem::new();
        fs.put(Ef::CardAccess, vec![0x31, 0]);
        fs.put(Ef::Dg1, vec![0x61, 0]);
        assert!(fs.by_fid(Location::Master, 0x0101).is_none());
        assert!(fs.by_fid(Location::Applet, 0x0101).is_some());
        assert!(fs.by_sfi(Location::Master, 0x1C).is_some());
        assert!(fs.by_sfi(Location::Applet, 0x1C).is_some());
        assert!(fs.by_sfi(Location::Applet, 0x02).is_none());
        fs.put(Ef::Dg1, vec![0x61, 1, 0]);
        assert_eq!(fs.get(Ef::Dg1), Some(&[0x61, 1, 0][..]));
        assert_eq!(
            format!("{:?}", fs.file(0).unwrap()),
            "File(011C, sfi 1C, 2 bytes)"
        );
    }
}
