//! Citizen profiles: the personal data a virtual chip is personalised with, read from TOML or
//! JSON and validated field by field. Every error names the key that is wrong and never echoes
//! its value (the values are personal data, even when fictional).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};

/// The largest profile file accepted.
const MAX_PROFILE_BYTES: u64 = 64 * 1024;
/// The largest photo accepted (a real DG2 is a few kB to ~20 kB).
pub const MAX_PHOTO_BYTES: u64 = 64 * 1024;
/// The longest free-text field, in characters (long Vietnamese addresses fit easily).
const MAX_TEXT_CHARS: usize = 200;
/// What a card without expiry shows in DG13 field 12.
pub const NO_EXPIRY: &str = "Không thời hạn";

/// A calendar date as the card writes it (`DD/MM/YYYY`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Zeroize)]
pub struct Date {
    // Field order makes the derived ordering chronological.
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Debug for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Date(..)")
    }
}

impl Date {
    /// Parses `DD/MM/YYYY` with the calendar rules of `kiosk_card::cccd::Date` (leap years
    /// included), limited to the years a living citizen's card can carry.
    pub fn parse(text: &str, key: &'static str) -> Result<Self> {
        let d = kiosk_card::cccd::Date::parse_dmy(text).map_err(|_| Error::ProfileInvalid {
            key,
            reason: "must be an existing date written DD/MM/YYYY",
        })?;
        if !(1900..=2099).contains(&d.year) {
            return Err(Error::ProfileInvalid {
                key,
                reason: "year must be between 1900 and 2099",
            });
        }
        Ok(Self {
            year: d.year,
            month: d.month,
            day: d.day,
        })
    }

    /// `YYMMDD`, as the MRZ writes dates.
    pub fn yymmdd(&self) -> String {
        format!("{:02}{:02}{:02}", self.year % 100, self.month, self.day)
    }

    /// `DD/MM/YYYY`, as DG13 writes dates.
    pub fn dd_mm_yyyy(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }
}

/// Sex as DG13 writes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Zeroize)]
pub enum Sex {
    /// `Nam`
    Male,
    /// `Nữ`
    Female,
}

impl Sex {
    pub fn dg13_text(self) -> &'static str {
        match self {
            Self::Male => "Nam",
            Self::Female => "Nữ",
        }
    }

    /// The MRZ letter.
    pub fn mrz_letter(self) -> char {
        match self {
            Self::Male => 'M',
            Self::Female => 'F',
        }
    }
}

/// Expiry of the card: a date, or none for cards issued at 58 or later.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Zeroize)]
pub enum Expiry {
    Date(Date),
    Never,
}

/// The profile file as written, before validation. Unknown keys are an error (serde names them).
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: String,
    full_name: String,
    date_of_birth: String,
    sex: String,
    nationality: String,
    ethnicity: String,
    religion: String,
    place_of_origin: String,
    place_of_residence: String,
    #[serde(default)]
    identifying_marks: String,
    issue_date: String,
    expiry: String,
    #[serde(default)]
    father: String,
    #[serde(default)]
    mother: String,
    #[serde(default)]
    spouse: String,
    #[serde(default)]
    old_id: Option<String>,
    #[serde(default)]
    field_16: Option<String>,
    /// A JPEG file, relative to the profile file. Absent: a synthetic face is generated.
    #[serde(default)]
    photo: Option<String>,
    /// How the MRZ writes "no expiry" (`YYMMDD` or `<<<<<<`); it is open on real cards.
    #[serde(default)]
    mrz_no_expiry: Option<String>,
}

/// A validated citizen profile. Holds personal data: `Debug` shows the masked ID only, and the
/// memory is zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Profile {
    /// 12-digit ID number.
    pub id: String,
    pub full_name: String,
    pub date_of_birth: Date,
    pub sex: Sex,
    pub nationality: String,
    pub ethnicity: String,
    pub religion: String,
    pub place_of_origin: String,
    pub place_of_residence: String,
    pub identifying_marks: String,
    pub issue_date: Date,
    pub expiry: Expiry,
    pub father: String,
    pub mother: String,
    /// Empty when single.
    pub spouse: String,
    /// Old 9-digit CMND number, if any.
    pub old_id: Option<String>,
    /// The unexplained 16-character DG13 field 16, if any.
    pub field_16: Option<String>,
    /// JPEG bytes of the face photo, if the profile names one.
    pub photo: Option<Vec<u8>>,
    /// MRZ `YYMMDD` (or `<<<<<<`) used for "no expiry".
    pub mrz_no_expiry: String,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("id", &mask_id(&self.id))
            .finish_non_exhaustive()
    }
}

