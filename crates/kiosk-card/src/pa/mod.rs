//! Passive authentication (ICAO Doc 9303 Part 11 §5.1): signature verification for every
//! algorithm a Document Signer or CSCA may use, certificate chains, the trust store, and the
//! checks that fill the [`crate::verification::Verification`] report.
//!
//! - [`passive_authentication`]: the whole check of a card read (DG hashes, SOD signature, DS
//!   chain) into a `Verification`;
//! - [`signature::verify`]: one signature, any algorithm, dispatched on the OIDs;
//! - [`ecc`], [`curves`], [`ecdsa`]: ECDSA over named or explicit short-Weierstrass curves
//!   (also [`ecdsa::verify_plain_with_spki`] for Active Authentication);
//! - [`rsa`]: PKCS#1 v1.5 and PSS;
//! - [`chain`], [`trust`], [`masterlist`]: DS → CSCA checks and the CSCA store;
//! - [`issue`]: certificate and signature issuing for the virtual card and tests only.

pub mod chain;
pub mod curves;
pub mod ecc;
pub mod ecdsa;
pub mod issue;
pub mod masterlist;
pub mod rsa;
pub mod signature;
pub mod trust;

#[cfg(test)]
mod wycheproof_vectors;

use std::time::SystemTime;

use cms::signed_data::SignerIdentifier;
use der::asn1::ObjectIdentifier;
use x509_cert::Certificate;

use crate::error::Error;
use crate::lds::sod::{HashAlgorithm, ID_LDS_SECURITY_OBJECT, Sod, SodSigner};
use crate::verification::{Check, Verification};
use signature::{PublicKey, SignatureAlgorithm};
use trust::TrustStore;

/// The CMS `signingTime` signed attribute.
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

/// Passive authentication of a card read: fills the report's `sod_hashes`, `sod_signature` and
/// `ds_certificate_chain` checks (Chip and Active Authentication stay "not performed" for the
/// protocol code to fill).
///
/// - every data group read (`dgs`: DG number and the file bytes as read) hashes to its value in
///   the SOD; a DG read but absent from the SOD fails, a DG in the SOD but not read is fine;
/// - the SOD signer's signature over its signed attributes verifies under the DS certificate in
///   the SOD, and the messageDigest attribute is the hash of the LDS security object;
/// - the DS certificate chains to a CSCA of `trust`, valid at `now` and at the SOD signing time
///   when the SOD carries one.
pub fn passive_authentication(
    sod: &Sod,
    dgs: &[(u8, &[u8])],
    trust: &TrustStore,
    now: SystemTime,
) -> Verification {
    let mut v = Verification::default();
    v.algorithms.dg_hash = Some(sod.hash_algorithm().name().to_owned());
    v.sod_hashes = check_dg_hashes(sod, dgs);

    let Some(signer) = sod.signers().first() else {
        v.sod_signature = Check::failed("the SOD has no signer");
        v.ds_certificate_chain = Check::not_possible("the SOD has no signer");
        return v;
    };
    if sod.signers().len() > 1 {
        v.sod_signature = Check::failed("the SOD has more than one signer");
        v.ds_certificate_chain = Check::not_possible("the SOD has more than one signer");
        return v;
    }
    let Some(ds) = find_signer_certificate(sod, signer) else {
        let reason = "the SOD carries no certificate matching its signer";
        v.sod_signature = Check::not_possible(reason);
        v.ds_certificate_chain = Check::not_possible(reason);
        return v;
    };
    v.sod_signature = check_sod_signature(sod, signer, ds, &mut v.algorithms);

    if trust.is_empty() {
        v.ds_certificate_chain = Check::not_possible("no CSCA configured in the trust store");
    } else if trust.candidates(ds).is_empty() {
        v.ds_certificate_chain = Check::not_possible(format!(
            "no CSCA in the trust store for the DS issuer {}",
            ds.tbs_certificate().issuer()
        ));
    } else {
        match trust.verify_ds(ds, now, signing_time(sod)) {
            Ok(outcome) => {
                v.ds_certificate_chain = Check::Passed;
                v.algorithms.ds_certificate_signature =
                    Some(outcome.ds_certificate_signature.to_string());
                v.algorithms.csca_key = Some(outcome.csca_key);
                v.trust_anchor = Some(outcome.anchor);
            }
            Err(e @ Error::UnsupportedAlgorithm { .. }) => {
                v.ds_certificate_chain = Check::not_possible(e.to_string());
            }
            Err(e) => v.ds_certificate_chain = Check::failed(e.to_string()),
        }
    }
    v
}

