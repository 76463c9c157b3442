//! Where the protocols get their random bytes: the OS in production, a script in tests (the ICAO
//! worked examples fix every nonce and ephemeral key).

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A source of random bytes for nonces, challenges and ephemeral keys.
pub trait RandomSource: Send {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        getrandom::fill(buf).map_err(|_| Error::Crypto {
            what: "operating system random generator failed",
        })
    }
}

/// Hands out pre-recorded bytes in order, then fails: for test vectors and reproducible runs.
#[derive(Default)]
pub struct ScriptedRandom {
    chunks: std::collections::VecDeque<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for ScriptedRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScriptedRandom({} chunks left)", self.chunks.len())
    }
}

impl ScriptedRandom {
    /// Each chunk answers one `fill` call and must have exactly the requested length.
    pub fn new<I, B>(chunks: I) -> Self
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        Self {
            chunks: chunks
                .into_iter()
                .map(|c| Zeroizing::new(c.as_ref().to_vec()))
                .collect(),
        }
    }
}

impl RandomSource for ScriptedRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let next = self.chunks.pop_front().ok_or(Error::Crypto {
            what: "scripted randomness exhausted",
        })?;
        if next.len() != buf.len() {
            return Err(Error::Crypto {
                what: "scripted randomness has the wrong length",
            });
        }
        buf.copy_from_slice(&next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_random_checks_lengths() {
        let mut r = ScriptedRandom::new([[1u8, 2]]);
        let mut b = [0u8; 3];
        assert!(r.fill(&mut b).is_err());
        let mut r = ScriptedRandom::new([[1u8, 2]]);
        let mut b = [0u8; 2];
        r.fill(&mut b).unwrap();
        assert_eq!(b, [1, 2]);
        assert!(r.fill(&mut b).is_err());
    }
}