/// Masks an ID number for logs (`0010******45`): `kiosk_card`'s one formatter.
pub use kiosk_card::cccd::mask_id;

impl Profile {
    /// Reads a profile from a `.toml` or `.json` file; the photo path is relative to the file.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|source| Error::ProfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.len() > MAX_PROFILE_BYTES {
            return Err(Error::ProfileSyntax {
                path: path.to_path_buf(),
                message: format!("larger than {MAX_PROFILE_BYTES} bytes"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::ProfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            _ => Format::Toml,
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, format, Some(&base)).map_err(|e| e.in_file(path))
    }

    /// Parses and validates profile text. `base` is where a relative photo path is looked up;
    /// without it a `photo` key is an error.
    pub fn parse(text: &str, format: Format, base: Option<&Path>) -> Result<Self> {
        let raw: RawProfile = match format {
            Format::Toml => toml::from_str(text).map_err(|e| Error::ProfileSyntax {
                path: PathBuf::new(),
                message: toml_reason(&e, text),
            })?,
            Format::Json => serde_json::from_str(text).map_err(|e| Error::ProfileSyntax {
                path: PathBuf::new(),
                message: format!(
                    "line {} column {}: {}",
                    e.line(),
                    e.column(),
                    json_reason(&e)
                ),
            })?,
        };
        Self::validate(&raw, base)
    }

    fn validate(raw: &RawProfile, base: Option<&Path>) -> Result<Self> {
        let bad = |key: &'static str, reason: &'static str| Error::ProfileInvalid { key, reason };

        let id = kiosk_card::cccd::CitizenId::parse(&raw.id)
            .map_err(|_| bad("id", "must be a 12-digit CCCD number"))?;
        let date_of_birth = Date::parse(&raw.date_of_birth, "date_of_birth")?;
        // "Nữ" precomposed (NFC) or decomposed (NFD) alike.
        let sex = match raw.sex.trim() {
            "Nam" => Sex::Male,
            "N\u{1EEF}" | "N\u{1B0}\u{303}" | "Nu\u{31B}\u{303}" => Sex::Female,
            _ => return Err(bad("sex", "must be \"Nam\" or \"Nữ\"")),
        };
        // Digit 4 encodes century and sex, digits 5-6 the year of birth.
        let id_sex = match id.sex() {
            kiosk_card::cccd::Sex::Male => Sex::Male,
            kiosk_card::cccd::Sex::Female => Sex::Female,
        };
        if id_sex != sex {
            return Err(bad(
                "id",
                "digit 4 (century and sex) disagrees with the key `sex`",
            ));
        }
        if id.birth_year() != date_of_birth.year {
            return Err(bad(
                "id",
                "digits 4-6 (century and year of birth) disagree with the key `date_of_birth`",
            ));
        }

        let full_name = text_field("full_name", &raw.full_name, true)?;
        if !full_name
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || is_combining(c))
        {
            return Err(bad("full_name", "must hold letters and spaces only"));
        }
        let issue_date = Date::parse(&raw.issue_date, "issue_date")?;
        if issue_date < date_of_birth {
            return Err(bad("issue_date", "is before the date of birth"));
        }
        let expiry = if raw.expiry.trim() == NO_EXPIRY {
            Expiry::Never
        } else {
            let d = Date::parse(&raw.expiry, "expiry")?;
            if d <= issue_date {
                return Err(bad("expiry", "must be after the issue date"));
            }
            Expiry::Date(d)
        };
        let old_id = match &raw.old_id {
            Some(s) if s.is_empty() => None,
            Some(s) if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
            Some(_) => return Err(bad("old_id", "must be exactly 9 digits")),
            None => None,
        };
        let field_16 = match &raw.field_16 {
            Some(s) if s.len() == 16 && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                Some(s.clone())
            }
            Some(_) => return Err(bad("field_16", "must be 16 ASCII letters or digits")),
            None => None,
        };
        let mrz_no_expiry = match &raw.mrz_no_expiry {
            None => "991231".to_owned(),
            Some(s) if s == "<<<<<<" => s.clone(),
            Some(s) => {
                // Reuse the date check on the YYMMDD digits.
                let b = s.as_bytes();
                if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
                    return Err(bad("mrz_no_expiry", "must be YYMMDD or <<<<<<"));
                }
                s.clone()
            }
        };
        let photo = match &raw.photo {
            None => None,
            Some(rel) => {
                let base = base.ok_or(bad("photo", "cannot be resolved without a profile file"))?;
                Some(read_photo(&base.join(rel))?)
            }
        };

        Ok(Self {
            id: raw.id.clone(),
            full_name,
            date_of_birth,
            sex,
            nationality: text_field("nationality", &raw.nationality, true)?,
            ethnicity: text_field("ethnicity", &raw.ethnicity, true)?,
            religion: text_field("religion", &raw.religion, true)?,
            place_of_origin: text_field("place_of_origin", &raw.place_of_origin, true)?,
            place_of_residence: text_field("place_of_residence", &raw.place_of_residence, true)?,
            identifying_marks: text_field("identifying_marks", &raw.identifying_marks, false)?,
            issue_date,
            expiry,
            father: text_field("father", &raw.father, false)?,
            mother: text_field("mother", &raw.mother, false)?,
            spouse: text_field("spouse", &raw.spouse, false)?,
            old_id,
            field_16,
            photo,
            mrz_no_expiry,
        })
    }

    /// The PACE CAN: the last 6 digits of the ID number.
    pub fn can(&self) -> String {
        self.id[self.id.len() - 6..].to_owned()
    }

    /// The MRZ document number: the last 9 digits of the ID number.
    pub fn doc_no9(&self) -> String {
        self.id[self.id.len() - 9..].to_owned()
    }

    /// The MRZ date of expiry (`YYMMDD`, or the configured "no expiry" spelling).
    pub fn mrz_expiry(&self) -> String {
        match self.expiry {
            Expiry::Date(d) => d.yymmdd(),
            Expiry::Never => self.mrz_no_expiry.clone(),
        }
    }
}

