//! Active Authentication (ICAO 9303-11 §6.1): INTERNAL AUTHENTICATE with a fresh random 8-byte
//! challenge, signed by the chip with the private key matching DG15.
//!
//! - RSA: ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery: the
//!   recovered message is `6A ‖ M1 ‖ H(M1 ‖ challenge) ‖ trailer`, trailer `BC` = SHA-1 or
//!   `xx CC` with the hash identifier `xx` (33 SHA-1, 38 SHA-224, 34 SHA-256, 36 SHA-384,
//!   35 SHA-512).
//! - ECDSA: a plain `r ‖ s` signature over `H(challenge)`, `H` from the
//!   ActiveAuthenticationInfo in DG14 (default SHA-256). Named curves brainpoolP256r1 and P-256
//!   are verified here; keys with other explicit parameters go through an
//!   [`ExplicitCurveVerifier`] (the generic verifier of passive authentication).

use digest::Digest;
use zeroize::Zeroizing;

use crate::apdu::{CommandApdu, StatusWord};
use crate::crypto::RandomSource;
use crate::crypto::ec::Curve;
use crate::error::{Error, Result};
use crate::lds::dg15::{Dg15, PublicKey};
use crate::protocol::ChipStep;
use crate::security_infos::ActiveAuthenticationInfo;
use crate::tlv;
use crate::transport::CardTransport;

const PROTOCOL: &str = "Active Authentication";

/// Verifies an ECDSA signature for a key this crate has no arithmetic for:
/// `(spki_der, digest, signature r‖s) -> valid?`.
pub type ExplicitCurveVerifier<'a> = &'a dyn Fn(&[u8], &[u8], &[u8]) -> Result<bool>;

/// Hash functions AA signatures use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            Self::Sha1 => run::<sha1::Sha1>(parts),
            Self::Sha224 => run::<sha2::Sha224>(parts),
            Self::Sha256 => run::<sha2::Sha256>(parts),
            Self::Sha384 => run::<sha2::Sha384>(parts),
            Self::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The ISO/IEC 10118-3 hash identifier used in a two-byte 9796-2 trailer.
    fn trailer_id(self) -> u8 {
        match self {
            Self::Sha1 => 0x33,
            Self::Sha224 => 0x38,
            Self::Sha256 => 0x34,
            Self::Sha384 => 0x36,
            Self::Sha512 => 0x35,
        }
    }

    fn from_trailer_id(id: u8) -> Option<Self> {
        [
            Self::Sha1,
            Self::Sha224,
            Self::Sha256,
            Self::Sha384,
            Self::Sha512,
        ]
        .into_iter()
        .find(|h| h.trailer_id() == id)
    }

    /// The hash of an ECDSA signature algorithm OID (DER content): BSI ecdsa-plain-SHAx
    /// (`0.4.0.127.0.7.1.1.4.1.x`) or X9.62 ecdsa-with-SHAx.
    pub fn from_signature_oid(oid: &[u8]) -> Option<Self> {
        const PLAIN: &[u8] = &[0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01];
        const X962_SHA1: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x01];
        const X962_SHA2: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03];
        if oid == X962_SHA1 {
            return Some(Self::Sha1);
        }
        if let Some([n]) = oid.strip_prefix(PLAIN) {
            return match n {
                1 => Some(Self::Sha1),
                2 => Some(Self::Sha224),
                3 => Some(Self::Sha256),
                4 => Some(Self::Sha384),
                5 => Some(Self::Sha512),
                _ => None,
            };
        }
        if let Some([n]) = oid.strip_prefix(X962_SHA2) {
            return match n {
                1 => Some(Self::Sha224),
                2 => Some(Self::Sha256),
                3 => Some(Self::Sha384),
                4 => Some(Self::Sha512),
                _ => None,
            };
        }
        None
    }
}

/// `x^exp mod n`, all big-endian; the result is left-padded to the modulus length.
fn rsa_op(n: &[u8], exp: &[u8], x: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
    use crypto_bigint::{BoxedUint, Odd};
    let k = n.len();
    if k == 0 || x.len() > k || exp.is_empty() {
        return Err(Error::Crypto {
            what: "RSA input longer than the modulus",
        });
    }
    let mut xp = vec![0u8; k - x.len()];
    xp.extend_from_slice(x);
    if xp.as_slice() >= n {
        return Err(Error::Crypto {
            what: "RSA input not below the modulus",
        });
    }
    let modulus = BoxedUint::from_be_slice_vartime(n);
    let bits = modulus.bits_precision();
    let odd: Option<Odd<BoxedUint>> = Odd::new(modulus).into();
    let odd = odd.ok_or(Error::Crypto {
        what: "RSA modulus is even",
    })?;
    let params = BoxedMontyParams::new(odd);
    let base = BoxedUint::from_be_slice(&xp, bits).map_err(|_| Error::Crypto {
        what: "RSA input does not fit",
    })?;
    let e = BoxedUint::from_be_slice_vartime(exp);
    let r = BoxedMontyForm::new(base, &params).pow(&e).retrieve();
    let bytes = r.to_be_bytes();
    // `to_be_bytes` is at limb precision; keep the low k bytes.
    let start = bytes.len().saturating_sub(k);
    let mut out = Zeroizing::new(vec![0u8; k.saturating_sub(bytes.len())]);
    out.extend_from_slice(&bytes[start..]);
    Ok(out)
}

