//! The QR printed on the chip ID card (CCCD 2021 front, Căn cước 2024 back) and shown by VNeID:
//! UTF-8, `|`-separated,
//! `ID12|oldID9 or empty|name|ddmmyyyy birth|Nam or Nữ|address|ddmmyyyy issue` (7 fields; 2024
//! cards add trailing fields no public document defines, kept as `extras`).
//!
//! Data entry only: nothing here proves identity (the chip does). The ID-number rules belong to
//! `kiosk_card::cccd`; this module only splits and types the fields.

use kiosk_card::cccd::{self, CitizenId, Date, MrzKeyInfo};
use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroize;

use crate::error::{Error, Result};

pub use kiosk_card::cccd::mask_id;

/// Fields of the 2021 card QR.
pub const CARD_FIELDS: usize = 7;
/// Most fields accepted (2024 cards show 11).
pub const MAX_CARD_FIELDS: usize = 16;
/// Longest card-QR text accepted.
pub const MAX_CARD_LEN: usize = 1024;
const MAX_NAME_CHARS: usize = 100;
const MAX_ADDRESS_CHARS: usize = 300;
const MAX_EXTRA_CHARS: usize = 100;

/// Sex as printed on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// A parsed card QR. `Debug` masks every personal field; memory is wiped on drop.
#[derive(Clone, Serialize)]
pub struct CardQr {
    #[serde(serialize_with = "id_digits")]
    id: CitizenId,
    old_id: Option<String>,
    name: String,
    #[serde(serialize_with = "iso_date")]
    birth_date: Date,
    sex: Sex,
    address: String,
    #[serde(serialize_with = "iso_date")]
    issue_date: Date,
    extras: Vec<String>,
}

fn iso_date<S: Serializer>(d: &Date, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

fn id_digits<S: Serializer>(id: &CitizenId, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(id.as_str())
}

// `id` (a CitizenId) wipes itself; the other personal fields are wiped here.
impl Drop for CardQr {
    fn drop(&mut self) {
        self.old_id.zeroize();
        self.name.zeroize();
        self.address.zeroize();
        self.extras.zeroize();
    }
}

impl std::fmt::Debug for CardQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardQr")
            .field("id", &self.id)
            .field("fields", &(CARD_FIELDS + self.extras.len()))
            .finish_non_exhaustive()
    }
}

