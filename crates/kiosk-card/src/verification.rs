//! The verification report every check of a card read writes into: one [`Check`] per kind
//! (SOD hashes, SOD signature, DS certificate chain, Chip Authentication, Active
//! Authentication), the trust anchor used and the algorithms seen. It carries no personal data,
//! so it may be logged and sent to the backend as is.

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "status", rename_all = "snake_case"))]
pub enum Check {
    /// The check ran and the evidence holds.
    Passed,
    /// The check ran and the evidence does not hold: the data must not be called verified.
    Failed { reason: String },
    /// The check could not run (missing file, no trust anchor configured, unsupported
    /// algorithm); says nothing either way.
    NotPossible { reason: String },
}

impl Check {
    /// A failed check with its reason.
    pub fn failed(reason: impl Into<String>) -> Check {
        Check::Failed {
            reason: reason.into(),
        }
    }

    /// A check that could not run, with the reason.
    pub fn not_possible(reason: impl Into<String>) -> Check {
        Check::NotPossible {
            reason: reason.into(),
        }
    }

    /// Whether the check passed.
    pub fn is_passed(&self) -> bool {
        matches!(self, Check::Passed)
    }

    /// Whether the check ran and failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, Check::Failed { .. })
    }

    /// `passed`, `failed`, `not_possible`.
    pub fn status(&self) -> &'static str {
        match self {
            Check::Passed => "passed",
            Check::Failed { .. } => "failed",
            Check::NotPossible { .. } => "not_possible",
        }
    }

    /// The reason, for a check that did not pass.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Check::Passed => None,
            Check::Failed { reason } | Check::NotPossible { reason } => Some(reason),
        }
    }
}

impl Default for Check {
    fn default() -> Self {
        Check::not_possible("not performed")
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Passed => f.write_str("passed"),
            Check::Failed { reason } => write!(f, "FAILED: {reason}"),
            Check::NotPossible { reason } => write!(f, "not possible: {reason}"),
        }
    }
}

/// The CSCA certificate a DS certificate was chained to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TrustAnchor {
    /// The CSCA subject, RFC 4514 string.
    pub subject: String,
    /// Subject key identifier, upper-case hex, when the certificate has one.
    pub ski_hex: Option<String>,
    /// SHA-256 of the certificate DER, upper-case hex.
    pub sha256_fingerprint: String,
    /// Where the trust store got it (file path, or master list path and signer).
    pub source: String,
}

/// Algorithms seen along the way, for the report and for support.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AlgorithmsSeen {
    /// Hash of the data groups in the SOD, e.g. `SHA-256`.
    pub dg_hash: Option<String>,
    /// SOD signature, e.g. `ecdsa-with-SHA256`.
    pub sod_signature: Option<String>,
    /// The Document Signer's key, e.g. `ECDSA brainpoolP256r1`.
    pub ds_key: Option<String>,
    /// The signature on the DS certificate, e.g. `ecdsa-with-SHA512`.
    pub ds_certificate_signature: Option<String>,
    /// The CSCA's key, e.g. `ECDSA brainpoolP512r1 (explicit parameters)`.
    pub csca_key: Option<String>,
    /// Chip Authentication protocol, e.g. `id-CA-ECDH-AES-CBC-CMAC-128`.
    pub chip_authentication: Option<String>,
    /// Active Authentication algorithm, e.g. `ecdsa-plain-SHA256`.
    pub active_authentication: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verification {
    /// Every data group read hashes to the value in the SOD.
    pub sod_hashes: Check,
    /// The SOD's SignerInfo signature verifies under the DS key, and its messageDigest
    /// matches the LDS security object.
    pub sod_signature: Check,
    /// The DS certificate chains to a configured CSCA and all are valid in time.
    pub ds_certificate_chain: Check,
    /// Chip Authentication (DG14) succeeded: the chip holds the private key.
    pub chip_authentication: Check,
    /// Active Authentication (DG15) succeeded.
    pub active_authentication: Check,
    /// The CSCA used, when the chain was checked against one.
    pub trust_anchor: Option<TrustAnchor>,
    /// The algorithms seen.
    pub algorithms: AlgorithmsSeen,
}

impl Verification {
    /// Passive authentication passed: hashes, SOD signature and DS chain all passed. This is
    /// what makes chip data "chip-verified".
    pub fn passive_authentication_passed(&self) -> bool {
        self.sod_hashes.is_passed()
            && self.sod_signature.is_passed()
            && self.ds_certificate_chain.is_passed()
    }

    /// Some check ran and failed: the data may be forged or the chip cloned.
    pub fn any_failed(&self) -> bool {
        self.checks().iter().any(|(_, c)| c.is_failed())
    }

    /// The five checks by name, in report order.
    pub fn checks(&self) -> [(&'static str, &Check); 5] {
        [
            ("sod_hashes", &self.sod_hashes),
            ("sod_signature", &self.sod_signature),
            ("ds_certificate_chain", &self.ds_certificate_chain),
            ("chip_authentication", &self.chip_authentication),
            ("active_authentication", &self.active_authentication),
        ]
    }

    /// The first reason the data is not chip-verified, for an `chip-unverified (reason)` label.
    pub fn unverified_reason(&self) -> Option<String> {
        self.checks()
            .into_iter()
            .take(3)
            .find(|(_, c)| !c.is_passed())
            .map(|(name, c)| format!("{name}: {}", c.reason().unwrap_or("not passed")))
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, check) in self.checks() {
            writeln!(f, "{name:<22} {check}")?;
        }
        if let Some(a) = &self.trust_anchor {
            writeln!(
                f,
                "{:<22} {} (SKI {}, SHA-256 {}, from {})",
                "trust_anchor",
                a.subject,
                a.ski_hex.as_deref().unwrap_or("-"),
                a.sha256_fingerprint,
                a.source
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_report_is_not_verified_and_says_why() {
        let v = Verification::default();
        assert!(!v.passive_authentication_passed());
        assert!(!v.any_failed());
        assert_eq!(
            v.unverified_reason().as_deref(),
            Some("sod_hashes: not performed")
        );
    }

    #[test]
    fn pa_passes_only_when_its_three_checks_pass() {
        let mut v = Verification {
            sod_hashes: Check::Passed,
            sod_signature: Check::Passed,
            ds_certificate_chain: Check::Passed,
            ..Verification::default()
        };
        assert!(v.passive_authentication_passed());
        assert_eq!(v.unverified_reason(), None);
        v.ds_certificate_chain = Check::failed("expired");
        assert!(!v.passive_authentication_passed());
        assert!(v.any_failed());
        assert_eq!(
            v.unverified_reason().as_deref(),
            Some("ds_certificate_chain: expired")
        );
        assert!(v.to_string().contains("FAILED: expired"));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serialises_with_snake_case_fields_and_a_status_tag() {
        let v = Verification {
            sod_hashes: Check::Passed,
            sod_signature: Check::failed("bad"),
            ..Verification::default()
        };
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["sod_hashes"]["status"], "passed");
        assert_eq!(json["sod_signature"]["status"], "failed");
        assert_eq!(json["sod_signature"]["reason"], "bad");
        assert_eq!(json["ds_certificate_chain"]["status"], "not_possible");
        assert!(json["trust_anchor"].is_null());
        assert!(json["algorithms"]["dg_hash"].is_null());
    }
}
