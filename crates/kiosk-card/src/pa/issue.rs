//! Issuing certificates and signatures: what the virtual card needs to create its test CSCA and
//! Document Signer (including a brainpoolP512r1 CSCA with explicit parameters like the real
//! Vietnamese one) and what the tests need to build chains. **Not for production keys**: ECDSA
//! signing here is variable-time (see [`super::ecdsa::EcPrivateKey::sign_prehash`]).

use std::time::SystemTime;

use der::asn1::{BitString, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::time::Time;

use super::ecdsa::{EcPrivateKey, ParametersForm, SignatureFormat};
use super::signature::{HashAlgorithm, SignatureAlgorithm};
use crate::error::{Error, Result};

fn asn1(what: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Asn1 {
        what,
        detail: e.to_string(),
    }
}

/// A private key with the signature algorithm it signs with.
pub enum SigningKey {
    /// ECDSA; the SPKI names the curve or spells it out as `form` says.
    Ec {
        key: Box<EcPrivateKey>,
        hash: HashAlgorithm,
        form: ParametersForm,
    },
    /// RSA with PKCS#1 v1.5 or PSS.
    Rsa {
        key: Box<rsa::PrivateKey>,
        algorithm: SignatureAlgorithm,
    },
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.algorithm())
    }
}

impl SigningKey {
    /// The signature algorithm this key produces.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            SigningKey::Ec { hash, .. } => SignatureAlgorithm::Ecdsa {
                hash: *hash,
                format: SignatureFormat::Der,
            },
            SigningKey::Rsa { algorithm, .. } => *algorithm,
        }
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>> {
        match self {
            SigningKey::Ec { key, form, .. } => key.public_key().to_spki_der(*form),
            SigningKey::Rsa { key, .. } => {
                spki::EncodePublicKey::to_public_key_der(&key.to_public_key())
                    .map(|d| d.as_bytes().to_vec())
                    .map_err(|e| asn1("RSA SubjectPublicKeyInfo", e))
            }
        }
    }

    /// Signs `message` (hashing it with the algorithm's hash).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let algorithm = self.algorithm();
        let digest = algorithm.hash().digest(message);
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let fail = |reason| Error::Signing {
            algorithm: algorithm.to_string(),
            reason,
        };
        match self {
            SigningKey::Ec { key, .. } => key.sign_prehash(&digest, SignatureFormat::Der, &mut rng),
            SigningKey::Rsa { key, algorithm } => match *algorithm {
                SignatureAlgorithm::RsaPkcs1v15 { hash } => {
                    let scheme = match hash {
                        HashAlgorithm::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                        HashAlgorithm::Sha224 => rsa::Pkcs1v15Sign::new::<sha2::Sha224>(),
                        HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                        HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                        HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                    };
                    key.sign_with_rng(&mut rng, scheme, &digest)
                        .map_err(|_| fail("RSA private operation failed"))
                }
                SignatureAlgorithm::RsaPss { hash, salt_len } => {
                    use rsa::pss::Pss;
                    let r = match hash {
                        HashAlgorithm::Sha1 => key.sign_with_rng(
                            &mut rng,
                            Pss::<sha1::Sha1>::new_with_salt(salt_len),
                            &digest,
                        ),
                        HashAlgorithm::Sha224 => key.sign_with_rng(
                            &mut rng,
                            Pss::<sha2::Sha224>::new_with_salt(salt_len),
                            &digest,
                        ),
                        HashAlgorithm::Sha256 => key.sign_with_rng(
                            &mut rng,
                            Pss::<sha2::Sha256>::new_with_salt(salt_len),
                            &digest,
                        ),
                        HashAlgorithm::Sha384 => key.sign_with_rng(
                            &mut rng,
                            Pss::<sha2::Sha384>::new_with_salt(salt_len),
                            &digest,
                        ),
                        HashAlgorithm::Sha512 => key.sign_with_rng(
                            &mut rng,
                            Pss::<sha2::Sha512>::new_with_salt(salt_len),
                            &digest,
                        ),
                    };
                    r.map_err(|_| fail("RSA-PSS private operation failed"))
                }
                SignatureAlgorithm::Ecdsa { .. } => Err(fail("an RSA key cannot sign ECDSA")),
            },
        }
    }

    /// The subject key identifier we put in certificates: SHA-1 of the subjectPublicKey bits
    /// (RFC 5280 §4.2.1.2 method 1).
    pub fn key_identifier(&self) -> Result<Vec<u8>> {
        let spki = SubjectPublicKeyInfoOwned::from_der(&self.spki_der()?)
            .map_err(|e| asn1("SubjectPublicKeyInfo", e))?;
        Ok(HashAlgorithm::Sha1.digest(spki.subject_public_key.raw_bytes()))
    }
}

