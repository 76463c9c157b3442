//! DG13 (tag `6D`): the Vietnamese personal data of the CCCD (facts/cccd-chip.md, "DG13 layout").
//!
//! ```text
//! 6D { 30 { 02 01 01, 06 06 28D316010008, 31 { 30 { 02 01 n, <values> } ... } } }
//! ```
//!
//! Parsers in the wild disagree on the fields' positions and nesting, so decoding never relies on
//! position: it requires `6D` → SEQUENCE → SET, reads each field's leading INTEGER as its number,
//! and collects the string leaves of each following element (recursively, bounded depth) in
//! order. UTF8String, PrintableString and BMPString are accepted, IA5String, VisibleString and
//! T61String leniently. Unknown numbers are kept aside, never an error. Encoding writes exactly
//! the layout of the facts, for the virtual card.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::cccd::{Date, Sex};
use crate::error::{Error, Result};
use crate::lds::MAX_FILE_LEN;
use crate::tlv::{self, Tag, Tlv};

/// The tag of DG13.
pub const TAG: Tag = 0x6D;

const FILE: &str = "DG13";
/// How deep string leaves are looked for below a field (a field is at most two levels deep on
/// known cards; a few more are tolerated, anything deeper is refused).
const MAX_DEPTH: usize = 6;
/// The most fields accepted (16 are known).
const MAX_FIELDS: usize = 64;

const TAG_INTEGER: Tag = 0x02;
const TAG_OID: Tag = 0x06;
const TAG_SEQUENCE: Tag = 0x30;
const TAG_SET: Tag = 0x31;
const TAG_UTF8: Tag = 0x0C;
const TAG_PRINTABLE: Tag = 0x13;
const TAG_T61: Tag = 0x14;
const TAG_IA5: Tag = 0x16;
const TAG_VISIBLE: Tag = 0x1A;
const TAG_BMP: Tag = 0x1E;

/// OID 1.0.10646.1.0.8 (ISO 10646 UTF-8) as written after the version on real cards.
const OID_UTF8_CONTENT: [u8; 6] = [0x28, 0xD3, 0x16, 0x01, 0x00, 0x08];

/// A field of DG13 by number: each element after the number, as its string leaves joined
/// (a nested `SEQUENCE { UTF8String }` per parent in field 13 gives one value per parent).
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct Dg13Field {
    pub number: u32,
    pub values: Vec<String>,
}

impl std::fmt::Debug for Dg13Field {
    // Personal data: the number and the count only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dg13Field({}, {} values)",
            self.number,
            self.values.len()
        )
    }
}

/// The expiry field (12): a date, or the words a card prints when it does not expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry<'a> {
    Date(Date),
    /// The text as on the card (e.g. `Không thời hạn`).
    NoExpiry(&'a str),
}

/// Decoded DG13. A field absent from the card is `None`; present but empty is `Some("")`.
/// Personal data: `Debug` lists which fields are present, never their values; everything is
/// wiped on drop.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Dg13 {
    /// 1: the 12-digit ID number.
    pub id_number: Option<String>,
    /// 2: full name with diacritics.
    pub full_name: Option<String>,
    /// 3: date of birth as on the card (`DD/MM/YYYY`); see [`Dg13::date_of_birth_parsed`].
    pub date_of_birth: Option<String>,
    /// 4: `Nam` / `Nữ`.
    pub sex: Option<String>,
    /// 5.
    pub nationality: Option<String>,
    /// 6.
    pub ethnicity: Option<String>,
    /// 7.
    pub religion: Option<String>,
    /// 8: quê quán.
    pub place_of_origin: Option<String>,
    /// 9: nơi thường trú.
    pub place_of_residence: Option<String>,
    /// 10: đặc điểm nhận dạng.
    pub identifying_marks: Option<String>,
    /// 11: `DD/MM/YYYY`.
    pub issue_date: Option<String>,
    /// 12: `DD/MM/YYYY`, or free text for no expiry; see [`Dg13::expiry`].
    pub expiry_date: Option<String>,
    /// 13, first value.
    pub father_name: Option<String>,
    /// 13, second value.
    pub mother_name: Option<String>,
    /// 14: empty when single.
    pub spouse_name: Option<String>,
    /// 15: the old 9-digit ID (CMND), absent if none.
    pub old_id_number: Option<String>,
    /// 16: a 16-character string of unknown meaning.
    pub field16: Option<String>,
    /// Fields with other numbers, repeated known numbers, and values beyond the ones above.
    pub other: Vec<Dg13Field>,
    /// The file as read (the SOD hash covers exactly these bytes). Empty for a value built by
    /// hand until it is encoded.
    raw: Vec<u8>,
}

