//! Arithmetic on short-Weierstrass curves `y² = x³ + ax + b` over a prime field, with the domain
//! parameters given at run time. One code path serves every curve: named ones (P-256/384/521,
//! brainpoolP256r1/384r1/512r1) and explicit parameters taken only from a certificate, as the
//! Vietnamese CSCA uses.
//!
//! Field and scalar elements are `crypto-bigint`'s heap-backed Montgomery forms, so all the heavy
//! arithmetic is compiled (and optimised) in the dependency, not in our debug build. Points are
//! Jacobian; `u1·G + u2·Q` uses Shamir's trick. Everything here is **variable-time**: fine for
//! verifying public signatures, not for secrets (see [`super::ecdsa::EcPrivateKey::sign_prehash`]).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Limb, NonZero, Odd};

use super::curves::NamedCurve;
use crate::error::{Error, Result};

/// Largest field we accept (P-521 rounds up to 521 bits); bounds every length read from outside.
pub const MAX_FIELD_BITS: u32 = 571;
/// Smallest field we accept: anything below 160 bits is no signature scheme a CSCA would use.
pub const MIN_FIELD_BITS: u32 = 160;

type Fe = BoxedMontyForm;

/// Domain parameters `(p, a, b, G, n, h)` prepared for arithmetic.
#[derive(Clone)]
pub struct Curve {
    named: Option<NamedCurve>,
    precision: u32,
    field_bytes: usize,
    fp: BoxedMontyParams,
    fnp: BoxedMontyParams,
    p: BoxedUint,
    n: BoxedUint,
    a: Fe,
    b: Fe,
    g: AffinePoint,
    cofactor: BoxedUint,
}

impl std::fmt::Debug for Curve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Curve")
            .field("named", &self.named)
            .field("field_bits", &self.p.bit_width_vartime())
            .field("order_bits", &self.n.bit_width_vartime())
            .finish()
    }
}

/// A finite point in affine coordinates (field elements in Montgomery form).
#[derive(Clone, PartialEq, Eq)]
pub struct AffinePoint {
    x: Fe,
    y: Fe,
}

impl std::fmt::Debug for AffinePoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Public points only; printed as their retrieved coordinates for debugging tests.
        write!(f, "AffinePoint(x={:?})", self.x.retrieve())
    }
}

/// Jacobian point `(X:Y:Z)` ↔ affine `(X/Z², Y/Z³)`; `Z = 0` is the point at infinity.
#[derive(Clone)]
struct JacobianPoint {
    x: Fe,
    y: Fe,
    z: Fe,
}

/// Raw domain parameters as big-endian bytes, the shape they have in `SpecifiedECDomain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainBytes {
    pub p: Vec<u8>,
    pub a: Vec<u8>,
    pub b: Vec<u8>,
    /// The base point as a SEC1 encoding (compressed or uncompressed).
    pub g: Vec<u8>,
    pub n: Vec<u8>,
    /// Absent means 1, which is what every curve a CSCA uses has.
    pub cofactor: Option<Vec<u8>>,
}

