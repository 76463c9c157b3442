//! One entry point for every signature passive authentication meets: [`verify`] takes the
//! signer's SubjectPublicKeyInfo, the signature AlgorithmIdentifier, the message and the
//! signature, and dispatches on the OIDs (sha*WithRSAEncryption, RSASSA-PSS, ecdsa-with-SHA*,
//! BSI ecdsa-plain-SHA*). Errors name the algorithm.

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::ecdsa::{EcPublicKey, ID_EC_PUBLIC_KEY, ParametersForm, SignatureFormat};
use super::rsa::RsaKey;
use crate::error::{Error, Result};

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

/// `rsaEncryption`: the RSA key OID, also used as signatureAlgorithm in some SignerInfos.
pub const RSA_ENCRYPTION: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
/// `id-RSASSA-PSS`.
pub const RSASSA_PSS: ObjectIdentifier = oid("1.2.840.113549.1.1.10");
/// `id-mgf1`.
pub const MGF1: ObjectIdentifier = oid("1.2.840.113549.1.1.8");
const SHA1_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.5");
const SHA224_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.14");
const SHA256_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.13");
const ECDSA_SHA1: ObjectIdentifier = oid("1.2.840.10045.4.1");
const ECDSA_SHA224: ObjectIdentifier = oid("1.2.840.10045.4.3.1");
const ECDSA_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = oid("1.2.840.10045.4.3.4");
/// BSI TR-03111 `ecdsa-plain-signatures` arc; `.1`..`.5` = SHA-1, -224, -256, -384, -512.
const ECDSA_PLAIN_ARC: &str = "0.4.0.127.0.7.1.1.4.1";

/// Upper bound on a message we hash (signed attributes, TBSCertificate, eContent).
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Upper bound on a signature (an 8192-bit RSA signature is 1024 bytes).
pub const MAX_SIGNATURE_BYTES: usize = 2048;
/// Upper bound on a SubjectPublicKeyInfo.
pub const MAX_SPKI_BYTES: usize = 4096;

/// The hash functions ICAO 9303 allows: one type for the whole crate, owned by the SOD parser.
pub use crate::lds::sod::HashAlgorithm;

/// A signature algorithm with everything needed to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1v15 { hash: HashAlgorithm },
    /// RSASSA-PSS with MGF1 (same hash) and a salt length.
    RsaPss {
        hash: HashAlgorithm,
        salt_len: usize,
    },
    /// ECDSA, DER (`ecdsa-with-*`) or plain (`ecdsa-plain-*`) signature encoding.
    Ecdsa {
        hash: HashAlgorithm,
        format: SignatureFormat,
    },
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureAlgorithm::RsaPkcs1v15 { hash } => {
                write!(
                    f,
                    "{}withRSAEncryption",
                    hash.name().replace('-', "").to_lowercase()
                )
            }
            SignatureAlgorithm::RsaPss { hash, salt_len } => {
                write!(f, "RSASSA-PSS({}, salt {salt_len})", hash.name())
            }
            SignatureAlgorithm::Ecdsa {
                hash,
                format: SignatureFormat::Der,
            } => write!(f, "ecdsa-with-{}", hash.name().replace('-', "")),
            SignatureAlgorithm::Ecdsa {
                hash,
                format: SignatureFormat::Plain,
            } => write!(f, "ecdsa-plain-{}", hash.name().replace('-', "")),
        }
    }
}

/// `RSASSA-PSS-params` (RFC 8017 A.2.3); absent fields take the (SHA-1) defaults.
#[derive(Sequence)]
struct RsaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u8>,
}

fn unsupported(what: &'static str, o: &ObjectIdentifier) -> Error {
    Error::UnsupportedAlgorithm {
        what,
        oid: o.to_string(),
    }
}