impl std::fmt::Debug for Dg13 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present: Vec<u32> = (1..=16)
            .filter(|n| self.slots_ref(*n).iter().any(|s| s.is_some()))
            .collect();
        f.debug_struct("Dg13")
            .field("fields_present", &present)
            .field("other", &self.other)
            .field("raw_len", &self.raw.len())
            .finish()
    }
}

impl Dg13 {
    /// Decodes DG13 (bytes after the `6D` TLV are ignored) by the robust rule of the module doc.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_FILE_LEN {
            return Err(Error::LdsTooLarge {
                file: FILE,
                len: bytes.len(),
                max: MAX_FILE_LEN,
            });
        }
        let outer = tlv::parse_prefix(bytes, TAG)?;
        let seq = tlv::parse_prefix(outer.value, TAG_SEQUENCE)?;
        // The version INTEGER and the OID come first on known cards; their position is not
        // relied upon, only the SET of fields is required.
        let set = seq
            .find(TAG_SET)?
            .ok_or(malformed("SET of fields missing"))?;

        let mut dg = Dg13::default();
        dg.raw = outer.raw.to_vec();
        let mut count = 0usize;
        for item in set.children() {
            let item = item?;
            if item.tag != TAG_SEQUENCE {
                continue;
            }
            count += 1;
            if count > MAX_FIELDS {
                return Err(malformed("more than 64 fields"));
            }
            let mut parts = item.children();
            let number = match parts.next().transpose()? {
                Some(n) if n.tag == TAG_INTEGER => field_number(n.value)?,
                _ => return Err(malformed("a field does not start with its INTEGER number")),
            };
            let mut values = Vec::new();
            for part in parts {
                let part = part?;
                // Personal data: the pieces are wiped once joined.
                let mut leaves = Zeroizing::new(Vec::new());
                collect_strings(&part, 0, &mut leaves)?;
                if leaves.is_empty() && !tlv::is_constructed(part.tag) {
                    // A non-string primitive (an OID, a number): not a value.
                    continue;
                }
                values.push(leaves.join(" "));
            }
            dg.place(number, values);
        }
        Ok(dg)
    }

    /// Encodes DG13 in the layout of the facts (version 1, the UTF-8 OID, one SEQUENCE per
    /// field in number order; the ID, dates, old ID and field 16 as PrintableString when their
    /// characters allow, everything else UTF8String; parents and spouse nested).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut fields: Vec<(u32, Zeroizing<Vec<u8>>)> = Vec::new();
        for n in 1..=16u32 {
            let slots = self.slots_ref(n);
            let body = match n {
                13 | 14 => {
                    // Each parent (or the spouse) in its own SEQUENCE { UTF8String }.
                    let mut body = Vec::new();
                    for value in slots.iter().flatten() {
                        let s = tlv::encode(TAG_UTF8, value.as_bytes());
                        tlv::encode_into(&mut body, TAG_SEQUENCE, &s);
                    }
                    if slots.iter().all(|s| s.is_none()) {
                        continue;
                    }
                    body
                }
                _ => match slots.first().copied().flatten() {
                    Some(value) => encode_string(value, matches!(n, 1 | 3 | 11 | 15 | 16)),
                    None => continue,
                },
            };
            fields.push((n, Zeroizing::new(body)));
        }
        for field in &self.other {
            let mut body = Vec::new();
            for value in &field.values {
                body.extend(encode_string(value, false));
            }
            fields.push((field.number, Zeroizing::new(body)));
        }
        fields.sort_by_key(|(n, _)| *n);

        let mut set = Zeroizing::new(Vec::new());
        for (n, body) in &fields {
            let mut field = Zeroizing::new(encode_number(*n));
            field.extend_from_slice(body);
            tlv::encode_into(&mut set, TAG_SEQUENCE, &field);
        }
        let mut seq = Zeroizing::new(vec![0x02, 0x01, 0x01]);
        tlv::encode_into(&mut seq, TAG_OID, &OID_UTF8_CONTENT);
        tlv::encode_into(&mut seq, TAG_SET, &set);
        let inner = Zeroizing::new(tlv::encode(TAG_SEQUENCE, &seq));
        let out = tlv::encode(TAG, &inner);
        Ok(out)
    }

    /// Encodes the fields and keeps the result as this value's raw bytes (the virtual card's
    /// way to get a DG13 whose [`Dg13::raw`] is what it serves).
    pub fn encode_in_place(&mut self) -> Result<&[u8]> {
        let bytes = self.encode()?;
        self.raw.zeroize();
        self.raw = bytes;
        Ok(&self.raw)
    }

    /// The file as read from the card (or as last encoded by [`Dg13::encode_in_place`]).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Field 3 as a date.
    pub fn date_of_birth_parsed(&self) -> Result<Date> {
        parse_date(self.date_of_birth.as_deref(), "date of birth (3) absent")
    }

    /// Field 11 as a date.
    pub fn issue_date_parsed(&self) -> Result<Date> {
        parse_date(self.issue_date.as_deref(), "issue date (11) absent")
    }

    /// Field 12: a date, or "no expiry" with the card's words. `None` if absent.
    pub fn expiry(&self) -> Option<Expiry<'_>> {
        let text = self.expiry_date.as_deref()?;
        Some(match Date::parse_dmy(text.trim()) {
            Ok(d) => Expiry::Date(d),
            Err(_) => Expiry::NoExpiry(text),
        })
    }

    /// Field 4 as a sex (`Nam` = male, `Nữ` = female, either case).
    pub fn sex_parsed(&self) -> Option<Sex> {
        let s = self.sex.as_deref()?.trim().to_lowercase();
        match s.as_str() {
            "nam" | "male" | "m" => Some(Sex::Male),
            "nữ" | "nu" | "female" | "f" => Some(Sex::Female),
            _ => None,
        }
    }

    fn slots_ref(&self, n: u32) -> Vec<Option<&str>> {
        match n {
            13 => vec![self.father_name.as_deref(), self.mother_name.as_deref()],
            _ => vec![self.slot_ref(n)],
        }
    }

    fn slot_ref(&self, n: u32) -> Option<&str> {
        match n {
            1 => self.id_number.as_deref(),
            2 => self.full_name.as_deref(),
            3 => self.date_of_birth.as_deref(),
            4 => self.sex.as_deref(),
            5 => self.nationality.as_deref(),
            6 => self.ethnicity.as_deref(),
            7 => self.religion.as_deref(),
            8 => self.place_of_origin.as_deref(),
            9 => self.place_of_residence.as_deref(),
            10 => self.identifying_marks.as_deref(),
            11 => self.issue_date.as_deref(),
            12 => self.expiry_date.as_deref(),
            14 => self.spouse_name.as_deref(),
            15 => self.old_id_number.as_deref(),
            16 => self.field16.as_deref(),
            _ => None,
        }
    }

    fn slot_mut(&mut self, n: u32) -> Option<&mut Option<String>> {
        Some(match n {
            1 => &mut self.id_number,
            2 => &mut self.full_name,
            3 => &mut self.date_of_birth,
            4 => &mut self.sex,
            5 => &mut self.nationality,
            6 => &mut self.ethnicity,
            7 => &mut self.religion,
            8 => &mut self.place_of_origin,
            9 => &mut self.place_of_residence,
            10 => &mut self.identifying_marks,
            11 => &mut self.issue_date,
            12 => &mut self.expiry_date,
            14 => &mut self.spouse_name,
            15 => &mut self.old_id_number,
            16 => &mut self.field16,
            _ => return None,
        })
    }

    /// Puts a decoded field in its typed place; whatever does not fit (unknown numbers, a
    /// repeated number, surplus values) goes to `other`, so nothing is dropped.
    fn place(&mut self, number: u32, mut values: Vec<String>) {
        let consumed = if number == 13 {
            if self.father_name.is_none() && self.mother_name.is_none() {
                let n = values.len().min(2);
                let mut taken = values.drain(..n);
                // A field 13 without values is kept as an empty father entry.
                self.father_name = Some(taken.next().unwrap_or_default());
                self.mother_name = taken.next();
                true
            } else {
                false
            }
        } else if let Some(slot) = self.slot_mut(number).filter(|s| s.is_none()) {
            *slot = Some(if values.is_empty() {
                String::new()
            } else {
                values.remove(0)
            });
            true
        } else {
            false
        };
        if !consumed || !values.is_empty() {
            self.other.push(Dg13Field { number, values });
        }
    }
}

