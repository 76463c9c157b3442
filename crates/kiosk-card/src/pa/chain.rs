//! Verifying a Document Signer certificate against a CSCA (ICAO 9303-11 §5.1 step 2 and
//! 9303-12): names and key identifiers link, the CSCA is a CA allowed to sign certificates, both
//! are valid at the check time (and at the SOD signing time when known), and the CSCA key's
//! signature over the DS TBSCertificate verifies — with the CSCA's curve taken from its own
//! certificate, explicit parameters included.

use std::time::SystemTime;

use der::Encode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};

use super::signature::{HashAlgorithm, PublicKey, SignatureAlgorithm};
use crate::error::{Error, Result};
use crate::verification::TrustAnchor;

/// What a successful chain check found.
#[derive(Debug, Clone)]
pub struct ChainOutcome {
    /// The CSCA used.
    pub anchor: TrustAnchor,
    /// The algorithm of the DS certificate's signature.
    pub ds_certificate_signature: SignatureAlgorithm,
    /// The CSCA's key, described.
    pub csca_key: String,
}

fn chain(reason: impl Into<String>) -> Error {
    Error::Chain(reason.into())
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The certificate's subject key identifier, if it has one.
pub fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    match cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
    {
        Ok(Some((_, ski))) => Some(ski.0.as_bytes().to_vec()),
        _ => None,
    }
}

/// The keyIdentifier of the certificate's authority key identifier, if any.
pub fn authority_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    match cert
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
    {
        Ok(Some((_, aki))) => aki.key_identifier.map(|k| k.as_bytes().to_vec()),
        _ => None,
    }
}

/// SHA-256 over the certificate's DER, upper-case hex.
pub fn sha256_fingerprint(cert: &Certificate) -> Result<String> {
    let der = cert.to_der().map_err(|e| Error::Asn1 {
        what: "certificate",
        detail: e.to_string(),
    })?;
    Ok(upper_hex(&HashAlgorithm::Sha256.digest(&der)))
}

/// The report entry for a CSCA certificate.
pub fn anchor_info(cert: &Certificate, source: &str) -> Result<TrustAnchor> {
    Ok(TrustAnchor {
        subject: cert.tbs_certificate().subject().to_string(),
        ski_hex: subject_key_identifier(cert).map(|s| upper_hex(&s)),
        sha256_fingerprint: sha256_fingerprint(cert)?,
        source: source.to_owned(),
    })
}

/// The public key of a certificate.
pub fn certificate_key(cert: &Certificate) -> Result<PublicKey> {
    PublicKey::from_spki(cert.tbs_certificate().subject_public_key_info())
}

/// Checks `cert` is valid at `at`; `what` names it in the error.
pub fn check_validity(cert: &Certificate, at: SystemTime, what: &str, when: &str) -> Result<()> {
    let v = cert.tbs_certificate().validity();
    let not_before: SystemTime = v.not_before.into();
    let not_after: SystemTime = v.not_after.into();
    if at < not_before {
        return Err(chain(format!(
            "{what} not yet valid at {when} (valid from {})",
            v.not_before
        )));
    }
    if at > not_after {
        return Err(chain(format!(
            "{what} expired at {when} (valid until {})",
            v.not_after
        )));
    }
    Ok(())
}

/// Whether `issuer`'s subject names `cert`'s issuer. DER equality first; then a
/// case-insensitive comparison of the string forms, because some CSCAs re-encode the same name
/// with another string type in the DS certificates they issue.
pub fn names_issuer(cert: &Certificate, issuer: &Certificate) -> bool {
    let a = cert.tbs_certificate().issuer();
    let b = issuer.tbs_certificate().subject();
    a == b || a.to_string().eq_ignore_ascii_case(&b.to_string())
}

/// Checks that `csca` may issue certificates: basicConstraints cA and, when keyUsage is
/// present, keyCertSign.
pub fn check_is_ca(csca: &Certificate) -> Result<()> {
    let tbs = csca.tbs_certificate();
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {}
        Ok(Some(_)) => {
            return Err(chain(
                "CSCA certificate is not a CA (basicConstraints cA false)",
            ));
        }
        Ok(None) => return Err(chain("CSCA certificate has no basicConstraints")),
        Err(e) => return Err(chain(format!("CSCA basicConstraints unreadable: {e}"))),
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.0.contains(KeyUsages::KeyCertSign) => {
            Err(chain("CSCA key usage lacks keyCertSign"))
        }
        Err(e) => Err(chain(format!("CSCA keyUsage unreadable: {e}"))),
        _ => Ok(()),
    }
}