impl SignatureAlgorithm {
    /// Reads a signature AlgorithmIdentifier. `digest_hint` is the CMS SignerInfo's
    /// digestAlgorithm, used when the signature OID names only the key type (`rsaEncryption`,
    /// `id-ecPublicKey`), which some Document Signers write.
    pub fn from_algorithm_identifier(
        alg: &AlgorithmIdentifierOwned,
        digest_hint: Option<HashAlgorithm>,
    ) -> Result<SignatureAlgorithm> {
        use HashAlgorithm::*;
        let o = alg.oid;
        let rsa = |hash| Ok(SignatureAlgorithm::RsaPkcs1v15 { hash });
        let ecdsa = |hash, format| Ok(SignatureAlgorithm::Ecdsa { hash, format });
        match o {
            SHA1_WITH_RSA => rsa(Sha1),
            SHA224_WITH_RSA => rsa(Sha224),
            SHA256_WITH_RSA => rsa(Sha256),
            SHA384_WITH_RSA => rsa(Sha384),
            SHA512_WITH_RSA => rsa(Sha512),
            ECDSA_SHA1 => ecdsa(Sha1, SignatureFormat::Der),
            ECDSA_SHA224 => ecdsa(Sha224, SignatureFormat::Der),
            ECDSA_SHA256 => ecdsa(Sha256, SignatureFormat::Der),
            ECDSA_SHA384 => ecdsa(Sha384, SignatureFormat::Der),
            ECDSA_SHA512 => ecdsa(Sha512, SignatureFormat::Der),
            RSA_ENCRYPTION => rsa(digest_hint
                .ok_or_else(|| unsupported("rsaEncryption without a digest algorithm", &o))?),
            ID_EC_PUBLIC_KEY => ecdsa(
                digest_hint
                    .ok_or_else(|| unsupported("id-ecPublicKey without a digest algorithm", &o))?,
                SignatureFormat::Der,
            ),
            RSASSA_PSS => SignatureAlgorithm::pss_from_params(alg),
            _ => {
                let s = o.to_string();
                let plain = s
                    .strip_prefix(ECDSA_PLAIN_ARC)
                    .and_then(|rest| rest.strip_prefix('.'));
                let hash = match plain {
                    Some("1") => Sha1,
                    Some("2") => Sha224,
                    Some("3") => Sha256,
                    Some("4") => Sha384,
                    Some("5") => Sha512,
                    _ => return Err(unsupported("signature algorithm", &o)),
                };
                ecdsa(hash, SignatureFormat::Plain)
            }
        }
    }

    fn pss_from_params(alg: &AlgorithmIdentifierOwned) -> Result<SignatureAlgorithm> {
        let params = match &alg.parameters {
            Some(any) => RsaPssParams::from_der(&any.to_der().map_err(|e| pss_err(e.to_string()))?)
                .map_err(|e| pss_err(e.to_string()))?,
            None => return Err(pss_err("RSASSA-PSS without parameters".into())),
        };
        let hash = match &params.hash {
            Some(h) => HashAlgorithm::from_oid(&h.oid)?,
            None => HashAlgorithm::Sha1,
        };
        let mgf_hash = match &params.mask_gen {
            Some(m) if m.oid == MGF1 => {
                let inner = m
                    .parameters
                    .as_ref()
                    .ok_or_else(|| pss_err("MGF1 without a hash".into()))?;
                let inner: AlgorithmIdentifierOwned = inner
                    .decode_as()
                    .map_err(|e: der::Error| pss_err(e.to_string()))?;
                HashAlgorithm::from_oid(&inner.oid)?
            }
            Some(m) => return Err(unsupported("PSS mask generation function", &m.oid)),
            None => HashAlgorithm::Sha1,
        };
        if mgf_hash != hash {
            return Err(Error::UnsupportedAlgorithm {
                what: "RSASSA-PSS with an MGF1 hash different from the message hash",
                oid: mgf_hash.oid().to_string(),
            });
        }
        if params.trailer.unwrap_or(1) != 1 {
            return Err(pss_err("trailerField other than 1".into()));
        }
        let salt_len = params.salt_len.unwrap_or(20) as usize;
        if salt_len > 1024 {
            return Err(pss_err("salt length larger than any key".into()));
        }
        Ok(SignatureAlgorithm::RsaPss { hash, salt_len })
    }

    /// The hash this algorithm signs with.
    pub fn hash(&self) -> HashAlgorithm {
        match *self {
            SignatureAlgorithm::RsaPkcs1v15 { hash }
            | SignatureAlgorithm::RsaPss { hash, .. }
            | SignatureAlgorithm::Ecdsa { hash, .. } => hash,
        }
    }

