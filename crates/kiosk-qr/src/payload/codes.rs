//! Codes recognised by shape and passed on as such (no local meaning):
//! - one-stop dossier receipt codes, `V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX` (Circular
//!   01/2018/TT-VPCP art. 19: agency code `NNN.NN.NN.XNN`, receipt date, sequence). The format may
//!   have changed after Decree 118/2025, so anything of the same skeleton is accepted;
//! - clinic appointment codes issued by the site's gateway, `APT-YYMMDD-NNNN` (our own
//!   convention, docs/qr.md).

use serde::Serialize;

use crate::error::{Error, Result};

const MAX_CODE: usize = 64;

/// A dossier receipt code, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DossierCode {
    code: String,
}

/// A clinic appointment code, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppointmentCode {
    code: String,
}

fn is_date6(s: &str) -> bool {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let month: u8 = s[2..4].parse().unwrap_or(0);
    let day: u8 = s[4..6].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Shape test: four dot-separated groups, then `-` date `-` sequence.
pub fn looks_like_dossier(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3 && parts[0].split('.').count() == 4 && text.len() <= MAX_CODE
}

impl DossierCode {
    /// Parses a dossier code whose skeleton [`looks_like_dossier`] matched.
    pub fn parse(text: &str) -> Result<Self> {
        let err = |reason| Error::DossierCode { reason };
        if text.len() > MAX_CODE {
            return Err(err("longer than 64 characters"));
        }
        let mut parts = text.split('-');
        let (agency, date, seq) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(d), Some(s), None) => (a, d, s),
            _ => return Err(err("not AGENCY-YYMMDD-SEQUENCE")),
        };
        let groups: Vec<&str> = agency.split('.').collect();
        let alnum = |g: &&str| {
            !g.is_empty()
                && g.len() <= 6
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        };
        if groups.len() != 4 || !groups.iter().all(alnum) {
            return Err(err(
                "agency code is not four dot-separated uppercase/digit groups",
            ));
        }
        if !is_date6(date) {
            return Err(err("receipt date is not YYMMDD"));
        }
        if seq.is_empty() || seq.len() > 8 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("sequence is not 1–8 digits"));
        }
        Ok(Self {
            code: text.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }
}

impl AppointmentCode {
    /// Recognises `APT-YYMMDD-NNNN` (4–8 digit sequence); anything else is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("APT-")?;
        let (date, seq) = rest.split_once('-')?;
        let ok = is_date6(date)
            && (4..=8).contains(&seq.len())
            && seq.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Self {
            code: text.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Payload, classify};

    #[test]
    fn dossier_codes() {
        let p = classify(b"000.00.12.H29-241115-0001").unwrap();
        assert!(
            matches!(&p, Payload::Dossier(d) if d.as_str() == "000.00.12.H29-241115-0001"),
            "{}",
            p.kind()
        );
        let e = classify(b"000.00.12.H29-241315-0001").unwrap_err();
        assert!(
            matches!(
                e,
                Error::DossierCode {
                    reason: "receipt date is not YYMMDD"
                }
            ),
            "{e}"
        );
        let e = classify(b"000.00.12.h29-241115-0001").unwrap_err();
        assert!(matches!(e, Error::DossierCode { .. }), "{e}");
        let e = classify(b"000.00.12.H29-241115-").unwrap_err();
        assert!(
            matches!(
                e,
                Error::DossierCode {
                    reason: "sequence is not 1–8 digits"
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn appointment_codes() {
        assert!(matches!(
            classify(b"APT-251126-0042").unwrap(),
            Payload::Appointment(_)
        ));
        // Not the shape: falls through to an opaque token, not an appointment.
        assert!(matches!(
            classify(b"APT-251126-42").unwrap(),
            Payload::Opaque(_)
        ));
        assert!(matches!(
            classify(b"APT-251399-0042").unwrap(),
            Payload::Opaque(_)
        ));
    }
}
