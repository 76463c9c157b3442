//! The test PKI the virtual chip's EF.SOD chains to: a CSCA like Vietnam's (ECDSA
//! brainpoolP512r1 with explicit parameters, ecdsa-with-SHA512) and a Document Signer
//! (brainpoolP256r1 with explicit parameters, signing the SOD with ecdsa-with-SHA256) that it
//! certifies. The keys come from the seeded generator, so the same seed gives the same keys
//! and names; certificates are issued by `kiosk_card::pa::issue`. Every name says "TEST".

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use der::Encode;
use kiosk_card::pa::curves::NamedCurve;
use kiosk_card::pa::ecc::Curve;
use kiosk_card::pa::ecdsa::{EcPrivateKey, ParametersForm};
use kiosk_card::pa::issue::{CertificateRequest, SigningKey, issue_certificate};
use kiosk_card::pa::signature::HashAlgorithm;
use x509_cert::name::Name;

use crate::error::{Error, Result};
use crate::random::ChipRandom;

/// Subject of the test CSCA.
pub const CSCA_SUBJECT: &str =
    "CN=CSCA TEST Vietnam,O=Kiosk Test PKI (not a government authority),C=VN";
/// Subject of the test Document Signer.
pub const DS_SUBJECT: &str =
    "CN=Document Signer TEST CCCD,O=Kiosk Test PKI (not a government authority),C=VN";

/// Seconds since the epoch of the validity bounds: the CSCA has the real Vietnamese CSCA's
/// dates (2022-06-29 .. 2037-10-01), the DS 2024-01-01 .. 2034-12-31.
const CSCA_VALIDITY: (u64, u64) = (1_656_460_800, 2_137_968_000);
const DS_VALIDITY: (u64, u64) = (1_704_067_200, 2_051_222_399);

/// One key and its certificate.
pub struct Issued {
    pub key: SigningKey,
    pub cert_der: Vec<u8>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Issued({} byte certificate)", self.cert_der.len())
    }
}

/// The test CSCA and Document Signer.
#[derive(Debug)]
pub struct TestPki {
    pub csca: Issued,
    pub ds: Issued,
}

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Personalise(format!("{what}: {e}"))
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

impl TestPki {
    /// Generates the CSCA and DS keys from `rng` and issues their certificates.
    pub fn generate(rng: &mut ChipRandom) -> Result<Self> {
        let p512 = Curve::named(NamedCurve::BrainpoolP512r1).map_err(|e| err("curve", e))?;
        let p256 = Curve::named(NamedCurve::BrainpoolP256r1).map_err(|e| err("curve", e))?;
        let csca_key = SigningKey::Ec {
            key: Box::new(
                EcPrivateKey::generate(p512, ParametersForm::Explicit, rng)
                    .map_err(|e| err("CSCA key", e))?,
            ),
            hash: HashAlgorithm::Sha512,
            form: ParametersForm::Explicit,
        };
        let ds_key = SigningKey::Ec {
            key: Box::new(
                EcPrivateKey::generate(p256, ParametersForm::Explicit, rng)
                    .map_err(|e| err("DS key", e))?,
            ),
            hash: HashAlgorithm::Sha256,
            form: ParametersForm::Explicit,
        };
        let csca_name = Name::from_str(CSCA_SUBJECT).map_err(|e| err("CSCA name", e))?;
        let ds_name = Name::from_str(DS_SUBJECT).map_err(|e| err("DS name", e))?;
        let csca_cert = issue_certificate(
            &CertificateRequest {
                subject: csca_name.clone(),
                serial: vec![0x01],
                not_before: at(CSCA_VALIDITY.0),
                not_after: at(CSCA_VALIDITY.1),
                ca: true,
            },
            &csca_key,
            None,
        )
        .map_err(|e| err("CSCA certificate", e))?;
        let ds_cert = issue_certificate(
            &CertificateRequest {
                subject: ds_name,
                serial: vec![0x02],
                not_before: at(DS_VALIDITY.0),
                not_after: at(DS_VALIDITY.1),
                ca: false,
            },
            &ds_key,
            Some((&csca_name, &csca_key)),
        )
        .map_err(|e| err("DS certificate", e))?;
        Ok(Self {
            csca: Issued {
                key: csca_key,
                cert_der: csca_cert.to_der().map_err(|e| err("CSCA certificate", e))?,
            },
            ds: Issued {
                key: ds_key,
                cert_der: ds_cert.to_der().map_err(|e| err("DS certificate", e))?,
            },
        })
    }

    /// The CSCA certificate as PEM, for a reader's trust store.
    pub fn csca_pem(&self) -> Result<String> {
        pem(&self.csca.cert_der)
    }

    /// The DS certificate as PEM (it is also inside EF.SOD).
    pub fn ds_pem(&self) -> Result<String> {
        pem(&self.ds.cert_der)
    }

    /// Signs the SOD's signed attributes as the Document Signer (ecdsa-with-SHA256, DER).
    pub fn ds_sign(&self, data: &[u8]) -> Result<(spki::AlgorithmIdentifierOwned, Vec<u8>)> {
        let alg = self
            .ds
            .key
            .algorithm()
            .algorithm_identifier()
            .map_err(|e| err("algorithm", e))?;
        let sig = self.ds.key.sign(data).map_err(|e| err("DS signature", e))?;
        Ok((alg, sig))
    }
}

fn pem(der_bytes: &[u8]) -> Result<String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der_bytes)
        .map_err(|e| err("PEM", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use kiosk_card::pa::trust::TrustStore;

    #[test]
    fn ds_chains_to_the_csca_and_keys_are_reproducible() {
        let pki = TestPki::generate(&mut ChipRandom::from_seed(5, "pki")).unwrap();
        let ds = x509_cert::Certificate::from_der(&pki.ds.cert_der).unwrap();
        let mut trust = TrustStore::new();
        trust
            .add_bytes(pki.csca_pem().unwrap().as_bytes(), "test")
            .unwrap();
        let now = at(1_800_000_000);
        assert!(trust.verify_ds(&ds, now, None).is_ok());
        // Another seed's CSCA does not vouch for this DS.
        let other = TestPki::generate(&mut ChipRandom::from_seed(6, "pki")).unwrap();
        let mut wrong = TrustStore::new();
        wrong
            .add_bytes(other.csca_pem().unwrap().as_bytes(), "other")
            .unwrap();
        assert!(wrong.verify_ds(&ds, now, None).is_err());
        // Same seed, same keys.
        let again = TestPki::generate(&mut ChipRandom::from_seed(5, "pki")).unwrap();
        assert_eq!(
            again.csca.key.spki_der().unwrap(),
            pki.csca.key.spki_der().unwrap()
        );
    }
}
