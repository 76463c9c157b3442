//! DG2 (tag `75`): the encoded face (Doc 9303 Part 10 §4.7.2, ISO/IEC 19794-5:2005 face records).
//!
//! ```text
//! 75 { 7F61 { 02 n, 7F60 { A1 {biometric header}, 5F2E|7F2E {19794-5 record} } ... } }
//! ```
//!
//! The face record is walked by its own length fields (general header, facial record header,
//! feature points, image information) to reach the image bytes; no offset is assumed. The image
//! is returned as it is stored (JPEG or JPEG 2000) with its type and size.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::lds::MAX_IMAGE_FILE_LEN;
use crate::tlv::{self, Tag, Tlv};

/// The tag of DG2.
pub const TAG: Tag = 0x75;
const TAG_GROUP: Tag = 0x7F61;
const TAG_BIT: Tag = 0x7F60;
const TAG_BHT: Tag = 0xA1;
const TAG_BDB: Tag = 0x5F2E;
const TAG_BDB_CONSTRUCTED: Tag = 0x7F2E;
const TAG_INSTANCES: Tag = 0x02;

const FILE: &str = "DG2";
/// The most faces read from one DG2 (ICAO allows several; a card has one).
const MAX_FACES: usize = 8;

/// ISO 19794-5 general header: `FAC\0`, version `010\0`, record length (4), image count (2).
const GENERAL_HEADER_LEN: usize = 14;
/// Facial record header: record length (4), feature points (2), gender, eyes, hair, feature
/// mask (3), expression (2), pose angles (3), pose uncertainty (3).
const FACIAL_HEADER_LEN: usize = 20;
const FEATURE_POINT_LEN: usize = 8;
/// Image information: type, data type, width (2), height (2), colour space, source type,
/// device type (2), quality (2).
const IMAGE_INFO_LEN: usize = 12;

/// How the image of a face record is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Jpeg2000,
}

impl ImageType {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Jpeg => "jpg",
            ImageType::Jpeg2000 => "jp2",
        }
    }

    fn code(self) -> u8 {
        match self {
            ImageType::Jpeg => 0,
            ImageType::Jpeg2000 => 1,
        }
    }
}

/// One face image. The image is sensitive personal data: `Debug` shows its type and size only,
/// and the bytes are wiped on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct FaceImage {
    #[zeroize(skip)]
    pub image_type: ImageType,
    pub width: u16,
    pub height: u16,
    /// Feature points recorded before the image (kept as a count; the kiosk does not use them).
    pub feature_points: u16,
    /// The JPEG or JPEG 2000 bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FaceImage({:?}, {}x{}, {} bytes)",
            self.image_type,
            self.width,
            self.height,
            self.data.len()
        )
    }
}

/// A decoded DG2: the faces in file order (a CCCD has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg2 {
    pub faces: Vec<FaceImage>,
}

impl Dg2 {
    /// A DG2 holding one JPEG or JPEG 2000 face of `width` × `height`.
    pub fn with_face(image_type: ImageType, width: u16, height: u16, data: Vec<u8>) -> Self {
        Dg2 {
            faces: vec![FaceImage {
                image_type,
                width,
                height,
                feature_points: 0,
                data,
            }],
        }
    }

    /// The first face, which is the holder's portrait.
    pub fn portrait(&self) -> Option<&FaceImage> {
        self.faces.first()
    }