/// Checks that a DS certificate may sign: when keyUsage is present (ICAO 9303-12 makes it
/// mandatory) it must include digitalSignature.
pub fn check_signs_documents(ds: &Certificate) -> Result<()> {
    match ds.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.0.contains(KeyUsages::DigitalSignature) => {
            Err(chain("DS key usage lacks digitalSignature"))
        }
        Err(e) => Err(chain(format!("DS keyUsage unreadable: {e}"))),
        _ => Ok(()),
    }
}

/// Verifies `cert`'s signature with `issuer`'s key; returns the algorithm used.
pub fn verify_certificate_signature(
    cert: &Certificate,
    issuer: &Certificate,
) -> Result<(SignatureAlgorithm, String)> {
    let algorithm =
        SignatureAlgorithm::from_algorithm_identifier(cert.signature_algorithm(), None)?;
    let key = certificate_key(issuer)?;
    let tbs = cert.tbs_certificate().to_der().map_err(|e| Error::Asn1 {
        what: "TBSCertificate",
        detail: e.to_string(),
    })?;
    let sig = cert
        .signature()
        .as_bytes()
        .ok_or_else(|| chain("certificate signature BIT STRING has unused bits"))?;
    key.verify(&algorithm, &tbs, sig)?;
    Ok((algorithm, key.describe()))
}