    /// The AlgorithmIdentifier for this algorithm (signing side: the virtual card, tests).
    pub fn algorithm_identifier(&self) -> Result<AlgorithmIdentifierOwned> {
        use HashAlgorithm::*;
        let plain = |n: &str| -> Result<ObjectIdentifier> {
            ObjectIdentifier::new(&format!("{ECDSA_PLAIN_ARC}.{n}"))
                .map_err(|e| pss_err(e.to_string()))
        };
        let o = match *self {
            SignatureAlgorithm::RsaPkcs1v15 { hash } => match hash {
                Sha1 => SHA1_WITH_RSA,
                Sha224 => SHA224_WITH_RSA,
                Sha256 => SHA256_WITH_RSA,
                Sha384 => SHA384_WITH_RSA,
                Sha512 => SHA512_WITH_RSA,
            },
            SignatureAlgorithm::Ecdsa {
                hash,
                format: SignatureFormat::Der,
            } => match hash {
                Sha1 => ECDSA_SHA1,
                Sha224 => ECDSA_SHA224,
                Sha256 => ECDSA_SHA256,
                Sha384 => ECDSA_SHA384,
                Sha512 => ECDSA_SHA512,
            },
            SignatureAlgorithm::Ecdsa {
                hash,
                format: SignatureFormat::Plain,
            } => match hash {
                Sha1 => plain("1")?,
                Sha224 => plain("2")?,
                Sha256 => plain("3")?,
                Sha384 => plain("4")?,
                Sha512 => plain("5")?,
            },
            SignatureAlgorithm::RsaPss { hash, salt_len } => {
                let mgf = AlgorithmIdentifierOwned {
                    oid: MGF1,
                    parameters: Some(
                        der::Any::encode_from(&hash.algorithm_identifier())
                            .map_err(|e| pss_err(e.to_string()))?,
                    ),
                };
                let params = RsaPssParams {
                    hash: Some(hash.algorithm_identifier()),
                    mask_gen: Some(mgf),
                    salt_len: Some(u32::try_from(salt_len).map_err(|_| pss_err("salt".into()))?),
                    trailer: None,
                };
                return Ok(AlgorithmIdentifierOwned {
                    oid: RSASSA_PSS,
                    parameters: Some(
                        der::Any::encode_from(&params).map_err(|e| pss_err(e.to_string()))?,
                    ),
                });
            }
        };
        Ok(AlgorithmIdentifierOwned {
            oid: o,
            parameters: None,
        })
    }
}

fn pss_err(detail: String) -> Error {
    Error::Asn1 {
        what: "RSASSA-PSS parameters",
        detail,
    }
}

/// A public key of a kind we verify with.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// RSA (rsaEncryption or id-RSASSA-PSS key).
    Rsa(RsaKey),
    /// ECDSA on any curve, named or explicit.
    Ec(EcPublicKey),
}

impl PublicKey {
    /// Parses a SubjectPublicKeyInfo.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey> {
        let o = spki.algorithm.oid;
        if o == ID_EC_PUBLIC_KEY {
            return Ok(PublicKey::Ec(EcPublicKey::from_spki(spki)?));
        }
        if o == RSA_ENCRYPTION || o == RSASSA_PSS {
            let bits = spki
                .subject_public_key
                .as_bytes()
                .ok_or(Error::InvalidPublicKey {
                    algorithm: "RSA",
                    reason: "subjectPublicKey has unused bits",
                })?;
            return Ok(PublicKey::Rsa(RsaKey::from_pkcs1_der(bits)?));
        }
        Err(unsupported("public key algorithm", &o))
    }

    /// Parses DER SubjectPublicKeyInfo bytes.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey> {
        if der.len() > MAX_SPKI_BYTES {
            return Err(Error::Asn1 {
                what: "SubjectPublicKeyInfo",
                detail: "longer than 4096 bytes".into(),
            });
        }
        let spki = SubjectPublicKeyInfoOwned::from_der(der).map_err(|e| Error::Asn1 {
            what: "SubjectPublicKeyInfo",
            detail: e.to_string(),
        })?;
        PublicKey::from_spki(&spki)
    }

    /// `RSA-2048`, `ECDSA brainpoolP512r1 (explicit parameters)` …
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Rsa(k) => format!("RSA-{}", k.bits()),
            PublicKey::Ec(k) => match k.parameters_form() {
                ParametersForm::Named => format!("ECDSA {}", k.curve().display_name()),
                ParametersForm::Explicit => {
                    format!("ECDSA {} (explicit parameters)", k.curve().display_name())
                }
            },
        }
    }

    /// Verifies `signature` over `message` with `algorithm`.
    pub fn verify(
        &self,
        algorithm: &SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(Error::MalformedSignature {
                algorithm: algorithm.to_string(),
                reason: "signed message larger than 1 MiB",
            });
        }
        let digest = algorithm.hash().digest(message);
        self.verify_prehash(algorithm, &digest, signature)
    }

    /// Verifies `signature` over an already computed `digest`.
    pub fn verify_prehash(
        &self,
        algorithm: &SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let name = algorithm.to_string();
        if signature.len() > MAX_SIGNATURE_BYTES {
            return Err(Error::MalformedSignature {
                algorithm: name,
                reason: "longer than 2048 bytes",
            });
        }
        let renamed = |e: Error| match e {
            Error::SignatureMismatch { .. } => Error::SignatureMismatch {
                algorithm: format!("{name} ({})", self.describe()),
            },
            Error::MalformedSignature { reason, .. } => Error::MalformedSignature {
                algorithm: format!("{name} ({})", self.describe()),
                reason,
            },
            other => other,
        };
        match (self, algorithm) {
            (PublicKey::Rsa(k), SignatureAlgorithm::RsaPkcs1v15 { hash }) => {
                k.verify_pkcs1v15(*hash, digest, signature).map_err(renamed)
            }
            (PublicKey::Rsa(k), SignatureAlgorithm::RsaPss { hash, salt_len }) => k
                .verify_pss(*hash, *salt_len, digest, signature)
                .map_err(renamed),
            (PublicKey::Ec(k), SignatureAlgorithm::Ecdsa { format, .. }) => k
                .verify_prehash(digest, signature, *format)
                .map_err(renamed),
            _ => Err(Error::UnsupportedAlgorithm {
                what: "signature algorithm for this key type",
                oid: format!("{name} with {}", self.describe()),
            }),
        }
    }
}

