//! The rules of the Vietnamese citizen ID number (CCCD / Căn cước) that the chip's access keys
//! depend on: the 12-digit ID and its structure, the PACE CAN (last 6 digits), the BAC document
//! number (last 9 digits), ICAO check digits, the MRZ key information, the expiry dates the law
//! allows (needed only for BAC), and the project's one ID-masking function.
//!
//! Everything here is pure; values holding an ID are zeroized on drop and never print it.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// Birth-province codes (first 3 digits of the ID): the 63 provinces' administrative codes of the
/// General Statistics Office, as used by Circular 07/2016/TT-BCA. Gaps (003, 005, …) are unused.
const PROVINCE_CODES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

/// Sex as encoded in the century/sex digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// A validated 12-digit citizen ID number. `Debug` and `Display` show it masked
/// (`0010******45`); [`CitizenId::as_str`] gives the digits for the protocols that need them.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CitizenId([u8; 12]);

impl CitizenId {
    /// Validates `s`: exactly 12 ASCII digits, a known birth-province code. The century/sex digit
    /// is any digit (0/1 = 1900s, 2/3 = 2000s, 4/5 = 2100s, …; even = male, odd = female).
    pub fn parse(s: &str) -> Result<Self> {
        let bytes = s.as_bytes();
        let digits: [u8; 12] = bytes.try_into().map_err(|_| Error::InvalidCitizenId {
            what: "must be exactly 12 digits",
        })?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidCitizenId {
                what: "must contain digits only",
            });
        }
        let id = Self(digits);
        if !PROVINCE_CODES.contains(&id.province_code()) {
            return Err(Error::InvalidCitizenId {
                what: "unknown birth-province code",
            });
        }
        Ok(id)
    }

    /// The 12 digits. Personal data: never log it, use [`mask_id`] for display.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn number(&self, range: std::ops::Range<usize>) -> u16 {
        self.0[range]
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
    }

    /// The 3-digit birth-province code.
    pub fn province_code(&self) -> u16 {
        self.number(0..3)
    }

    /// Sex from the century/sex digit.
    pub fn sex(&self) -> Sex {
        if self.0[3].is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The full year of birth: century from the 4th digit, the last two from the 5th and 6th.
    pub fn birth_year(&self) -> u16 {
        let century = 1900 + 100 * u16::from((self.0[3] - b'0') / 2);
        century + self.number(4..6)
    }

    /// The PACE Card Access Number: the last 6 digits.
    pub fn can(&self) -> Zeroizing<String> {
        Zeroizing::new(self.as_str()[6..].to_owned())
    }

    /// The document number used in the MRZ and for BAC: the last 9 digits.
    pub fn doc_no9(&self) -> Zeroizing<String> {
        Zeroizing::new(self.as_str()[3..].to_owned())
    }
}

impl std::fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CitizenId({})", mask_id(self.as_str()))
    }
}

impl std::fmt::Display for CitizenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&mask_id(self.as_str()))
    }
}

/// Masks an ID number for display and logs: the first 4 and last 2 characters stay, the rest
/// become `*` (`001099012345` → `0010******45`). Inputs shorter than 8 characters are masked
/// entirely, since 6 visible characters would reveal most of them.
pub fn mask_id(id: &str) -> String {
    let n = id.chars().count();
    if n < 8 {
        return "*".repeat(n);
    }
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 2 { c } else { '*' })
        .collect()
}

/// The ICAO 9303 check digit (weights 7-3-1; `<` = 0, digits as themselves, `A`–`Z` = 10–35).
pub fn check_digit(field: &str) -> Result<u8> {
    let mut sum = 0u32;
    for (i, c) in field.bytes().enumerate() {
        let v = match c {
            b'<' => 0,
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => {
                return Err(Error::InvalidMrzKey {
                    what: "character outside 0-9, A-Z and <",
                });
            }
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Ok((sum % 10) as u8)
}

/// The three MRZ fields BAC (and PACE with the MRZ password) derive keys from.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MrzKeyInfo {
    /// Document number as in the MRZ (for the CCCD: the last 9 digits of the ID).
    pub doc_no: String,
    /// Date of birth `YYMMDD`.
    pub dob: String,
    /// Date of expiry `YYMMDD` (or `<<<<<<` for cards without expiry, an open question).
    pub doe: String,
}

impl std::fmt::Debug for MrzKeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MrzKeyInfo(..)")
    }
}

