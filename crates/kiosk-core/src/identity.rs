//! The citizen's identity as one session holds it, from any source: a chip read, the card QR
//! (also shown by VNeID), or typed in. Everything here is personal data: `Debug` shows only the
//! masked ID and the source, and everything is zeroized on drop.

use kiosk_api::v1::{
    Assurance, Base64Bytes, ChipData, IdentityFields, IdentitySource, Sex as ApiSex,
};
use kiosk_card::cccd::{self, CitizenId, mask_id};
use kiosk_card::lds::LdsFile;
use kiosk_card::lds::dg13::Expiry;
use kiosk_card::read::CardReadResult;
use kiosk_qr::payload::CardQr;
use time::{Date, Month};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// An established identity.
pub struct Identity {
    pub(crate) source: IdentitySource,
    pub(crate) assurance: Assurance,
    /// Zeroized on drop by its own type.
    pub(crate) fields: IdentityFields,
    /// Raw DG1, DG13, SOD (zeroized on drop by `Base64Bytes`); only for chip reads.
    pub(crate) chip: Option<ChipData>,
    /// The portrait (JPEG or JPEG 2000) when the chip gave one.
    pub(crate) photo: Option<Zeroizing<Vec<u8>>>,
    /// Card expiry; `None` when the card does not expire or it is unknown.
    pub(crate) expires_on: Option<Date>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("source", &self.source)
            .field("id", &mask_id(&self.fields.id_number))
            .finish_non_exhaustive()
    }
}

/// A card date as a calendar date.
pub(crate) fn to_date(d: cccd::Date) -> Result<Date> {
    let month = Month::try_from(d.month).map_err(|_| Error::Identity { what: "bad month" })?;
    Date::from_calendar_date(i32::from(d.year), month, d.day)
        .map_err(|_| Error::Identity { what: "bad date" })
}

impl Identity {
    /// From a finished chip read. Needs DG13 (ID, name, date of birth), DG1 and EF.SOD; the
    /// assurance is `chip_verified` only when passive authentication passed and DG1 agrees with
    /// DG13.
    pub fn from_card_read(read: &CardReadResult) -> Result<Self> {
        let record = &read.record;
        let dg13 = record.dg13.as_ref().ok_or(Error::IncompleteChipRead {
            what: "DG13 missing",
        })?;
        let id_number = dg13.id_number.as_deref().ok_or(Error::IncompleteChipRead {
            what: "ID number missing",
        })?;
        CitizenId::parse(id_number).map_err(|_| Error::Identity {
            what: "ID number on the chip is not 12 digits",
        })?;
        let full_name = dg13
            .full_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .ok_or(Error::IncompleteChipRead {
                what: "name missing",
            })?;
        let dob = dg13
            .date_of_birth_parsed()
            .map_err(|_| Error::IncompleteChipRead {
                what: "date of birth missing or malformed",
            })?;
        let sex = match dg13.sex_parsed() {
            Some(cccd::Sex::Male) => ApiSex::Male,
            Some(cccd::Sex::Female) => ApiSex::Female,
            None => ApiSex::Unspecified,
        };
        let expires_on = match dg13.expiry() {
            Some(Expiry::Date(d)) => Some(to_date(d)?),
            _ => None,
        };
        let raw = |file, what| -> Result<Base64Bytes> {
            let bytes = record.raw(file).ok_or(Error::IncompleteChipRead { what })?;
            Base64Bytes::new(bytes.to_vec()).map_err(Error::from)
        };
        let chip = ChipData {
            dg1: raw(LdsFile::Dg1, "DG1 missing")?,
            dg13: raw(LdsFile::Dg13, "DG13 missing")?,
            sod: raw(LdsFile::Sod, "EF.SOD missing")?,
        };
        let assurance = if record.mrz_matches_dg13() == Some(false) {
            Assurance::ChipUnverified {
                reason: "DG1 and DG13 disagree".into(),
            }
        } else if read.verification.passive_authentication_passed() {
            Assurance::ChipVerified
        } else {
            Assurance::ChipUnverified {
                reason: read
                    .verification
                    .unverified_reason()
                    .unwrap_or_else(|| "passive authentication did not pass".into()),
            }
        };
        Ok(Identity {
            source: IdentitySource::Chip,
            assurance,
            fields: IdentityFields {
                id_number: id_number.into(),
                old_id_number: dg13
                    .old_id_number
                    .clone()
                    .filter(|o| o.len() == 9 && o.bytes().all(|b| b.is_ascii_digit())),
                full_name: full_name.trim().into(),
                date_of_birth: to_date(dob)?,
                sex,
                place_of_residence: dg13.place_of_residence.clone().filter(|p| !p.is_empty()),
                card_issued_on: dg13.issue_date_parsed().ok().and_then(|d| to_date(d).ok()),
            },
            chip: Some(chip),
            photo: record
                .photo
                .as_ref()
                .map(|p| Zeroizing::new(p.data.clone())),
            expires_on,
        })
    }

