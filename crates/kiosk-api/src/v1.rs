//! Version 1 of the kiosk↔gateway messages. JSON field names are `snake_case`; enums are
//! lower-case strings. Every type here has an example in `docs/examples/` and a schema in
//! `docs/api.yaml`, kept in step by the gateway's contract test.
//!
//! Strictness: messages the kiosk sends and the gateway stores (`Registration` and everything in
//! it, enrolment, status) reject unknown fields, so a typo can never be silently dropped. Answers
//! the kiosk reads (`Ticket`, `Catalog`, insurance answer) accept unknown fields so the gateway can
//! add information without breaking deployed kiosks.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::redact::mask_id;

/// The path prefix of this version.
pub const PREFIX: &str = "/v1";

/// Largest raw data group or SOD the contract carries (the CCCD's DG13 is a few KiB; the SOD
/// with its certificate a few KiB more).
pub const MAX_CHIP_FILE_BYTES: usize = 32 * 1024;
/// Largest free-text value (names, addresses, answers).
pub const MAX_TEXT_CHARS: usize = 512;
/// Most answers one public-service registration may carry.
pub const MAX_ANSWERS: usize = 64;

time::serde::format_description!(date_fmt, Date, "[year]-[month]-[day]");

// ---------------------------------------------------------------------------------------------
// Small value types

/// The idempotency key of one registration: a UUIDv7, created once when the registration is first
/// written to the outbox and never regenerated, so every retry is recognisable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IdempotencyKey(Uuid);

impl IdempotencyKey {
    /// A fresh key (time-ordered, so the outbox and the gateway list in submission order).
    pub fn new() -> Self {
        IdempotencyKey(Uuid::now_v7())
    }

