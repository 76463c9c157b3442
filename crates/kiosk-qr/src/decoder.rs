//! The `Decoder` seam: a luma frame in, the raw bytes of every QR code found out. Engines
//! never interpret the bytes (no text-encoding guessing); [`crate::payload`] does that.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frame::LumaFrame;

/// One QR code found in a frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The payload bytes exactly as encoded.
    pub bytes: Vec<u8>,
    /// Corner points (top-left, top-right, bottom-right, bottom-left) in frame pixels, when the
    /// engine reports them; the pipeline uses them as the next region of interest.
    pub corners: Option<[(i32, i32); 4]>,
}

// The bytes are the citizen's data: wiped when dropped.
impl Drop for Decoded {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Decoded({} bytes, corners {:?})",
            self.bytes.len(),
            self.corners
        )
    }
}

/// A QR decoding engine. Not `Send`: FFI engines are built on the thread that uses them (see
/// [`Engine::build`]).
pub trait Decoder {
    /// The engine's name as used in config and output (`rqrr`, `zxing`).
    fn name(&self) -> &'static str;
    /// Every QR code found in `frame`; an empty list when there is none.
    fn decode(&mut self, frame: &LumaFrame) -> Result<Vec<Decoded>>;
}

/// The engines this crate knows, selectable by config (`qr.engine = "zxing"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Pure Rust (rqrr): no C++ toolchain needed; slower and needs ≥ 4 px per module.
    Rqrr,
    /// zxing-cpp through the `zxing-cpp` crate (cargo feature `zxing`).
    Zxing,
}

impl Engine {
    /// The default engine of this build: zxing-cpp when compiled in (it won the benchmark,
    /// docs/benchmarks.md), rqrr otherwise.
    pub fn default_for_build() -> Self {
        if cfg!(feature = "zxing") {
            Engine::Zxing
        } else {
            Engine::Rqrr
        }
    }

    /// Engines compiled into this build.
    pub fn available() -> &'static [Engine] {
        if cfg!(feature = "zxing") {
            &[Engine::Zxing, Engine::Rqrr]
        } else {
            &[Engine::Rqrr]
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Rqrr => "rqrr",
            Engine::Zxing => "zxing",
        }
    }

    /// Creates the engine; an error when this build does not include it.
    pub fn build(self) -> Result<Box<dyn Decoder>> {
        match self {
            Engine::Rqrr => Ok(Box::new(crate::rqrr_engine::RqrrDecoder)),
            #[cfg(feature = "zxing")]
            Engine::Zxing => Ok(Box::new(crate::zxing_engine::ZxingDecoder::new()?)),
            #[cfg(not(feature = "zxing"))]
            Engine::Zxing => Err(Error::EngineNotBuilt {
                engine: "zxing",
                feature: "zxing",
            }),
        }
    }
}

impl FromStr for Engine {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rqrr" => Ok(Engine::Rqrr),
            "zxing" | "zxing-cpp" => Ok(Engine::Zxing),
            other => Err(Error::UnknownEngine(other.chars().take(32).collect())),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_is_an_error() {
        assert_eq!("rqrr".parse::<Engine>().unwrap(), Engine::Rqrr);
        assert_eq!("zxing".parse::<Engine>().unwrap(), Engine::Zxing);
        assert!(matches!("zbar".parse::<Engine>(), Err(Error::UnknownEngine(n)) if n == "zbar"));
        assert!(Engine::available().contains(&Engine::default_for_build()));
        assert!(Engine::available().contains(&Engine::Rqrr));
    }

    #[cfg(not(feature = "zxing"))]
    #[test]
    fn zxing_absent_is_a_clear_error() {
        assert!(matches!(
            Engine::Zxing.build(),
            Err(Error::EngineNotBuilt {
                engine: "zxing",
                ..
            })
        ));
    }
}
