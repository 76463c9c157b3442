//! The chip's random numbers: a ChaCha20 stream from the `--seed` (runs are reproducible, which
//! is what a test chip needs). Implements the protocol library's `RandomSource` and
//! `rand_core`'s `CryptoRng` (key generation and signing).

use kiosk_card::crypto::RandomSource;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng, TryCryptoRng, TryRng};

/// Random bytes for the chip.
pub struct ChipRandom {
    rng: ChaCha20Rng,
}

impl std::fmt::Debug for ChipRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChipRandom(..)")
    }
}

impl ChipRandom {
    /// A stream derived from `seed` and a purpose label, so the same seed gives independent
    /// streams for keys and for session nonces.
    pub fn from_seed(seed: u64, purpose: &str) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_be_bytes());
        for (i, b) in purpose.bytes().take(24).enumerate() {
            key[8 + i] = b;
        }
        Self {
            rng: ChaCha20Rng::from_seed(key),
        }
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> zeroize::Zeroizing<Vec<u8>> {
        let mut v = zeroize::Zeroizing::new(vec![0u8; n]);
        self.rng.fill_bytes(&mut v);
        v
    }
}

impl RandomSource for ChipRandom {
    fn fill(&mut self, buf: &mut [u8]) -> kiosk_card::Result<()> {
        self.rng.fill_bytes(buf);
        Ok(())
    }
}

impl TryRng for ChipRandom {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.rng.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.rng.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.rng.fill_bytes(dst);
        Ok(())
    }
}

impl TryCryptoRng for ChipRandom {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_purpose_other_stream() {
        let mut a = ChipRandom::from_seed(7, "keys");
        let mut b = ChipRandom::from_seed(7, "keys");
        let mut c = ChipRandom::from_seed(7, "session");
        let mut d = ChipRandom::from_seed(8, "keys");
        let first = a.bytes(16);
        assert_eq!(*first, *b.bytes(16));
        assert_ne!(*first, *c.bytes(16));
        assert_ne!(*first, *d.bytes(16));
    }
}