/// Which syntax a profile text is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

/// toml's message names unknown and missing keys, but quotes the value of a wrongly typed one
/// (`invalid type: integer `1099…``): keep the former, replace the latter by its line.
fn toml_reason(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message();
    if msg.starts_with("unknown field") || msg.starts_with("missing field") {
        return msg.to_owned();
    }
    match e.span() {
        Some(span) => {
            let line = text
                .get(..span.start)
                .map_or(0, |before| before.matches('\n').count())
                + 1;
            format!("invalid value or syntax on line {line}")
        }
        None => "invalid value or syntax".to_owned(),
    }
}

fn json_reason(e: &serde_json::Error) -> String {
    // serde_json's message for unknown keys names the key; for type errors it may quote the
    // value, so keep only the part before ", expected" / at the first colon-quoted value.
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or_default();
    if msg.starts_with("unknown field") || msg.starts_with("missing field") {
        msg.to_owned()
    } else {
        "invalid value or syntax".to_owned()
    }
}

fn text_field(key: &'static str, value: &str, required: bool) -> Result<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(Error::ProfileInvalid {
            key,
            reason: "must not be empty",
        });
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::ProfileInvalid {
            key,
            reason: "is longer than 200 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(Error::ProfileInvalid {
            key,
            reason: "contains control characters",
        });
    }
    Ok(value.to_owned())
}

