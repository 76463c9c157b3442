//! DG15 (tag `6F`): the Active Authentication public key, a DER `SubjectPublicKeyInfo`, plus the
//! SPKI reader shared with the Chip Authentication key in DG14.
//!
//! The SPKI DER is kept whole (the SOD hash covers the file, and a verifier for explicit curve
//! parameters may want it); [`PublicKey`] is what this crate can use directly: RSA, and EC keys on
//! brainpoolP256r1 / P-256 whether named or given by explicit parameters that match them.

use crate::crypto::ec::Curve;
use crate::error::{Error, Result};
use crate::tlv;

/// `rsaEncryption` 1.2.840.113549.1.1.1.
pub const OID_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
/// `id-ecPublicKey` 1.2.840.10045.2.1.
pub const OID_EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// `id-PK-ECDH` 0.4.0.127.0.7.2.2.1.2 (some DG14 keys carry it as the algorithm).
pub const OID_PK_ECDH: &[u8] = &[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02];
/// `brainpoolP256r1` 1.3.36.3.3.2.8.1.1.7.
pub const OID_BRAINPOOL_P256R1: &[u8] = &[0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07];
/// `prime256v1` 1.2.840.10045.3.1.7.
pub const OID_P256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// RSA moduli above this are refused (16384 bits).
const MAX_RSA_BYTES: usize = 2048;

/// A public key from a `SubjectPublicKeyInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        /// Modulus, big-endian without leading zeros.
        n: Vec<u8>,
        /// Public exponent, big-endian without leading zeros.
        e: Vec<u8>,
    },
    Ec {
        /// The curve when it is one this crate has arithmetic for; `None` for other curves
        /// (their explicit parameters are in the SPKI DER, for the generic verifier).
        curve: Option<Curve>,
        /// The public point as encoded in the key (normally uncompressed `04 ‖ X ‖ Y`).
        point: Vec<u8>,
    },
}

/// Reads the key in a DER `SubjectPublicKeyInfo`.
pub fn parse_spki(spki: &[u8]) -> Result<PublicKey> {
    let seq = tlv::parse_exact(spki, 0x30)?;
    let mut it = seq.children();
    let alg = it.next().ok_or(Error::TlvMalformed {
        what: "SubjectPublicKeyInfo without algorithm",
    })??;
    let bits = it.next().ok_or(Error::TlvMalformed {
        what: "SubjectPublicKeyInfo without key",
    })??;
    if alg.tag != 0x30 || bits.tag != 0x03 || it.next().is_some() {
        return Err(Error::TlvMalformed {
            what: "SubjectPublicKeyInfo is not SEQUENCE { AlgorithmIdentifier, BIT STRING }",
        });
    }
    let key = match bits.value.split_first() {
        Some((0, key)) => key,
        _ => {
            return Err(Error::TlvMalformed {
                what: "public key BIT STRING with unused bits",
            });
        }
    };
    let mut a = alg.children();
    let oid = a.next().ok_or(Error::TlvMalformed {
        what: "AlgorithmIdentifier without OID",
    })??;
    let params = a.next().transpose()?;
    if oid.tag != 0x06 {
        return Err(Error::UnexpectedTag {
            expected: 0x06,
            found: oid.tag,
        });
    }
    if oid.value == OID_RSA {
        let rsa = tlv::parse_exact(key, 0x30)?;
        let mut r = rsa.children();
        let (Some(n), Some(e), None) = (r.next(), r.next(), r.next()) else {
            return Err(Error::TlvMalformed {
                what: "RSAPublicKey is not SEQUENCE { n, e }",
            });
        };
        let (n, e) = (unsigned(n?)?, unsigned(e?)?);
        if n.len() > MAX_RSA_BYTES || e.len() > n.len() {
            return Err(Error::Unsupported {
                what: "RSA key too large",
            });
        }
        return Ok(PublicKey::Rsa { n, e });
    }
    if oid.value == OID_EC_PUBLIC_KEY || oid.value == OID_PK_ECDH {
        let curve = match params {
            Some(p) if p.tag == 0x06 => named_curve(p.value),
            Some(p) if p.tag == 0x30 => explicit_curve(p)?,
            _ => None,
        };
        return Ok(PublicKey::Ec {
            curve,
            point: key.to_vec(),
        });
    }
    Err(Error::Unsupported {
        what: "public key algorithm",
    })
}