fn parse_date(text: Option<&str>, absent: &'static str) -> Result<Date> {
    Date::parse_dmy(text.ok_or(malformed(absent))?.trim())
}

/// A field number: a small non-negative INTEGER.
fn field_number(value: &[u8]) -> Result<u32> {
    if value.is_empty() || value.len() > 4 || value[0] & 0x80 != 0 {
        return Err(malformed("a field number is not a small positive INTEGER"));
    }
    Ok(value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

fn encode_number(n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(3);
    let mut value = bytes[skip..].to_vec();
    if value.first().is_some_and(|b| b & 0x80 != 0) {
        // Keep the INTEGER positive.
        value.insert(0, 0);
    }
    tlv::encode(TAG_INTEGER, &value)
}

fn encode_string(value: &str, printable_if_possible: bool) -> Vec<u8> {
    let printable = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    let tag = if printable_if_possible && printable {
        TAG_PRINTABLE
    } else {
        TAG_UTF8
    };
    tlv::encode(tag, value.as_bytes())
}

/// Appends the string leaves under `node` to `out`, in order.
fn collect_strings(node: &Tlv<'_>, depth: usize, out: &mut Vec<String>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(malformed("fields nested too deeply"));
    }
    if let Some(s) = decode_string(node)? {
        out.push(s);
        return Ok(());
    }
    if tlv::is_constructed(node.tag) {
        for child in node.children() {
            collect_strings(&child?, depth + 1, out)?;
        }
    }
    Ok(())
}

fn decode_string(node: &Tlv<'_>) -> Result<Option<String>> {
    let v = node.value;
    Ok(Some(match node.tag {
        TAG_UTF8 => String::from_utf8(v.to_vec())
            .map_err(|_| malformed("a UTF8String is not valid UTF-8"))?,
        TAG_PRINTABLE | TAG_IA5 | TAG_VISIBLE => {
            if !v.is_ascii() {
                return Err(malformed("a PrintableString is not ASCII"));
            }
            v.iter().map(|b| char::from(*b)).collect()
        }
        // Teletex: read as Latin-1, which covers what a card would plausibly put there.
        TAG_T61 => v.iter().map(|b| char::from(*b)).collect(),
        TAG_BMP => {
            if !v.len().is_multiple_of(2) {
                return Err(malformed("a BMPString has an odd length"));
            }
            let units: Zeroizing<Vec<u16>> = Zeroizing::new(
                v.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            );
            String::from_utf16(&units).map_err(|_| malformed("a BMPString is not valid UTF-16"))?
        }
        _ => return Ok(None),
    }))
}

fn malformed(what: &'static str) -> Error {
    Error::LdsMalformed { file: FILE, what }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One TLV with a one-byte tag, written out by hand (not through the module's encoder).
    fn t(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let value: Vec<u8> = parts.concat();
        let mut out = vec![tag];
        match value.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend(value);
        out
    }
    fn utf8(s: &str) -> Vec<u8> {
        t(0x0C, &[s.as_bytes()])
    }
    fn printable(s: &str) -> Vec<u8> {
        t(0x13, &[s.as_bytes()])
    }
    fn bmp(s: &str) -> Vec<u8> {
        let units: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        t(0x1E, &[&units])
    }
    fn field(n: u8, values: &[Vec<u8>]) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = vec![&[0x02, 0x01]];
        let num = [n];
        parts.push(&num);
        for v in values {
            parts.push(v);
        }
        t(0x30, &parts)
    }
    fn dg13(fields: &[Vec<u8>]) -> Vec<u8> {
        let set: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        t(
            0x6D,
            &[&t(
                0x30,
                &[
                    &[0x02, 0x01, 0x01],
                    &[0x06, 0x06, 0x28, 0xD3, 0x16, 0x01, 0x00, 0x08],
                    &t(0x31, &set),
                ],
            )],
        )
    }

    /// A fictional married-later citizen in the card's layout: diacritics everywhere, parents
    /// nested, spouse present but empty, old CMND present, field 16, and field 17 unknown.
    fn fictional_fields(name: Vec<u8>, with_old_id: bool) -> Vec<Vec<u8>> {
        let mut f = vec![
            field(1, &[printable("001099012345")]),
            field(2, &[name]),
            field(3, &[printable("15/01/1999")]),
            field(4, &[utf8("Nữ")]),
            field(5, &[utf8("Việt Nam")]),
            field(6, &[utf8("Kinh")]),
            field(7, &[utf8("Không")]),
            field(8, &[utf8("Xã Đông Hưng, Huyện Tiên Lữ, Hưng Yên")]),
            field(
                9,
                &[utf8(
                    "Số 12 Ngõ 34 Phố Hoàng Hoa Thám, Phường Thụy Khuê, Quận Tây Hồ, Hà Nội",
                )],
            ),
            field(10, &[utf8("Nốt ruồi C:1cm dưới trước mép trái")]),
            field(11, &[printable("20/04/2021")]),
            field(12, &[utf8("15/01/2024")]),
            field(
                13,
                &[
                    t(0x30, &[&utf8("Nguyễn Văn Bình")]),
                    t(0x30, &[&utf8("Trần Thị Cúc")]),
                ],
            ),
            field(14, &[t(0x30, &[&utf8("")])]),
        ];
        if with_old_id {
            f.push(field(15, &[printable("012345678")]));
        }
        f.push(field(16, &[printable("A1B2C3D4E5F6G7H8")]));
        f.push(field(17, &[utf8("mới")]));
        f
    }

    #[test]
    fn fictional_citizen_decodes_field_by_field() {
        let bytes = dg13(&fictional_fields(utf8("Nguyễn Thị Ánh Dương"), true));
        let dg = Dg13::decode(&bytes).unwrap();
        assert_eq!(dg.id_number.as_deref(), Some("001099012345"));
        assert_eq!(dg.full_name.as_deref(), Some("Nguyễn Thị Ánh Dương"));
        assert_eq!(
            dg.date_of_birth_parsed().unwrap(),
            Date::new(1999, 1, 15).unwrap()
        );
        assert_eq!(dg.sex_parsed(), Some(Sex::Female));
        assert_eq!(dg.nationality.as_deref(), Some("Việt Nam"));
        assert_eq!(dg.ethnicity.as_deref(), Some("Kinh"));
        assert_eq!(dg.religion.as_deref(), Some("Không"));
        assert!(
            dg.place_of_origin
                .as_deref()
                .unwrap()
                .starts_with("Xã Đông Hưng")
        );
        assert!(
            dg.place_of_residence
                .as_deref()
                .unwrap()
                .ends_with("Hà Nội")
        );
        assert!(
            dg.identifying_marks
                .as_deref()
                .unwrap()
                .starts_with("Nốt ruồi")
        );
        assert_eq!(
            dg.issue_date_parsed().unwrap(),
            Date::new(2021, 4, 20).unwrap()
        );
        assert_eq!(
            dg.expiry(),
            Some(Expiry::Date(Date::new(2024, 1, 15).unwrap()))
        );
        assert_eq!(dg.father_name.as_deref(), Some("Nguyễn Văn Bình"));
        assert_eq!(dg.mother_name.as_deref(), Some("Trần Thị Cúc"));
        assert_eq!(dg.spouse_name.as_deref(), Some(""));
        assert_eq!(dg.old_id_number.as_deref(), Some("012345678"));
        assert_eq!(dg.field16.as_deref(), Some("A1B2C3D4E5F6G7H8"));
        assert_eq!(
            dg.other,
            vec![Dg13Field {
                number: 17,
                values: vec!["mới".into()]
            }]
        );
        assert_eq!(dg.raw(), &bytes[..]);
        // The hand-written bytes are exactly the layout the encoder writes.
        assert_eq!(dg.encode().unwrap(), bytes);
    }

    #[test]
    fn old_id_absent_and_bmp_name() {
        let bytes = dg13(&fictional_fields(bmp("Lê Văn Đức"), false));
        let dg = Dg13::decode(&bytes).unwrap();
        assert_eq!(dg.full_name.as_deref(), Some("Lê Văn Đức"));
        assert_eq!(dg.old_id_number, None);
        assert_eq!(dg.field16.as_deref(), Some("A1B2C3D4E5F6G7H8"));
    }

    #[test]
    fn position_and_nesting_are_not_relied_upon() {
        // Fields out of order, parents as bare strings, no version/OID, a field nested deeper.
        let bytes = t(
            0x6D,
            &[&t(
                0x30,
                &[&t(
                    0x31,
                    &[
                        &field(12, &[utf8("Không thời hạn")]),
                        &field(13, &[utf8("Cha"), utf8("Mẹ")]),
                        &field(2, &[t(0x30, &[&t(0x30, &[&utf8("Hà Anh")])])]),
                        &field(1, &[printable("001099012345")]),
                        &field(99, &[t(0x06, &[&[0x2A]])]),
                    ],
                )],
            )],
        );
        let dg = Dg13::decode(&bytes).unwrap();
        assert_eq!(dg.expiry(), Some(Expiry::NoExpiry("Không thời hạn")));
        assert_eq!(dg.father_name.as_deref(), Some("Cha"));
        assert_eq!(dg.mother_name.as_deref(), Some("Mẹ"));
        assert_eq!(dg.full_name.as_deref(), Some("Hà Anh"));
        assert_eq!(dg.id_number.as_deref(), Some("001099012345"));
        assert_eq!(dg.other.len(), 1);
        assert_eq!(dg.other[0].number, 99);
        assert!(dg.other[0].values.is_empty());
    }

    #[test]
    fn debug_never_shows_values() {
        let dg = Dg13::decode(&dg13(&fictional_fields(utf8("Nguyễn An"), true))).unwrap();
        let dbg = format!("{dg:?}");
        for secret in ["001099012345", "Nguyễn", "15/01/1999", "mới", "012345678"] {
            assert!(!dbg.contains(secret), "{dbg}");
        }
        assert!(dbg.contains("fields_present"));
    }

    #[test]
    fn malformed_files_get_specific_errors() {
        assert!(matches!(
            Dg13::decode(&[0x61, 0x00]),
            Err(Error::UnexpectedTag { expected: 0x6D, .. })
        ));
        assert!(matches!(
            Dg13::decode(&t(0x6D, &[&t(0x30, &[&[0x02, 0x01, 0x01]])])),
            Err(Error::LdsMalformed {
                what: "SET of fields missing",
                ..
            })
        ));
        let no_number = dg13(&[t(0x30, &[&utf8("x")])]);
        assert!(matches!(
            Dg13::decode(&no_number),
            Err(Error::LdsMalformed { .. })
        ));
        let bad_utf8 = dg13(&[field(2, &[t(0x0C, &[&[0xC3, 0x28]])])]);
        assert!(matches!(
            Dg13::decode(&bad_utf8),
            Err(Error::LdsMalformed {
                what: "a UTF8String is not valid UTF-8",
                ..
            })
        ));
        let odd_bmp = dg13(&[field(2, &[t(0x1E, &[&[0x00]])])]);
        assert!(matches!(
            Dg13::decode(&odd_bmp),
            Err(Error::LdsMalformed { .. })
        ));
        let mut deep = utf8("x");
        for _ in 0..10 {
            deep = t(0x30, &[&deep]);
        }
        assert!(matches!(
            Dg13::decode(&dg13(&[field(2, &[deep])])),
            Err(Error::LdsMalformed {
                what: "fields nested too deeply",
                ..
            })
        ));
    }

    fn opt_text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[a-zA-Z0-9 ,/Đđàáảãạâầấẩẫậưừứửữựơờớởỡợ]{0,40}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn encode_then_decode_round_trips(
            a in proptest::collection::vec(opt_text(), 15),
            father in "[a-zA-Zàáạđ ]{0,20}",
            mother in opt_text(),
            extra in proptest::collection::vec((17u32..300, proptest::collection::vec("[a-zđ]{0,8}", 0..3)), 0..3),
        ) {
            let mut dg = Dg13::default();
            for (n, v) in (1u32..=16).filter(|n| *n != 13).zip(a) {
                if let Some(slot) = dg.slot_mut(n) {
                    *slot = v;
                }
            }
            dg.father_name = Some(father);
            dg.mother_name = mother;
            let mut numbers: Vec<u32> = Vec::new();
            for (n, values) in extra {
                if !numbers.contains(&n) {
                    numbers.push(n);
                    dg.other.push(Dg13Field { number: n, values });
                }
            }
            dg.other.sort_by_key(|f| f.number);
            let bytes = dg.encode_in_place().unwrap().to_vec();
            let back = Dg13::decode(&bytes).unwrap();
            prop_assert_eq!(&back, &dg);
            prop_assert_eq!(back.encode().unwrap(), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Dg13::decode(&bytes);
            let framed = t(0x6D, &[&t(0x30, &[&[0x02, 0x01, 0x01], &t(0x31, &[&bytes])])]);
            let _ = Dg13::decode(&framed);
        }

        #[test]
        fn encoding_what_was_decoded_is_canonical(
            fields in proptest::collection::vec(
                (0u8..24, proptest::collection::vec(
                    prop_oneof![
                        "[a-zA-Zđư ]{0,6}".prop_map(|s| utf8(&s)),
                        "[A-Z0-9/]{0,6}".prop_map(|s| printable(&s)),
                        "[a-zđ]{0,4}".prop_map(|s| bmp(&s)),
                        "[a-z]{0,4}".prop_map(|s| t(0x30, &[&utf8(&s), &t(0x30, &[&printable("X")])])),
                        Just(vec![0x06, 0x01, 0x2A]),
                    ],
                    0..4,
                )),
                0..20,
            ),
        ) {
            let fields: Vec<Vec<u8>> = fields.iter().map(|(n, v)| field(*n, v)).collect();
            let first = Dg13::decode(&dg13(&fields)).unwrap();
            let again = first.encode().unwrap();
            let second = Dg13::decode(&again).unwrap();
            prop_assert_eq!(second.encode().unwrap(), again);
            prop_assert_eq!(&second.full_name, &first.full_name);
            prop_assert_eq!(&second.father_name, &first.father_name);
            prop_assert_eq!(&second.mother_name, &first.mother_name);
        }

        #[test]
        fn arbitrary_fields_never_panic(fields in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
            let wrapped: Vec<Vec<u8>> = fields.iter().map(|f| t(0x30, &[&[0x02, 0x01, 0x02], f])).collect();
            let _ = Dg13::decode(&dg13(&wrapped));
        }
    }
}