impl MrzKeyInfo {
    /// Builds and validates the fields: document number 1–9 (or more) characters of `0-9A-Z<`,
    /// dates 6 digits (expiry may also be `<<<<<<`).
    pub fn new(doc_no: &str, dob: &str, doe: &str) -> Result<Self> {
        if doc_no.is_empty() || doc_no.len() > 22 {
            return Err(Error::InvalidMrzKey {
                what: "document number must be 1 to 22 characters",
            });
        }
        check_digit(doc_no)?;
        let is_date = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
        if !is_date(dob) {
            return Err(Error::InvalidMrzKey {
                what: "date of birth must be YYMMDD",
            });
        }
        if !is_date(doe) && doe != "<<<<<<" {
            return Err(Error::InvalidMrzKey {
                what: "date of expiry must be YYMMDD or <<<<<<",
            });
        }
        Ok(Self {
            doc_no: doc_no.to_owned(),
            dob: dob.to_owned(),
            doe: doe.to_owned(),
        })
    }

    /// The CCCD case: document number = last 9 digits of the ID; dates as [`Date`]s.
    pub fn for_citizen(id: &CitizenId, dob: Date, doe: &str) -> Result<Self> {
        Self::new(&id.doc_no9(), &dob.yymmdd(), doe)
    }

    /// `docNo ‖ cd ‖ DOB ‖ cd ‖ DOE ‖ cd`, the document number padded with `<` to 9 characters
    /// (ICAO 9303-11 §4.3.2). This is key material: it is zeroized on drop.
    pub fn mrz_information(&self) -> Result<Zeroizing<String>> {
        let mut doc = Zeroizing::new(self.doc_no.clone());
        while doc.len() < 9 {
            doc.push('<');
        }
        let mut out = Zeroizing::new(String::with_capacity(doc.len() + 15));
        for field in [doc.as_str(), self.dob.as_str(), self.doe.as_str()] {
            out.push_str(field);
            out.push(char::from(b'0' + check_digit(field)?));
        }
        Ok(out)
    }
}

/// A calendar date (proleptic Gregorian), enough for the expiry rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A validated date.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(Error::InvalidDate {
                what: "day or month out of range",
            });
        }
        Ok(Self { year, month, day })
    }

    /// Parses `DD/MM/YYYY` as DG13 and the card print it.
    pub fn parse_dmy(s: &str) -> Result<Self> {
        let bad = Error::InvalidDate {
            what: "expected DD/MM/YYYY",
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[2] != b'/' || b[5] != b'/' {
            return Err(bad);
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(Error::InvalidDate {
                    what: "expected DD/MM/YYYY",
                });
            }
            part.parse().map_err(|_| Error::InvalidDate {
                what: "expected DD/MM/YYYY",
            })
        };
        let (d, m, y) = (num(0..2)?, num(3..5)?, num(6..10)?);
        Self::new(y, m as u8, d as u8)
    }

    /// `YYMMDD` as in the MRZ.
    pub fn yymmdd(&self) -> String {
        format!("{:02}{:02}{:02}", self.year % 100, self.month, self.day)
    }

    /// The same day and month `years` later; 29 February becomes 28 February in a common year.
    fn plus_years(self, years: u16) -> Self {
        let year = self.year + years;
        let day = self.day.min(days_in_month(year, self.month));
        Self {
            year,
            month: self.month,
            day,
        }
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The date Law 26/2023 (Căn cước, with the age-14 milestone) applies from.
const LAW_2023_START: Date = Date {
    year: 2024,
    month: 7,
    day: 1,
};

/// The expiry a card gets under one schedule of renewal ages: the first milestone birthday that
/// is more than 2 years after issue; `None` = no expiry.
fn expiry_under(dob: Date, issued: Date, ages: &[u16]) -> Option<Date> {
    ages.iter().map(|&a| dob.plus_years(a)).find(|m| {
        // "Issued within 2 years before a milestone → valid until the next one."
        let window_start = Date {
            year: m.year - 2,
            ..*m
        };
        issued < window_start
    })
}

/// The MRZ encodings tried for a card without expiry (how the card writes it is open).
pub const NO_EXPIRY_CANDIDATES: [&str; 2] = ["<<<<<<", "991231"];

/// Expiry dates (`YYMMDD`, or a no-expiry encoding) to try for BAC, most likely first, when only
/// the date of birth and the issue date are known. The first candidate follows the schedule in
/// force on the issue date; then the neighbours of a boundary case (issue day at the edge of a
/// 2-year window, leap-day birthdays, the other law's schedule), then the no-expiry encodings if
/// any rule yields no expiry.
pub fn expiry_candidates(dob: Date, issued: Date) -> Vec<String> {
    let old: &[u16] = &[25, 40, 60];
    let new: &[u16] = &[14, 25, 40, 60];
    let (first, second) = if issued >= LAW_2023_START {
        (new, old)
    } else {
        (old, new)
    };
    let mut dates: Vec<Option<Date>> = vec![expiry_under(dob, issued, first)];
    // Boundary cases: a day either side of the issue date can move the card into or out of a
    // 2-year window; the other schedule covers cards issued around the change of law.
    for shifted in [shift_days(issued, -1), shift_days(issued, 1)] {
        dates.push(expiry_under(dob, shifted, first));
    }
    dates.push(expiry_under(dob, issued, second));
    let mut out: Vec<String> = Vec::new();
    let mut no_expiry = false;
    for d in dates {
        match d {
            Some(d) => {
                push_unique(&mut out, d.yymmdd());
                if dob.month == 2 && dob.day == 29 {
                    // Leap-day birthdays: the milestone may be written as 1 March too.
                    if d.day == 28 {
                        push_unique(&mut out, format!("{:02}0301", d.year % 100));
                    }
                }
            }
            None => no_expiry = true,
        }
    }
    if no_expiry {
        for enc in NO_EXPIRY_CANDIDATES {
            push_unique(&mut out, enc.to_owned());
        }
    }
    out
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) {
        out.push(s);
    }
}