/// Encodes an SPKI for a key on a named curve (used by the virtual card).
pub fn ec_spki_named(curve: Curve, point: &[u8]) -> Vec<u8> {
    let curve_oid = match curve {
        Curve::BrainpoolP256r1 => OID_BRAINPOOL_P256R1,
        Curve::NistP256 => OID_P256,
    };
    let alg = tlv::encode_constructed(
        0x30,
        &[
            &tlv::encode(0x06, OID_EC_PUBLIC_KEY),
            &tlv::encode(0x06, curve_oid),
        ],
    );
    let mut bits = vec![0u8];
    bits.extend_from_slice(point);
    tlv::encode_constructed(0x30, &[&alg, &tlv::encode(0x03, &bits)])
}

/// Encodes an RSA SPKI (used by the virtual card and tests).
pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut b = v.to_vec();
        if b.first().is_none_or(|x| x & 0x80 != 0) {
            b.insert(0, 0);
        }
        tlv::encode(0x02, &b)
    };
    let key = tlv::encode_constructed(0x30, &[&int(n), &int(e)]);
    let alg = tlv::encode_constructed(
        0x30,
        &[&tlv::encode(0x06, OID_RSA), &tlv::encode(0x05, &[])],
    );
    let mut bits = vec![0u8];
    bits.extend_from_slice(&key);
    tlv::encode_constructed(0x30, &[&alg, &tlv::encode(0x03, &bits)])
}

fn named_curve(oid: &[u8]) -> Option<Curve> {
    if oid == OID_BRAINPOOL_P256R1 {
        Some(Curve::BrainpoolP256r1)
    } else if oid == OID_P256 {
        Some(Curve::NistP256)
    } else {
        None
    }
}

/// Recognises explicit `ECParameters` of a supported curve by the base point, which differs
/// between curves (the verifier for arbitrary parameters lives with passive authentication).
fn explicit_curve(params: tlv::Tlv<'_>) -> Result<Option<Curve>> {
    // ECParameters ::= SEQUENCE { version, fieldID, curve, base OCTET STRING, order, cofactor }
    let base = params
        .children()
        .filter_map(|c| c.ok())
        .find(|c| c.tag == 0x04);
    let Some(base) = base else {
        return Ok(None);
    };
    for curve in [Curve::BrainpoolP256r1, Curve::NistP256] {
        let g = curve.generator();
        let x = &g[1..1 + curve.field_len()];
        let matches = match base.value.split_first() {
            Some((0x04, _)) => base.value == g.as_slice(),
            // Compressed base point: the x-coordinate identifies the generator.
            Some((0x02 | 0x03, bx)) => bx == x,
            _ => false,
        };
        if matches {
            return Ok(Some(curve));
        }
    }
    Ok(None)
}

/// An INTEGER's magnitude without sign padding; negative values are an error.
fn unsigned(t: tlv::Tlv<'_>) -> Result<Vec<u8>> {
    if t.tag != 0x02 || t.value.first().is_none_or(|b| b & 0x80 != 0) {
        return Err(Error::TlvMalformed {
            what: "expected a positive INTEGER",
        });
    }
    let skip = t.value.iter().take_while(|b| **b == 0).count();
    Ok(t.value[skip..].to_vec())
}

/// DG15: the Active Authentication public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg15 {
    /// The `SubjectPublicKeyInfo` DER, whole.
    pub spki: Vec<u8>,
}