/// Verifies an ISO/IEC 9796-2 scheme 1 signature over `challenge` (message recovery).
pub fn verify_rsa_9796_2(n: &[u8], e: &[u8], challenge: &[u8], signature: &[u8]) -> Result<()> {
    let fail = |what| Error::AuthenticationFailed {
        protocol: PROTOCOL,
        what,
    };
    if signature.is_empty() || signature.len() > n.len() {
        return Err(fail("signature length does not match the key"));
    }
    let m = rsa_op(n, e, signature).map_err(|_| fail("signature is not below the modulus"))?;
    let k = m.len();
    let (hash, trailer_len) = match m.last() {
        Some(0xBC) => (HashAlg::Sha1, 1),
        Some(0xCC) if k >= 2 => (
            HashAlg::from_trailer_id(m[k - 2]).ok_or(fail("unknown hash in the trailer"))?,
            2,
        ),
        _ => return Err(fail("recovered message has no valid trailer")),
    };
    let hl = hash.output_len();
    if k < 1 + hl + trailer_len || m[0] != 0x6A {
        return Err(fail("recovered message has no valid header"));
    }
    let m1 = &m[1..k - trailer_len - hl];
    let d = &m[k - trailer_len - hl..k - trailer_len];
    if crate::crypto::ct_eq(&hash.digest(&[m1, challenge]), d) {
        Ok(())
    } else {
        Err(fail("signature does not cover the challenge"))
    }
}

/// Signs `challenge` with ISO/IEC 9796-2 scheme 1 (chip side; `d` = private exponent).
pub fn sign_rsa_9796_2(
    n: &[u8],
    d: &[u8],
    hash: HashAlg,
    challenge: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    let k = n.len();
    let trailer: &[u8] = if hash == HashAlg::Sha1 {
        &[0xBC]
    } else {
        &[hash.trailer_id(), 0xCC]
    };
    let m1_len = k
        .checked_sub(1 + hash.output_len() + trailer.len())
        .filter(|l| *l > 0)
        .ok_or(Error::Crypto {
            what: "RSA key too small for the hash",
        })?;
    let mut m1 = Zeroizing::new(vec![0u8; m1_len]);
    rng.fill(&mut m1)?;
    let mut m = Zeroizing::new(vec![0x6A]);
    m.extend_from_slice(&m1);
    m.extend_from_slice(&hash.digest(&[&m1, challenge]));
    m.extend_from_slice(trailer);
    Ok(rsa_op(n, d, &m)?.to_vec())
}

/// Accepts a plain `r ‖ s` signature, or a DER `SEQUENCE { r, s }` some chips send, as `r ‖ s`.
fn plain_signature(sig: &[u8], field_len: usize) -> Option<Vec<u8>> {
    if sig.len() == 2 * field_len {
        return Some(sig.to_vec());
    }
    let seq = tlv::parse_exact(sig, 0x30).ok()?;
    let mut it = seq.children();
    let (Some(Ok(r)), Some(Ok(s)), None) = (it.next(), it.next(), it.next()) else {
        return None;
    };
    let mut out = Vec::with_capacity(2 * field_len);
    for i in [r, s] {
        let v = i.value;
        let skip = v.iter().take_while(|b| **b == 0).count();
        let v = &v[skip..];
        if i.tag != 0x02 || v.len() > field_len {
            return None;
        }
        out.extend(std::iter::repeat_n(0, field_len - v.len()));
        out.extend_from_slice(v);
    }
    Some(out)
}

