//! The face photo of DG2: a synthetic, deterministic portrait (no real face) when a profile names
//! none, and the size reader for JPEGs a profile does name.

use crate::error::{Error, Result};

/// Width and height of the synthetic portrait (ICAO token-image proportions, 3:4).
pub const WIDTH: u16 = 240;
pub const HEIGHT: u16 = 320;

/// A small xorshift for the pixel texture: the photo only has to be deterministic, not secret.
struct Texture(u64);

impl Texture {
    fn next(&mut self) -> i16 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 21) as i16 - 10
    }
}

fn inside_ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let dx = (x - cx) / rx;
    let dy = (y - cy) / ry;
    dx * dx + dy * dy <= 1.0
}

/// Draws a cartoon portrait (background, shoulders, neck, face, hair, eyes, brows, nose, mouth)
/// with a little texture so the JPEG has a realistic size (~15–20 kB), and encodes it.
pub fn synthetic_portrait(seed: u64) -> Result<Vec<u8>> {
    let (w, h) = (usize::from(WIDTH), usize::from(HEIGHT));
    let mut rgb = vec![0u8; w * h * 3];
    let mut tex = Texture(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Skin and hair tones vary a little with the seed.
    let skin = [
        [233i16, 196, 160],
        [222, 180, 140],
        [205, 160, 120],
        [240, 205, 175],
    ][(seed % 4) as usize];
    let hair = [[30i16, 25, 20], [45, 35, 30], [20, 20, 25]][(seed % 3) as usize];
    let (cx, cy) = (w as f32 / 2.0, h as f32 * 0.42);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let mut c: [i16; 3] = [
                200 - (y / 8) as i16,
                215 - (y / 10) as i16,
                235 - (y / 12) as i16,
            ];
            // Shoulders and shirt.
            if inside_ellipse(fx, fy, cx, h as f32 * 1.05, w as f32 * 0.55, h as f32 * 0.3) {
                c = [235, 235, 240];
                if (fx - cx).abs() < 14.0 - (fy - h as f32 * 0.78) * 0.3 {
                    c = [40, 60, 110];
                }
            }
            // Neck.
            if (fx - cx).abs() < 26.0 && fy > cy + 60.0 && fy < h as f32 * 0.82 {
                c = [skin[0] - 20, skin[1] - 20, skin[2] - 20];
            }
            // Face.
            if inside_ellipse(fx, fy, cx, cy, 62.0, 82.0) {
                c = skin;
            }
            // Hair: a cap over the top of the head.
            if inside_ellipse(fx, fy, cx, cy - 28.0, 70.0, 62.0)
                && fy < cy - 30.0 + (fx - cx).abs() * 0.1
            {
                c = hair;
            }
            // Eyes, brows, nose, mouth.
            for ex in [cx - 24.0, cx + 24.0] {
                if inside_ellipse(fx, fy, ex, cy - 5.0, 11.0, 6.0) {
                    c = [250, 250, 250];
                }
                if inside_ellipse(fx, fy, ex, cy - 5.0, 5.0, 5.0) {
                    c = [50, 35, 25];
                }
                if inside_ellipse(fx, fy, ex, cy - 20.0, 14.0, 3.0) {
                    c = hair;
                }
            }
            if (fx - cx).abs() < 3.0 && fy > cy && fy < cy + 25.0 {
                c = [skin[0] - 35, skin[1] - 35, skin[2] - 35];
            }
            if inside_ellipse(fx, fy, cx, cy + 45.0, 22.0, 6.0) {
                c = [170, 80, 80];
            }
            let i = (y * w + x) * 3;
            for k in 0..3 {
                rgb[i + k] = (c[k] + tex.next()).clamp(0, 255) as u8;
            }
        }
    }
    let mut out = Vec::with_capacity(24 * 1024);
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, WIDTH, HEIGHT, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| Error::Personalise(format!("JPEG encoding of the portrait failed: {e}")))?;
    Ok(out)
}

/// Width and height from a JPEG's start-of-frame segment; `None` if the bytes are not a JPEG
/// with one. Every length is checked before it is used.
pub fn jpeg_size(jpeg: &[u8]) -> Option<(u16, u16)> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2usize;
    while i + 4 <= jpeg.len() {
        if jpeg[i] != 0xFF {
            return None;
        }
        let marker = jpeg[i + 1];
        if marker == 0xFF {
            // Fill byte.
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if len < 2 {
            return None;
        }
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let seg = jpeg.get(i + 4..i + 2 + len)?;
            let height = u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]);
            let width = u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]);
            return Some((width, height));
        }
        if marker == 0xDA {
            return None;
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portrait_is_a_deterministic_jpeg_of_realistic_size() {
        let a = synthetic_portrait(1).unwrap();
        assert_eq!(a, synthetic_portrait(1).unwrap());
        assert_ne!(a, synthetic_portrait(2).unwrap());
        assert!(a.starts_with(&[0xFF, 0xD8]) && a.ends_with(&[0xFF, 0xD9]));
        assert!((8_000..=40_000).contains(&a.len()), "{} bytes", a.len());
        assert_eq!(jpeg_size(&a), Some((WIDTH, HEIGHT)));
    }

    proptest::proptest! {
        #[test]
        fn jpeg_size_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut b = vec![0xFF, 0xD8];
            b.extend(bytes);
            let _ = jpeg_size(&b);
        }
    }
}
