//! Elliptic-curve operations the chip protocols need, on the named curves the CCCD uses
//! (brainpoolP256r1, and NIST P-256 for completeness), over byte encodings: uncompressed SEC1
//! points (`04 ‖ X ‖ Y`) and big-endian scalars. PACE Generic Mapping needs arbitrary base points,
//! which is why this works on raw points instead of fixed-generator key types.
//!
//! Curves with explicit domain parameters (as in some DG14/DG15 keys) are not handled here; the
//! generic verifier for them lives with passive authentication.

use elliptic_curve::point::AffineCoordinates;
use elliptic_curve::{
    AffinePoint, CurveArithmetic, CurveGroup, Field, FieldBytes, Group, PrimeField,
    ProjectivePoint, Scalar,
};
use zeroize::Zeroizing;

use crate::crypto::RandomSource;
use crate::error::{Error, Result};

/// A named curve with arithmetic support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    BrainpoolP256r1,
    NistP256,
}

impl Curve {
    /// Bytes of a field element and of a scalar.
    pub fn field_len(self) -> usize {
        32
    }

    /// Bytes of an uncompressed point.
    pub fn point_len(self) -> usize {
        1 + 2 * self.field_len()
    }

    /// The PACE standardized domain parameter id (BSI TR-03110-3 table 4).
    pub fn pace_param_id(self) -> u8 {
        match self {
            Self::NistP256 => 12,
            Self::BrainpoolP256r1 => 13,
        }
    }

    /// The curve of a standardized domain parameter id, if supported.
    pub fn from_param_id(id: u64) -> Option<Self> {
        match id {
            12 => Some(Self::NistP256),
            13 => Some(Self::BrainpoolP256r1),
            _ => None,
        }
    }

    /// The curve's generator as an uncompressed point.
    pub fn generator(self) -> Vec<u8> {
        match self {
            Self::BrainpoolP256r1 => generator::<bp256::BrainpoolP256r1>(),
            Self::NistP256 => generator::<p256::NistP256>(),
        }
    }

    /// Checks that `point` is an uncompressed point on the curve (not the identity).
    pub fn validate_point(self, point: &[u8]) -> Result<()> {
        match self {
            Self::BrainpoolP256r1 => decode_point::<bp256::BrainpoolP256r1>(point).map(|_| ()),
            Self::NistP256 => decode_point::<p256::NistP256>(point).map(|_| ()),
        }
    }

    /// A uniformly random non-zero scalar (rejection sampling).
    pub fn random_scalar(self, rng: &mut dyn RandomSource) -> Result<Zeroizing<Vec<u8>>> {
        for _ in 0..64 {
            let mut buf = Zeroizing::new(vec![0u8; self.field_len()]);
            rng.fill(&mut buf)?;
            let ok = match self {
                Self::BrainpoolP256r1 => decode_scalar::<bp256::BrainpoolP256r1>(&buf).is_ok(),
                Self::NistP256 => decode_scalar::<p256::NistP256>(&buf).is_ok(),
            };
            if ok {
                return Ok(buf);
            }
        }
        Err(Error::Crypto {
            what: "random generator gave no valid scalar",
        })
    }

    /// `k · base` as an uncompressed point (`base` = [`Curve::generator`] for a public key).
    pub fn mul(self, k: &[u8], base: &[u8]) -> Result<Vec<u8>> {
        match self {
            Self::BrainpoolP256r1 => mul::<bp256::BrainpoolP256r1>(k, base),
            Self::NistP256 => mul::<p256::NistP256>(k, base),
        }
    }

    /// `s · G + h`: the PACE Generic Mapping (ICAO 9303-11 §4.4.3.3.1).
    pub fn map_generic(self, s: &[u8], h: &[u8]) -> Result<Vec<u8>> {
        match self {
            Self::BrainpoolP256r1 => map_generic::<bp256::BrainpoolP256r1>(s, h),
            Self::NistP256 => map_generic::<p256::NistP256>(s, h),
        }
    }

    /// ECDH: the x-coordinate of `k · peer` (the shared secret of ICAO 9303-11 §9.6).
    pub fn ecdh(self, k: &[u8], peer: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let point = Zeroizing::new(self.mul(k, peer)?);
        Ok(Zeroizing::new(point[1..1 + self.field_len()].to_vec()))
    }