    /// Decodes DG2 (bytes after the `75` TLV are ignored).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_IMAGE_FILE_LEN {
            return Err(Error::LdsTooLarge {
                file: FILE,
                len: bytes.len(),
                max: MAX_IMAGE_FILE_LEN,
            });
        }
        let outer = tlv::parse_prefix(bytes, TAG)?;
        let group = outer.find(TAG_GROUP)?.ok_or(malformed(
            "biometric information group template (7F61) missing",
        ))?;
        let mut faces = Vec::new();
        for item in group.children() {
            let item = item?;
            // The instance count (02) is advisory; the templates that follow are what counts.
            if item.tag != TAG_BIT {
                continue;
            }
            if faces.len() >= MAX_FACES {
                return Err(malformed("more than 8 faces"));
            }
            faces.extend(decode_template(&item)?);
        }
        if faces.is_empty() {
            return Err(malformed("no biometric information template (7F60)"));
        }
        Ok(Dg2 { faces })
    }

    /// Encodes DG2: one biometric information template per face, each with an ICAO biometric
    /// header (facial features, format owner ISO/IEC JTC 1 SC 37, format type 0008) and an
    /// ISO 19794-5 record holding one image.
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.faces.is_empty() || self.faces.len() > MAX_FACES {
            return Err(Error::LdsEncode {
                file: FILE,
                what: "1..=8 faces are needed",
            });
        }
        let count = u8::try_from(self.faces.len()).map_err(|_| Error::LdsEncode {
            file: FILE,
            what: "1..=8 faces are needed",
        })?;
        let mut group = tlv::encode(TAG_INSTANCES, &[count]);
        for face in &self.faces {
            let mut header = Vec::new();
            tlv::encode_into(&mut header, 0x80, &[0x01, 0x01]); // ICAO header version 1.1
            tlv::encode_into(&mut header, 0x81, &[0x02]); // biometric type: facial features
            tlv::encode_into(&mut header, 0x87, &[0x01, 0x01]); // format owner
            tlv::encode_into(&mut header, 0x88, &[0x00, 0x08]); // format type: face image
            let mut bit = tlv::encode(TAG_BHT, &header);
            let record = face_record(face)?;
            tlv::encode_into(&mut bit, TAG_BDB, &record);
            tlv::encode_into(&mut group, TAG_BIT, &bit);
        }
        let inner = tlv::encode(TAG_GROUP, &group);
        let out = tlv::encode(TAG, &inner);
        if out.len() > MAX_IMAGE_FILE_LEN {
            return Err(Error::LdsEncode {
                file: FILE,
                what: "the image is larger than a DG2 may be",
            });
        }
        Ok(out)
    }
}

fn decode_template(bit: &Tlv<'_>) -> Result<Vec<FaceImage>> {
    let mut block = None;
    for child in bit.children() {
        let child = child?;
        if child.tag == TAG_BDB || child.tag == TAG_BDB_CONSTRUCTED {
            block = Some(child);
            break;
        }
    }
    let block = block.ok_or(malformed("biometric data block (5F2E/7F2E) missing"))?;
    // 7F2E is constructed: its record sits in a 5F2E inside, or directly as its value.
    let record = if block.tag == TAG_BDB_CONSTRUCTED {
        match tlv::find(block.value, TAG_BDB) {
            Ok(Some(inner)) => inner.value,
            _ => block.value,
        }
    } else {
        block.value
    };
    parse_face_record(record)
}

