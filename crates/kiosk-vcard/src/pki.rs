//! The test PKI the virtual chip's EF.SOD chains to: a CSCA like Vietnam's (ECDSA
//! brainpoolP512r1 with explicit parameters, ecdsa-with-SHA512) and a Document Signer
//! (brainpoolP256r1, explicit parameters) it certifies. Keys come from the seeded generator, so
//! the same seed gives the same certificates. Every certificate says it is a test certificate.
//!
//! Certificates are written as DER by hand with the shared TLV codec (the x509-cert structures
//! of this generation cannot be built field by field); the reader's X.509 parser reads them
//! back in the tests.

use der::Encode;
use kiosk_card::pa::curves::NamedCurve;
use kiosk_card::pa::ecc::Curve;
use kiosk_card::pa::ecdsa::{EcPrivateKey, ParametersForm, SignatureFormat};
use kiosk_card::pa::signature::{HashAlgorithm, SignatureAlgorithm};
use kiosk_card::tlv;

use crate::error::{Error, Result};
use crate::random::ChipRandom;

// DER content bytes of the OIDs used below.
const OID_C: [u8; 3] = [0x55, 0x04, 0x06];
const OID_O: [u8; 3] = [0x55, 0x04, 0x0A];
const OID_CN: [u8; 3] = [0x55, 0x04, 0x03];
const OID_BASIC_CONSTRAINTS: [u8; 3] = [0x55, 0x1D, 0x13];
const OID_KEY_USAGE: [u8; 3] = [0x55, 0x1D, 0x0F];
const OID_SKI: [u8; 3] = [0x55, 0x1D, 0x0E];
const OID_AKI: [u8; 3] = [0x55, 0x1D, 0x23];

/// Validity of the test CSCA: the dates of the real Vietnamese CSCA.
const CSCA_VALIDITY: (&str, &str) = ("220629000000Z", "371001000000Z");
/// Validity of the test Document Signer.
const DS_VALIDITY: (&str, &str) = ("240101000000Z", "341231235959Z");

/// One key and its certificate.
pub struct Issued {
    pub key: EcPrivateKey,
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

impl TestPki {
    /// Generates the CSCA and the DS from `rng`.
    pub fn generate(rng: &mut ChipRandom) -> Result<Self> {
        let p512 = Curve::named(NamedCurve::BrainpoolP512r1).map_err(|e| err("curve", e))?;
        let p256 = Curve::named(NamedCurve::BrainpoolP256r1).map_err(|e| err("curve", e))?;
        let csca_key = EcPrivateKey::generate(p512, ParametersForm::Explicit, rng)
            .map_err(|e| err("CSCA key", e))?;
        let ds_key = EcPrivateKey::generate(p256, ParametersForm::Explicit, rng)
            .map_err(|e| err("DS key", e))?;
        let csca_name = name(
            "VN",
            "Kiosk Test PKI (not a government authority)",
            "CSCA TEST Vietnam",
        );
        let ds_name = name(
            "VN",
            "Kiosk Test PKI (not a government authority)",
            "Document Signer TEST CCCD",
        );
        let csca_cert = certificate(
            &CertSpec {
                serial: &[0x01],
                issuer: &csca_name,
                subject: &csca_name,
                validity: CSCA_VALIDITY,
                subject_key: &csca_key,
                ca: true,
            },
            &csca_key,
            rng,
        )?;
        let ds_cert = certificate(
            &CertSpec {
                serial: &[0x02],
                issuer: &csca_name,
                subject: &ds_name,
                validity: DS_VALIDITY,
                subject_key: &ds_key,
                ca: false,
            },
            &csca_key,
            rng,
        )?;
        Ok(Self {
            csca: Issued {
                key: csca_key,
                cert_der: csca_cert,
            },
            ds: Issued {
                key: ds_key,
                cert_der: ds_cert,
            },
        })
    }

    /// The CSCA certificate as PEM, for a reader's trust store.
    pub fn csca_pem(&self) -> Result<String> {
        pem("CERTIFICATE", &self.csca.cert_der)
    }

    /// The DS certificate as PEM (it is also inside EF.SOD).
    pub fn ds_pem(&self) -> Result<String> {
        pem("CERTIFICATE", &self.ds.cert_der)
    }

    /// Signs `data` as the Document Signer (ecdsa-with-SHA256, DER), for EF.SOD.
    pub fn ds_sign(
        &self,
        data: &[u8],
        rng: &mut ChipRandom,
    ) -> Result<(spki::AlgorithmIdentifierOwned, Vec<u8>)> {
        let alg = SignatureAlgorithm::Ecdsa {
            hash: HashAlgorithm::Sha256,
            format: SignatureFormat::Der,
        };
        let sig = self
            .ds
            .key
            .sign_prehash(
                &HashAlgorithm::Sha256.digest(data),
                SignatureFormat::Der,
                rng,
            )
            .map_err(|e| err("DS signature", e))?;
        Ok((
            alg.algorithm_identifier()
                .map_err(|e| err("algorithm", e))?,
            sig,
        ))
    }
}

fn pem(label: &str, der_bytes: &[u8]) -> Result<String> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der_bytes).map_err(|e| err("PEM", e))
}