fn check_dg_hashes(sod: &Sod, dgs: &[(u8, &[u8])]) -> Check {
    if dgs.is_empty() {
        return Check::not_possible("no data group was read");
    }
    let hash = sod.hash_algorithm();
    let mut bad = Vec::new();
    for (dg, bytes) in dgs {
        match sod.dg_hash(*dg) {
            None => bad.push(format!("DG{dg} was read but is not listed in the SOD")),
            Some(expected) if expected != hash.digest(bytes).as_slice() => bad.push(format!(
                "DG{dg} does not match its {} hash in the SOD",
                hash.name()
            )),
            Some(_) => {}
        }
    }
    if bad.is_empty() {
        Check::Passed
    } else {
        Check::failed(bad.join("; "))
    }
}

fn find_signer_certificate<'a>(sod: &'a Sod, signer: &SodSigner) -> Option<&'a Certificate> {
    let certs = sod.certificates();
    certs.into_iter().find(|c| match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            c.tbs_certificate().issuer() == &isn.issuer
                && c.tbs_certificate().serial_number() == &isn.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            chain::subject_key_identifier(c).as_deref() == Some(ski.0.as_bytes())
        }
    })
}

fn check_sod_signature(
    sod: &Sod,
    signer: &SodSigner,
    ds: &Certificate,
    seen: &mut crate::verification::AlgorithmsSeen,
) -> Check {
    let digest_alg = match HashAlgorithm::from_oid(&signer.digest_algorithm.oid) {
        Ok(h) => h,
        Err(e) => return Check::not_possible(e.to_string()),
    };
    let algorithm = match SignatureAlgorithm::from_algorithm_identifier(
        &signer.signature_algorithm,
        Some(digest_alg),
    ) {
        Ok(a) => a,
        Err(e) => return Check::not_possible(e.to_string()),
    };
    seen.sod_signature = Some(algorithm.to_string());
    let key = match PublicKey::from_spki(ds.tbs_certificate().subject_public_key_info()) {
        Ok(k) => k,
        Err(e @ Error::UnsupportedAlgorithm { .. }) => return Check::not_possible(e.to_string()),
        Err(e) => return Check::failed(format!("DS public key: {e}")),
    };
    seen.ds_key = Some(key.describe());
    let signed: &[u8] = match &signer.signed_attrs_der {
        Some(attrs) => {
            if let Some(ct) = signer.content_type
                && ct != ID_LDS_SECURITY_OBJECT
            {
                return Check::failed("contentType attribute is not ldsSecurityObject");
            }
            match &signer.message_digest {
                None => return Check::failed("signed attributes lack messageDigest"),
                Some(md) if md.as_slice() != digest_alg.digest(sod.econtent()).as_slice() => {
                    return Check::failed("messageDigest does not match the LDS security object");
                }
                Some(_) => {}
            }
            attrs
        }
        None => sod.econtent(),
    };
    match key.verify(&algorithm, signed, &signer.signature) {
        Ok(()) => Check::Passed,
        Err(e @ Error::UnsupportedAlgorithm { .. }) => Check::not_possible(e.to_string()),
        Err(e) => Check::failed(e.to_string()),
    }
}