/// Walks an ISO 19794-5:2005 facial record block and returns its images.
fn parse_face_record(record: &[u8]) -> Result<Vec<FaceImage>> {
    let header = record
        .get(..GENERAL_HEADER_LEN)
        .ok_or(malformed("face record shorter than its header"))?;
    if &header[0..4] != b"FAC\0" {
        return Err(malformed("face record does not start with FAC"));
    }
    if &header[4..8] != b"010\0" {
        return Err(malformed(
            "face record version is not 010 (ISO 19794-5:2005)",
        ));
    }
    let record_len = be32(&header[8..12]);
    let count = usize::from(u16::from_be_bytes([header[12], header[13]]));
    if record_len > record.len() || record_len < GENERAL_HEADER_LEN {
        return Err(malformed("face record length exceeds the data block"));
    }
    if count == 0 || count > MAX_FACES {
        return Err(malformed("face record holds 0 or more than 8 images"));
    }
    let mut rest = &record[GENERAL_HEADER_LEN..record_len];
    let mut faces = Vec::with_capacity(count);
    for _ in 0..count {
        let fh = rest
            .get(..FACIAL_HEADER_LEN)
            .ok_or(malformed("facial record header truncated"))?;
        let face_len = be32(&fh[0..4]);
        let points = u16::from_be_bytes([fh[4], fh[5]]);
        let face = rest
            .get(..face_len)
            .ok_or(malformed("facial record length exceeds the record"))?;
        let info_at = FACIAL_HEADER_LEN + usize::from(points) * FEATURE_POINT_LEN;
        let info = face
            .get(info_at..info_at + IMAGE_INFO_LEN)
            .ok_or(malformed("image information truncated"))?;
        let image_type = match info[1] {
            0 => ImageType::Jpeg,
            1 => ImageType::Jpeg2000,
            _ => return Err(malformed("image data type is neither JPEG nor JPEG 2000")),
        };
        let data = &face[info_at + IMAGE_INFO_LEN..];
        if data.is_empty() {
            return Err(malformed("face record has no image data"));
        }
        faces.push(FaceImage {
            image_type,
            width: u16::from_be_bytes([info[2], info[3]]),
            height: u16::from_be_bytes([info[4], info[5]]),
            feature_points: points,
            data: data.to_vec(),
        });
        rest = &rest[face_len..];
    }
    Ok(faces)
}

/// Builds an ISO 19794-5:2005 record with one image and no feature points.
fn face_record(face: &FaceImage) -> Result<Vec<u8>> {
    if face.data.is_empty() {
        return Err(Error::LdsEncode {
            file: FILE,
            what: "the image is empty",
        });
    }
    let too_big = || Error::LdsEncode {
        file: FILE,
        what: "the image is larger than a DG2 may be",
    };
    if face.data.len() > MAX_IMAGE_FILE_LEN {
        return Err(too_big());
    }
    let face_len = FACIAL_HEADER_LEN + IMAGE_INFO_LEN + face.data.len();
    let record_len = GENERAL_HEADER_LEN + face_len;
    let mut out = Vec::with_capacity(record_len);
    out.extend_from_slice(b"FAC\x00010\x00");
    out.extend_from_slice(
        &u32::try_from(record_len)
            .map_err(|_| too_big())?
            .to_be_bytes(),
    );
    out.extend_from_slice(&1u16.to_be_bytes());
    // Facial record header: length, no feature points, gender/eyes/hair unspecified, no
    // feature mask, neutral expression, frontal pose.
    out.extend_from_slice(
        &u32::try_from(face_len)
            .map_err(|_| too_big())?
            .to_be_bytes(),
    );
    out.extend_from_slice(&[0; FACIAL_HEADER_LEN - 4]);
    // Image information: full frontal (1), data type, size, 24-bit RGB (1), digital still
    // camera (2), device and quality unspecified.
    out.push(1);
    out.push(face.image_type.code());
    out.extend_from_slice(&face.width.to_be_bytes());
    out.extend_from_slice(&face.height.to_be_bytes());
    out.extend_from_slice(&[1, 2, 0, 0, 0, 0]);
    out.extend_from_slice(&face.data);
    Ok(out)
}