    /// Accepts only version-7 UUIDs.
    pub fn from_uuid(uuid: Uuid) -> Result<Self> {
        if uuid.get_version_num() != 7 {
            return Err(Error::invalid(
                "idempotency_key",
                format!("must be a UUIDv7, got version {}", uuid.get_version_num()),
            ));
        }
        Ok(IdempotencyKey(uuid))
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for IdempotencyKey {
    fn default() -> Self {
        Self::new()
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let uuid = Uuid::parse_str(s)
            .map_err(|e| Error::invalid("idempotency_key", format!("not a UUID: {e}")))?;
        Self::from_uuid(uuid)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({self})")
    }
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let uuid = Uuid::deserialize(d)?;
        IdempotencyKey::from_uuid(uuid).map_err(serde::de::Error::custom)
    }
}

/// Bytes carried as standard base64 (with padding), capped at [`MAX_CHIP_FILE_BYTES`].
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Base64Bytes(Vec<u8>);

impl Base64Bytes {
    /// Wraps raw bytes; fails when they exceed the cap.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() > MAX_CHIP_FILE_BYTES {
            return Err(Error::invalid(
                "chip file",
                format!("{} bytes exceeds {MAX_CHIP_FILE_BYTES}", bytes.len()),
            ));
        }
        Ok(Base64Bytes(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // Check the encoded length before decoding so a huge value costs nothing.
        if text.len() > MAX_CHIP_FILE_BYTES.div_ceil(3) * 4 {
            return Err(serde::de::Error::custom(format!(
                "base64 value longer than {MAX_CHIP_FILE_BYTES} bytes"
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("bad base64: {e}")))?;
        Base64Bytes::new(bytes).map_err(serde::de::Error::custom)
    }
}

/// A kiosk's id, as written in its certificate's common name (`[A-Za-z0-9._-]{1,64}`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Debug)]
#[serde(transparent)]
pub struct KioskId(String);

impl KioskId {
    /// Validates the character set and length.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(Error::invalid(
                "kiosk_id",
                "must be 1–64 characters of A–Z, a–z, 0–9, '.', '_' or '-'",
            ));
        }
        Ok(KioskId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KioskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KioskId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        KioskId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A catalog code (procedure, department, counter, facility): `[A-Za-z0-9._-]{1,32}`.
pub fn check_code(what: &'static str, code: &str) -> Result<()> {
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(Error::invalid(
            what,
            "must be 1–32 characters of A–Z, a–z, 0–9, '.', '_' or '-'",
        ));
    }
    Ok(())
}

fn check_text(what: &'static str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid(
            what,
            format!("longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(what, "contains control characters"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Registration

/// One citizen's registration, exactly as the kiosk submits it (`POST /v1/registrations`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub idempotency_key: IdempotencyKey,
    pub kiosk_id: KioskId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub kind: RegistrationKind,
    pub identity: Identity,
    pub consent: Consent,
    /// The number the kiosk printed while the gateway was unreachable; the gateway keeps it
    /// alongside its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional_ticket: Option<ProvisionalTicket>,
}

impl Registration {
    /// Checks everything the types cannot: codes, lengths, the identity's coherence, consent.
    pub fn validate(&self) -> Result<()> {
        self.kind.validate()?;
        self.identity.validate()?;
        if !self.consent.data_processing {
            return Err(Error::invalid(
                "consent.data_processing",
                "the citizen must consent to processing before a registration is sent",
            ));
        }
        if matches!(self.kind, RegistrationKind::ClinicVisit { .. }) && !self.consent.health_data {
            return Err(Error::invalid(
                "consent.health_data",
                "a clinic visit needs explicit consent to process health data",
            ));
        }
        if let Some(p) = &self.provisional_ticket {
            check_code("provisional_ticket.queue", &p.queue)?;
        }
        Ok(())
    }

    /// The queue this registration is numbered in: the department (clinic) or the procedure's
    /// code (one-stop; the gateway maps procedures to counters through its catalog).
    pub fn queue_code(&self) -> &str {
        match &self.kind {
            RegistrationKind::PublicService { procedure_code, .. } => procedure_code,
            RegistrationKind::ClinicVisit {
                department_code, ..
            } => department_code,
        }
    }
}

/// What the citizen came for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RegistrationKind {
    /// An administrative procedure at a one-stop counter.
    PublicService {
        procedure_code: String,
        /// Answers to the procedure's questions, by question id (what the chip cannot give).
        #[serde(default)]
        answers: BTreeMap<String, String>,
    },
    /// A visit to a clinic department.
    ClinicVisit {
        department_code: String,
        visit_type: VisitType,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        insurance: Option<InsuranceDetails>,
    },
}

impl RegistrationKind {
    fn validate(&self) -> Result<()> {
        match self {
            RegistrationKind::PublicService {
                procedure_code,
                answers,
            } => {
                check_code("kind.procedure_code", procedure_code)?;
                if answers.len() > MAX_ANSWERS {
                    return Err(Error::invalid(
                        "kind.answers",
                        format!("more than {MAX_ANSWERS} answers"),
                    ));
                }
                for (k, v) in answers {
                    check_code("kind.answers key", k)?;
                    check_text("kind.answers value", v)?;
                }
            }
            RegistrationKind::ClinicVisit {
                department_code,
                insurance,
                ..
            } => {
                check_code("kind.department_code", department_code)?;
                if let Some(ins) = insurance {
                    ins.validate()?;
                }
            }
        }
        Ok(())
    }
}

/// Kind of clinic visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitType {
    FirstVisit,
    FollowUp,
    Appointment,
}

/// Health-insurance (BHYT) details the patient presents for a clinic visit.
#[derive(Clone, PartialEq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct InsuranceDetails {
    /// BHYT card number (the insurer's format: 2 letters, digits).
    pub card_number: String,
    /// Registered primary-care facility code (mã ĐKBĐ), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_facility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_date")]
    #[zeroize(skip)]
    pub valid_to: Option<Date>,
}

impl InsuranceDetails {
    fn validate(&self) -> Result<()> {
        if self.card_number.is_empty()
            || self.card_number.len() > 20
            || !self.card_number.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::invalid(
                "kind.insurance.card_number",
                "must be 1–20 letters or digits",
            ));
        }
        if let Some(f) = &self.registered_facility {
            check_code("kind.insurance.registered_facility", f)?;
        }
        Ok(())
    }
}

