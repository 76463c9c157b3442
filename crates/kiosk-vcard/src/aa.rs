//! Chip side of Active Authentication (ICAO 9303-11 §6.1) with ECDSA on brainpoolP256r1 and
//! SHA-256, plain `r ‖ s` signature (BSI TR-03111), as DG15 advertises by default.
//!
//! RSA with ISO 9796-2 is not implemented yet (see the crate's report).

use bp256::BrainpoolP256r1;
use bp256::elliptic_curve::FieldBytes;
use ecdsa::SigningKey;
use ecdsa::signature::Signer;

use crate::curve::SecretScalar;

/// The largest challenge accepted (ICAO uses 8 bytes).
pub const MAX_CHALLENGE: usize = 64;

/// Signs the terminal's challenge; `None` if the key is unusable or the challenge too long.
pub fn sign(private: &SecretScalar, challenge: &[u8]) -> Option<Vec<u8>> {
    if challenge.is_empty() || challenge.len() > MAX_CHALLENGE {
        return None;
    }
    let mut bytes = FieldBytes::<BrainpoolP256r1>::default();
    bytes.copy_from_slice(&private.to_be());
    let key = SigningKey::<BrainpoolP256r1>::from_bytes(&bytes).ok()?;
    let sig: ecdsa::Signature<BrainpoolP256r1> = key.sign(challenge);
    Some(sig.to_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::ChipRandom;
    use ecdsa::VerifyingKey;
    use ecdsa::signature::Verifier;

    #[test]
    fn signature_verifies_with_the_public_key_only() {
        let mut rng = ChipRandom::from_seed(3, "test");
        let key = SecretScalar::random(&mut rng);
        let sig = sign(&key, b"\x01\x02\x03\x04\x05\x06\x07\x08").unwrap();
        assert_eq!(sig.len(), 64);
        let vk = VerifyingKey::<BrainpoolP256r1>::from_affine(
            bp256::elliptic_curve::group::Curve::to_affine(&key.public()),
        )
        .unwrap();
        let sig = ecdsa::Signature::<BrainpoolP256r1>::from_slice(&sig).unwrap();
        assert!(vk.verify(b"\x01\x02\x03\x04\x05\x06\x07\x08", &sig).is_ok());
        assert!(
            vk.verify(b"\x01\x02\x03\x04\x05\x06\x07\x09", &sig)
                .is_err()
        );
        assert!(sign(&key, &[]).is_none());
    }
}