fn be32(b: &[u8]) -> usize {
    let v = b
        .iter()
        .take(4)
        .fold(0u32, |acc, x| (acc << 8) | u32::from(*x));
    // On 16-bit targets an oversized length saturates and then fails the bounds checks.
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn malformed(what: &'static str) -> Error {
    Error::LdsMalformed { file: FILE, what }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A tiny stand-in JPEG: SOI, a comment, EOI.
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x04, b'h', b'i', 0xFF, 0xD9];

    #[test]
    fn face_jpeg_round_trips_with_the_icao_header() {
        let dg2 = Dg2::with_face(ImageType::Jpeg, 480, 640, JPEG.to_vec());
        let bytes = dg2.encode().unwrap();
        // 75 → 7F61 → 02 01 01, 7F60 → A1 …, 5F2E "FAC\0010\0"
        assert_eq!(bytes[0], 0x75);
        let group =
            tlv::parse_exact(tlv::parse_exact(&bytes, 0x75).unwrap().value, 0x7F61).unwrap();
        assert_eq!(group.find(0x02).unwrap().unwrap().value, &[1]);
        let bit = group.find(0x7F60).unwrap().unwrap();
        let bht = bit.find(0xA1).unwrap().unwrap();
        assert_eq!(bht.find(0x81).unwrap().unwrap().value, &[0x02]);
        assert_eq!(bht.find(0x88).unwrap().unwrap().value, &[0x00, 0x08]);
        let bdb = bit.find(0x5F2E).unwrap().unwrap();
        assert_eq!(&bdb.value[..8], b"FAC\x00010\x00");
        assert_eq!(bdb.value.len(), 14 + 20 + 12 + JPEG.len());

        let back = Dg2::decode(&bytes).unwrap();
        assert_eq!(back, dg2);
        let face = back.portrait().unwrap();
        assert_eq!(face.data, JPEG);
        assert_eq!((face.width, face.height), (480, 640));
        assert_eq!(format!("{face:?}"), "FaceImage(Jpeg, 480x640, 10 bytes)");
    }

    /// A record written by hand as another issuer would: BHT with creation date and a
    /// subtype, two feature points, JPEG 2000, inside a constructed 7F2E.
    #[test]
    fn feature_points_and_7f2e_are_walked_by_length() {
        let image = [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A];
        let mut face = Vec::new();
        let face_len = 20 + 2 * 8 + 12 + image.len();
        face.extend_from_slice(&(face_len as u32).to_be_bytes());
        face.extend_from_slice(&[0x00, 0x02, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        face.extend_from_slice(&[1, 1, 0x00, 0x40, 0x00, 0x50, 0, 0]);
        face.extend_from_slice(&[1, 2, 0x00, 0x60, 0x00, 0x50, 0, 0]);
        face.extend_from_slice(&[1, 1, 0x01, 0xE0, 0x02, 0x80, 1, 2, 0, 0, 0, 0]);
        face.extend_from_slice(&image);
        let mut record = b"FAC\x00010\x00".to_vec();
        record.extend_from_slice(&((14 + face.len()) as u32).to_be_bytes());
        record.extend_from_slice(&[0, 1]);
        record.extend_from_slice(&face);

        let bht = tlv::encode(
            0xA1,
            &[
                tlv::encode(0x81, &[0x02]),
                tlv::encode(0x82, &[0x00]),
                tlv::encode(0x83, &[0x20, 0x21, 0x04, 0x20, 0x10, 0x00, 0x00]),
                tlv::encode(0x87, &[0x01, 0x01]),
                tlv::encode(0x88, &[0x00, 0x08]),
            ]
            .concat(),
        );
        let bdb = tlv::encode(0x7F2E, &tlv::encode(0x5F2E, &record));
        let bit = tlv::encode(0x7F60, &[bht, bdb].concat());
        let dg2 = tlv::encode(
            0x75,
            &tlv::encode(0x7F61, &[tlv::encode(0x02, &[1]), bit].concat()),
        );
        let parsed = Dg2::decode(&dg2).unwrap();
        let face = parsed.portrait().unwrap();
        assert_eq!(face.image_type, ImageType::Jpeg2000);
        assert_eq!(face.feature_points, 2);
        assert_eq!((face.width, face.height), (480, 640));
        assert_eq!(face.data, image);
    }

    /// The headers of DG2 of the BSI TR-03105-5 reference data set (biometric header, 19794-5
    /// record, image information) byte for byte, with the image cut to the JPEG 2000 signature
    /// and file-type boxes and the four length fields shortened to match.
    #[test]
    fn bsi_reference_dg2_headers() {
        let image = hex::decode("0000000c6a5020200d0a870a00000014667479706a703220000000006a703220")
            .unwrap();
        let n = image.len();
        let face_len = 20 + 12 + n;
        let record_len = 14 + face_len;
        let mut record =
            hex::decode("46414300303130000000000000010000000000000000000000000000000000000000")
                .unwrap();
        record[8..12].copy_from_slice(&(record_len as u32).to_be_bytes());
        record[14..18].copy_from_slice(&(face_len as u32).to_be_bytes());
        record.extend(hex::decode("0101015101c1000000000000").unwrap());
        record.extend(&image);
        let bht = hex::decode("a10e8101028201008702010188020008").unwrap();
        let bit = tlv::encode(0x7F60, &[bht, tlv::encode(0x5F2E, &record)].concat());
        let dg2 = tlv::encode(
            0x75,
            &tlv::encode(0x7F61, &[hex::decode("020101").unwrap(), bit].concat()),
        );
        let face = Dg2::decode(&dg2).unwrap().faces.remove(0);
        assert_eq!(face.image_type, ImageType::Jpeg2000);
        assert_eq!((face.width, face.height), (337, 449));
        assert_eq!(face.feature_points, 0);
        assert_eq!(face.data, image);
    }

    #[test]
    fn broken_records_are_specific_errors() {
        let good = Dg2::with_face(ImageType::Jpeg, 1, 1, JPEG.to_vec())
            .encode()
            .unwrap();
        let fac_at = good.windows(4).position(|w| w == b"FAC\0").unwrap();
        let mutate = |at: usize, byte: u8| {
            let mut b = good.clone();
            b[at] = byte;
            Dg2::decode(&b)
        };
        assert!(matches!(
            mutate(fac_at, b'X'),
            Err(Error::LdsMalformed {
                what: "face record does not start with FAC",
                ..
            })
        ));
        // Record length (bytes 8..12) far beyond the block.
        assert!(matches!(
            mutate(fac_at + 8, 0x7F),
            Err(Error::LdsMalformed { .. })
        ));
        // Feature point count (facial header bytes 4..6) pointing past the end.
        assert!(matches!(
            mutate(fac_at + 14 + 4, 0x40),
            Err(Error::LdsMalformed {
                what: "image information truncated",
                ..
            })
        ));
        // Image data type 7.
        assert!(matches!(
            mutate(fac_at + 14 + 20 + 1, 7),
            Err(Error::LdsMalformed { .. })
        ));
        assert!(matches!(
            Dg2::decode(&[0x75, 0x00]),
            Err(Error::LdsMalformed { .. })
        ));
        assert!(matches!(
            Dg2::with_face(ImageType::Jpeg, 1, 1, Vec::new()).encode(),
            Err(Error::LdsEncode { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn encode_then_decode_round_trips(
            data in proptest::collection::vec(any::<u8>(), 1..3000),
            jp2 in any::<bool>(),
            width in any::<u16>(),
            height in any::<u16>(),
            faces in 1usize..3,
        ) {
            let image_type = if jp2 { ImageType::Jpeg2000 } else { ImageType::Jpeg };
            let mut dg2 = Dg2::with_face(image_type, width, height, data.clone());
            for _ in 1..faces {
                dg2.faces.push(dg2.faces[0].clone());
            }
            let back = Dg2::decode(&dg2.encode().unwrap()).unwrap();
            prop_assert_eq!(back, dg2);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Dg2::decode(&bytes);
            let wrapped = tlv::encode(0x75, &tlv::encode(0x7F61, &tlv::encode(0x7F60, &tlv::encode(0x5F2E, &bytes))));
            let _ = Dg2::decode(&wrapped);
            let mut record = b"FAC\x00010\x00".to_vec();
            record.extend_from_slice(&bytes);
            let _ = parse_face_record(&record);
        }
    }
}