/// Verifies the answer to `challenge` against the DG15 key.
pub fn verify(
    dg15: &Dg15,
    info: Option<&ActiveAuthenticationInfo>,
    challenge: &[u8],
    signature: &[u8],
    explicit: Option<ExplicitCurveVerifier<'_>>,
) -> Result<()> {
    let hash = match info {
        Some(i) => {
            HashAlg::from_signature_oid(&i.signature_algorithm).ok_or(Error::Unsupported {
                what: "Active Authentication signature algorithm",
            })?
        }
        None => HashAlg::Sha256,
    };
    let ok = match dg15.public_key()? {
        PublicKey::Rsa { n, e } => return verify_rsa_9796_2(&n, &e, challenge, signature),
        PublicKey::Ec {
            curve: Some(curve),
            point,
        } => {
            let Some(sig) = plain_signature(signature, curve.field_len()) else {
                return Err(Error::AuthenticationFailed {
                    protocol: PROTOCOL,
                    what: "ECDSA signature has the wrong size",
                });
            };
            curve.ecdsa_verify(&point, &hash.digest(&[challenge]), &sig)?
        }
        PublicKey::Ec { curve: None, .. } => match explicit {
            Some(verify) => verify(&dg15.spki, &hash.digest(&[challenge]), signature)?,
            None => {
                return Err(Error::Unsupported {
                    what: "ECDSA key with explicit curve parameters (needs the generic verifier)",
                });
            }
        },
    };
    if ok {
        Ok(())
    } else {
        Err(Error::AuthenticationFailed {
            protocol: PROTOCOL,
            what: "signature does not verify",
        })
    }
}

/// Terminal side: sends a random 8-byte challenge and verifies the signature.
pub fn authenticate<T: CardTransport + ?Sized>(
    t: &mut T,
    dg15: &Dg15,
    info: Option<&ActiveAuthenticationInfo>,
    rng: &mut dyn RandomSource,
    explicit: Option<ExplicitCurveVerifier<'_>>,
) -> Result<()> {
    let mut challenge = [0u8; 8];
    rng.fill(&mut challenge)?;
    // An RSA signature as long as a 2048-bit modulus does not fit a short protected answer:
    // ask with an extended Le then (the reader must carry it).
    let le = match dg15.public_key() {
        Ok(PublicKey::Rsa { n, .. }) if n.len() > 223 => crate::apdu::EXTENDED_LE_MAX,
        _ => 256,
    };
    let sig = t
        .transmit(
            &CommandApdu::new(0x00, 0x88, 0x00, 0x00)
                .with_data(challenge.to_vec())
                .with_le(le),
        )?
        .ok("INTERNAL AUTHENTICATE")?;
    verify(dg15, info, &challenge, &sig, explicit)
}

/// Chip side: the private key behind DG15.
pub enum AaChip {
    Rsa {
        n: Vec<u8>,
        d: Zeroizing<Vec<u8>>,
        hash: HashAlg,
    },
    Ecdsa {
        curve: Curve,
        private: Zeroizing<Vec<u8>>,
        hash: HashAlg,
    },
}

impl std::fmt::Debug for AaChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa { n, hash, .. } => write!(f, "AaChip::Rsa({} bits, {hash:?})", n.len() * 8),
            Self::Ecdsa { curve, hash, .. } => write!(f, "AaChip::Ecdsa({curve:?}, {hash:?})"),
        }
    }
}