/// The SOD signer's `signingTime`, when it has one.
pub fn signing_time(sod: &Sod) -> Option<SystemTime> {
    let info = sod.signed_data().signer_infos.0.iter().next()?;
    let attr = info
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == ID_SIGNING_TIME)?;
    let time: x509_cert::time::Time = attr.values.iter().next()?.decode_as().ok()?;
    Some(time.to_system_time())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lds::sod;
    use crate::pa::chain::tests::{TestPki, test_pki};
    use crate::pa::issue::SigningKey;
    use der::Encode;

    const DG1: &[u8] = b"\x61\x05\x5F\x1F\x02AB";
    const DG13: &[u8] = b"\x6D\x03\x30\x01\x00";

    fn sod_signed_by(pki: &TestPki, key: &SigningKey) -> Sod {
        let ds_der = pki.ds.to_der().unwrap();
        let bytes = sod::build(
            HashAlgorithm::Sha256,
            &[(1, DG1), (13, DG13)],
            &ds_der,
            |attrs| Ok((key.algorithm().algorithm_identifier()?, key.sign(attrs)?)),
        )
        .unwrap();
        Sod::decode(&bytes).unwrap()
    }

    fn store_with(pki: &TestPki) -> TrustStore {
        let mut t = TrustStore::new();
        t.add_certificate(pki.csca.clone(), "test-csca.pem")
            .unwrap();
        t
    }

    #[test]
    fn genuine_card_passes_all_three_checks() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,O=Kiosk Test,C=VN", now);
        let sod = sod_signed_by(&pki, &pki.ds_key);
        let v = passive_authentication(&sod, &[(13, DG13), (1, DG1)], &store_with(&pki), now);
        assert!(v.passive_authentication_passed(), "{v}");
        let anchor = v.trust_anchor.as_ref().unwrap();
        assert_eq!(anchor.subject, "CN=CSCA Test,O=Kiosk Test,C=VN");
        assert_eq!(anchor.source, "test-csca.pem");
        assert_eq!(v.algorithms.dg_hash.as_deref(), Some("SHA-256"));
        assert_eq!(
            v.algorithms.sod_signature.as_deref(),
            Some("ecdsa-with-SHA256")
        );
        assert_eq!(
            v.algorithms.ds_key.as_deref(),
            Some("ECDSA brainpoolP256r1")
        );
        assert_eq!(
            v.algorithms.csca_key.as_deref(),
            Some("ECDSA brainpoolP512r1 (explicit parameters)")
        );
        assert_eq!(
            v.algorithms.ds_certificate_signature.as_deref(),
            Some("ecdsa-with-SHA512")
        );
        // CA and AA are left for the protocol code.
        assert!(!v.chip_authentication.is_passed() && !v.chip_authentication.is_failed());
        // Reading fewer DGs than the SOD lists is fine.
        let v = passive_authentication(&sod, &[(1, DG1)], &store_with(&pki), now);
        assert!(v.sod_hashes.is_passed());
    }

    #[test]
    fn changed_or_unlisted_data_group_fails_the_hash_check() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        let sod = sod_signed_by(&pki, &pki.ds_key);
        let trust = store_with(&pki);
        let v = passive_authentication(
            &sod,
            &[(1, b"\x61\x05\x5F\x1F\x02AC"), (13, DG13)],
            &trust,
            now,
        );
        assert_eq!(
            v.sod_hashes,
            Check::failed("DG1 does not match its SHA-256 hash in the SOD")
        );
        // The signature and chain are independent of the DG contents and still pass.
        assert!(v.sod_signature.is_passed() && v.ds_certificate_chain.is_passed());
        let v = passive_authentication(&sod, &[(1, DG1), (15, b"\x6F\x00")], &trust, now);
        assert_eq!(
            v.sod_hashes,
            Check::failed("DG15 was read but is not listed in the SOD")
        );
        let v = passive_authentication(&sod, &[], &trust, now);
        assert!(matches!(v.sod_hashes, Check::NotPossible { .. }));
    }

    #[test]
    fn sod_signed_by_another_key_fails_the_signature_check() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        let forger = test_pki("CN=CSCA Test,C=VN", now);
        // The forger signs with its own key but embeds the genuine DS certificate.
        let sod = sod_signed_by(&pki, &forger.ds_key);
        let v = passive_authentication(&sod, &[(1, DG1)], &store_with(&pki), now);
        assert!(v.sod_hashes.is_passed());
        assert!(v.sod_signature.is_failed(), "{v}");
        assert!(
            v.sod_signature
                .reason()
                .unwrap()
                .contains("does not verify")
        );
        assert!(!v.passive_authentication_passed());
    }

    #[test]
    fn chain_outcomes_without_trust_with_a_stranger_and_with_an_impostor_csca() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        let sod = sod_signed_by(&pki, &pki.ds_key);
        let dgs: &[(u8, &[u8])] = &[(1, DG1)];
        let v = passive_authentication(&sod, dgs, &TrustStore::new(), now);
        assert_eq!(
            v.ds_certificate_chain,
            Check::not_possible("no CSCA configured in the trust store")
        );
        assert!(v.sod_signature.is_passed());

        let stranger = test_pki("CN=Someone Else,C=XX", now);
        let v = passive_authentication(&sod, dgs, &store_with(&stranger), now);
        assert!(
            matches!(v.ds_certificate_chain, Check::NotPossible { .. }),
            "{v}"
        );

        // Same CSCA name, different key: a candidate that fails is a failure, not "unknown".
        let impostor = test_pki("CN=CSCA Test,C=VN", now);
        let v = passive_authentication(&sod, dgs, &store_with(&impostor), now);
        assert!(v.ds_certificate_chain.is_failed(), "{v}");
        assert!(v.trust_anchor.is_none());

        // Long after the DS certificate expired.
        let later = now + 6 * crate::pa::chain::tests::YEAR;
        let v = passive_authentication(&sod, dgs, &store_with(&pki), later);
        assert!(
            v.ds_certificate_chain.reason().unwrap().contains("expired"),
            "{v}"
        );
    }

    /// Re-signs `sod` after adding a `signingTime` attribute, as a Document Signer might.
    fn with_signing_time(sod: &Sod, key: &SigningKey, at: SystemTime) -> Sod {
        use cms::content_info::ContentInfo;
        use der::Any;
        use der::asn1::SetOfVec;
        use x509_cert::attr::Attribute;
        let mut sd = sod.signed_data().clone();
        let mut info = sd.signer_infos.0.iter().next().unwrap().clone();
        let mut attrs = info.signed_attrs.clone().unwrap();
        let time = x509_cert::time::Time::try_from(at).unwrap();
        attrs
            .insert(Attribute {
                oid: ID_SIGNING_TIME,
                values: SetOfVec::try_from(vec![Any::encode_from(&time).unwrap()]).unwrap(),
            })
            .unwrap();
        info.signature =
            der::asn1::OctetString::new(key.sign(&attrs.to_der().unwrap()).unwrap()).unwrap();
        info.signed_attrs = Some(attrs);
        sd.signer_infos = cms::signed_data::SignerInfos(SetOfVec::try_from(vec![info]).unwrap());
        let ci = ContentInfo {
            content_type: sod::ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        };
        let bytes = crate::tlv::encode(0x77, &ci.to_der().unwrap());
        Sod::decode(&bytes).unwrap()
    }

    #[test]
    fn signing_time_is_read_and_checked_against_the_certificates() {
        let now = SystemTime::now();
        let pki = test_pki("CN=CSCA Test,C=VN", now);
        let plain = sod_signed_by(&pki, &pki.ds_key);
        assert_eq!(signing_time(&plain), None);
        let trust = store_with(&pki);

        // Signed a month ago (inside both validity periods): everything passes.
        let month = std::time::Duration::from_secs(30 * 24 * 3600);
        let sod = with_signing_time(&plain, &pki.ds_key, now - month);
        let t = signing_time(&sod).unwrap();
        let diff = (now - month)
            .duration_since(t)
            .unwrap_or_else(|e| e.duration());
        assert!(diff < std::time::Duration::from_secs(1), "{diff:?}");
        let v = passive_authentication(&sod, &[(1, DG1)], &trust, now);
        assert!(v.passive_authentication_passed(), "{v}");

        // "Signed" two years ago, before the DS certificate existed: the chain fails on it.
        let sod = with_signing_time(&plain, &pki.ds_key, now - 2 * crate::pa::chain::tests::YEAR);
        let v = passive_authentication(&sod, &[(1, DG1)], &trust, now);
        assert!(v.sod_signature.is_passed(), "{v}");
        assert_eq!(
            v.ds_certificate_chain
                .reason()
                .map(|r| r.contains("not yet valid at the SOD signing time")),
            Some(true),
            "{v}"
        );
    }

    /// The BSI TR-03105-5 reference SOD (RSASSA-PSS, SHA-256) from a real issuing system: the
    /// DG1 hash and the SOD signature verify; no CSCA is configured for it.
    #[test]
    fn bsi_reference_sod_signature_verifies() {
        let sod = Sod::decode(include_bytes!("../lds/testdata/bsi-tr03105-5-ef-sod.bin")).unwrap();
        let dg1: &[u8] = include_bytes!("../lds/testdata/bsi-tr03105-5-dg1.bin");
        let v = passive_authentication(&sod, &[(1, dg1)], &TrustStore::new(), SystemTime::now());
        assert!(v.sod_hashes.is_passed(), "{v}");
        assert!(v.sod_signature.is_passed(), "{v}");
        assert!(
            v.algorithms
                .sod_signature
                .as_deref()
                .unwrap()
                .starts_with("RSASSA-PSS(SHA-256")
        );
        assert!(matches!(v.ds_certificate_chain, Check::NotPossible { .. }));
    }
}
