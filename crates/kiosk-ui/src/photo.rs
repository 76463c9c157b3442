//! Images for the screen: the chip's portrait (JPEG on the CCCD and the virtual card; PNG
//! accepted) and the technician's camera preview. Decoding is bounded and never panics; the
//! decoded personal pixels are wiped once copied into Slint's buffer.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use slint::{Image, Rgb8Pixel, Rgba8Pixel, SharedPixelBuffer};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Largest encoded portrait accepted (a CCCD portrait is ~15–20 kB).
pub const MAX_PHOTO_BYTES: usize = 512 * 1024;
/// Largest decoded side accepted.
pub const MAX_SIDE: u32 = 2048;

/// Decodes a JPEG or PNG portrait. Other formats (e.g. JPEG 2000, which some chips hold) are
/// refused with an error so the caller shows the placeholder.
pub fn decode_photo(bytes: &[u8]) -> Result<Image> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(Error::Image("photo larger than 512 kB"));
    }
    let format = if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        ImageFormat::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ImageFormat::Png
    } else {
        return Err(Error::Image("photo is neither JPEG nor PNG"));
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|_| Error::Image("photo does not decode"))?;
    let rgba = decoded.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut raw = rgba.into_raw();
    let buffer = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(&raw, w, h);
    raw.zeroize();
    Ok(Image::from_rgba8(buffer))
}

/// A camera frame (8-bit luma, row-major, no padding) as an image.
pub fn luma_image(width: u32, height: u32, luma: &[u8]) -> Result<Image> {
    if width == 0 || height == 0 || width > 8192 || height > 8192 {
        return Err(Error::Image("camera frame size out of range"));
    }
    let expected = (width as usize)
        .checked_mul(height as usize)
        .ok_or(Error::Image("camera frame size out of range"))?;
    if luma.len() != expected {
        return Err(Error::Image("camera frame length does not match its size"));
    }
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(width, height);
    for (px, &y) in buffer.make_mut_slice().iter_mut().zip(luma) {
        *px = Rgb8Pixel { r: y, g: y, b: y };
    }
    Ok(Image::from_rgb8(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("encode");
        out.into_inner()
    }

    #[test]
    fn png_decodes_with_its_size() {
        let img = decode_photo(&png(30, 40)).expect("decodes");
        assert_eq!((img.size().width, img.size().height), (30, 40));
    }

    #[test]
    fn jpeg_of_the_virtual_card_decodes() {
        let img = image::RgbImage::from_pixel(24, 32, image::Rgb([90, 90, 90]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).expect("encode");
        let shown = decode_photo(out.get_ref()).expect("decodes");
        assert_eq!(shown.size().width, 24);
    }

    #[test]
    fn jpeg2000_and_junk_are_refused() {
        let jp2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n....";
        assert!(matches!(decode_photo(jp2), Err(Error::Image(_))));
        assert!(decode_photo(b"\xff\xd8\xff\xe0PHOTO-BYTES").is_err());
        assert!(decode_photo(&vec![0xff; MAX_PHOTO_BYTES + 1]).is_err());
    }

    #[test]
    fn luma_frame_is_checked() {
        assert!(luma_image(2, 2, &[0, 1, 2, 3]).is_ok());
        assert!(luma_image(2, 2, &[0, 1, 2]).is_err());
        assert!(luma_image(0, 2, &[]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = decode_photo(&bytes);
            let mut jpeg = vec![0xff, 0xd8, 0xff];
            jpeg.extend_from_slice(&bytes);
            let _ = decode_photo(&jpeg);
        }
    }
}