/// `TBSCertificate` as we write it (v3, extensions always present).
#[derive(Sequence)]
struct TbsToSign {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial: Uint,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: ValidityToSign,
    subject: Name,
    spki: Any,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

#[derive(Sequence)]
struct ValidityToSign {
    not_before: Time,
    not_after: Time,
}

#[derive(Sequence)]
struct CertificateToSign {
    tbs: Any,
    algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// What a certificate should say. `issuer_key = None` and `issuer = None` means self-signed.
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    /// Subject, e.g. `CN=CSCA Test,O=Kiosk,C=VN`.
    pub subject: Name,
    /// Serial number (positive, big-endian).
    pub serial: Vec<u8>,
    /// Validity start.
    pub not_before: SystemTime,
    /// Validity end.
    pub not_after: SystemTime,
    /// `true` for a CSCA (basicConstraints cA, keyCertSign), `false` for a Document Signer
    /// (digitalSignature).
    pub ca: bool,
}

fn ext(oid: der::asn1::ObjectIdentifier, critical: bool, value: &impl Encode) -> Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(|e| asn1("extension", e))?)
            .map_err(|e| asn1("extension", e))?,
    })
}

/// Issues a certificate for `subject_key`'s public key, signed by `issuer_key` under the name
/// `issuer` (both `None`: self-signed by `subject_key`).
pub fn issue_certificate(
    request: &CertificateRequest,
    subject_key: &SigningKey,
    issuer: Option<(&Name, &SigningKey)>,
) -> Result<Certificate> {
    use const_oid::db::rfc5280::{
        ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_KEY_USAGE,
        ID_CE_SUBJECT_KEY_IDENTIFIER,
    };
    let (issuer_name, issuer_key) = issuer.unwrap_or((&request.subject, subject_key));
    let ski = subject_key.key_identifier()?;
    let aki = issuer_key.key_identifier()?;
    let usage = if request.ca {
        KeyUsages::KeyCertSign | KeyUsages::CRLSign
    } else {
        KeyUsages::DigitalSignature.into()
    };
    let mut extensions = vec![
        ext(
            ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(aki).map_err(|e| asn1("AKI", e))?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?,
        ext(
            ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(OctetString::new(ski).map_err(|e| asn1("SKI", e))?),
        )?,
        ext(ID_CE_KEY_USAGE, true, &KeyUsage(usage))?,
    ];
    if request.ca {
        extensions.push(ext(
            ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
        )?);
    }
    let time = |t: SystemTime| Time::try_from(t).map_err(|e| asn1("validity time", e));
    let algorithm = issuer_key.algorithm().algorithm_identifier()?;
    let tbs = TbsToSign {
        version: 2,
        serial: Uint::new(&request.serial).map_err(|e| asn1("serial", e))?,
        signature: algorithm.clone(),
        issuer: issuer_name.clone(),
        validity: ValidityToSign {
            not_before: time(request.not_before)?,
            not_after: time(request.not_after)?,
        },
        subject: request.subject.clone(),
        spki: Any::from_der(&subject_key.spki_der()?).map_err(|e| asn1("SPKI", e))?,
        extensions,
    };
    let tbs_der = tbs.to_der().map_err(|e| asn1("TBSCertificate", e))?;
    let signature = issuer_key.sign(&tbs_der)?;
    let cert = CertificateToSign {
        tbs: Any::from_der(&tbs_der).map_err(|e| asn1("TBSCertificate", e))?,
        algorithm,
        signature: BitString::from_bytes(&signature).map_err(|e| asn1("signature", e))?,
    };
    let der = cert.to_der().map_err(|e| asn1("Certificate", e))?;
    Certificate::from_der(&der).map_err(|e| asn1("Certificate", e))
}