impl fmt::Debug for InsuranceDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsuranceDetails")
            .field("card_number", &mask_id(&self.card_number))
            .finish_non_exhaustive()
    }
}

/// Where the identity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// Read from the chip.
    Chip,
    /// The QR printed on the card.
    CardQr,
    /// The QR shown by the VNeID app.
    Vneid,
    /// Typed by the citizen or staff.
    Manual,
}

/// How far the identity can be trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case", deny_unknown_fields)]
pub enum Assurance {
    /// Passive authentication succeeded against the configured CSCA trust store.
    ChipVerified,
    /// Read from the chip but not verified; `reason` says why (no CSCA, bad signature, …).
    ChipUnverified { reason: String },
    /// From a QR code, which is never proof of identity.
    QrOnly,
    /// Typed in.
    Manual,
}

/// Sex as written on the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Unspecified,
}

/// The citizen's identity as the kiosk established it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub source: IdentitySource,
    pub assurance: Assurance,
    pub fields: IdentityFields,
    /// Raw chip files, present exactly when `source` is `chip`, so the backend can re-verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<ChipData>,
}

impl Identity {
    fn validate(&self) -> Result<()> {
        self.fields.validate()?;
        match (self.source, &self.assurance) {
            (IdentitySource::Chip, Assurance::ChipVerified | Assurance::ChipUnverified { .. }) => {}
            (IdentitySource::CardQr | IdentitySource::Vneid, Assurance::QrOnly) => {}
            (IdentitySource::Manual, Assurance::Manual) => {}
            (source, assurance) => {
                return Err(Error::invalid(
                    "identity.assurance",
                    format!("{assurance:?} does not fit source {source:?}"),
                ));
            }
        }
        match (self.source, &self.chip) {
            (IdentitySource::Chip, None) => Err(Error::invalid(
                "identity.chip",
                "a chip read must carry the raw DG1, DG13 and SOD",
            )),
            (IdentitySource::Chip, Some(_)) => Ok(()),
            (_, Some(_)) => Err(Error::invalid(
                "identity.chip",
                "raw chip files are only sent for chip reads",
            )),
            (_, None) => Ok(()),
        }
    }
}

/// Personal fields (from DG13 or the QR). Zeroized on drop; `Debug` masks everything.
#[derive(Clone, PartialEq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct IdentityFields {
    /// The 12-digit personal identification number.
    pub id_number: String,
    /// The old 9-digit ID, when the card or QR carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_id_number: Option<String>,
    pub full_name: String,
    #[serde(with = "date_fmt")]
    #[zeroize(skip)]
    pub date_of_birth: Date,
    #[zeroize(skip)]
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_residence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_date")]
    #[zeroize(skip)]
    pub card_issued_on: Option<Date>,
}

impl IdentityFields {
    fn validate(&self) -> Result<()> {
        if self.id_number.len() != 12 || !self.id_number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                "identity.fields.id_number",
                "must be exactly 12 digits",
            ));
        }
        if let Some(old) = &self.old_id_number
            && (old.len() != 9 || !old.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error::invalid(
                "identity.fields.old_id_number",
                "must be exactly 9 digits",
            ));
        }
        if self.full_name.trim().is_empty() {
            return Err(Error::invalid("identity.fields.full_name", "is empty"));
        }
        check_text("identity.fields.full_name", &self.full_name)?;
        if let Some(p) = &self.place_of_residence {
            check_text("identity.fields.place_of_residence", p)?;
        }
        let today = OffsetDateTime::now_utc().date();
        if self.date_of_birth > today || self.date_of_birth.year() < 1900 {
            return Err(Error::invalid(
                "identity.fields.date_of_birth",
                "must be between 1900-01-01 and today",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for IdentityFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityFields")
            .field("id_number", &mask_id(&self.id_number))
            .finish_non_exhaustive()
    }
}

/// Raw chip files, for the backend's own passive authentication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipData {
    pub dg1: Base64Bytes,
    pub dg13: Base64Bytes,
    pub sod: Base64Bytes,
}

