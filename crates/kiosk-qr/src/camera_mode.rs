//! Choosing the camera mode: YUYV first (its Y plane is the luma frame, no conversion), MJPEG
//! second (decoded to luma), near 1280×720, at 15 fps or more. Kept apart from the nokhwa adapter
//! so the choice is tested without a camera.

use crate::error::{Error, Result};
use crate::frame::LumaFrame;

/// Pixel formats the kiosk can turn into luma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Yuyv,
    Mjpeg,
    Gray,
    Nv12,
    Other,
}

/// One mode a camera offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// Lower is better. Frame rate below 15 and unknown formats are excluded.
fn cost(m: &Mode) -> Option<u64> {
    if m.fps < 15 || m.width == 0 || m.height == 0 {
        return None;
    }
    let format_penalty: u64 = match m.format {
        PixelFormat::Yuyv | PixelFormat::Gray | PixelFormat::Nv12 => 0,
        PixelFormat::Mjpeg => 150_000,
        PixelFormat::Other => return None,
    };
    // Distance in pixel count from 1280×720; smaller frames are worse than larger ones (modules
    // get too small), so they count double.
    let target = 1280u64 * 720;
    let pixels = u64::from(m.width) * u64::from(m.height);
    let size = if pixels >= target {
        pixels - target
    } else {
        2 * (target - pixels)
    };
    Some(size + format_penalty)
}

/// The best mode for QR scanning, or `None` if no mode qualifies.
pub fn choose(modes: &[Mode]) -> Option<Mode> {
    modes
        .iter()
        .filter_map(|m| cost(m).map(|c| (c, std::cmp::Reverse(m.fps), *m)))
        .min_by_key(|(c, fps, _)| (*c, *fps))
        .map(|(_, _, m)| m)
}

/// Converts one captured buffer to luma according to the negotiated mode.
pub fn buffer_to_luma(mode: &Mode, width: u32, height: u32, bytes: &[u8]) -> Result<LumaFrame> {
    match mode.format {
        PixelFormat::Yuyv => LumaFrame::from_yuyv(width, height, bytes),
        PixelFormat::Gray | PixelFormat::Nv12 => {
            let n = width as usize * height as usize;
            let y = bytes.get(..n).ok_or(Error::FrameSize {
                width,
                height,
                len: bytes.len(),
            })?;
            LumaFrame::new(width, height, y.to_vec())
        }
        PixelFormat::Mjpeg => {
            let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
                .map_err(|e| Error::Camera(format!("MJPEG frame: {e}")))?;
            let luma = img.into_luma8();
            let (w, h) = luma.dimensions();
            LumaFrame::new(w, h, luma.into_raw())
        }
        PixelFormat::Other => Err(Error::Camera("unsupported pixel format".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_become_luma() {
        let yuyv = m(PixelFormat::Yuyv, 2, 1, 30);
        assert_eq!(
            buffer_to_luma(&yuyv, 2, 1, &[9, 128, 7, 128])
                .unwrap()
                .data(),
            &[9, 7]
        );
        assert!(buffer_to_luma(&yuyv, 2, 1, &[9, 128, 7]).is_err());
        let nv12 = m(PixelFormat::Nv12, 2, 2, 30);
        assert_eq!(
            buffer_to_luma(&nv12, 2, 2, &[1, 2, 3, 4, 128, 128])
                .unwrap()
                .data(),
            &[1, 2, 3, 4]
        );
        // MJPEG: a real JPEG of a grey frame decodes to the same size and roughly the same level.
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode(&[100u8; 16 * 8], 16, 8, image::ExtendedColorType::L8)
            .unwrap();
        let mjpeg = m(PixelFormat::Mjpeg, 16, 8, 30);
        let f = buffer_to_luma(&mjpeg, 16, 8, &jpeg).unwrap();
        assert_eq!((f.width(), f.height()), (16, 8));
        assert!(f.data().iter().all(|&p| (95..=105).contains(&p)));
        assert!(buffer_to_luma(&mjpeg, 16, 8, b"not a jpeg").is_err());
        assert!(buffer_to_luma(&m(PixelFormat::Other, 1, 1, 30), 1, 1, &[0]).is_err());
    }

    fn m(format: PixelFormat, width: u32, height: u32, fps: u32) -> Mode {
        Mode {
            format,
            width,
            height,
            fps,
        }
    }

    #[test]
    fn prefers_yuyv_720p_at_15_or_more() {
        let modes = [
            m(PixelFormat::Mjpeg, 1280, 720, 30),
            m(PixelFormat::Yuyv, 1280, 720, 10),
            m(PixelFormat::Yuyv, 1280, 720, 15),
            m(PixelFormat::Yuyv, 640, 480, 30),
            m(PixelFormat::Yuyv, 1920, 1080, 5),
        ];
        assert_eq!(choose(&modes), Some(m(PixelFormat::Yuyv, 1280, 720, 15)));
    }

    #[test]
    fn mjpeg_720p_beats_yuyv_vga() {
        // A USB-2 camera that offers 720p only as MJPEG: VGA YUYV would lose small codes.
        let modes = [
            m(PixelFormat::Yuyv, 640, 480, 30),
            m(PixelFormat::Mjpeg, 1280, 720, 30),
        ];
        assert_eq!(choose(&modes), Some(m(PixelFormat::Mjpeg, 1280, 720, 30)));
    }

    #[test]
    fn nothing_usable() {
        assert_eq!(
            choose(&[
                m(PixelFormat::Other, 1280, 720, 30),
                m(PixelFormat::Yuyv, 1280, 720, 7)
            ]),
            None
        );
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn higher_rate_wins_a_tie() {
        let modes = [
            m(PixelFormat::Yuyv, 1280, 720, 15),
            m(PixelFormat::Yuyv, 1280, 720, 30),
        ];
        assert_eq!(choose(&modes).map(|m| m.fps), Some(30));
    }
}
