//! The chip's random numbers: a ChaCha20 stream from the `--seed` (runs are reproducible, which
//! is what a test chip needs), with scripted values first so tests can inject the ICAO worked
//! examples' nonces and ephemeral keys.

use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use zeroize::Zeroizing;

/// Random bytes for the chip.
pub struct ChipRandom {
    rng: ChaCha20Rng,
    script: VecDeque<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for ChipRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChipRandom({} scripted)", self.script.len())
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
            script: VecDeque::new(),
        }
    }

    /// Queues a value the next `fill` of the same length returns instead of random bytes.
    pub fn script(&mut self, value: Vec<u8>) {
        self.script.push_back(Zeroizing::new(value));
    }

    /// Fills `out`: from the script if its next value has the right length, else from the
    /// stream.
    pub fn fill(&mut self, out: &mut [u8]) {
        if self.script.front().is_some_and(|v| v.len() == out.len())
            && let Some(v) = self.script.pop_front()
        {
            out.copy_from_slice(&v);
            return;
        }
        self.rng.fill_bytes(out);
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(vec![0u8; n]);
        self.fill(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_scripts_come_first() {
        let mut a = ChipRandom::from_seed(7, "keys");
        let mut b = ChipRandom::from_seed(7, "keys");
        let mut c = ChipRandom::from_seed(7, "session");
        assert_eq!(*a.bytes(16), *b.bytes(16));
        assert_ne!(*a.bytes(16), *c.bytes(16));
        a.script(vec![9; 8]);
        assert_eq!(*a.bytes(8), vec![9; 8]);
        assert_ne!(*a.bytes(8), vec![9; 8]);
    }
}
