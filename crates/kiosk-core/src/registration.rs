//! Building the `kiosk_api` v1 registration from what the session gathered.

use std::collections::BTreeMap;

use kiosk_api::v1::{
    Consent, IdempotencyKey, InsuranceCheckResponse, InsuranceDetails, InsuranceStatus, KioskId,
    Registration, RegistrationKind, VisitType,
};
use time::OffsetDateTime;
use zeroize::Zeroize;

use crate::error::Result;
use crate::identity::Identity;

/// What the citizen chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// One-stop: a procedure code from the catalog.
    Procedure(String),
    /// Clinic: a department code from the catalog.
    Department(String),
}

/// What the chip cannot give. Answers are wiped on drop.
#[derive(Clone, Default)]
pub struct Details {
    /// Procedure answers by question id.
    pub answers: BTreeMap<String, String>,
    /// Clinic visit type (first visit unless chosen).
    pub visit_type: Option<VisitType>,
    /// The insurance answer, when the citizen allowed the check.
    pub insurance: Option<InsuranceCheckResponse>,
}

impl std::fmt::Debug for Details {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Details")
            .field("answers", &self.answers.len())
            .field("visit_type", &self.visit_type)
            .finish_non_exhaustive()
    }
}

impl Drop for Details {
    fn drop(&mut self) {
        let answers = std::mem::take(&mut self.answers);
        for (mut k, mut v) in answers {
            k.zeroize();
            v.zeroize();
        }
        if let Some(i) = &mut self.insurance {
            i.card_number.zeroize();
            i.registered_facility.zeroize();
        }
    }
}

/// The registration for one submission. `key` is made once per submission by the caller and
/// kept for every retry; `created_at` is the wall clock at submission.
pub fn build(
    kiosk_id: &KioskId,
    identity: &Identity,
    choice: &Choice,
    details: &Details,
    consent: Consent,
    created_at: OffsetDateTime,
    key: IdempotencyKey,
) -> Result<Registration> {
    let kind = match choice {
        Choice::Procedure(code) => RegistrationKind::PublicService {
            procedure_code: code.clone(),
            answers: details.answers.clone(),
        },
        Choice::Department(code) => RegistrationKind::ClinicVisit {
            department_code: code.clone(),
            visit_type: details.visit_type.unwrap_or(VisitType::FirstVisit),
            // Only a valid card goes on the registration, and only with the citizen's consent.
            insurance: details
                .insurance
                .as_ref()
                .filter(|i| consent.insurance_check && i.status == InsuranceStatus::Valid)
                .and_then(|i| {
                    Some(InsuranceDetails {
                        card_number: i.card_number.clone()?,
                        registered_facility: i.registered_facility.clone(),
                        valid_to: i.valid_to,
                    })
                }),
        },
    };
    let registration = Registration {
        idempotency_key: key,
        kiosk_id: kiosk_id.clone(),
        created_at,
        kind,
        identity: identity.to_api(),
        consent,
        provisional_ticket: None,
    };
    registration.validate()?;
    Ok(registration)
}
