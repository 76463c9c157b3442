//! ECDSA over any curve [`Curve`] can describe: public keys from SubjectPublicKeyInfo with named
//! or explicit (`SpecifiedECDomain`, RFC 3279) parameters, signatures in DER (`SEQUENCE{r,s}`) and
//! plain (`r‖s`, BSI TR-03111) formats, verification of a pre-computed hash, and — for the
//! virtual card and tests only — key generation and signing.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::BoxedMontyForm;
use der::asn1::{BitString, ObjectIdentifier, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence, Tag, Tagged};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroize;

use super::curves::NamedCurve;
use super::ecc::{AffinePoint, Curve, DomainBytes, fixed_be};
use crate::error::{Error, Result};

/// `id-ecPublicKey` (RFC 5480).
pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `prime-field` (X9.62), the only field type we accept.
pub const ID_PRIME_FIELD: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.1.1");

/// Upper bound on an encoded key or signature we look at; a 521-bit key is 133 bytes.
const MAX_EC_BYTES: usize = 4096;

fn asn1(what: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Asn1 {
        what,
        detail: e.to_string(),
    }
}

fn bad_key(reason: &'static str) -> Error {
    Error::InvalidPublicKey {
        algorithm: "ECDSA",
        reason,
    }
}

/// `FieldID ::= SEQUENCE { fieldType OID, parameters ANY }`
#[derive(Sequence)]
struct FieldId {
    field_type: ObjectIdentifier,
    parameters: Any,
}

/// `Curve ::= SEQUENCE { a FieldElement, b FieldElement, seed BIT STRING OPTIONAL }`
#[derive(Sequence)]
struct CurveAsn1 {
    a: OctetString,
    b: OctetString,
    #[asn1(optional = "true")]
    seed: Option<BitString>,
}