impl Dg15 {
    /// Decodes the file (`6F` wrapping the SPKI). The SPKI must be well formed; a key
    /// algorithm this crate does not know is kept (and reported by [`Dg15::public_key`]), since
    /// the file still counts for passive authentication.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let outer = tlv::parse_prefix(bytes, 0x6F)?;
        let (spki, rest) = tlv::parse(outer.value)?;
        if spki.tag != 0x30 || !rest.is_empty() {
            return Err(Error::TlvMalformed {
                what: "DG15 must hold exactly one SubjectPublicKeyInfo",
            });
        }
        match parse_spki(spki.raw) {
            Ok(_) | Err(Error::Unsupported { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(Self {
            spki: spki.raw.to_vec(),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        tlv::encode(0x6F, &self.spki)
    }

    pub fn public_key(&self) -> Result<PublicKey> {
        parse_spki(&self.spki)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ec_named_and_explicit() {
        let c = Curve::BrainpoolP256r1;
        let point = c.generator();
        let dg = Dg15 {
            spki: ec_spki_named(c, &point),
        };
        let back = Dg15::decode(&dg.encode()).unwrap();
        assert_eq!(back, dg);
        assert_eq!(
            back.public_key().unwrap(),
            PublicKey::Ec {
                curve: Some(c),
                point: point.clone()
            }
        );
        // Explicit parameters whose base point is P-256's generator.
        let g = Curve::NistP256.generator();
        let params = tlv::encode_constructed(
            0x30,
            &[
                &tlv::encode(0x02, &[1]),
                &tlv::encode(0x30, &[]),
                &tlv::encode(0x30, &[]),
                &tlv::encode(0x04, &g),
                &tlv::encode(0x02, &[1]),
            ],
        );
        let alg = tlv::encode_constructed(0x30, &[&tlv::encode(0x06, OID_EC_PUBLIC_KEY), &params]);
        let mut bits = vec![0u8];
        bits.extend_from_slice(&g);
        let spki = tlv::encode_constructed(0x30, &[&alg, &tlv::encode(0x03, &bits)]);
        assert_eq!(
            parse_spki(&spki).unwrap(),
            PublicKey::Ec {
                curve: Some(Curve::NistP256),
                point: g.clone()
            }
        );
        // The same with a compressed base point; an unknown base gives no curve.
        for (base, expected) in [
            ([&[0x03u8][..], &g[1..33]].concat(), Some(Curve::NistP256)),
            (vec![0x02; 33], None),
        ] {
            let params = tlv::encode_constructed(
                0x30,
                &[&tlv::encode(0x02, &[1]), &tlv::encode(0x04, &base)],
            );
            let alg =
                tlv::encode_constructed(0x30, &[&tlv::encode(0x06, OID_EC_PUBLIC_KEY), &params]);
            let spki = tlv::encode_constructed(0x30, &[&alg, &tlv::encode(0x03, &bits)]);
            assert!(
                matches!(parse_spki(&spki).unwrap(), PublicKey::Ec { curve, .. } if curve == expected)
            );
        }
    }

    #[test]
    fn rsa_key() {
        let n = vec![0xC5; 128];
        let spki = rsa_spki(&n, &[1, 0, 1]);
        assert_eq!(
            parse_spki(&spki).unwrap(),
            PublicKey::Rsa {
                n,
                e: vec![1, 0, 1]
            }
        );
    }

    #[test]
    fn unknown_algorithms_are_kept() {
        // A DSA-like algorithm OID: the file decodes, the key is reported unsupported.
        let alg = tlv::encode_constructed(
            0x30,
            &[&tlv::encode(
                0x06,
                &[0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x01],
            )],
        );
        let spki = tlv::encode_constructed(0x30, &[&alg, &tlv::encode(0x03, &[0, 1, 2])]);
        let dg = Dg15::decode(&tlv::encode(0x6F, &spki)).unwrap();
        assert!(matches!(dg.public_key(), Err(Error::Unsupported { .. })));
    }

    #[test]
    fn rejects_malformed() {
        assert!(Dg15::decode(&[0x6F, 0x00]).is_err());
        assert!(Dg15::decode(&[0x6E, 0x00]).is_err());
        assert!(parse_spki(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
        let spki = ec_spki_named(Curve::NistP256, &[4; 65]);
        let mut bad = spki.clone();
        let n = bad.len();
        bad[n - 66] = 1; // unused-bits byte
        assert!(parse_spki(&bad).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Dg15::decode(&bytes);
            let _ = parse_spki(&bytes);
        }

        #[test]
        fn rsa_round_trip(n in proptest::collection::vec(1u8..=255, 4..300), e in proptest::collection::vec(1u8..=255, 1..4)) {
            let dg = Dg15 { spki: rsa_spki(&n, &e) };
            let back = Dg15::decode(&dg.encode()).unwrap();
            prop_assert_eq!(back.public_key().unwrap(), PublicKey::Rsa { n, e });
        }
    }
}
