//! brainpoolP256r1 arithmetic the chip needs (PACE Generic Mapping, ECDH for CA, key pairs),
//! over the `bp256` crate.

use bp256::BrainpoolP256r1;
use bp256::Scalar;
use bp256::elliptic_curve::ff::PrimeField;
use bp256::elliptic_curve::sec1::ToSec1Point;
use bp256::elliptic_curve::{FieldBytes, PublicKey};
use bp256::r1::{AffinePoint, ProjectivePoint};
use zeroize::Zeroizing;

use crate::random::ChipRandom;

/// Bytes of a field element / scalar.
pub const FIELD_BYTES: usize = 32;

/// A private scalar that is zeroized on drop.
#[derive(Clone)]
pub struct SecretScalar(Scalar);

impl std::fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretScalar(..)")
    }
}

impl Drop for SecretScalar {
    fn drop(&mut self) {
        self.0 = Scalar::ZERO;
    }
}

impl SecretScalar {
    /// A big-endian scalar in 1..n; `None` for zero or out of range.
    pub fn from_be(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != FIELD_BYTES {
            return None;
        }
        let mut repr = FieldBytes::<BrainpoolP256r1>::default();
        repr.copy_from_slice(bytes);
        let s: Option<Scalar> = Scalar::from_repr(repr).into();
        s.filter(|s| !bool::from(s.is_zero())).map(Self)
    }

    /// A uniformly random non-zero scalar (rejection sampling).
    pub fn random(rng: &mut ChipRandom) -> Self {
        loop {
            let b = rng.bytes(FIELD_BYTES);
            if let Some(s) = Self::from_be(&b) {
                return s;
            }
        }
    }

    pub fn scalar(&self) -> &Scalar {
        &self.0
    }

    /// Big-endian bytes.
    pub fn to_be(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.to_repr().to_vec())
    }

    /// `self · G`.
    pub fn public(&self) -> ProjectivePoint {
        ProjectivePoint::GENERATOR * self.0
    }
}

/// Decodes an uncompressed SEC1 point and checks it is on the curve and not the identity.
pub fn decode_point(bytes: &[u8]) -> Option<ProjectivePoint> {
    if bytes.first() != Some(&0x04) || bytes.len() != 1 + 2 * FIELD_BYTES {
        return None;
    }
    PublicKey::<BrainpoolP256r1>::from_sec1_bytes(bytes)
        .ok()
        .map(|p| p.to_projective())
}

/// Encodes a point uncompressed (`04 ‖ X ‖ Y`); the identity encodes as `00`.
pub fn encode_point(p: &ProjectivePoint) -> Vec<u8> {
    let a: AffinePoint = p.to_affine();
    a.to_sec1_point(false).as_bytes().to_vec()
}

/// The X coordinate of a point (the ECDH shared secret); `None` for the identity.
pub fn x_coordinate(p: &ProjectivePoint) -> Option<Zeroizing<Vec<u8>>> {
    let enc = encode_point(p);
    (enc.len() == 1 + 2 * FIELD_BYTES).then(|| Zeroizing::new(enc[1..1 + FIELD_BYTES].to_vec()))
}

/// Integer nonce `s` (16 bytes) as a scalar, for `G~ = s·G + H`.
pub fn nonce_scalar(s: &[u8]) -> Option<Scalar> {
    let mut repr = FieldBytes::<BrainpoolP256r1>::default();
    let start = repr.len().checked_sub(s.len())?;
    repr[start..].copy_from_slice(s);
    Scalar::from_repr(repr).into()
}