/// Verifies the DS certificate `ds` against the CSCA `csca` at time `now` and, when known, at
/// the SOD's signing time. `source` says where the CSCA came from, for the report.
pub fn verify_ds_certificate(
    ds: &Certificate,
    csca: &Certificate,
    source: &str,
    now: SystemTime,
    signing_time: Option<SystemTime>,
) -> Result<ChainOutcome> {
    if !names_issuer(ds, csca) {
        return Err(chain(format!(
            "DS issuer {} is not the CSCA subject {}",
            ds.tbs_certificate().issuer(),
            csca.tbs_certificate().subject()
        )));
    }
    if let (Some(aki), Some(ski)) = (authority_key_identifier(ds), subject_key_identifier(csca))
        && aki != ski
    {
        return Err(chain(format!(
            "DS authority key identifier {} does not match CSCA key identifier {}",
            upper_hex(&aki),
            upper_hex(&ski)
        )));
    }
    check_is_ca(csca)?;
    check_signs_documents(ds)?;
    let (algorithm, csca_key) = verify_certificate_signature(ds, csca).map_err(|e| match e {
        Error::SignatureMismatch { algorithm } => chain(format!(
            "DS certificate signature does not verify ({algorithm})"
        )),
        other => other,
    })?;
    check_validity(ds, now, "DS certificate", "the check time")?;
    check_validity(csca, now, "CSCA certificate", "the check time")?;
    if let Some(t) = signing_time {
        check_validity(ds, t, "DS certificate", "the SOD signing time")?;
        check_validity(csca, t, "CSCA certificate", "the SOD signing time")?;
    }
    Ok(ChainOutcome {
        anchor: anchor_info(csca, source)?,
        ds_certificate_signature: algorithm,
        csca_key,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pa::curves::NamedCurve;
    use crate::pa::ecc::Curve;
    use crate::pa::ecdsa::{EcPrivateKey, ParametersForm};
    use crate::pa::issue::{CertificateRequest, SigningKey, issue_certificate};
    use std::str::FromStr;
    use std::time::Duration;
    use x509_cert::name::Name;

    pub(crate) const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

    pub(crate) fn ec_key(
        curve: NamedCurve,
        hash: HashAlgorithm,
        form: ParametersForm,
    ) -> SigningKey {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = EcPrivateKey::generate(Curve::named(curve).unwrap(), form, &mut rng).unwrap();
        SigningKey::Ec {
            key: Box::new(key),
            hash,
            form,
        }
    }

    /// A CSCA like Vietnam's (brainpoolP512r1, explicit parameters, ecdsa-with-SHA512) and a
    /// DS on brainpoolP256r1 under it.
    pub(crate) struct TestPki {
        pub csca: Certificate,
        pub ds_key: SigningKey,
        pub ds: Certificate,
    }

    pub(crate) fn test_pki(csca_name: &str, now: SystemTime) -> TestPki {
        let csca_key = ec_key(
            NamedCurve::BrainpoolP512r1,
            HashAlgorithm::Sha512,
            ParametersForm::Explicit,
        );
        let csca_subject = Name::from_str(csca_name).unwrap();
        let csca = issue_certificate(
            &CertificateRequest {
                subject: csca_subject.clone(),
                serial: vec![1],
                not_before: now - YEAR,
                not_after: now + 10 * YEAR,
                ca: true,
            },
            &csca_key,
            None,
        )
        .unwrap();
        let ds_key = ec_key(
            NamedCurve::BrainpoolP256r1,
            HashAlgorithm::Sha256,
            ParametersForm::Named,
        );
        let ds = issue_certificate(
            &CertificateRequest {
                subject: Name::from_str("CN=DS Test,O=Kiosk Test,C=VN").unwrap(),
                serial: vec![0x10, 0x01],
                not_before: now - YEAR,
                not_after: now + 5 * YEAR,
                ca: false,
            },
            &ds_key,
            Some((&csca_subject, &csca_key)),
        )
        .unwrap();
        TestPki { csca, ds_key, ds }
    }

    #[test]
    fn ds_chains_to_an_explicit_brainpool512_csca() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,O=Kiosk Test,C=VN", now);
        // The CSCA's SPKI really carries explicit parameters, recognised as brainpoolP512r1.
        let key = certificate_key(&pki.csca).unwrap();
        assert_eq!(
            key.describe(),
            "ECDSA brainpoolP512r1 (explicit parameters)"
        );
        let out = verify_ds_certificate(&pki.ds, &pki.csca, "test", now, Some(now)).unwrap();
        assert_eq!(
            out.ds_certificate_signature.to_string(),
            "ecdsa-with-SHA512"
        );
        assert_eq!(out.anchor.subject, "CN=CSCA Test,O=Kiosk Test,C=VN");
        let ski = subject_key_identifier(&pki.csca).unwrap();
        assert_eq!(
            out.anchor.ski_hex.as_deref(),
            Some(upper_hex(&ski).as_str())
        );
        let der = pki.csca.to_der().unwrap();
        assert_eq!(
            out.anchor.sha256_fingerprint,
            upper_hex(&HashAlgorithm::Sha256.digest(&der))
        );
    }

    #[test]
    fn wrong_csca_is_rejected_even_with_the_same_name() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,O=Kiosk Test,C=VN", now);
        let other = test_pki("CN=CSCA Test,O=Kiosk Test,C=VN", now);
        let err = verify_ds_certificate(&pki.ds, &other.csca, "test", now, None).unwrap_err();
        // Same name, different key: the key identifiers differ.
        assert!(err.to_string().contains("key identifier"), "{err}");
        let renamed = test_pki("CN=Other CSCA,C=VN", now);
        let err = verify_ds_certificate(&pki.ds, &renamed.csca, "test", now, None).unwrap_err();
        assert!(err.to_string().contains("is not the CSCA subject"), "{err}");
    }

    #[test]
    fn expired_and_not_yet_valid_are_rejected() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        let err = verify_ds_certificate(&pki.ds, &pki.csca, "t", now + 6 * YEAR, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("DS certificate expired at the check time"),
            "{err}"
        );
        let err =
            verify_ds_certificate(&pki.ds, &pki.csca, "t", now, Some(now - 2 * YEAR)).unwrap_err();
        assert!(
            err.to_string()
                .contains("not yet valid at the SOD signing time"),
            "{err}"
        );
    }

    #[test]
    fn tampered_ds_signature_is_rejected() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        let mut der = pki.ds.to_der().unwrap();
        // Flip a bit inside the signature value (the last bytes of the certificate).
        let last = der.len() - 3;
        der[last] ^= 0x01;
        let tampered = <Certificate as der::Decode>::from_der(&der).unwrap();
        let err = verify_ds_certificate(&tampered, &pki.csca, "t", now, None).unwrap_err();
        assert!(
            matches!(err, Error::Chain(ref m) if m.contains("does not verify")),
            "{err}"
        );
    }

    #[test]
    fn a_certificate_without_digital_signature_usage_cannot_act_as_ds() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        // A sub-CA certificate (keyCertSign only) under the CSCA, presented as the DS.
        let key = ec_key(
            NamedCurve::P256,
            HashAlgorithm::Sha256,
            ParametersForm::Named,
        );
        let csca_key = ec_key(
            NamedCurve::P256,
            HashAlgorithm::Sha256,
            ParametersForm::Named,
        );
        let name = Name::from_str("CN=CSCA Usage,C=VN").unwrap();
        let req = |subject: &str, ca| CertificateRequest {
            subject: Name::from_str(subject).unwrap(),
            serial: vec![9],
            not_before: now - YEAR,
            not_after: now + YEAR,
            ca,
        };
        let csca = issue_certificate(&req("CN=CSCA Usage,C=VN", true), &csca_key, None).unwrap();
        let sub = issue_certificate(&req("CN=Sub CA,C=VN", true), &key, Some((&name, &csca_key)))
            .unwrap();
        let err = verify_ds_certificate(&sub, &csca, "t", now, None).unwrap_err();
        assert!(err.to_string().contains("lacks digitalSignature"), "{err}");
        // The genuine DS has it.
        verify_ds_certificate(&pki.ds, &pki.csca, "t", now, None).unwrap();
    }

    #[test]
    fn a_ds_certificate_cannot_act_as_csca() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        // A certificate "issued" by the DS: name and key match, but the DS is no CA.
        let leaf_key = ec_key(
            NamedCurve::P256,
            HashAlgorithm::Sha256,
            ParametersForm::Named,
        );
        let leaf = issue_certificate(
            &CertificateRequest {
                subject: Name::from_str("CN=Leaf,C=VN").unwrap(),
                serial: vec![5],
                not_before: now - YEAR,
                not_after: now + YEAR,
                ca: false,
            },
            &leaf_key,
            Some((pki.ds.tbs_certificate().subject(), &pki.ds_key)),
        )
        .unwrap();
        let err = verify_ds_certificate(&leaf, &pki.ds, "t", now, None).unwrap_err();
        assert!(err.to_string().contains("basicConstraints"), "{err}");
    }

    #[test]
    fn rsa_pss_csca_signs_an_rsa_ds() {
        let now = SystemTime::now();
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let csca_key = SigningKey::Rsa {
            key: Box::new(rsa::PrivateKey::new(&mut rng, 1536).unwrap()),
            algorithm: SignatureAlgorithm::RsaPss {
                hash: HashAlgorithm::Sha256,
                salt_len: 32,
            },
        };
        let name = Name::from_str("CN=RSA CSCA,C=VN").unwrap();
        let csca = issue_certificate(
            &CertificateRequest {
                subject: name.clone(),
                serial: vec![1],
                not_before: now - YEAR,
                not_after: now + YEAR,
                ca: true,
            },
            &csca_key,
            None,
        )
        .unwrap();
        let ds_key = SigningKey::Rsa {
            key: Box::new(rsa::PrivateKey::new(&mut rng, 1024).unwrap()),
            algorithm: SignatureAlgorithm::RsaPkcs1v15 {
                hash: HashAlgorithm::Sha256,
            },
        };
        let ds = issue_certificate(
            &CertificateRequest {
                subject: Name::from_str("CN=RSA DS,C=VN").unwrap(),
                serial: vec![2],
                not_before: now - YEAR,
                not_after: now + YEAR,
                ca: false,
            },
            &ds_key,
            Some((&name, &csca_key)),
        )
        .unwrap();
        let out = verify_ds_certificate(&ds, &csca, "t", now, None).unwrap();
        assert_eq!(out.csca_key, "RSA-1536");
        assert!(matches!(
            out.ds_certificate_signature,
            SignatureAlgorithm::RsaPss { salt_len: 32, .. }
        ));
    }
}