fn bad(reason: &'static str) -> Error {
    Error::InvalidPublicKey {
        algorithm: "ECDSA",
        reason,
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Decodes hex of a compile-time constant; an odd length or non-hex digit is an error, not a panic.
pub(crate) fn hex_bytes(s: &str) -> Result<Vec<u8>> {
    let digits = s.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(bad("odd-length hex constant"));
    }
    let nibble = |c: u8| -> Result<u8> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(bad("non-hex digit in constant")),
        }
    };
    digits
        .chunks_exact(2)
        .map(|pair| Ok((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

impl Curve {
    /// The curve for a name, from its constants.
    pub fn named(curve: NamedCurve) -> Result<Curve> {
        let c = curve.constants();
        let (gx, gy) = (hex_bytes(c.gx)?, hex_bytes(c.gy)?);
        let p = hex_bytes(c.p)?;
        let field_bytes = strip_zeros(&p).len();
        let mut g = vec![0x04];
        g.extend(left_pad(strip_zeros(&gx), field_bytes)?);
        g.extend(left_pad(strip_zeros(&gy), field_bytes)?);
        let domain = DomainBytes {
            p,
            a: hex_bytes(c.a)?,
            b: hex_bytes(c.b)?,
            g,
            n: hex_bytes(c.n)?,
            cofactor: None,
        };
        // The constants are trusted: skip the order and primality proofs.
        let mut built = Curve::build(&domain, false)?;
        built.named = Some(curve);
        Ok(built)
    }

    /// Builds and checks a curve from explicit parameters (as found in a certificate). If they
    /// equal a named curve, [`Curve::name`] reports it.
    pub fn from_domain(d: &DomainBytes) -> Result<Curve> {
        Curve::build(d, true)
    }

    fn build(d: &DomainBytes, prove: bool) -> Result<Curve> {
        let p_bytes = strip_zeros(&d.p);
        let n_bytes = strip_zeros(&d.n);
        let max_bytes = MAX_FIELD_BITS.div_ceil(8) as usize;
        if p_bytes.len() > max_bytes || n_bytes.len() > max_bytes + 1 {
            return Err(bad("curve parameters larger than 571 bits"));
        }
        let p_raw = BoxedUint::from_be_slice_vartime(p_bytes);
        let p_bits = p_raw.bit_width_vartime();
        if !(MIN_FIELD_BITS..=MAX_FIELD_BITS).contains(&p_bits) {
            return Err(bad("field size outside 160..=571 bits"));
        }
        let n_raw = BoxedUint::from_be_slice_vartime(n_bytes);
        // Hasse: n ≤ p + 1 + 2√p, so n has at most one bit more than p.
        let precision = p_bits
            .max(n_raw.bit_width_vartime())
            .next_multiple_of(Limb::BITS);
        let p = resize(&p_raw, precision)?;
        let n = resize(&n_raw, precision)?;
        let p_odd: Odd<BoxedUint> =
            Option::from(Odd::new(p.clone())).ok_or_else(|| bad("field prime is even"))?;
        let n_odd: Odd<BoxedUint> =
            Option::from(Odd::new(n.clone())).ok_or_else(|| bad("group order is even"))?;
        if n.bit_width_vartime() < MIN_FIELD_BITS {
            return Err(bad("group order too small"));
        }
        let fp = BoxedMontyParams::new_vartime(p_odd);
        let fnp = BoxedMontyParams::new_vartime(n_odd);
        let field_bytes = p_bits.div_ceil(8) as usize;
        let a = field_from_bytes(&d.a, &p, precision, &fp)?;
        let b = field_from_bytes(&d.b, &p, precision, &fp)?;
        let cofactor = match &d.cofactor {
            None => BoxedUint::one_with_precision(precision),
            Some(h) => {
                let h = strip_zeros(h);
                if h.is_empty() || h.len() > 8 {
                    return Err(bad("cofactor out of range"));
                }
                resize(&BoxedUint::from_be_slice_vartime(h), precision)?
            }
        };
        let mut curve = Curve {
            named: None,
            precision,
            field_bytes,
            fp: fp.clone(),
            fnp,
            p,
            n,
            a,
            b,
            g: AffinePoint {
                x: Fe::zero(&fp),
                y: Fe::zero(&fp),
            },
            cofactor,
        };
        // 4a³ + 27b² ≠ 0: the curve is not singular.
        let a3 = curve.a.square().mul(&curve.a);
        let disc = curve
            .small(4)?
            .mul(&a3)
            .add(&curve.small(27)?.mul(&curve.b.square()));
        if bool::from(disc.is_zero()) {
            return Err(bad("singular curve"));
        }
        // G on the curve is checked here, before anything is proven about p: for a composite p
        // the check is meaningless but harmless, and the proof below rejects the curve.
        curve.g = curve.decode_point(&d.g)?;
        curve.named = NamedCurve::ALL
            .into_iter()
            .find(|c| Curve::named_domain_equals(*c, &curve).unwrap_or(false));
        // Parameters equal to a named curve need no proof (their constants are trusted); this
        // keeps a CSCA with explicit brainpoolP512r1 parameters as cheap as a named one.
        if prove && curve.named.is_none() {
            // p prime (Fermat, base 2): a composite "field" makes every equation meaningless.
            let two = Fe::new(resize(&BoxedUint::from(2u8), precision)?, &curve.fp);
            let p_minus_1 = curve
                .p
                .wrapping_sub(BoxedUint::one_with_precision(precision));
            if two.pow(&p_minus_1).retrieve() != BoxedUint::one_with_precision(precision) {
                return Err(bad("field modulus is not prime"));
            }
            // n·G = ∞: n is the order of G, which the verification equation relies on.
            if !curve.mul(&curve.n.clone(), &curve.g).is_infinity() {
                return Err(bad("base point does not have the stated order"));
            }
        }
        Ok(curve)
    }

    fn named_domain_equals(named: NamedCurve, curve: &Curve) -> Result<bool> {
        let c = named.constants();
        let eq = |hex: &str, value: &BoxedUint| -> Result<bool> {
            Ok(strip_zeros(&hex_bytes(hex)?) == strip_zeros(&value.to_be_bytes()))
        };
        Ok(eq(c.p, &curve.p)?
            && eq(c.a, &curve.a.retrieve())?
            && eq(c.b, &curve.b.retrieve())?
            && eq(c.gx, &curve.g.x.retrieve())?
            && eq(c.gy, &curve.g.y.retrieve())?
            && eq(c.n, &curve.n)?
            && curve.cofactor == BoxedUint::one_with_precision(curve.precision))
    }

    /// The named curve these parameters equal, if any.
    pub fn name(&self) -> Option<NamedCurve> {
        self.named
    }

    /// A human name: the curve's name, or `explicit-<bits>` for unknown parameters.
    pub fn display_name(&self) -> String {
        match self.named {
            Some(c) => c.name().to_owned(),
            None => format!("explicit-{}", self.p.bit_width_vartime()),
        }
    }

    /// Bytes of one field element (coordinate).
    pub fn field_bytes(&self) -> usize {
        self.field_bytes
    }

    /// Bytes of one scalar (signature half in the plain format).
    pub fn order_bytes(&self) -> usize {
        self.n.bit_width_vartime().div_ceil(8) as usize
    }

    /// Bits of the group order `n`.
    pub fn order_bits(&self) -> u32 {
        self.n.bit_width_vartime()
    }

    /// The group order as a reduced integer.
    pub(crate) fn order(&self) -> &BoxedUint {
        &self.n
    }

    /// Bits of the integers this curve works with (a multiple of the limb size).
    pub fn precision(&self) -> u32 {
        self.precision
    }

    pub(crate) fn scalar_params(&self) -> &BoxedMontyParams {
        &self.fnp
    }

    /// The base point.
    pub fn generator(&self) -> &AffinePoint {
        &self.g
    }

    /// The parameters back as bytes, base point uncompressed, for encoding `SpecifiedECDomain`.
    pub fn domain_bytes(&self) -> DomainBytes {
        let fb = self.field_bytes;
        DomainBytes {
            p: fixed_be(&self.p, fb),
            a: fixed_be(&self.a.retrieve(), fb),
            b: fixed_be(&self.b.retrieve(), fb),
            g: self.encode_point(&self.g),
            n: strip_zeros(&self.n.to_be_bytes()).to_vec(),
            cofactor: Some(strip_zeros(&self.cofactor.to_be_bytes()).to_vec()),
        }
    }

    fn small(&self, v: u8) -> Result<Fe> {
        Ok(Fe::new(
            resize(&BoxedUint::from(v), self.precision)?,
            &self.fp,
        ))
    }

    /// Decodes a SEC1 point (`04‖X‖Y` or compressed `02/03‖X`) and checks it lies on the curve.
    /// The point at infinity (`00`) is rejected: no public key or base point may be it.
    pub fn decode_point(&self, bytes: &[u8]) -> Result<AffinePoint> {
        let fb = self.field_bytes;
        let (tag, rest) = bytes.split_first().ok_or_else(|| bad("empty point"))?;
        let point = match *tag {
            0x04 if rest.len() == 2 * fb => {
                let x = field_from_bytes(&rest[..fb], &self.p, self.precision, &self.fp)?;
                let y = field_from_bytes(&rest[fb..], &self.p, self.precision, &self.fp)?;
                AffinePoint { x, y }
            }
            0x02 | 0x03 if rest.len() == fb => {
                let x = field_from_bytes(rest, &self.p, self.precision, &self.fp)?;
                let y = self.lift_x(&x, *tag == 0x03)?;
                AffinePoint { x, y }
            }
            0x00 => return Err(bad("point at infinity")),
            _ => return Err(bad("point encoding has wrong tag or length")),
        };
        if !self.is_on_curve(&point) {
            return Err(bad("point not on the curve"));
        }
        Ok(point)
    }

    /// SEC1 uncompressed encoding `04‖X‖Y`.
    pub fn encode_point(&self, point: &AffinePoint) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 2 * self.field_bytes);
        out.push(0x04);
        out.extend(fixed_be(&point.x.retrieve(), self.field_bytes));
        out.extend(fixed_be(&point.y.retrieve(), self.field_bytes));
        out
    }

    /// `y` for `x` with the requested parity; only for p ≡ 3 (mod 4), which all named curves are.
    fn lift_x(&self, x: &Fe, odd: bool) -> Result<Fe> {
        if self.p.as_words().first().copied().unwrap_or(0) & 3 != 3 {
            return Err(bad("compressed point on a field with p ≢ 3 mod 4"));
        }
        let rhs = x.square().mul(x).add(&self.a.mul(x)).add(&self.b);
        let exp = self
            .p
            .wrapping_add(BoxedUint::one_with_precision(self.precision))
            .shr_vartime(2)
            .ok_or_else(|| bad("exponent"))?;
        let y = rhs.pow(&exp);
        if y.square() != rhs {
            return Err(bad("compressed x has no point"));
        }
        let y_odd = y.retrieve().as_words().first().copied().unwrap_or(0) & 1 == 1;
        Ok(if y_odd == odd { y } else { y.neg() })
    }

    /// `y² = x³ + ax + b`.
    pub fn is_on_curve(&self, p: &AffinePoint) -> bool {
        let rhs = p.x.square().mul(&p.x).add(&self.a.mul(&p.x)).add(&self.b);
        p.y.square() == rhs
    }

    /// Checks a public key: on the curve (done by decoding) and, for cofactor ≠ 1, in the
    /// subgroup of order n.
    pub fn check_public_point(&self, q: &AffinePoint) -> Result<()> {
        if self.cofactor != BoxedUint::one_with_precision(self.precision)
            && !self.mul(&self.n.clone(), q).is_infinity()
        {
            return Err(bad("public point not in the prime-order subgroup"));
        }
        Ok(())
    }

    fn to_jacobian(&self, p: &AffinePoint) -> JacobianPoint {
        JacobianPoint {
            x: p.x.clone(),
            y: p.y.clone(),
            z: Fe::one(&self.fp),
        }
    }

    fn infinity(&self) -> JacobianPoint {
        JacobianPoint {
            x: Fe::one(&self.fp),
            y: Fe::one(&self.fp),
            z: Fe::zero(&self.fp),
        }
    }

    fn double(&self, p: &JacobianPoint) -> JacobianPoint {
        if p.is_infinity() || bool::from(p.y.is_zero()) {
            return self.infinity();
        }
        let xx = p.x.square();
        let yy = p.y.square();
        let yyyy = yy.square();
        let zz = p.z.square();
        // S = 4·X·Y², M = 3·X² + a·Z⁴
        let s = p.x.mul(&yy).double().double();
        let m = xx.double().add(&xx).add(&self.a.mul(&zz.square()));
        let x3 = m.square().sub(&s.double());
        let y3 = m.mul(&s.sub(&x3)).sub(&yyyy.double().double().double());
        let z3 = p.y.mul(&p.z).double();
        JacobianPoint {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    fn add(&self, p: &JacobianPoint, q: &JacobianPoint) -> JacobianPoint {
        if p.is_infinity() {
            return q.clone();
        }
        if q.is_infinity() {
            return p.clone();
        }
        let z1z1 = p.z.square();
        let z2z2 = q.z.square();
        let u1 = p.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = p.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&p.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1);
        if bool::from(h.is_zero()) {
            return if bool::from(r.is_zero()) {
                self.double(p)
            } else {
                self.infinity()
            };
        }
        let hh = h.square();
        let hhh = h.mul(&hh);
        let v = u1.mul(&hh);
        let x3 = r.square().sub(&hhh).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&hhh));
        let z3 = p.z.mul(&q.z).mul(&h);
        JacobianPoint {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    fn to_affine(&self, p: &JacobianPoint) -> Option<AffinePoint> {
        if p.is_infinity() {
            return None;
        }
        let zinv: Fe = Option::from(p.z.invert_vartime())?;
        let zinv2 = zinv.square();
        Some(AffinePoint {
            x: p.x.mul(&zinv2),
            y: p.y.mul(&zinv2).mul(&zinv),
        })
    }

    fn mul(&self, k: &BoxedUint, p: &AffinePoint) -> JacobianPoint {
        let base = self.to_jacobian(p);
        let mut acc = self.infinity();
        for i in (0..k.bit_width_vartime()).rev() {
            acc = self.double(&acc);
            if bool::from(k.bit(i)) {
                acc = self.add(&acc, &base);
            }
        }
        acc
    }

    /// `k·P` in affine form, `None` for the point at infinity. Variable-time.
    pub fn mul_affine(&self, k: &BoxedUint, p: &AffinePoint) -> Option<AffinePoint> {
        self.to_affine(&self.mul(k, p))
    }

    /// `u1·G + u2·Q` by Shamir's trick (one shared doubling chain), `None` for infinity.
    pub fn mul_double_base(
        &self,
        u1: &BoxedUint,
        u2: &BoxedUint,
        q: &AffinePoint,
    ) -> Option<AffinePoint> {
        let g = self.to_jacobian(&self.g);
        let qj = self.to_jacobian(q);
        let gq = self.add(&g, &qj);
        let bits = u1.bit_width_vartime().max(u2.bit_width_vartime());
        let mut acc = self.infinity();
        for i in (0..bits).rev() {
            acc = self.double(&acc);
            let b1 = i < u1.bits_precision() && bool::from(u1.bit(i));
            let b2 = i < u2.bits_precision() && bool::from(u2.bit(i));
            match (b1, b2) {
                (true, true) => acc = self.add(&acc, &gq),
                (true, false) => acc = self.add(&acc, &g),
                (false, true) => acc = self.add(&acc, &qj),
                (false, false) => {}
            }
        }
        self.to_affine(&acc)
    }

    /// The affine x-coordinate as an integer.
    pub fn x_of(&self, p: &AffinePoint) -> BoxedUint {
        p.x.retrieve()
    }

    /// Parses a big-endian integer into this curve's working precision; longer inputs fail.
    pub(crate) fn uint(&self, bytes: &[u8]) -> Result<BoxedUint> {
        let bytes = strip_zeros(bytes);
        BoxedUint::from_be_slice(bytes, self.precision).map_err(|_| bad("integer too large"))
    }

    /// `x mod n`.
    pub(crate) fn reduce_mod_n(&self, x: &BoxedUint) -> Result<BoxedUint> {
        let n = NonZero::new(self.n.clone())
            .into_option()
            .ok_or_else(|| bad("zero group order"))?;
        Ok(x.rem_vartime(&n))
    }
}

impl JacobianPoint {
    fn is_infinity(&self) -> bool {
        bool::from(self.z.is_zero())
    }
}

pub(crate) fn resize(x: &BoxedUint, precision: u32) -> Result<BoxedUint> {
    BoxedUint::from_be_slice(&x.to_be_bytes_trimmed_vartime(), precision)
        .map_err(|_| bad("integer wider than the curve"))
}

fn left_pad(bytes: &[u8], len: usize) -> Result<Vec<u8>> {
    if bytes.len() > len {
        return Err(bad("coordinate longer than the field"));
    }
    let mut out = vec![0u8; len - bytes.len()];
    out.extend_from_slice(bytes);
    Ok(out)
}

/// Big-endian bytes of `x`, left-padded or trimmed of leading zeros to exactly `len`.
pub(crate) fn fixed_be(x: &BoxedUint, len: usize) -> Vec<u8> {
    let full = x.to_be_bytes();
    let trimmed = strip_zeros(&full);
    let mut out = vec![0u8; len.saturating_sub(trimmed.len())];
    out.extend_from_slice(trimmed);
    out
}

/// A field element from big-endian bytes, which must be `< p` (no silent reduction: a coordinate
/// ≥ p is a malformed key, per SEC1).
fn field_from_bytes(
    bytes: &[u8],
    p: &BoxedUint,
    precision: u32,
    fp: &BoxedMontyParams,
) -> Result<Fe> {
    let v = strip_zeros(bytes);
    let v = BoxedUint::from_be_slice(v, precision).map_err(|_| bad("field element too long"))?;
    if v.cmp_vartime(p) != std::cmp::Ordering::Less {
        return Err(bad("field element not below p"));
    }
    Ok(Fe::new(v, fp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_curve_builds_and_knows_its_name() {
        for c in NamedCurve::ALL {
            let curve = Curve::named(c).unwrap();
            assert_eq!(curve.name(), Some(c));
            assert!(curve.is_on_curve(curve.generator()));
            // Explicit parameters equal to a named curve are recognised as that curve.
            let again = Curve::from_domain(&curve.domain_bytes()).unwrap();
            assert_eq!(again.name(), Some(c), "{c}");
        }
    }

    #[test]
    fn explicit_parameters_with_a_changed_b_are_rejected_or_unnamed() {
        let mut d = Curve::named(NamedCurve::BrainpoolP256r1)
            .unwrap()
            .domain_bytes();
        let last = d.b.len() - 1;
        d.b[last] ^= 1;
        // G no longer lies on the changed curve.
        assert!(Curve::from_domain(&d).is_err());
    }

    #[test]
    fn compressed_generator_decodes_to_the_same_point() {
        for c in NamedCurve::ALL {
            let curve = Curve::named(c).unwrap();
            let full = curve.encode_point(curve.generator());
            let fb = curve.field_bytes();
            let y_odd = full[2 * fb] & 1 == 1;
            let mut compressed = vec![if y_odd { 3 } else { 2 }];
            compressed.extend_from_slice(&full[1..=fb]);
            assert_eq!(&curve.decode_point(&compressed).unwrap(), curve.generator());
        }
    }

    #[test]
    fn double_base_matches_separate_multiplications() {
        let curve = Curve::named(NamedCurve::P256).unwrap();
        let g = curve.generator().clone();
        let k3 = resize(&BoxedUint::from(3u8), curve.precision()).unwrap();
        let k5 = resize(&BoxedUint::from(5u8), curve.precision()).unwrap();
        let k8 = resize(&BoxedUint::from(8u8), curve.precision()).unwrap();
        let three_g = curve.mul_affine(&k3, &g).unwrap();
        // 5·G + 1·(3·G) = 8·G
        let one = BoxedUint::one_with_precision(curve.precision());
        let lhs = curve.mul_double_base(&k5, &one, &three_g).unwrap();
        assert_eq!(lhs, curve.mul_affine(&k8, &g).unwrap());
        // n·G is infinity
        assert!(curve.mul_affine(&curve.order().clone(), &g).is_none());
    }
}