/// Per-purpose consent, each box unticked until the citizen ticks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Processing the personal data for this registration (required).
    pub data_processing: bool,
    /// Processing health data (required for clinic visits).
    #[serde(default)]
    pub health_data: bool,
    /// Sharing with the insurance (BHYT) check.
    #[serde(default)]
    pub insurance_check: bool,
}

/// A number the kiosk issued on its own while the gateway was unreachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionalTicket {
    pub queue: String,
    pub number: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
}

impl ProvisionalTicket {
    /// The number as the citizen's slip shows it and operators look it up: `T-NOI-003` (`T` for
    /// tạm thời, provisional, so it is never mistaken for the gateway's `NOI-003`).
    pub fn display(&self) -> String {
        format!("T-{}-{:03}", self.queue, self.number)
    }
}

// ---------------------------------------------------------------------------------------------
// Ticket

/// The gateway's answer to a registration: what is printed on the slip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub idempotency_key: IdempotencyKey,
    /// Department or counter code the number belongs to.
    pub queue: String,
    /// Position in that queue for `service_day`, from 1, without gaps.
    pub number: u32,
    /// Text for the slip, e.g. `K01-007`.
    pub display: String,
    /// Counter (one-stop) or room (clinic) to go to.
    pub counter_or_room: String,
    pub estimated_wait_minutes: u32,
    #[serde(with = "date_fmt")]
    pub service_day: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The kiosk's provisional number, when it issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional_ticket: Option<ProvisionalTicket>,
}

// ---------------------------------------------------------------------------------------------
// Catalog

/// What a site offers (`GET /v1/catalog`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub site_id: String,
    pub site_kind: SiteKind,
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub opening_hours: Vec<OpeningHours>,
}

/// Clinic or one-stop counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Clinic,
    OneStop,
}

impl fmt::Display for SiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SiteKind::Clinic => "clinic",
            SiteKind::OneStop => "one_stop",
        })
    }
}

/// An administrative procedure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub counter: String,
    /// Question ids the kiosk must ask (what the chip cannot give).
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// One question of a procedure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub label_vi: String,
    pub label_en: String,
}

/// A clinic department.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub room: String,
}

/// Opening hours of one weekday (1 = Monday … 7 = Sunday), local time `HH:MM`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    pub weekday: u8,
    pub opens: String,
    pub closes: String,
}

// ---------------------------------------------------------------------------------------------
// Insurance check

/// `POST /v1/insurance/check`: the gateway asks the insurer on the kiosk's behalf.
#[derive(Clone, PartialEq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct InsuranceCheckRequest {
    /// The 12-digit ID number (the insurer accepts it in place of the BHYT number).
    pub id_number: String,
    pub full_name: String,
    #[serde(with = "date_fmt")]
    #[zeroize(skip)]
    pub date_of_birth: Date,
}

impl InsuranceCheckRequest {
    /// Same rules as the registration's identity fields.
    pub fn validate(&self) -> Result<()> {
        if self.id_number.len() != 12 || !self.id_number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid("id_number", "must be exactly 12 digits"));
        }
        if self.full_name.trim().is_empty() {
            return Err(Error::invalid("full_name", "is empty"));
        }
        check_text("full_name", &self.full_name)
    }
}

impl fmt::Debug for InsuranceCheckRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsuranceCheckRequest")
            .field("id_number", &mask_id(&self.id_number))
            .finish_non_exhaustive()
    }
}

/// The insurer's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsuranceStatus {
    Valid,
    Expired,
    NotFound,
    /// The insurer could not be asked; the kiosk continues without insurance.
    Unavailable,
}

/// Answer to an insurance check.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct InsuranceCheckResponse {
    pub status: InsuranceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_facility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_date")]
    pub valid_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_date")]
    pub valid_to: Option<Date>,
}

impl fmt::Debug for InsuranceCheckResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsuranceCheckResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Kiosk identity and status