/// `Name ::= SEQUENCE OF SET OF AttributeTypeAndValue` with C, O and CN.
fn name(c: &str, o: &str, cn: &str) -> Vec<u8> {
    let atv = |oid: &[u8], tag: u32, value: &str| {
        let seq = tlv::encode_constructed(
            0x30,
            &[&tlv::encode(0x06, oid), &tlv::encode(tag, value.as_bytes())],
        );
        tlv::encode(0x31, &seq)
    };
    tlv::encode_constructed(
        0x30,
        &[
            &atv(&OID_C, 0x13, c),
            &atv(&OID_O, 0x0C, o),
            &atv(&OID_CN, 0x0C, cn),
        ],
    )
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = vec![tlv::encode(0x06, oid)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xFF]);
    }
    parts.push(tlv::encode(0x04, value));
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    tlv::encode_constructed(0x30, &refs)
}

/// Key identifier: SHA-1 of the public key bits (RFC 5280 §4.2.1.2 method 1).
fn key_id(key: &EcPrivateKey) -> Vec<u8> {
    HashAlgorithm::Sha1.digest(&key.public_key().to_sec1())
}

struct CertSpec<'a> {
    serial: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    validity: (&'a str, &'a str),
    subject_key: &'a EcPrivateKey,
    ca: bool,
}

/// A v3 certificate for `spec`, signed by `signer` with ecdsa-with-SHA512.
fn certificate(
    spec: &CertSpec<'_>,
    signer: &EcPrivateKey,
    rng: &mut ChipRandom,
) -> Result<Vec<u8>> {
    let alg = SignatureAlgorithm::Ecdsa {
        hash: HashAlgorithm::Sha512,
        format: SignatureFormat::Der,
    }
    .algorithm_identifier()
    .map_err(|e| err("algorithm", e))?
    .to_der()
    .map_err(|e| err("algorithm", e))?;
    let spki = spec
        .subject_key
        .public_key()
        .to_spki_der(ParametersForm::Explicit)
        .map_err(|e| err("SPKI", e))?;
    let validity = tlv::encode_constructed(
        0x30,
        &[
            &tlv::encode(0x17, spec.validity.0.as_bytes()),
            &tlv::encode(0x17, spec.validity.1.as_bytes()),
        ],
    );
    let mut exts: Vec<Vec<u8>> = Vec::new();
    if spec.ca {
        // cA TRUE, pathLenConstraint 0: a CSCA certifies Document Signers only.
        exts.push(extension(
            &OID_BASIC_CONSTRAINTS,
            true,
            &tlv::encode_constructed(0x30, &[&[0x01, 0x01, 0xFF], &[0x02, 0x01, 0x00]]),
        ));
        // keyCertSign, cRLSign.
        exts.push(extension(&OID_KEY_USAGE, true, &[0x03, 0x02, 0x01, 0x06]));
    } else {
        // digitalSignature.
        exts.push(extension(&OID_KEY_USAGE, true, &[0x03, 0x02, 0x07, 0x80]));
    }
    exts.push(extension(
        &OID_SKI,
        false,
        &tlv::encode(0x04, &key_id(spec.subject_key)),
    ));
    exts.push(extension(
        &OID_AKI,
        false,
        &tlv::encode(0x30, &tlv::encode(0x80, &key_id(signer))),
    ));
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    let extensions = tlv::encode(0xA3, &tlv::encode_constructed(0x30, &ext_refs));
    let tbs = tlv::encode_constructed(
        0x30,
        &[
            &[0xA0, 0x03, 0x02, 0x01, 0x02],
            &tlv::encode(0x02, spec.serial),
            &alg,
            spec.issuer,
            &validity,
            spec.subject,
            &spki,
            &extensions,
        ],
    );
    let sig = signer
        .sign_prehash(
            &HashAlgorithm::Sha512.digest(&tbs),
            SignatureFormat::Der,
            rng,
        )
        .map_err(|e| err("certificate signature", e))?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    Ok(tlv::encode_constructed(
        0x30,
        &[&tbs, &alg, &tlv::encode(0x03, &bits)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use kiosk_card::pa::signature::PublicKey;

    #[test]
    fn certificates_parse_chain_and_are_reproducible() {
        let pki = TestPki::generate(&mut ChipRandom::from_seed(5, "pki")).unwrap();
        let csca = x509_cert::Certificate::from_der(&pki.csca.cert_der).unwrap();
        let ds = x509_cert::Certificate::from_der(&pki.ds.cert_der).unwrap();
        assert_eq!(
            ds.tbs_certificate().issuer(),
            csca.tbs_certificate().subject()
        );
        // The DS certificate's signature verifies under the CSCA key (brainpoolP512r1, SHA-512).
        let csca_key =
            PublicKey::from_spki(csca.tbs_certificate().subject_public_key_info()).unwrap();
        let tbs = ds.tbs_certificate().to_der().unwrap();
        let alg =
            SignatureAlgorithm::from_algorithm_identifier(ds.signature_algorithm(), None).unwrap();
        let sig = ds.signature().raw_bytes();
        csca_key.verify(&alg, &tbs, sig).unwrap();
        // A changed TBS does not verify.
        let mut bad = tbs.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(csca_key.verify(&alg, &bad, sig).is_err());
        // Same seed, same certificates.
        let again = TestPki::generate(&mut ChipRandom::from_seed(5, "pki")).unwrap();
        assert_eq!(again.csca.cert_der, pki.csca.cert_der);
        assert!(
            pki.csca_pem()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
    }
}