impl AaChip {
    /// Answers INTERNAL AUTHENTICATE (`88`); other instructions get `6D00`.
    pub fn handle(&self, cmd: &CommandApdu, rng: &mut dyn RandomSource) -> Result<ChipStep> {
        if cmd.ins != 0x88 {
            return Ok(ChipStep::status(StatusWord::INS_NOT_SUPPORTED));
        }
        if cmd.data.len() != 8 {
            return Ok(ChipStep::status(StatusWord::WRONG_LENGTH));
        }
        let sig = match self {
            Self::Rsa { n, d, hash } => sign_rsa_9796_2(n, d, *hash, &cmd.data, rng)?,
            Self::Ecdsa {
                curve,
                private,
                hash,
            } => curve.ecdsa_sign(private, &hash.digest(&[&cmd.data]), rng)?,
        };
        Ok(ChipStep::reply(sig, StatusWord::SUCCESS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::OsRandom;
    use crate::lds::dg15::{ec_spki_named, rsa_spki};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // A 1024-bit test key generated for these tests (e = 65537).
    const N: &str = "C0F7456A777E66200B8156A7AA7B0AD2F26425EAEF4D3443BD68FE3C4B2EEB8F033ED40BCC09AABFAFA0BE8B92593FB8BD9751779AE4E80F9F42AA576376B10C474A772B297B76CAFE754612B3A7B3F5428001FBA0686DFE8C8094BB0E8DDABF1398D54933EB948D2120201263BCC099698B1357D9C86121D9448E27DFC03545";
    const D: &str = "BA9D6850728797145E8C12D5CB957AFE4ED473A7250EB100E1E8EC163B4F8117A9B7D532237D25D8836D1D59B58B0289133187E3F7B47088CB2899BC31C0D3AEB0E9119EB5B34441F82776449BB0CA13C1C056ABFB165A6DDD6C7464B99572A7A34555F8044A4E6199DFA062B305C864A261893A77801795D0EC66640B591501";

    struct Chip(AaChip);

    impl CardTransport for Chip {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            Ok(self
                .0
                .handle(&CommandApdu::decode(c)?, &mut OsRandom)?
                .response
                .encode())
        }
        fn describe(&self) -> String {
            "aa chip".into()
        }
    }

    #[test]
    fn rsa_round_trip_sha1_and_sha256_and_a_clone_fails() {
        let dg15 = Dg15 {
            spki: rsa_spki(&h(N), &[1, 0, 1]),
        };
        for hash in [HashAlg::Sha1, HashAlg::Sha256] {
            let mut chip = Chip(AaChip::Rsa {
                n: h(N),
                d: Zeroizing::new(h(D)),
                hash,
            });
            authenticate(&mut chip, &dg15, None, &mut OsRandom, None).unwrap();
        }
        // A chip with another private exponent (a clone) fails.
        let mut wrong_d = h(D);
        wrong_d[100] ^= 1;
        let mut clone = Chip(AaChip::Rsa {
            n: h(N),
            d: Zeroizing::new(wrong_d),
            hash: HashAlg::Sha256,
        });
        let err = authenticate(&mut clone, &dg15, None, &mut OsRandom, None).unwrap_err();
        assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err:?}");
    }

    #[test]
    fn rsa_signature_must_cover_this_challenge() {
        let sig =
            sign_rsa_9796_2(&h(N), &h(D), HashAlg::Sha256, b"12345678", &mut OsRandom).unwrap();
        verify_rsa_9796_2(&h(N), &[1, 0, 1], b"12345678", &sig).unwrap();
        assert!(verify_rsa_9796_2(&h(N), &[1, 0, 1], b"12345679", &sig).is_err());
        assert!(verify_rsa_9796_2(&h(N), &[1, 0, 1], b"12345678", &[]).is_err());
        assert!(verify_rsa_9796_2(&h(N), &[1, 0, 1], b"12345678", &[0xFF; 128]).is_err());
    }

    #[test]
    fn ecdsa_round_trip_both_curves_with_hash_from_dg14() {
        for curve in [Curve::BrainpoolP256r1, Curve::NistP256] {
            let sk = curve.random_scalar(&mut OsRandom).unwrap();
            let pk = curve.mul(&sk, &curve.generator()).unwrap();
            let dg15 = Dg15 {
                spki: ec_spki_named(curve, &pk),
            };
            // ecdsa-plain-SHA384 in DG14.
            let info = ActiveAuthenticationInfo {
                version: 1,
                signature_algorithm: h("04007F00070101040104"),
            };
            let mut chip = Chip(AaChip::Ecdsa {
                curve,
                private: sk.clone(),
                hash: HashAlg::Sha384,
            });
            authenticate(&mut chip, &dg15, Some(&info), &mut OsRandom, None).unwrap();
            // Without the info the terminal assumes SHA-256: the signature no longer verifies.
            let err = authenticate(&mut chip, &dg15, None, &mut OsRandom, None).unwrap_err();
            assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err:?}");
        }
    }

    #[test]
    fn explicit_curves_use_the_seam() {
        let dg15 = Dg15 {
            spki: ec_spki_named(Curve::NistP256, &Curve::NistP256.generator()),
        };
        // Pretend the curve is unknown by swapping the curve OID for brainpoolP512r1's.
        let mut spki = dg15.spki.clone();
        let pos = spki
            .windows(8)
            .position(|w| w == crate::lds::dg15::OID_P256)
            .unwrap();
        spki.splice(
            pos..pos + 8,
            [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01],
        );
        let dg15 = Dg15 { spki };
        assert!(matches!(
            verify(&dg15, None, b"12345678", &[0; 64], None),
            Err(Error::Unsupported { .. })
        ));
        let yes = |_: &[u8], _: &[u8], _: &[u8]| Ok(true);
        verify(&dg15, None, b"12345678", &[0; 64], Some(&yes)).unwrap();
    }

    #[test]
    fn der_signatures_are_accepted() {
        let mut plain = vec![0u8; 64];
        plain[31] = 5;
        plain[63] = 7;
        let der = h("3006020105020107");
        assert_eq!(plain_signature(&der, 32), Some(plain));
        assert_eq!(plain_signature(&h("3003020105"), 32), None);
    }
}
