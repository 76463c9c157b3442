//! The pure-Rust engine (rqrr), fed the luma buffer directly.

use crate::decoder::{Decoded, Decoder};
use crate::error::Result;
use crate::frame::LumaFrame;

/// rqrr on raw luma. Stateless.
#[derive(Debug, Default)]
pub struct RqrrDecoder;

impl Decoder for RqrrDecoder {
    fn name(&self) -> &'static str {
        "rqrr"
    }

    fn decode(&mut self, frame: &LumaFrame) -> Result<Vec<Decoded>> {
        let w = frame.width() as usize;
        let data = frame.data();
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(w, frame.height() as usize, |x, y| {
                data[y * w + x]
            });
        let mut found = Vec::new();
        for grid in img.detect_grids() {
            let mut bytes = Vec::new();
            // A grid that fails Reed–Solomon is simply not a result; partial output is dropped.
            if grid.decode_to(&mut bytes).is_ok() {
                let b = grid.bounds;
                found.push(Decoded {
                    bytes,
                    corners: Some([
                        (b[0].x, b[0].y),
                        (b[1].x, b[1].y),
                        (b[2].x, b[2].y),
                        (b[3].x, b[3].y),
                    ]),
                });
            }
        }
        Ok(found)
    }
}