/// `SpecifiedECDomain` (a.k.a. `ECParameters`, RFC 3279 §2.3.5).
#[derive(Sequence)]
struct SpecifiedEcDomain {
    version: u8,
    field_id: FieldId,
    curve: CurveAsn1,
    base: OctetString,
    order: Uint,
    #[asn1(optional = "true")]
    cofactor: Option<Uint>,
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`
#[derive(Sequence)]
struct EcdsaSigValue {
    r: Uint,
    s: Uint,
}

/// How the curve of a key was named in its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParametersForm {
    /// `namedCurve` OID.
    Named,
    /// `SpecifiedECDomain` with every parameter spelled out.
    Explicit,
}

/// How a signature's two integers are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureFormat {
    /// `SEQUENCE { r INTEGER, s INTEGER }` (X9.62; `ecdsa-with-SHA*`).
    Der,
    /// `r‖s`, each the byte length of n (TR-03111; BSI `ecdsa-plain-*`, ISO 7816 AA).
    Plain,
}

/// Parses `ECParameters` (the SPKI algorithm parameters): a named-curve OID or explicit domain.
pub fn parse_ec_parameters(params: &Any) -> Result<(Curve, ParametersForm)> {
    match params.tag() {
        Tag::ObjectIdentifier => {
            let oid: ObjectIdentifier =
                params.decode_as().map_err(|e| asn1("namedCurve OID", e))?;
            let named = NamedCurve::from_oid(&oid).ok_or_else(|| Error::UnsupportedAlgorithm {
                what: "named curve",
                oid: oid.to_string(),
            })?;
            Ok((Curve::named(named)?, ParametersForm::Named))
        }
        Tag::Sequence => {
            let spec: SpecifiedEcDomain = params
                .decode_as()
                .map_err(|e| asn1("SpecifiedECDomain", e))?;
            // ecpVer1 (RFC 3279, ICAO); X9.62-2005's ecpVer2/3 only add meaning to the seed,
            // which we do not use.
            if !(1..=3).contains(&spec.version) {
                return Err(asn1("SpecifiedECDomain", "version is not 1, 2 or 3"));
            }
            if spec.field_id.field_type != ID_PRIME_FIELD {
                return Err(Error::UnsupportedAlgorithm {
                    what: "EC field type",
                    oid: spec.field_id.field_type.to_string(),
                });
            }
            let p: Uint = spec
                .field_id
                .parameters
                .decode_as()
                .map_err(|e| asn1("prime-field modulus", e))?;
            let domain = DomainBytes {
                p: p.as_bytes().to_vec(),
                a: spec.curve.a.as_bytes().to_vec(),
                b: spec.curve.b.as_bytes().to_vec(),
                g: spec.base.as_bytes().to_vec(),
                n: spec.order.as_bytes().to_vec(),
                cofactor: spec.cofactor.map(|h| h.as_bytes().to_vec()),
            };
            Ok((Curve::from_domain(&domain)?, ParametersForm::Explicit))
        }
        Tag::Null => Err(Error::UnsupportedAlgorithm {
            what: "EC parameters",
            oid: "implicitlyCA".into(),
        }),
        other => Err(asn1("ECParameters", format!("unexpected tag {other}"))),
    }
}

/// Encodes a curve as `ECParameters`: its OID when named and `form` is `Named`, else explicit.
pub fn encode_ec_parameters(curve: &Curve, form: ParametersForm) -> Result<Any> {
    if let (ParametersForm::Named, Some(named)) = (form, curve.name()) {
        return Any::encode_from(&named.oid()).map_err(|e| asn1("namedCurve OID", e));
    }
    let d = curve.domain_bytes();
    let int = |b: &[u8]| Uint::new(b).map_err(|e| asn1("EC parameter", e));
    let octets = |b: Vec<u8>| OctetString::new(b).map_err(|e| asn1("EC parameter", e));
    let spec = SpecifiedEcDomain {
        version: 1,
        field_id: FieldId {
            field_type: ID_PRIME_FIELD,
            parameters: Any::encode_from(&int(&d.p)?).map_err(|e| asn1("prime", e))?,
        },
        curve: CurveAsn1 {
            a: octets(d.a)?,
            b: octets(d.b)?,
            seed: None,
        },
        base: octets(d.g)?,
        order: int(&d.n)?,
        cofactor: match d.cofactor {
            Some(h) => Some(int(&h)?),
            None => None,
        },
    };
    Any::encode_from(&spec).map_err(|e| asn1("SpecifiedECDomain", e))
}

/// An ECDSA public key: a checked point on a checked curve.
#[derive(Clone)]
pub struct EcPublicKey {
    curve: Curve,
    point: AffinePoint,
    form: ParametersForm,
}

impl std::fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcPublicKey")
            .field("curve", &self.curve.display_name())
            .field("form", &self.form)
            .finish()
    }
}

impl EcPublicKey {
    /// From SPKI algorithm parameters and the subjectPublicKey bit string contents (SEC1 point).
    pub fn from_parts(params: Option<&Any>, point: &[u8]) -> Result<EcPublicKey> {
        let params = params.ok_or_else(|| bad_key("EC key without curve parameters"))?;
        let (curve, form) = parse_ec_parameters(params)?;
        EcPublicKey::from_curve_point(curve, point, form)
    }

    /// From a curve and a SEC1 point encoding.
    pub fn from_curve_point(curve: Curve, point: &[u8], form: ParametersForm) -> Result<Self> {
        if point.len() > MAX_EC_BYTES {
            return Err(bad_key("point encoding too long"));
        }
        let point = curve.decode_point(point)?;
        curve.check_public_point(&point)?;
        Ok(EcPublicKey { curve, point, form })
    }

    /// From a DER SubjectPublicKeyInfo with `id-ecPublicKey`.
    pub fn from_spki_der(der: &[u8]) -> Result<EcPublicKey> {
        if der.len() > MAX_EC_BYTES {
            return Err(bad_key("SPKI too long"));
        }
        let spki = SubjectPublicKeyInfoOwned::from_der(der).map_err(|e| asn1("SPKI", e))?;
        EcPublicKey::from_spki(&spki)
    }

    /// From a decoded SubjectPublicKeyInfo with `id-ecPublicKey`.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<EcPublicKey> {
        if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
            return Err(Error::UnsupportedAlgorithm {
                what: "EC key algorithm",
                oid: spki.algorithm.oid.to_string(),
            });
        }
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| bad_key("subjectPublicKey has unused bits"))?;
        EcPublicKey::from_parts(spki.algorithm.parameters.as_ref(), point)
    }

    /// The curve.
    pub fn curve(&self) -> &Curve {
        &self.curve
    }

    /// Whether the key's encoding named its curve or spelled out the parameters.
    pub fn parameters_form(&self) -> ParametersForm {
        self.form
    }

    /// SEC1 uncompressed point.
    pub fn to_sec1(&self) -> Vec<u8> {
        self.curve.encode_point(&self.point)
    }

    /// DER SubjectPublicKeyInfo, with the curve named or explicit as `form` asks (explicit when
    /// the curve has no name).
    pub fn to_spki_der(&self, form: ParametersForm) -> Result<Vec<u8>> {
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ID_EC_PUBLIC_KEY,
                parameters: Some(encode_ec_parameters(&self.curve, form)?),
            },
            subject_public_key: BitString::from_bytes(&self.to_sec1())
                .map_err(|e| asn1("subjectPublicKey", e))?,
        };
        spki.to_der().map_err(|e| asn1("SPKI", e))
    }

    /// Verifies `signature` (in `format`) over `hash`, a digest computed by the caller. The hash
    /// is truncated to the bit length of n as ECDSA prescribes.
    pub fn verify_prehash(
        &self,
        hash: &[u8],
        signature: &[u8],
        format: SignatureFormat,
    ) -> Result<()> {
        let (r, s) = decode_signature(&self.curve, signature, format)?;
        let c = &self.curve;
        let mismatch = || Error::SignatureMismatch {
            algorithm: format!("ECDSA ({})", c.display_name()),
        };
        let e = hash_to_scalar(c, hash)?;
        let fnp = c.scalar_params();
        let s_inv: BoxedMontyForm =
            Option::from(BoxedMontyForm::new(s, fnp).invert_vartime()).ok_or_else(mismatch)?;
        let u1 = BoxedMontyForm::new(e, fnp).mul(&s_inv).retrieve();
        let u2 = BoxedMontyForm::new(r.clone(), fnp).mul(&s_inv).retrieve();
        let point = c
            .mul_double_base(&u1, &u2, &self.point)
            .ok_or_else(mismatch)?;
        let v = c.reduce_mod_n(&c.x_of(&point))?;
        if v == r { Ok(()) } else { Err(mismatch()) }
    }
}

/// Active Authentication's hook for ECDSA keys on any curve (the shape of
/// `protocol::aa::ExplicitCurveVerifier`): verifies a plain `r‖s` signature over `digest` with
/// the key in the DER SubjectPublicKeyInfo `spki_der` (named or explicit parameters).
/// `Ok(false)` when the signature is malformed or does not verify; `Err` when the key is unusable.
pub fn verify_plain_with_spki(spki_der: &[u8], digest: &[u8], signature: &[u8]) -> Result<bool> {
    let key = EcPublicKey::from_spki_der(spki_der)?;
    match key.verify_prehash(digest, signature, SignatureFormat::Plain) {
        Ok(()) => Ok(true),
        Err(Error::SignatureMismatch { .. } | Error::MalformedSignature { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `e`: the leftmost `bits(n)` bits of the hash, reduced mod n.
fn hash_to_scalar(curve: &Curve, hash: &[u8]) -> Result<BoxedUint> {
    if hash.len() > 128 {
        return Err(bad_key("hash longer than 1024 bits"));
    }
    let n_bits = curve.order_bits() as usize;
    let take = hash.len().min(n_bits.div_ceil(8));
    let mut e = curve.uint(&hash[..take])?;
    let excess = take * 8;
    if excess > n_bits {
        e = e
            .shr_vartime((excess - n_bits) as u32)
            .ok_or_else(|| bad_key("shift"))?;
    }
    curve.reduce_mod_n(&e)
}

/// Splits a signature into `(r, s)`, both checked to lie in `[1, n-1]`.
pub fn decode_signature(
    curve: &Curve,
    signature: &[u8],
    format: SignatureFormat,
) -> Result<(BoxedUint, BoxedUint)> {
    let malformed = |reason| Error::MalformedSignature {
        algorithm: format!("ECDSA ({})", curve.display_name()),
        reason,
    };
    if signature.len() > MAX_EC_BYTES {
        return Err(malformed("longer than any ECDSA signature"));
    }
    let (r, s) = match format {
        SignatureFormat::Der => {
            let sig = EcdsaSigValue::from_der(signature)
                .map_err(|_| malformed("not a DER SEQUENCE of two INTEGERs"))?;
            let r = curve
                .uint(sig.r.as_bytes())
                .map_err(|_| malformed("r wider than n"))?;
            let s = curve
                .uint(sig.s.as_bytes())
                .map_err(|_| malformed("s wider than n"))?;
            (r, s)
        }
        SignatureFormat::Plain => {
            let half = curve.order_bytes();
            if signature.len() != 2 * half {
                return Err(malformed("plain signature is not 2·|n| bytes"));
            }
            let (r, s) = signature.split_at(half);
            (curve.uint(r)?, curve.uint(s)?)
        }
    };
    let in_range = |x: &BoxedUint| !bool::from(x.is_zero()) && x.cmp_vartime(curve.order()).is_lt();
    if !in_range(&r) || !in_range(&s) {
        return Err(malformed("r or s outside [1, n-1]"));
    }
    Ok((r, s))
}

/// Encodes `(r, s)` in the given format.
pub fn encode_signature(
    curve: &Curve,
    r: &BoxedUint,
    s: &BoxedUint,
    format: SignatureFormat,
) -> Result<Vec<u8>> {
    let half = curve.order_bytes();
    let (rb, sb) = (fixed_be(r, half), fixed_be(s, half));
    match format {
        SignatureFormat::Plain => Ok([rb, sb].concat()),
        SignatureFormat::Der => {
            let v = EcdsaSigValue {
                r: Uint::new(&rb).map_err(|e| asn1("r", e))?,
                s: Uint::new(&sb).map_err(|e| asn1("s", e))?,
            };
            v.to_der().map_err(|e| asn1("ECDSA-Sig-Value", e))
        }
    }
}

/// An ECDSA private key. **For the virtual card and tests only**: the arithmetic is
/// variable-time, so a signer on shared hardware could leak the key through timing.
pub struct EcPrivateKey {
    d: BoxedUint,
    public: EcPublicKey,
}

impl std::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcPrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Drop for EcPrivateKey {
    fn drop(&mut self) {
        self.d.as_mut_words().zeroize();
    }
}

/// A uniformly random scalar in `[1, n-1]` (64 extra bits make the modular bias negligible).
fn random_scalar<R: rand_core::CryptoRng + ?Sized>(
    curve: &Curve,
    rng: &mut R,
) -> Result<BoxedUint> {
    let mut buf = vec![0u8; curve.order_bytes() + 8];
    loop {
        rng.fill_bytes(&mut buf);
        let wide = BoxedUint::from_be_slice_vartime(&buf);
        let n =
            crypto_bigint::NonZero::new(super::ecc::resize(curve.order(), wide.bits_precision())?)
                .into_option()
                .ok_or_else(|| bad_key("zero order"))?;
        let k = wide.rem_vartime(&n);
        buf.zeroize();
        if !bool::from(k.is_zero()) {
            let mut k = curve.uint(&k.to_be_bytes())?;
            let out = k.clone();
            k.as_mut_words().zeroize();
            return Ok(out);
        }
    }
}

impl EcPrivateKey {
    /// Generates a key pair on `curve`. Not constant-time: virtual card and tests only.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(
        curve: Curve,
        form: ParametersForm,
        rng: &mut R,
    ) -> Result<EcPrivateKey> {
        let d = random_scalar(&curve, rng)?;
        let point = curve
            .mul_affine(&d, curve.generator())
            .ok_or_else(|| bad_key("generated the point at infinity"))?;
        Ok(EcPrivateKey {
            d,
            public: EcPublicKey { curve, point, form },
        })
    }

    /// The private scalar as big-endian bytes of the order's length (for storing test keys).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(fixed_be(&self.d, self.public.curve.order_bytes()))
    }

    /// Rebuilds a key from its scalar bytes.
    pub fn from_bytes(curve: Curve, form: ParametersForm, d: &[u8]) -> Result<EcPrivateKey> {
        let d = curve.uint(d)?;
        if bool::from(d.is_zero()) || !d.cmp_vartime(curve.order()).is_lt() {
            return Err(bad_key("private scalar outside [1, n-1]"));
        }
        let point = curve
            .mul_affine(&d, curve.generator())
            .ok_or_else(|| bad_key("private scalar gives infinity"))?;
        Ok(EcPrivateKey {
            d,
            public: EcPublicKey { curve, point, form },
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &EcPublicKey {
        &self.public
    }

    /// Signs a pre-computed hash with a random nonce.
    ///
    /// **Not constant-time** (nonce and key go through variable-time scalar multiplication and
    /// inversion): for the virtual card and tests only, never for a production key.
    pub fn sign_prehash<R: rand_core::CryptoRng + ?Sized>(
        &self,
        hash: &[u8],
        format: SignatureFormat,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let c = &self.public.curve;
        let fnp = c.scalar_params();
        let e = hash_to_scalar(c, hash)?;
        loop {
            let k = random_scalar(c, rng)?;
            let Some(kg) = c.mul_affine(&k, c.generator()) else {
                continue;
            };
            let r = c.reduce_mod_n(&c.x_of(&kg))?;
            if bool::from(r.is_zero()) {
                continue;
            }
            let k_inv: Option<BoxedMontyForm> =
                BoxedMontyForm::new(k, fnp).invert_vartime().into_option();
            let Some(k_inv) = k_inv else { continue };
            let rd =
                BoxedMontyForm::new(r.clone(), fnp).mul(&BoxedMontyForm::new(self.d.clone(), fnp));
            let s = k_inv
                .mul(&BoxedMontyForm::new(e.clone(), fnp).add(&rd))
                .retrieve();
            if bool::from(s.is_zero()) {
                continue;
            }
            return encode_signature(c, &r, &s, format);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    /// A brainpoolP256r1 key and its SPKI with explicit parameters, made once for all cases.
    fn fixture() -> &'static (EcPrivateKey, Vec<u8>) {
        static F: OnceLock<(EcPrivateKey, Vec<u8>)> = OnceLock::new();
        F.get_or_init(|| {
            let curve = Curve::named(NamedCurve::BrainpoolP256r1).unwrap();
            let key = EcPrivateKey::generate(curve, ParametersForm::Explicit, &mut rng()).unwrap();
            let spki = key
                .public_key()
                .to_spki_der(ParametersForm::Explicit)
                .unwrap();
            (key, spki)
        })
    }

    #[test]
    fn private_key_bytes_round_trip_and_debug_hides_the_scalar() {
        let (key, _) = fixture();
        let bytes = key.to_bytes();
        let again = EcPrivateKey::from_bytes(
            key.public_key().curve().clone(),
            ParametersForm::Explicit,
            &bytes,
        )
        .unwrap();
        assert_eq!(again.public_key().to_sec1(), key.public_key().to_sec1());
        let shown = format!("{key:?}");
        assert!(!shown.contains("d:"), "{shown}");
    }

    #[test]
    fn active_authentication_hook_verifies_plain_signatures_with_explicit_spki() {
        let (key, spki) = fixture();
        let digest = [0x17u8; 32];
        let sig = key
            .sign_prehash(&digest, SignatureFormat::Plain, &mut rng())
            .unwrap();
        assert!(verify_plain_with_spki(spki, &digest, &sig).unwrap());
        assert!(!verify_plain_with_spki(spki, &[0x18u8; 32], &sig).unwrap());
        assert!(!verify_plain_with_spki(spki, &digest, &sig[1..]).unwrap());
        assert!(verify_plain_with_spki(&spki[1..], &digest, &sig).is_err());
    }

    /// An explicit-parameter SPKI written by an independent encoder (a few lines of Python
    /// following RFC 3279, Q = G): our parser reads it as brainpoolP256r1 with explicit
    /// parameters, and our encoder writes the very same bytes back.
    #[test]
    fn independently_encoded_explicit_spki_reads_as_brainpool_p256r1() {
        let der = include_bytes!("testdata/bp256-explicit-spki.der");
        let key = EcPublicKey::from_spki_der(der).unwrap();
        assert_eq!(key.curve().name(), Some(NamedCurve::BrainpoolP256r1));
        assert_eq!(key.parameters_form(), ParametersForm::Explicit);
        assert_eq!(
            key.to_sec1(),
            key.curve().encode_point(key.curve().generator())
        );
        assert_eq!(
            key.to_spki_der(ParametersForm::Explicit).unwrap(),
            der.to_vec()
        );
    }

    #[test]
    fn signature_in_the_wrong_format_is_rejected() {
        let (key, _) = fixture();
        let digest = [0x42u8; 32];
        let der = key
            .sign_prehash(&digest, SignatureFormat::Der, &mut rng())
            .unwrap();
        let plain = key
            .sign_prehash(&digest, SignatureFormat::Plain, &mut rng())
            .unwrap();
        let public = key.public_key();
        public
            .verify_prehash(&digest, &der, SignatureFormat::Der)
            .unwrap();
        public
            .verify_prehash(&digest, &plain, SignatureFormat::Plain)
            .unwrap();
        assert!(
            public
                .verify_prehash(&digest, &der, SignatureFormat::Plain)
                .is_err()
        );
        assert!(
            public
                .verify_prehash(&digest, &plain, SignatureFormat::Der)
                .is_err()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn sign_then_verify_round_trips_and_other_messages_fail(
            msg in proptest::collection::vec(any::<u8>(), 0..64),
            plain in any::<bool>(),
        ) {
            let (key, spki) = fixture();
            let format = if plain { SignatureFormat::Plain } else { SignatureFormat::Der };
            let digest = crate::lds::sod::HashAlgorithm::Sha256.digest(&msg);
            let sig = key.sign_prehash(&digest, format, &mut rng()).unwrap();
            let public = EcPublicKey::from_spki_der(spki).unwrap();
            prop_assert!(public.verify_prehash(&digest, &sig, format).is_ok());
            let mut other = digest.clone();
            other[0] ^= 0x80;
            prop_assert!(public.verify_prehash(&other, &sig, format).is_err());
        }

        #[test]
        fn mutated_explicit_spki_never_panics(pos in any::<usize>(), bit in 0u8..8) {
            let (_, spki) = fixture();
            let mut bytes = spki.clone();
            let i = pos % bytes.len();
            bytes[i] ^= 1 << bit;
            // Almost every flip breaks the DER or a curve check (primality, G on the curve,
            // n·G = ∞, Q on the curve). One that survives (e.g. cofactor 1 → 3) must show in the
            // parsed key: a mutation is never silently ignored, and nothing panics.
            if let Ok(parsed) = EcPublicKey::from_spki_der(&bytes) {
                prop_assert_ne!(&parsed.to_spki_der(ParametersForm::Explicit).unwrap(), spki);
            }
        }

        #[test]
        fn arbitrary_ec_parameters_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut spki = vec![0x30];
            // Wrap as SEQUENCE { SEQUENCE { id-ecPublicKey, <bytes> }, BIT STRING } loosely: the
            // decoder must reject whatever is malformed.
            spki.extend_from_slice(&bytes);
            prop_assert!(EcPublicKey::from_spki_der(&spki).is_err());
        }
    }
}