    /// A preview for the reading screen from what has been read so far (DG13 is read first, so
    /// the name is on screen while the rest loads). Display only: it carries no chip files and
    /// is never submitted.
    pub fn preview(record: &kiosk_card::CitizenRecord) -> Result<Self> {
        let dg13 = record.dg13.as_ref().ok_or(Error::IncompleteChipRead {
            what: "DG13 missing",
        })?;
        let field = |v: &Option<String>, what| v.clone().ok_or(Error::IncompleteChipRead { what });
        let id_number = field(&dg13.id_number, "ID number missing")?;
        let full_name = field(&dg13.full_name, "name missing")?;
        let dob = dg13
            .date_of_birth_parsed()
            .map_err(|_| Error::IncompleteChipRead {
                what: "date of birth missing or malformed",
            })?;
        Ok(Identity {
            source: IdentitySource::Chip,
            assurance: Assurance::ChipUnverified {
                reason: "reading".into(),
            },
            fields: IdentityFields {
                id_number,
                old_id_number: None,
                full_name: full_name.trim().into(),
                date_of_birth: to_date(dob)?,
                sex: ApiSex::Unspecified,
                place_of_residence: dg13.place_of_residence.clone().filter(|p| !p.is_empty()),
                card_issued_on: None,
            },
            chip: None,
            photo: None,
            expires_on: None,
        })
    }

    /// From the card's QR (never proof of identity: `qr_only`).
    pub fn from_card_qr(qr: &CardQr) -> Result<Self> {
        Ok(Identity {
            source: IdentitySource::CardQr,
            assurance: Assurance::QrOnly,
            fields: IdentityFields {
                id_number: qr.id().into(),
                old_id_number: qr.old_id().map(Into::into),
                full_name: qr.name().into(),
                date_of_birth: to_date(qr.birth_date())?,
                sex: match qr.sex() {
                    kiosk_qr::payload::Sex::Male => ApiSex::Male,
                    kiosk_qr::payload::Sex::Female => ApiSex::Female,
                },
                place_of_residence: Some(qr.address().into()).filter(|a: &String| !a.is_empty()),
                card_issued_on: Some(to_date(qr.issue_date())?),
            },
            chip: None,
            photo: None,
            expires_on: None,
        })
    }

    /// Typed in by the citizen or staff (`manual`), or from a VNeID verification answer
    /// (`vneid`, `qr_only`), with the fields the gateway gave.
    pub fn from_fields(source: IdentitySource, fields: IdentityFields) -> Result<Self> {
        let assurance = match source {
            IdentitySource::Manual => Assurance::Manual,
            IdentitySource::CardQr | IdentitySource::Vneid => Assurance::QrOnly,
            IdentitySource::Chip => {
                return Err(Error::Identity {
                    what: "a chip identity comes from a card read",
                });
            }
        };
        CitizenId::parse(&fields.id_number).map_err(|_| Error::Identity {
            what: "ID number is not 12 digits",
        })?;
        Ok(Identity {
            source,
            assurance,
            fields,
            chip: None,
            photo: None,
            expires_on: None,
        })
    }

    /// The 12-digit ID (for the protocols and the registration; never for display).
    pub fn id_number(&self) -> &str {
        &self.fields.id_number
    }

    /// Where it came from.
    pub fn source(&self) -> IdentitySource {
        self.source
    }

    /// How far it can be trusted.
    pub fn assurance(&self) -> &Assurance {
        &self.assurance
    }

    /// The portrait bytes, for the UI to decode.
    pub fn photo(&self) -> Option<&[u8]> {
        self.photo.as_ref().map(|p| p.as_slice())
    }

    /// Whether the card had expired on `today`.
    pub fn expired_on(&self, today: Date) -> bool {
        self.expires_on.is_some_and(|e| e < today)
    }

    /// The fields for the registration.
    pub(crate) fn to_api(&self) -> kiosk_api::v1::Identity {
        kiosk_api::v1::Identity {
            source: self.source,
            assurance: self.assurance.clone(),
            fields: self.fields.clone(),
            chip: self.chip.clone(),
        }
    }
}
