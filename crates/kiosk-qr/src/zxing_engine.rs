//! The zxing-cpp engine (cargo feature `zxing`): QR only, `try_harder` on, text never used
//! (only `bytes()`, so zxing's charset guessing cannot garble Vietnamese).

use zxingcpp::{BarcodeFormat, BarcodeReader, ImageFormat, ImageView};

use crate::decoder::{Decoded, Decoder};
use crate::error::{Error, Result};
use crate::frame::LumaFrame;

/// zxing-cpp's reader, configured once.
pub struct ZxingDecoder {
    reader: BarcodeReader,
}

impl std::fmt::Debug for ZxingDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZxingDecoder")
    }
}

impl ZxingDecoder {
    pub fn new() -> Result<Self> {
        let reader = BarcodeReader::default()
            .formats([BarcodeFormat::QRCode])
            .try_harder(true)
            .try_rotate(true)
            .try_invert(false)
            .try_downscale(true)
            .max_number_of_symbols(4);
        Ok(Self { reader })
    }
}

impl Decoder for ZxingDecoder {
    fn name(&self) -> &'static str {
        "zxing"
    }

    fn decode(&mut self, frame: &LumaFrame) -> Result<Vec<Decoded>> {
        let view = ImageView::from_slice(
            frame.data(),
            frame.width(),
            frame.height(),
            ImageFormat::Lum,
        )
        .map_err(|e| Error::Zxing(e.to_string()))?;
        let barcodes = self
            .reader
            .from(view)
            .map_err(|e| Error::Zxing(e.to_string()))?;
        Ok(barcodes
            .into_iter()
            .filter(|b| b.is_valid())
            .map(|b| {
                let p = b.position();
                Decoded {
                    bytes: b.bytes(),
                    corners: Some([
                        (p.top_left.x, p.top_left.y),
                        (p.top_right.x, p.top_right.y),
                        (p.bottom_right.x, p.bottom_right.y),
                        (p.bottom_left.x, p.bottom_left.y),
                    ]),
                }
            })
            .collect())
    }
}