/// Health of one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceHealth {
    Ok,
    Degraded,
    Failed,
    Absent,
}

/// The kiosk's devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Devices {
    pub card_reader: DeviceHealth,
    pub camera: DeviceHealth,
    pub printer: DeviceHealth,
}

/// The outbox as the kiosk sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxHealth {
    pub depth: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_age_seconds: Option<u64>,
    pub dead_letters: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Heartbeat (`POST /v1/status`). The kiosk id comes from the client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskStatus {
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    pub software_version: String,
    pub devices: Devices,
    pub outbox: OutboxHealth,
}

/// The gateway's answer to a heartbeat: who it thinks the kiosk is, and its clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskInfo {
    pub kiosk_id: KioskId,
    pub site_id: String,
    pub site_kind: SiteKind,
    /// Serial of the certificate the kiosk used, hex.
    pub certificate_serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub certificate_not_after: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub server_time: OffsetDateTime,
}

// ---------------------------------------------------------------------------------------------
// Enrolment

/// `POST /v1/enrol`: the single-use token and a CSR made from a key generated on the kiosk.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub token: String,
    /// PKCS#10 request, PEM.
    pub csr_pem: String,
    /// Free label for operators (e.g. "Sảnh A, máy 2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential until used.
        f.debug_struct("EnrolRequest")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/renew`: an enrolled kiosk asks for a new certificate (mutual TLS with the current
/// one), with a CSR for a new key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// PKCS#10 request, PEM.
    pub csr_pem: String,
}

/// What an enrolled (or renewed) kiosk receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub kiosk_id: KioskId,
    /// The short-lived client certificate, PEM.
    pub certificate_pem: String,
    /// The gateway CA to pin from now on, PEM.
    pub ca_certificate_pem: String,
    #[serde(with = "time::serde::rfc3339")]
    pub certificate_not_after: OffsetDateTime,
    pub config: SiteConfig,
}

/// Site configuration handed to a kiosk at enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteConfig {
    pub site_id: String,
    pub site_kind: SiteKind,
    /// Base URL of the gateway (`https://host:port`).
    pub gateway_url: String,
    pub display_name: String,
}

/// The enrolment QR that `kiosk-gateway token create` prints. The format is owned by `kiosk-qr`
/// (`payload::enrolment`, which parses it on the kiosk):
///
/// ```text
/// kiosk-enrol:v1?gw=<percent-encoded URL>&tok=<token>&ca=<64 hex>&site=<id>&kind=clinic|one-stop
/// ```
///
/// This side only writes it; keys in that fixed order, the CA fingerprint is the SHA-256 of the
/// gateway CA certificate (DER), lower-case hex.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentQr {
    pub gateway_url: String,
    pub token: String,
    pub ca_sha256: String,
    pub site: String,
    pub kind: SiteKind,
}

impl EnrolmentQr {
    /// The QR text.
    pub fn to_payload(&self) -> String {
        let kind = match self.kind {
            SiteKind::Clinic => "clinic",
            SiteKind::OneStop => "one-stop",
        };
        format!(
            "kiosk-enrol:v1?gw={}&tok={}&ca={}&site={}&kind={kind}",
            percent_encode(&self.gateway_url),
            self.token,
            self.ca_sha256,
            self.site,
        )
    }
}

/// Escapes every byte except ASCII letters, digits and `-._~` (what `kiosk-qr` decodes).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl fmt::Debug for EnrolmentQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential until used.
        f.debug_struct("EnrolmentQr")
            .field("gateway_url", &self.gateway_url)
            .field("ca_sha256", &self.ca_sha256)
            .field("site", &self.site)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Body of every 4xx/5xx answer: a stable machine code and a sentence for technicians.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub reason: String,
}

mod opt_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => {
                let text = d.format(FORMAT).map_err(serde::ser::Error::custom)?;
                s.serialize_str(&text)
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| Date::parse(&t, FORMAT).map_err(serde::de::Error::custom))
            .transpose()
    }
}