/// What a successful [`verify`] saw.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// The signature algorithm, e.g. `ecdsa-with-SHA512`.
    pub algorithm: SignatureAlgorithm,
    /// The key, e.g. `ECDSA brainpoolP512r1 (explicit parameters)`.
    pub key: String,
}

/// Verifies `signature` over `message` with the key in `spki_der` and the algorithm in
/// `signature_algorithm` (an AlgorithmIdentifier as found in a certificate or SignerInfo).
pub fn verify(
    spki_der: &[u8],
    signature_algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<VerifiedSignature> {
    verify_with_digest_hint(spki_der, signature_algorithm, None, message, signature)
}

/// [`verify`], with the SignerInfo digestAlgorithm for signature OIDs that name no hash.
pub fn verify_with_digest_hint(
    spki_der: &[u8],
    signature_algorithm: &AlgorithmIdentifierOwned,
    digest_hint: Option<HashAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<VerifiedSignature> {
    let algorithm =
        SignatureAlgorithm::from_algorithm_identifier(signature_algorithm, digest_hint)?;
    let key = PublicKey::from_spki_der(spki_der)?;
    key.verify(&algorithm, message, signature)?;
    Ok(VerifiedSignature {
        algorithm,
        key: key.describe(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pa::curves::NamedCurve;
    use crate::pa::ecc::Curve;
    use crate::pa::ecdsa::EcPrivateKey;
    use proptest::prelude::*;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn bsi_plain_and_x962_oids_map_to_algorithms() {
        let plain = AlgorithmIdentifierOwned {
            oid: oid("0.4.0.127.0.7.1.1.4.1.3"),
            parameters: None,
        };
        assert_eq!(
            SignatureAlgorithm::from_algorithm_identifier(&plain, None).unwrap(),
            SignatureAlgorithm::Ecdsa {
                hash: HashAlgorithm::Sha256,
                format: SignatureFormat::Plain
            }
        );
        // ecdsa-with-SHA512 = 1.2.840.10045.4.3.4, the Vietnamese CSCA's algorithm.
        let x962 = AlgorithmIdentifierOwned {
            oid: oid("1.2.840.10045.4.3.4"),
            parameters: None,
        };
        let alg = SignatureAlgorithm::from_algorithm_identifier(&x962, None).unwrap();
        assert_eq!(alg.to_string(), "ecdsa-with-SHA512");
        let unknown = AlgorithmIdentifierOwned {
            oid: oid("1.2.3.4"),
            parameters: None,
        };
        let err = SignatureAlgorithm::from_algorithm_identifier(&unknown, None).unwrap_err();
        assert!(err.to_string().contains("1.2.3.4"), "{err}");
        // Every algorithm's own identifier reads back as itself.
        for hash in HashAlgorithm::ALL {
            for alg in [
                SignatureAlgorithm::RsaPkcs1v15 { hash },
                SignatureAlgorithm::RsaPss { hash, salt_len: 17 },
                SignatureAlgorithm::Ecdsa {
                    hash,
                    format: SignatureFormat::Der,
                },
                SignatureAlgorithm::Ecdsa {
                    hash,
                    format: SignatureFormat::Plain,
                },
            ] {
                let id = alg.algorithm_identifier().unwrap();
                assert_eq!(
                    SignatureAlgorithm::from_algorithm_identifier(&id, None).unwrap(),
                    alg
                );
            }
        }
    }

    #[test]
    fn key_type_oids_take_the_hash_from_the_signer_info() {
        for (key_oid, expected) in [
            (
                RSA_ENCRYPTION,
                SignatureAlgorithm::RsaPkcs1v15 {
                    hash: HashAlgorithm::Sha384,
                },
            ),
            (
                ID_EC_PUBLIC_KEY,
                SignatureAlgorithm::Ecdsa {
                    hash: HashAlgorithm::Sha384,
                    format: SignatureFormat::Der,
                },
            ),
        ] {
            let id = AlgorithmIdentifierOwned {
                oid: key_oid,
                parameters: None,
            };
            assert_eq!(
                SignatureAlgorithm::from_algorithm_identifier(&id, Some(HashAlgorithm::Sha384))
                    .unwrap(),
                expected
            );
            let err = SignatureAlgorithm::from_algorithm_identifier(&id, None).unwrap_err();
            assert!(
                err.to_string().contains("without a digest algorithm"),
                "{err}"
            );
        }
    }

    #[test]
    fn verify_dispatches_ecdsa_explicit_brainpool512_with_sha512() {
        let curve = Curve::named(NamedCurve::BrainpoolP512r1).unwrap();
        let key = EcPrivateKey::generate(curve, ParametersForm::Explicit, &mut rng()).unwrap();
        let spki = key
            .public_key()
            .to_spki_der(ParametersForm::Explicit)
            .unwrap();
        let alg = SignatureAlgorithm::Ecdsa {
            hash: HashAlgorithm::Sha512,
            format: SignatureFormat::Der,
        };
        let msg = b"tbsCertificate";
        let sig = key
            .sign_prehash(
                &HashAlgorithm::Sha512.digest(msg),
                SignatureFormat::Der,
                &mut rng(),
            )
            .unwrap();
        let id = alg.algorithm_identifier().unwrap();
        let ok = verify(&spki, &id, msg, &sig).unwrap();
        assert_eq!(ok.key, "ECDSA brainpoolP512r1 (explicit parameters)");
        let err = verify(&spki, &id, b"other", &sig).unwrap_err();
        assert!(err.to_string().contains("ecdsa-with-SHA512"), "{err}");
        // RSA algorithm with an EC key: a named, specific error.
        let rsa_id = SignatureAlgorithm::RsaPkcs1v15 {
            hash: HashAlgorithm::Sha256,
        }
        .algorithm_identifier()
        .unwrap();
        assert!(matches!(
            verify(&spki, &rsa_id, msg, &sig),
            Err(Error::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn rsa_pss_through_the_entry_point_with_parameters() {
        let private = rsa::PrivateKey::new(&mut rng(), 1024).unwrap();
        let spki = spki::EncodePublicKey::to_public_key_der(&private.to_public_key()).unwrap();
        let alg = SignatureAlgorithm::RsaPss {
            hash: HashAlgorithm::Sha256,
            salt_len: 32,
        };
        let msg = b"signed attributes";
        let sig = private
            .sign_with_rng(
                &mut rng(),
                rsa::pss::Pss::<sha2::Sha256>::new_with_salt(32),
                &HashAlgorithm::Sha256.digest(msg),
            )
            .unwrap();
        let id = alg.algorithm_identifier().unwrap();
        let ok = verify(spki.as_bytes(), &id, msg, &sig).unwrap();
        assert_eq!(ok.key, "RSA-1024");
        assert!(verify(spki.as_bytes(), &id, b"tampered", &sig).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_spki_and_signature_bytes_never_panic(
            spki in proptest::collection::vec(any::<u8>(), 0..300),
            sig in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let id = SignatureAlgorithm::Ecdsa { hash: HashAlgorithm::Sha256, format: SignatureFormat::Der }
                .algorithm_identifier().unwrap();
            prop_assert!(verify(&spki, &id, b"m", &sig).is_err());
        }

        #[test]
        fn arbitrary_signature_against_a_real_key_never_panics(
            sig in proptest::collection::vec(any::<u8>(), 0..140),
            plain in any::<bool>(),
        ) {
            let curve = Curve::named(NamedCurve::BrainpoolP256r1).unwrap();
            let point = curve.encode_point(curve.generator());
            let key = EcPublicKey::from_curve_point(curve, &point, ParametersForm::Named).unwrap();
            let format = if plain { SignatureFormat::Plain } else { SignatureFormat::Der };
            prop_assert!(key.verify_prehash(&[7u8; 32], &sig, format).is_err());
        }
    }
}
