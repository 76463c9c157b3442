//! EF.COM (tag `60`): the LDS version, the Unicode version and the list of data groups present
//! (Doc 9303 Part 10 §4.6.1). Not covered by the SOD, so it is only a hint of what to read.

use crate::error::{Error, Result};
use crate::lds::{LdsFile, MAX_FILE_LEN};
use crate::tlv::{self, Tag};

/// The tag of EF.COM.
pub const TAG: Tag = 0x60;
const TAG_LDS_VERSION: Tag = 0x5F01;
const TAG_UNICODE_VERSION: Tag = 0x5F36;
const TAG_TAG_LIST: Tag = 0x5C;

const FILE: &str = "EF.COM";

/// A decoded EF.COM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Com {
    /// Four digits `aabb`: LDS version aa.bb (`"0107"`, `"0108"`).
    pub lds_version: String,
    /// Six digits `aabbcc`: Unicode version aa.bb.cc (`"040000"`).
    pub unicode_version: String,
    /// The data-group tags listed, in file order, including tags this crate does not know.
    pub tags: Vec<u8>,
}

impl Com {
    /// An EF.COM listing `files` with LDS 1.7 and Unicode 4.0.0, as a CCCD has.
    pub fn new(files: &[LdsFile]) -> Self {
        Com {
            lds_version: "0107".into(),
            unicode_version: "040000".into(),
            tags: files
                .iter()
                .filter_map(|f| u8::try_from(f.tag()).ok())
                .collect(),
        }
    }

    /// The data groups listed that this crate knows, in file order.
    pub fn files(&self) -> Vec<LdsFile> {
        self.tags
            .iter()
            .filter_map(|t| LdsFile::from_tag(Tag::from(*t)))
            .filter(|f| f.dg_number().is_some())
            .collect()
    }

    /// Decodes EF.COM (bytes after the `60` TLV, such as padding, are ignored).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_FILE_LEN {
            return Err(Error::LdsTooLarge {
                file: FILE,
                len: bytes.len(),
                max: MAX_FILE_LEN,
            });
        }
        let com = tlv::parse_prefix(bytes, TAG)?;
        let mut lds_version = None;
        let mut unicode_version = None;
        let mut tags = None;
        for item in com.children() {
            let item = item?;
            let slot = match item.tag {
                TAG_LDS_VERSION => &mut lds_version,
                TAG_UNICODE_VERSION => &mut unicode_version,
                TAG_TAG_LIST => &mut tags,
                // Later LDS versions may add objects; skipping them loses nothing we use.
                _ => continue,
            };
            if slot.replace(item.value).is_some() {
                return Err(malformed("a data object appears twice"));
            }
        }
        let lds_version = lds_version.ok_or(malformed("LDS version (5F01) missing"))?;
        let unicode_version = unicode_version.ok_or(malformed("Unicode version (5F36) missing"))?;
        let tags = tags.ok_or(malformed("tag list (5C) missing"))?;
        Ok(Com {
            lds_version: digits(lds_version, 4, "LDS version is not 4 digits")?,
            unicode_version: digits(unicode_version, 6, "Unicode version is not 6 digits")?,
            tags: tags.to_vec(),
        })
    }

    /// Encodes EF.COM.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let enc_err = |what| Error::LdsEncode { file: FILE, what };
        digits(self.lds_version.as_bytes(), 4, "")
            .map_err(|_| enc_err("LDS version must be 4 digits"))?;
        digits(self.unicode_version.as_bytes(), 6, "")
            .map_err(|_| enc_err("Unicode version must be 6 digits"))?;
        if self.tags.len() > 64 {
            return Err(enc_err("more than 64 tags listed"));
        }
        let mut value = Vec::with_capacity(32);
        tlv::encode_into(&mut value, TAG_LDS_VERSION, self.lds_version.as_bytes());
        tlv::encode_into(
            &mut value,
            TAG_UNICODE_VERSION,
            self.unicode_version.as_bytes(),
        );
        tlv::encode_into(&mut value, TAG_TAG_LIST, &self.tags);
        Ok(tlv::encode(TAG, &value))
    }
}

fn digits(value: &[u8], len: usize, what: &'static str) -> Result<String> {
    if value.len() != len || !value.iter().all(u8::is_ascii_digit) {
        return Err(malformed(what));
    }
    // All ASCII digits, so this is valid UTF-8.
    Ok(value.iter().map(|b| char::from(*b)).collect())
}

fn malformed(what: &'static str) -> Error {
    Error::LdsMalformed { file: FILE, what }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn icao_appendix_d_ef_com() {
        // Doc 9303 Part 11 Appendix D: EF.COM of the worked example (LDS 1.6, DG1 and DG2).
        let bytes = hex::decode("60145F0104303130365F36063034303030305C026175").unwrap();
        let com = Com::decode(&bytes).unwrap();
        assert_eq!(com.lds_version, "0106");
        assert_eq!(com.unicode_version, "040000");
        assert_eq!(com.files(), vec![LdsFile::Dg1, LdsFile::Dg2]);
        assert_eq!(com.encode().unwrap(), bytes);
    }

    #[test]
    fn cccd_listing_round_trips() {
        let files = [
            LdsFile::Dg1,
            LdsFile::Dg2,
            LdsFile::Dg3,
            LdsFile::Dg13,
            LdsFile::Dg14,
            LdsFile::Dg15,
        ];
        let com = Com::new(&files);
        assert_eq!(com.tags, vec![0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F]);
        let decoded = Com::decode(&com.encode().unwrap()).unwrap();
        assert_eq!(decoded.files(), files.to_vec());
    }

    #[test]
    fn broken_files_name_what_is_wrong() {
        let missing_list = hex::decode("60105F0104303130365F3606303430303030").unwrap();
        assert!(matches!(
            Com::decode(&missing_list),
            Err(Error::LdsMalformed {
                what: "tag list (5C) missing",
                ..
            })
        ));
        let letters =
            hex::decode("60145F010430313041 5F36063034303030305C026175".replace(' ', "")).unwrap();
        assert!(matches!(
            Com::decode(&letters),
            Err(Error::LdsMalformed { .. })
        ));
        assert!(matches!(
            Com::decode(&[0x61, 0x00]),
            Err(Error::UnexpectedTag { .. })
        ));
        let mut bad = Com::new(&[LdsFile::Dg1]);
        bad.lds_version = "1.7".into();
        assert!(matches!(bad.encode(), Err(Error::LdsEncode { .. })));
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(
            lds in "[0-9]{4}",
            uni in "[0-9]{6}",
            tags in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let com = Com { lds_version: lds, unicode_version: uni, tags };
            prop_assert_eq!(Com::decode(&com.encode().unwrap()).unwrap(), com);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Com::decode(&bytes);
            let mut framed = vec![0x60, bytes.len().min(127) as u8];
            framed.extend_from_slice(&bytes);
            let _ = Com::decode(&framed);
        }
    }
}