    /// Verifies a plain ECDSA signature (`r ‖ s`) over a message digest.
    pub fn ecdsa_verify(self, public: &[u8], digest: &[u8], signature: &[u8]) -> Result<bool> {
        match self {
            Self::BrainpoolP256r1 => {
                ecdsa_verify::<bp256::BrainpoolP256r1>(public, digest, signature)
            }
            Self::NistP256 => ecdsa_verify::<p256::NistP256>(public, digest, signature),
        }
    }

    /// Signs a digest with ECDSA (`r ‖ s`); the chip side of Active Authentication.
    pub fn ecdsa_sign(
        self,
        private: &[u8],
        digest: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<u8>> {
        match self {
            Self::BrainpoolP256r1 => ecdsa_sign::<bp256::BrainpoolP256r1>(private, digest, rng),
            Self::NistP256 => ecdsa_sign::<p256::NistP256>(private, digest, rng),
        }
    }
}

fn field_bytes<C: CurveArithmetic>(bytes: &[u8]) -> Result<FieldBytes<C>> {
    FieldBytes::<C>::try_from(bytes).map_err(|_| Error::Crypto {
        what: "field element has the wrong length",
    })
}

fn decode_scalar<C: CurveArithmetic>(bytes: &[u8]) -> Result<Scalar<C>> {
    if bytes.len() > 32 {
        return Err(Error::Crypto {
            what: "scalar longer than the curve order",
        });
    }
    // Left-pad short values (a 16-byte PACE nonce is a valid scalar).
    let mut padded = Zeroizing::new(vec![0u8; 32 - bytes.len()]);
    padded.extend_from_slice(bytes);
    let repr = field_bytes::<C>(&padded)?;
    let s: Option<Scalar<C>> = Scalar::<C>::from_repr(repr).into();
    let s = s.ok_or(Error::Crypto {
        what: "scalar not below the curve order",
    })?;
    if bool::from(s.is_zero()) {
        return Err(Error::Crypto {
            what: "scalar is zero",
        });
    }
    Ok(s)
}

fn decode_point<C: CurveArithmetic>(bytes: &[u8]) -> Result<ProjectivePoint<C>> {
    let bad = Error::Crypto {
        what: "not an uncompressed point on the curve",
    };
    let (first, rest) = bytes.split_first().ok_or(Error::Crypto {
        what: "empty point",
    })?;
    if *first != 0x04 || rest.len() != 64 {
        return Err(bad);
    }
    let x = field_bytes::<C>(&rest[..32])?;
    let y = field_bytes::<C>(&rest[32..])?;
    let p: Option<AffinePoint<C>> = AffinePoint::<C>::from_coordinates(&x, &y).into();
    let p = ProjectivePoint::<C>::from(p.ok_or(bad)?);
    if bool::from(p.is_identity()) {
        return Err(Error::Crypto {
            what: "point at infinity",
        });
    }
    Ok(p)
}

fn encode_point<C: CurveArithmetic>(p: &ProjectivePoint<C>) -> Result<Vec<u8>> {
    if bool::from(p.is_identity()) {
        return Err(Error::Crypto {
            what: "result is the point at infinity",
        });
    }
    let a = p.to_affine();
    let mut out = Vec::with_capacity(65);
    out.push(0x04);
    out.extend_from_slice(a.x().as_ref());
    out.extend_from_slice(a.y().as_ref());
    Ok(out)
}

fn generator<C: CurveArithmetic>() -> Vec<u8> {
    encode_point::<C>(&ProjectivePoint::<C>::generator()).unwrap_or_default()
}

fn mul<C: CurveArithmetic>(k: &[u8], base: &[u8]) -> Result<Vec<u8>> {
    let k = decode_scalar::<C>(k)?;
    let p = decode_point::<C>(base)?;
    encode_point::<C>(&(p * k))
}

fn map_generic<C: CurveArithmetic>(s: &[u8], h: &[u8]) -> Result<Vec<u8>> {
    let s = decode_scalar::<C>(s)?;
    let h = decode_point::<C>(h)?;
    encode_point::<C>(&(ProjectivePoint::<C>::generator() * s + h))
}

/// The digest as an integer mod n, truncated to the order's bit length (SEC1 §4.1.3 step 5 for
/// 256-bit orders: keep the leftmost 32 bytes; shorter digests are left-padded).
fn digest_scalar<C: CurveArithmetic>(digest: &[u8]) -> Result<Scalar<C>> {
    use elliptic_curve::ops::Reduce;
    let take = digest.len().min(32);
    let mut buf = vec![0u8; 32 - take];
    buf.extend_from_slice(&digest[..take]);
    Ok(<Scalar<C> as Reduce<FieldBytes<C>>>::reduce(
        &field_bytes::<C>(&buf)?,
    ))
}

fn ecdsa_verify<C: CurveArithmetic>(public: &[u8], digest: &[u8], sig: &[u8]) -> Result<bool> {
    use elliptic_curve::ops::{Invert, Reduce};
    let q = decode_point::<C>(public)?;
    if sig.len() != 64 {
        return Err(Error::Crypto {
            what: "ECDSA signature is not r ‖ s of the curve size",
        });
    }
    let (Ok(r), Ok(s)) = (
        decode_scalar::<C>(&sig[..32]),
        decode_scalar::<C>(&sig[32..]),
    ) else {
        return Ok(false);
    };
    let e = digest_scalar::<C>(digest)?;
    let w: Option<Scalar<C>> = Invert::invert(&s).into();
    let Some(w) = w else { return Ok(false) };
    let point = ProjectivePoint::<C>::generator() * (e * w) + q * (r * w);
    if bool::from(point.is_identity()) {
        return Ok(false);
    }
    let x = point.to_affine().x();
    let v = <Scalar<C> as Reduce<FieldBytes<C>>>::reduce(&x);
    Ok(v == r)
}

fn ecdsa_sign<C: CurveArithmetic>(
    private: &[u8],
    digest: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    use elliptic_curve::ops::{Invert, Reduce};
    let d = decode_scalar::<C>(private)?;
    let e = digest_scalar::<C>(digest)?;
    for _ in 0..64 {
        let mut kb = Zeroizing::new(vec![0u8; 32]);
        rng.fill(&mut kb)?;
        let Ok(k) = decode_scalar::<C>(&kb) else {
            continue;
        };
        let x = (ProjectivePoint::<C>::generator() * k).to_affine().x();
        let r = <Scalar<C> as Reduce<FieldBytes<C>>>::reduce(&x);
        let kinv: Option<Scalar<C>> = Invert::invert(&k).into();
        let Some(kinv) = kinv else { continue };
        let s = kinv * (e + r * d);
        if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
            continue;
        }
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(r.to_repr().as_ref());
        out.extend_from_slice(s.to_repr().as_ref());
        return Ok(out);
    }
    Err(Error::Crypto {
        what: "random generator gave no usable ECDSA nonce",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::OsRandom;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    #[test]
    fn appendix_g1_generic_mapping() {
        let c = Curve::BrainpoolP256r1;
        let sk_pcd = h("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99");
        let pk_picc = h(
            "04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57
            30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
        );
        let s = h("3F00C4D39D153F2B2A214A078D899B22");
        let hpt = c.mul(&sk_pcd, &pk_picc).unwrap();
        let g = c.map_generic(&s, &hpt).unwrap();
        assert_eq!(
            g,
            h(
                "04 8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2
                8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
            )
        );
        let sk2 = h("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595");
        let pk2_picc = h(
            "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB
            7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
        );
        let k = c.ecdh(&sk2, &pk2_picc).unwrap();
        assert_eq!(
            &k[..],
            h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
        );
    }

    #[test]
    fn rejects_bad_points_and_scalars() {
        let c = Curve::NistP256;
        let g = c.generator();
        assert!(c.validate_point(&g).is_ok());
        let mut off = g.clone();
        off[64] ^= 1;
        assert!(c.validate_point(&off).is_err());
        assert!(c.validate_point(&g[..64]).is_err());
        assert!(c.validate_point(&[]).is_err());
        assert!(c.mul(&[0; 32], &g).is_err());
        assert!(c.mul(&[0xFF; 32], &g).is_err());
    }

    #[test]
    fn ecdsa_sign_verify_both_curves() {
        for c in [Curve::BrainpoolP256r1, Curve::NistP256] {
            let d = c.random_scalar(&mut OsRandom).unwrap();
            let q = c.mul(&d, &c.generator()).unwrap();
            let digest = [0x5A; 32];
            let sig = c.ecdsa_sign(&d, &digest, &mut OsRandom).unwrap();
            assert!(c.ecdsa_verify(&q, &digest, &sig).unwrap());
            let mut other = digest;
            other[0] ^= 1;
            assert!(!c.ecdsa_verify(&q, &other, &sig).unwrap());
            assert!(!c.ecdsa_verify(&q, &digest, &[1; 64]).unwrap());
        }
    }
}