#[cfg(test)]
mod fuzz_tests {
    use super::tests::{TestPki, test_pki};
    use super::*;
    use der::Decode;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn pki() -> &'static (TestPki, Vec<u8>) {
        static F: OnceLock<(TestPki, Vec<u8>)> = OnceLock::new();
        F.get_or_init(|| {
            let p = test_pki("CN=CSCA Fuzz,C=VN", SystemTime::now());
            let der = p.ds.to_der().unwrap();
            (p, der)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bytes_as_a_certificate_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (p, _) = pki();
            if let Ok(cert) = Certificate::from_der(&bytes) {
                // Whatever decodes as a certificate is still not the genuine DS.
                prop_assert!(verify_ds_certificate(&cert, &p.csca, "fuzz", SystemTime::now(), None).is_err());
            }
            let mut store = crate::pa::trust::TrustStore::new();
            prop_assert!(store.add_bytes(&bytes, "fuzz").is_err());
        }

        #[test]
        fn a_flipped_bit_in_the_ds_certificate_breaks_the_chain(pos in any::<usize>(), bit in 0u8..8) {
            let (p, der) = pki();
            let mut bytes = der.clone();
            let i = pos % bytes.len();
            bytes[i] ^= 1 << bit;
            if let Ok(cert) = Certificate::from_der(&bytes) {
                prop_assert!(verify_ds_certificate(&cert, &p.csca, "fuzz", SystemTime::now(), None).is_err());
            }
        }
    }
}