/// `d` moved by one day (only ±1 is needed).
fn shift_days(d: Date, delta: i8) -> Date {
    if delta >= 0 {
        if d.day < days_in_month(d.year, d.month) {
            Date {
                day: d.day + 1,
                ..d
            }
        } else if d.month < 12 {
            Date {
                month: d.month + 1,
                day: 1,
                ..d
            }
        } else {
            Date {
                year: d.year + 1,
                month: 1,
                day: 1,
            }
        }
    } else if d.day > 1 {
        Date {
            day: d.day - 1,
            ..d
        }
    } else if d.month > 1 {
        let month = d.month - 1;
        Date {
            month,
            day: days_in_month(d.year, month),
            ..d
        }
    } else {
        Date {
            year: d.year.saturating_sub(1),
            month: 12,
            day: 31,
        }
    }
}

/// Every MRZ key to try for BAC, in order, from the ID, date of birth and issue date.
pub fn mrz_key_candidates(id: &CitizenId, dob: Date, issued: Date) -> Result<Vec<MrzKeyInfo>> {
    expiry_candidates(dob, issued)
        .iter()
        .map(|doe| MrzKeyInfo::for_citizen(id, dob, doe))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn parses_and_derives_from_the_synthetic_id() {
        let id = CitizenId::parse("001099012345").unwrap();
        assert_eq!(id.province_code(), 1);
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_year(), 1999);
        assert_eq!(&*id.can(), "012345");
        assert_eq!(&*id.doc_no9(), "099012345");
        assert_eq!(format!("{id}"), "0010******45");
        assert_eq!(format!("{id:?}"), "CitizenId(0010******45)");
        let f = CitizenId::parse("079305000001").unwrap();
        assert_eq!(f.sex(), Sex::Female);
        assert_eq!(f.birth_year(), 2005);
        let later = CitizenId::parse("079405000001").unwrap();
        assert_eq!(later.birth_year(), 2105);
    }

    #[test]
    fn rejects_bad_ids_with_specific_errors() {
        for (s, what) in [
            ("00109901234", "must be exactly 12 digits"),
            ("0010990123456", "must be exactly 12 digits"),
            ("00109901234A", "must contain digits only"),
            ("003099012345", "unknown birth-province code"),
            ("097099012345", "unknown birth-province code"),
            ("000099012345", "unknown birth-province code"),
        ] {
            match CitizenId::parse(s) {
                Err(Error::InvalidCitizenId { what: w }) => assert_eq!(w, what, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
        // Multi-byte characters must not be mistaken for 12 digits.
        assert!(CitizenId::parse("00109901234é").is_err());
    }

    #[test]
    fn masking() {
        assert_eq!(mask_id("001099012345"), "0010******45");
        assert_eq!(mask_id("123456789"), "1234***89");
        assert_eq!(mask_id("1234567"), "*******");
        assert_eq!(mask_id(""), "");
    }

    #[test]
    fn icao_check_digits() {
        // ICAO 9303-11 Appendix D: L898902C< → 3, 690806 → 1, 940623 → 6.
        assert_eq!(check_digit("L898902C<").unwrap(), 3);
        assert_eq!(check_digit("690806").unwrap(), 1);
        assert_eq!(check_digit("940623").unwrap(), 6);
        assert!(check_digit("abc").is_err());
    }

    #[test]
    fn mrz_information_matches_icao_and_synthetic_vectors() {
        let k = MrzKeyInfo::new("L898902C", "690806", "940623").unwrap();
        assert_eq!(&*k.mrz_information().unwrap(), "L898902C<369080619406236");
        let k = MrzKeyInfo::new("T22000129", "640812", "101031").unwrap();
        assert_eq!(&*k.mrz_information().unwrap(), "T22000129364081251010318");
        let id = CitizenId::parse("001099012345").unwrap();
        let k = MrzKeyInfo::for_citizen(&id, d(1999, 1, 15), "240115").unwrap();
        assert_eq!(&*k.mrz_information().unwrap(), "099012345999011552401151");
        assert_eq!(format!("{k:?}"), "MrzKeyInfo(..)");
        assert!(MrzKeyInfo::new("0990", "99011", "240115").is_err());
        assert!(MrzKeyInfo::new("0990", "990115", "2401x5").is_err());
        assert!(MrzKeyInfo::new("0990", "990115", "<<<<<<").is_ok());
    }

    #[test]
    fn expiry_follows_the_milestones() {
        let dob = d(1999, 1, 15);
        // Synthetic CCCD: issued at 21 → valid until 25.
        assert_eq!(expiry_candidates(dob, d(2021, 3, 1))[0], "240115");
        // Issued at 23.5 (within 2 years of 25) → valid until 40.
        assert_eq!(expiry_candidates(dob, d(2022, 7, 1))[0], "390115");
        // Issued at 45 → 60.
        assert_eq!(expiry_candidates(d(1970, 5, 2), d(2015, 1, 1))[0], "300502");
        // Issued at 58+ → no expiry, both encodings offered.
        let c = expiry_candidates(d(1960, 5, 2), d(2021, 1, 1));
        assert_eq!(c, vec!["<<<<<<".to_owned(), "991231".to_owned()]);
        // Law 26/2023: a child's card issued after 2024-07-01 expires at 14.
        let c = expiry_candidates(d(2015, 9, 9), d(2024, 8, 1));
        assert_eq!(c[0], "290909");
        // The same child under the old schedule would be 25: offered as a fallback.
        assert!(c.contains(&"400909".to_owned()));
    }

    #[test]
    fn expiry_boundaries_offer_both_sides() {
        let dob = d(1999, 1, 15);
        // Issued exactly 2 years before 25: the window starts that day.
        let c = expiry_candidates(dob, d(2022, 1, 15));
        assert_eq!(c[0], "390115");
        assert!(c.contains(&"240115".to_owned()));
        // Leap-day birthday.
        let c = expiry_candidates(d(2000, 2, 29), d(2020, 1, 1));
        assert_eq!(c[0], "250228");
        assert!(c.contains(&"250301".to_owned()));
    }

    #[test]
    fn mrz_key_candidates_for_the_synthetic_citizen() {
        let id = CitizenId::parse("001099012345").unwrap();
        let keys = mrz_key_candidates(&id, d(1999, 1, 15), d(2021, 3, 1)).unwrap();
        assert_eq!(
            &*keys[0].mrz_information().unwrap(),
            "099012345999011552401151"
        );
    }

    #[test]
    fn dates_parse_and_validate() {
        assert_eq!(Date::parse_dmy("15/01/1999").unwrap(), d(1999, 1, 15));
        assert!(Date::parse_dmy("29/02/2001").is_err());
        assert!(Date::parse_dmy("1/1/1999").is_err());
        assert!(Date::parse_dmy("aa/01/1999").is_err());
        assert!(Date::parse_dmy("+1/01/1999").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,20}") {
            let _ = CitizenId::parse(&s);
            let _ = mask_id(&s);
            let _ = Date::parse_dmy(&s);
            let _ = check_digit(&s);
        }

        #[test]
        fn every_valid_id_round_trips_and_masks(
            p in 0usize..63, rest in "[0-9]{9}"
        ) {
            let s = format!("{:03}{rest}", PROVINCE_CODES[p]);
            let id = CitizenId::parse(&s).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
            prop_assert_eq!(&id.can()[..], &s[6..]);
            let masked = id.to_string();
            prop_assert_eq!(&masked[..4], &s[..4]);
            prop_assert_eq!(&masked[4..10], "******");
        }

        #[test]
        fn expiry_candidates_are_never_empty(
            y in 1920u16..2030, m in 1u8..=12, day in 1u8..=28, age in 0u16..90
        ) {
            let dob = d(y, m, day);
            let issued = dob.plus_years(age);
            let c = expiry_candidates(dob, issued);
            prop_assert!(!c.is_empty());
            for doe in &c {
                prop_assert!(MrzKeyInfo::new("099012345", &dob.yymmdd(), doe).is_ok());
            }
        }
    }
}