/// True when `text` has the shape of a card QR (a numeric first field before a `|`), so that a
/// malformed one gets a card error instead of passing as an opaque token.
pub fn looks_like_card(text: &str) -> bool {
    match text.split_once('|') {
        Some((first, _)) => {
            !first.is_empty() && first.len() <= 20 && first.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn field_err(field: &'static str, reason: &'static str) -> Error {
    Error::CardField { field, reason }
}

/// `ddmmyyyy` → a calendar date (validated by `kiosk_card::cccd::Date`).
fn parse_date(field: &'static str, s: &str) -> Result<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(field_err(field, "not 8 digits ddmmyyyy"));
    }
    let num = |r: std::ops::Range<usize>| {
        s[r].parse::<u16>()
            .map_err(|_| field_err(field, "not 8 digits ddmmyyyy"))
    };
    let (day, month, year) = (num(0..2)?, num(2..4)?, num(4..8)?);
    if !(1900..=2999).contains(&year) {
        return Err(field_err(field, "year out of range 1900–2999"));
    }
    if !(1..=12).contains(&month) {
        return Err(field_err(field, "month is not 01–12"));
    }
    Date::new(year, month as u8, day as u8).map_err(|_| field_err(field, "not a calendar date"))
}

fn parse_sex(s: &str) -> Result<Sex> {
    // Compare in NFC: some encoders emit "Nữ" decomposed.
    let nfc: String = s.trim().nfc().collect();
    match nfc.as_str() {
        "Nam" => Ok(Sex::Male),
        "Nữ" => Ok(Sex::Female),
        _ => Err(field_err("sex", "neither `Nam` nor `Nữ`")),
    }
}

fn clean_text(field: &'static str, s: &str, max_chars: usize, required: bool) -> Result<String> {
    let nfc: String = s.trim().nfc().collect();
    if required && nfc.is_empty() {
        return Err(field_err(field, "empty"));
    }
    if nfc.chars().count() > max_chars {
        return Err(field_err(field, "too long"));
    }
    if nfc.chars().any(char::is_control) {
        return Err(field_err(field, "contains control characters"));
    }
    Ok(nfc)
}

impl CardQr {
    /// Parses the card QR text (already decoded as UTF-8).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_CARD_LEN {
            return Err(Error::PayloadTooLong {
                len: text.len(),
                max: MAX_CARD_LEN,
            });
        }
        let fields: Vec<&str> = text.split('|').collect();
        if fields.len() < CARD_FIELDS || fields.len() > MAX_CARD_FIELDS {
            return Err(Error::CardFieldCount {
                found: fields.len(),
                max: MAX_CARD_FIELDS,
            });
        }
        let id = CitizenId::parse(fields[0]).map_err(Error::CardId)?;
        let old_id = match fields[1] {
            "" => None,
            s if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.to_owned()),
            _ => return Err(field_err("old_id", "neither empty nor 9 digits")),
        };
        let name = clean_text("name", fields[2], MAX_NAME_CHARS, true)?;
        let birth_date = parse_date("birth_date", fields[3])?;
        let sex = parse_sex(fields[4])?;
        let address = clean_text("address", fields[5], MAX_ADDRESS_CHARS, false)?;
        let issue_date = parse_date("issue_date", fields[6])?;
        if issue_date < birth_date {
            return Err(field_err("issue_date", "before the birth date"));
        }
        let extras = fields[CARD_FIELDS..]
            .iter()
            .map(|f| clean_text("extra", f, MAX_EXTRA_CHARS, false))
            .collect::<Result<Vec<_>>>()?;
        if id.birth_year() != birth_date.year {
            return Err(field_err(
                "id",
                "century/year digits do not match the birth date",
            ));
        }
        let id_sex = match id.sex() {
            cccd::Sex::Male => Sex::Male,
            cccd::Sex::Female => Sex::Female,
        };
        if id_sex != sex {
            return Err(field_err(
                "id",
                "century/sex digit does not match the sex field",
            ));
        }
        Ok(Self {
            id,
            old_id,
            name,
            birth_date,
            sex,
            address,
            issue_date,
            extras,
        })
    }

    /// The 12-digit personal identification number (validated by kiosk-card).
    pub fn citizen_id(&self) -> &CitizenId {
        &self.id
    }
    /// The 12 digits. Personal data: use [`CardQr::masked_id`] for logs and screens.
    pub fn id(&self) -> &str {
        self.id.as_str()
    }
    /// The 9-digit ID of the old card, if the person had one.
    pub fn old_id(&self) -> Option<&str> {
        self.old_id.as_deref()
    }
    /// Full name, NFC-normalised.
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }
    pub fn sex(&self) -> Sex {
        self.sex
    }
    /// Permanent residence, NFC-normalised.
    pub fn address(&self) -> &str {
        &self.address
    }
    pub fn issue_date(&self) -> Date {
        self.issue_date
    }
    /// Fields after the seventh (2024 cards), kept but not interpreted.
    pub fn extras(&self) -> &[String] {
        &self.extras
    }
    /// The PACE card access number derived from the ID (kiosk-card's rule: last 6 digits).
    pub fn can(&self) -> zeroize::Zeroizing<String> {
        self.id.can()
    }
    /// The BAC keys to try, most likely first (document number from the ID, birth date, the
    /// expiry dates the law allows for this issue date), from kiosk-card.
    pub fn bac_key_candidates(&self) -> Result<Vec<MrzKeyInfo>> {
        cccd::mrz_key_candidates(&self.id, self.birth_date, self.issue_date).map_err(Error::CardId)
    }
    /// The ID masked for logs and human output.
    pub fn masked_id(&self) -> String {
        mask_id(self.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = "001099012345|123456789|Nguyễn Văn An|01011999|Nam|Thôn 3, Xuân Phương, Nam Từ Liêm, Hà Nội|15082021";

    #[test]
    fn parses_the_seven_fields() {
        let c = CardQr::parse(GOOD).unwrap();
        assert_eq!(c.id(), "001099012345");
        assert_eq!(c.old_id(), Some("123456789"));
        assert_eq!(c.name(), "Nguyễn Văn An");
        assert_eq!(c.birth_date(), Date::new(1999, 1, 1).unwrap());
        assert_eq!(c.sex(), Sex::Male);
        assert_eq!(c.issue_date(), Date::new(2021, 8, 15).unwrap());
        assert!(c.extras().is_empty());
        assert_eq!(c.can().as_str(), "012345");
        let keys = c.bac_key_candidates().unwrap();
        assert!(!keys.is_empty());
        assert!(
            keys.iter()
                .all(|k| k.doc_no == "099012345" && k.dob == "990101")
        );
    }

    #[test]
    fn eleven_fields_keep_extras_and_empty_old_id() {
        let c = CardQr::parse(
            "079300001234||Trần Thị Bích|29022000|Nữ|Quận 1, TP. Hồ Chí Minh|01072024|x||y|",
        )
        .unwrap();
        assert_eq!(c.old_id(), None);
        assert_eq!(c.sex(), Sex::Female);
        assert_eq!(c.extras(), &["x", "", "y", ""]);
    }

    #[test]
    fn name_is_nfc_normalised() {
        // "Nguyễn" with combining marks (NFD) becomes the precomposed form.
        let nfd: String = "Nguyễn Thị Nữ".nfd().collect();
        assert_ne!(nfd, "Nguyễn Thị Nữ");
        let text = format!(
            "001199012345||{nfd}|01011999|{}|Hà Nội|15082021",
            "Nữ".nfd().collect::<String>()
        );
        let c = CardQr::parse(&text).unwrap();
        assert_eq!(c.name(), "Nguyễn Thị Nữ");
        assert_eq!(c.sex(), Sex::Female);
    }

    fn err(text: &str) -> Error {
        CardQr::parse(text).unwrap_err()
    }

    #[test]
    fn wrong_field_count() {
        assert!(matches!(
            err("001099012345|123456789|An|01011999|Nam|HN"),
            Error::CardFieldCount { found: 6, .. }
        ));
        let many = format!("{GOOD}{}", "|".repeat(10));
        assert!(matches!(
            err(&many),
            Error::CardFieldCount { found: 17, .. }
        ));
    }

    #[test]
    fn bad_dates() {
        let e = err("001099012345||An|31021999|Nam|HN|15082021");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "birth_date",
                    reason: "not a calendar date"
                }
            ),
            "{e}"
        );
        let e = err("001099012345||An|01131999|Nam|HN|15082021");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "birth_date",
                    reason: "month is not 01–12"
                }
            ),
            "{e}"
        );
        let e = err("001099012345||An|0101199|Nam|HN|15082021");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "birth_date",
                    ..
                }
            ),
            "{e}"
        );
        let e = err("001099012345||An|01011999|Nam|HN|1508202a");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "issue_date",
                    ..
                }
            ),
            "{e}"
        );
        let e = err("001099012345||An|01011999|Nam|HN|01011998");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "issue_date",
                    reason: "before the birth date"
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn impossible_ids_and_fields() {
        assert!(matches!(
            err("00109901234|123456789|An|01011999|Nam|HN|15082021"),
            Error::CardId(_)
        ));
        // 003 is not a province code.
        assert!(matches!(
            err("003099012345||An|01011999|Nam|HN|15082021"),
            Error::CardId(_)
        ));
        // Century/year digits say 1999, the birth date says 1998.
        let e = err("001099012345||An|01011998|Nam|HN|15082021");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "id",
                    reason: "century/year digits do not match the birth date"
                }
            ),
            "{e}"
        );
        // Digit 0 = male born in the 1900s, but the sex field says Nữ.
        let e = err("001099012345||An|01011999|Nữ|HN|15082021");
        assert!(
            matches!(
                e,
                Error::CardField {
                    field: "id",
                    reason: "century/sex digit does not match the sex field"
                }
            ),
            "{e}"
        );
        // 2000s births use 2 (male) and 3 (female).
        assert!(CardQr::parse("001300012345||An|01012000|Nữ|HN|15082021").is_ok());
        assert!(matches!(
            err("001099012345|12345678|An|01011999|Nam|HN|15082021"),
            Error::CardField {
                field: "old_id",
                ..
            }
        ));
        assert!(matches!(
            err("001099012345||  |01011999|Nam|HN|15082021"),
            Error::CardField {
                field: "name",
                reason: "empty"
            }
        ));
        assert!(matches!(
            err("001099012345||An|01011999|Male|HN|15082021"),
            Error::CardField { field: "sex", .. }
        ));
        assert!(matches!(
            err("001099012345||A\u{7}n|01011999|Nam|HN|15082021"),
            Error::CardField { field: "name", .. }
        ));
    }

    #[test]
    fn oversized_is_rejected_before_splitting() {
        let text = format!(
            "001099012345||{}|01011999|Nam|HN|15082021",
            "a".repeat(MAX_CARD_LEN)
        );
        assert!(matches!(
            err(&text),
            Error::PayloadTooLong {
                max: MAX_CARD_LEN,
                ..
            }
        ));
    }

    #[test]
    fn errors_and_debug_carry_no_personal_data() {
        let c = CardQr::parse(GOOD).unwrap();
        let dbg = format!("{c:?}");
        assert!(dbg.contains("0010******45"), "{dbg}");
        assert!(!dbg.contains("Nguy") && !dbg.contains("001099012345") && !dbg.contains("1999"));
        let e = err("001099012345||Nguyễn Văn An|31021999|Nam|Hà Nội|15082021").to_string();
        assert!(
            !e.contains("Nguy") && !e.contains("001099012345") && !e.contains("31021999"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in "[0-9|A-Za-zễữ]{0,200}") {
            let _ = CardQr::parse(&text);
        }
    }
}