fn read_photo(path: &Path) -> Result<Vec<u8>> {
    let bad = |reason: &'static str| Error::ProfileInvalid {
        key: "photo",
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|_| bad("file cannot be read"))?;
    if meta.len() > MAX_PHOTO_BYTES {
        return Err(bad("is larger than 64 KiB"));
    }
    let bytes = std::fs::read(path).map_err(|_| bad("file cannot be read"))?;
    if !bytes.starts_with(&[0xFF, 0xD8]) || !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err(bad("is not a JPEG file"));
    }
    Ok(bytes)
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"
id = "001099012345"
full_name = "Nguyễn Văn An"
date_of_birth = "15/01/1999"
sex = "Nam"
nationality = "Việt Nam"
ethnicity = "Kinh"
religion = "Không"
place_of_origin = "Xã Tân Phú, Huyện Đức Hòa, Long An"
place_of_residence = "Số 12, Ngõ 34, Phố Đội Cấn, Phường Ngọc Hà, Quận Ba Đình, Hà Nội"
identifying_marks = "Nốt ruồi C:2cm trên trước mép phải"
issue_date = "10/05/2021"
expiry = "15/01/2039"
father = "Nguyễn Văn Bình"
mother = "Trần Thị Cúc"
"#;

    fn with(key: &str, value: &str) -> String {
        let mut out = String::new();
        let mut replaced = false;
        for line in SAMPLE.lines() {
            if line.starts_with(&format!("{key} =")) {
                out.push_str(&format!("{key} = {value}\n"));
                replaced = true;
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        if !replaced {
            out.push_str(&format!("{key} = {value}\n"));
        }
        out
    }

    fn key_of(text: &str) -> &'static str {
        match Profile::parse(text, Format::Toml, None) {
            Err(Error::ProfileInvalid { key, .. }) => key,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn sample_parses_and_derives_card_values() {
        let p = Profile::parse(SAMPLE, Format::Toml, None).unwrap();
        assert_eq!(p.can(), "012345");
        assert_eq!(p.doc_no9(), "099012345");
        assert_eq!(p.date_of_birth.yymmdd(), "990115");
        assert_eq!(p.mrz_expiry(), "390115");
        assert_eq!(p.sex, Sex::Male);
        assert_eq!(format!("{p:?}"), "Profile { id: \"0010******45\", .. }");
    }

    #[test]
    fn json_works_too() {
        let json = r#"{"id":"001099012345","full_name":"Nguyễn Văn An","date_of_birth":"15/01/1999",
            "sex":"Nam","nationality":"Việt Nam","ethnicity":"Kinh","religion":"Không",
            "place_of_origin":"Long An","place_of_residence":"Hà Nội","issue_date":"10/05/2021",
            "expiry":"Không thời hạn","old_id":"123456789"}"#;
        let p = Profile::parse(json, Format::Json, None).unwrap();
        assert_eq!(p.expiry, Expiry::Never);
        assert_eq!(p.mrz_expiry(), "991231");
        assert_eq!(p.old_id.as_deref(), Some("123456789"));
    }

    #[test]
    fn errors_name_the_key_and_hide_the_value() {
        assert_eq!(key_of(&with("id", "\"00109901234\"")), "id");
        assert_eq!(key_of(&with("id", "\"001199012345\"")), "id"); // female digit, sex Nam
        assert_eq!(key_of(&with("id", "\"001098012345\"")), "id"); // year 98 vs 1999
        assert_eq!(
            key_of(&with("date_of_birth", "\"31/02/1999\"")),
            "date_of_birth"
        );
        assert_eq!(key_of(&with("sex", "\"X\"")), "sex");
        assert_eq!(key_of(&with("expiry", "\"01/01/2020\"")), "expiry");
        assert_eq!(key_of(&with("issue_date", "\"2021-05-10\"")), "issue_date");
        assert_eq!(key_of(&with("old_id", "\"12345\"")), "old_id");
        assert_eq!(key_of(&with("field_16", "\"short\"")), "field_16");
        assert_eq!(key_of(&with("full_name", "\"An 2\"")), "full_name");
        assert_eq!(
            key_of(&with("place_of_residence", "\"\"")),
            "place_of_residence"
        );
        assert_eq!(key_of(&with("photo", "\"face.jpg\"")), "photo");
        let msg = Profile::parse(&with("id", "\"00109901234X\""), Format::Toml, None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`id`") && !msg.contains("00109901234X"),
            "{msg}"
        );
    }

    #[test]
    fn type_errors_give_the_line_not_the_value() {
        let err = Profile::parse(&with("id", "1099012345"), Format::Toml, None).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("1099012345"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        let json = r#"{"id": 1099012345}"#;
        let msg = Profile::parse(json, Format::Json, None)
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("1099012345"), "{msg}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Profile::parse(&with("nickname", "\"Bo\""), Format::Toml, None).unwrap_err();
        assert!(err.to_string().contains("nickname"), "{err}");
        let err = Profile::parse(r#"{"idd": "1"}"#, Format::Json, None).unwrap_err();
        assert!(err.to_string().contains("idd"), "{err}");
    }

    #[test]
    fn female_born_in_2000s() {
        let text = with("id", "\"079305000123\"")
            .replace("15/01/1999", "15/01/2005")
            .replace("\"Nam\"", "\"Nữ\"");
        let p = Profile::parse(&text, Format::Toml, None).unwrap();
        assert_eq!(p.sex, Sex::Female);
        // The decomposed spelling is the same word.
        let text = text.replace("\"Nữ\"", "\"Nu\u{31B}\u{303}\"");
        assert_eq!(
            Profile::parse(&text, Format::Toml, None).unwrap().sex,
            Sex::Female
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = Profile::parse(&text, Format::Toml, None);
            let _ = Profile::parse(&text, Format::Json, None);
        }

        #[test]
        fn arbitrary_dates_never_panic(text in ".{0,12}") {
            let _ = Date::parse(&text, "date_of_birth");
        }
    }
}
