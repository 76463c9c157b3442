//! RSA signatures for passive authentication, on the `rsa` crate: PKCS#1 v1.5 and PSS with
//! SHA-1/224/256/384/512, keys bounded to 1024–8192 bits.

use crypto_bigint::BoxedUint;
use der::asn1::Uint;
use der::{Decode, Sequence};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PublicKey};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use super::signature::HashAlgorithm;
use crate::error::{Error, Result};

/// Modulus sizes we accept, in bits; smaller keys are broken, larger ones are a DoS vector.
pub const KEY_BITS: std::ops::RangeInclusive<usize> = 1024..=8192;

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017).
#[derive(Sequence)]
struct PublicKeyAsn1 {
    modulus: Uint,
    public_exponent: Uint,
}

/// An RSA public key checked for size and exponent.
#[derive(Clone)]
pub struct RsaKey {
    key: PublicKey,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaKey({} bits)", self.bits())
    }
}

fn bad(reason: &'static str) -> Error {
    Error::InvalidPublicKey {
        algorithm: "RSA",
        reason,
    }
}

impl RsaKey {
    /// Parses the `RSAPublicKey` inside an SPKI's subjectPublicKey.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<RsaKey> {
        // 8192-bit modulus + exponent + headers stays well under 2 KiB.
        if der.len() > 2048 {
            return Err(bad("RSAPublicKey longer than an 8192-bit key"));
        }
        let k = PublicKeyAsn1::from_der(der).map_err(|e| Error::Asn1 {
            what: "RSAPublicKey",
            detail: e.to_string(),
        })?;
        let n = BoxedUint::from_be_slice_vartime(k.modulus.as_bytes());
        let e = BoxedUint::from_be_slice_vartime(k.public_exponent.as_bytes());
        let key = PublicKey::new_with_size_limits(n, e, KEY_BITS)
            .map_err(|_| bad("modulus outside 1024..=8192 bits or bad exponent"))?;
        Ok(RsaKey { key })
    }

    /// Wraps a key from the `rsa` crate (e.g. one generated in a test), checking its size.
    pub fn from_rsa(key: PublicKey) -> Result<RsaKey> {
        let bits = key.n().bit_width_vartime() as usize;
        if !KEY_BITS.contains(&bits) {
            return Err(bad("modulus outside 1024..=8192 bits"));
        }
        Ok(RsaKey { key })
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> u32 {
        self.key.n().bit_width_vartime()
    }

    /// PKCS#1 v1.5 over a hash computed with `hash`.
    pub fn verify_pkcs1v15(&self, hash: HashAlgorithm, digest: &[u8], sig: &[u8]) -> Result<()> {
        let scheme = match hash {
            HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
            HashAlgorithm::Sha224 => Pkcs1v15Sign::new::<Sha224>(),
            HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
            HashAlgorithm::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
            HashAlgorithm::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        };
        self.key
            .verify(scheme, digest, sig)
            .map_err(|_| Error::SignatureMismatch {
                algorithm: format!("RSA PKCS#1 v1.5 with {}", hash.name()),
            })
    }

    /// PSS with MGF1 over the same hash and the given salt length.
    pub fn verify_pss(
        &self,
        hash: HashAlgorithm,
        salt_len: usize,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<()> {
        use rsa::pss::Pss;
        let r = match hash {
            HashAlgorithm::Sha1 => {
                self.key
                    .verify(Pss::<Sha1>::new_with_salt(salt_len), digest, sig)
            }
            HashAlgorithm::Sha224 => {
                self.key
                    .verify(Pss::<Sha224>::new_with_salt(salt_len), digest, sig)
            }
            HashAlgorithm::Sha256 => {
                self.key
                    .verify(Pss::<Sha256>::new_with_salt(salt_len), digest, sig)
            }
            HashAlgorithm::Sha384 => {
                self.key
                    .verify(Pss::<Sha384>::new_with_salt(salt_len), digest, sig)
            }
            HashAlgorithm::Sha512 => {
                self.key
                    .verify(Pss::<Sha512>::new_with_salt(salt_len), digest, sig)
            }
        };
        r.map_err(|_| Error::SignatureMismatch {
            algorithm: format!("RSASSA-PSS with {} (salt {salt_len})", hash.name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::PrivateKey;
    use rsa::traits::PublicKeyParts;
    use sha2::Digest;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn pkcs1v15_and_pss_sign_verify_with_a_generated_key() {
        let private = PrivateKey::new(&mut rng(), 1024).unwrap();
        let key = RsaKey::from_rsa(private.to_public_key()).unwrap();
        assert_eq!(key.bits(), 1024);
        let digest = Sha256::digest(b"document security object");
        let sig = private
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .unwrap();
        key.verify_pkcs1v15(HashAlgorithm::Sha256, &digest, &sig)
            .unwrap();
        // Wrong hash algorithm in the DigestInfo prefix: rejected.
        assert!(
            key.verify_pkcs1v15(HashAlgorithm::Sha384, &Sha384::digest(b"x"), &sig)
                .is_err()
        );
        let mut tampered = sig.clone();
        tampered[10] ^= 1;
        assert!(matches!(
            key.verify_pkcs1v15(HashAlgorithm::Sha256, &digest, &tampered),
            Err(Error::SignatureMismatch { .. })
        ));

        let pss = private
            .sign_with_rng(
                &mut rng(),
                rsa::pss::Pss::<Sha256>::new_with_salt(32),
                &digest,
            )
            .unwrap();
        key.verify_pss(HashAlgorithm::Sha256, 32, &digest, &pss)
            .unwrap();
        // A salt length other than the one used: rejected.
        assert!(
            key.verify_pss(HashAlgorithm::Sha256, 20, &digest, &pss)
                .is_err()
        );
        let other = Sha256::digest(b"another object");
        assert!(
            key.verify_pss(HashAlgorithm::Sha256, 32, &other, &pss)
                .is_err()
        );
    }

    #[test]
    fn pkcs1_der_key_round_trip_and_size_bounds() {
        let private = PrivateKey::new(&mut rng(), 1024).unwrap();
        let public = private.to_public_key();
        let der = PublicKeyAsn1 {
            modulus: Uint::new(&public.n().to_be_bytes()).unwrap(),
            public_exponent: Uint::new(&public.e().to_be_bytes()).unwrap(),
        };
        let bytes = der::Encode::to_der(&der).unwrap();
        assert_eq!(RsaKey::from_pkcs1_der(&bytes).unwrap().bits(), 1024);

        // A 512-bit modulus is below the bound.
        let small = PublicKeyAsn1 {
            modulus: Uint::new(&[0xC1; 64]).unwrap(),
            public_exponent: Uint::new(&[1, 0, 1]).unwrap(),
        };
        let bytes = der::Encode::to_der(&small).unwrap();
        assert!(RsaKey::from_pkcs1_der(&bytes).is_err());
    }
}
