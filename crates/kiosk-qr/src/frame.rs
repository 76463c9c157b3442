//! Grey-level frames, the only pixel format the decoders see, and the cheap conversions into it
//! (the Y plane of YUYV is taken as is; RGB goes through an integer loop).

use crate::error::{Error, Result};

/// Largest frame accepted from any source (8 K × 8 K): bounds memory for hostile image files.
pub const MAX_DIMENSION: u32 = 8192;

/// One 8-bit luma frame, row-major, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct LumaFrame {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

// Frames may show a card: never dump the pixels.
impl std::fmt::Debug for LumaFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LumaFrame({}x{})", self.width, self.height)
    }
}

// A frame may show a card or its QR: wipe the pixels when it goes (a memset, ~0.1 ms at 720p).
impl Drop for LumaFrame {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.data);
    }
}

fn checked_len(width: u32, height: u32) -> Option<usize> {
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
        return None;
    }
    (width as usize).checked_mul(height as usize)
}

impl LumaFrame {
    /// Wraps a buffer; its length must be exactly `width * height`.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<Self> {
        match checked_len(width, height) {
            Some(n) if n == data.len() => Ok(Self {
                width,
                height,
                data,
            }),
            _ => Err(Error::FrameSize {
                width,
                height,
                len: data.len(),
            }),
        }
    }

    /// A frame filled with one grey level.
    pub fn filled(width: u32, height: u32, level: u8) -> Result<Self> {
        let n = checked_len(width, height).ok_or(Error::FrameSize {
            width,
            height,
            len: 0,
        })?;
        Self::new(width, height, vec![level; n])
    }

    /// Takes the Y bytes of a packed YUYV (YUY2) buffer: every other byte, no arithmetic.
    pub fn from_yuyv(width: u32, height: u32, yuyv: &[u8]) -> Result<Self> {
        let n = checked_len(width, height).ok_or(Error::FrameSize {
            width,
            height,
            len: yuyv.len(),
        })?;
        if yuyv.len() < n.saturating_mul(2) {
            return Err(Error::FrameSize {
                width,
                height,
                len: yuyv.len(),
            });
        }
        let data = yuyv[..n * 2].iter().step_by(2).copied().collect();
        Self::new(width, height, data)
    }

    /// Integer RGB24 → luma (BT.601 weights ×256), about 3× faster than a float path.
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Self> {
        let n = checked_len(width, height).ok_or(Error::FrameSize {
            width,
            height,
            len: rgb.len(),
        })?;
        if rgb.len() < n.saturating_mul(3) {
            return Err(Error::FrameSize {
                width,
                height,
                len: rgb.len(),
            });
        }
        let data = rgb[..n * 3]
            .chunks_exact(3)
            .map(|p| {
                ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8) as u8
            })
            .collect();
        Self::new(width, height, data)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Mutable pixels (same layout), for in-place distortions.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Consumes the frame and returns its buffer (the caller now owns the wiping).
    pub fn into_data(mut self) -> Vec<u8> {
        std::mem::take(&mut self.data)
    }

    /// Pixel at (x, y); callers stay in bounds.
    #[inline]
    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.data[y as usize * self.width as usize + x as usize]
    }

    /// The rectangle `(x, y, w, h)` clipped to the frame, or `None` when nothing is left.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Option<LumaFrame> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let w = w.min(self.width - x);
        let h = h.min(self.height - y);
        if w == 0 || h == 0 {
            return None;
        }
        let mut data = Vec::with_capacity(w as usize * h as usize);
        for row in y..y + h {
            let start = row as usize * self.width as usize + x as usize;
            data.extend_from_slice(&self.data[start..start + w as usize]);
        }
        Some(LumaFrame {
            width: w,
            height: h,
            data,
        })
    }

    /// Nearest-neighbour upscale by an integer factor (gives rqrr the ≥ 4 px per module it needs).
    pub fn upscale(&self, factor: u32) -> Option<LumaFrame> {
        let w = self.width.checked_mul(factor)?;
        let h = self.height.checked_mul(factor)?;
        checked_len(w, h)?;
        let mut data = Vec::with_capacity(w as usize * h as usize);
        let mut row = Vec::with_capacity(w as usize);
        for y in 0..self.height {
            row.clear();
            let src = &self.data[y as usize * self.width as usize..][..self.width as usize];
            for &p in src {
                row.extend(std::iter::repeat_n(p, factor as usize));
            }
            for _ in 0..factor {
                data.extend_from_slice(&row);
            }
        }
        Some(LumaFrame {
            width: w,
            height: h,
            data,
        })
    }

    /// Local-mean binarisation: a pixel is black when darker than the mean of the
    /// `(2r+1)²` window around it minus `bias`. Rescues frames with uneven light or low contrast
    /// that a global threshold loses. Uses an integral image, so cost does not grow with `r`.
    pub fn adaptive_threshold(&self, radius: u32, bias: u8) -> LumaFrame {
        let (w, h) = (self.width as usize, self.height as usize);
        let r = radius.max(1) as usize;
        // Integral image with a zero first row and column; u64 because 255 × 8192² overflows u32.
        let mut integral = vec![0u64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row_sum = 0u64;
            for x in 0..w {
                row_sum += u64::from(self.data[y * w + x]);
                integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row_sum;
            }
        }
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            let y0 = y.saturating_sub(r);
            let y1 = (y + r + 1).min(h);
            for x in 0..w {
                let x0 = x.saturating_sub(r);
                let x1 = (x + r + 1).min(w);
                let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                    - integral[y0 * (w + 1) + x1]
                    - integral[y1 * (w + 1) + x0];
                let count = ((y1 - y0) * (x1 - x0)) as u64;
                let p = u64::from(self.data[y * w + x]) + u64::from(bias);
                out[y * w + x] = if p * count < sum { 0 } else { 255 };
            }
        }
        LumaFrame {
            width: self.width,
            height: self.height,
            data: out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn new_rejects_wrong_length_and_zero_size() {
        assert!(LumaFrame::new(4, 4, vec![0; 15]).is_err());
        assert!(LumaFrame::new(0, 4, vec![]).is_err());
        assert!(LumaFrame::new(MAX_DIMENSION + 1, 1, vec![0; MAX_DIMENSION as usize + 1]).is_err());
        assert!(LumaFrame::new(4, 4, vec![0; 16]).is_ok());
    }

    #[test]
    fn yuyv_takes_even_bytes() {
        let yuyv = [10, 200, 20, 201, 30, 202, 40, 203];
        let f = LumaFrame::from_yuyv(2, 2, &yuyv).unwrap();
        assert_eq!(f.data(), &[10, 20, 30, 40]);
        assert!(LumaFrame::from_yuyv(2, 2, &yuyv[..7]).is_err());
    }

    #[test]
    fn rgb_weights() {
        let f = LumaFrame::from_rgb(3, 1, &[255, 255, 255, 0, 0, 0, 255, 0, 0]).unwrap();
        assert_eq!(f.data()[1], 0);
        assert!(f.data()[0] >= 254);
        assert_eq!(f.data()[2], 76); // 77*255/256
    }

    #[test]
    fn crop_clips_and_upscale_repeats() {
        let f = LumaFrame::new(3, 2, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let c = f.crop(1, 0, 10, 10).unwrap();
        assert_eq!((c.width(), c.height()), (2, 2));
        assert_eq!(c.data(), &[2, 3, 5, 6]);
        assert!(f.crop(3, 0, 1, 1).is_none());
        let u = c.upscale(2).unwrap();
        assert_eq!(u.data(), &[2, 2, 3, 3, 2, 2, 3, 3, 5, 5, 6, 6, 5, 5, 6, 6]);
    }

    #[test]
    fn adaptive_threshold_follows_gradient() {
        // A small dark square on a bright-to-dim ramp: the square is black, the ramp white.
        let (w, h) = (64u32, 64u32);
        let mut data = vec![0u8; 64 * 64];
        for y in 0..h {
            for x in 0..w {
                let bg = 250 - x as u8; // 250 → 187
                let dark = (28..34).contains(&x) && (28..34).contains(&y);
                data[(y * w + x) as usize] = if dark { bg / 3 } else { bg };
            }
        }
        let f = LumaFrame::new(w, h, data).unwrap().adaptive_threshold(8, 5);
        assert_eq!(f.get(30, 30), 0);
        assert_eq!(f.get(5, 5), 255);
        assert_eq!(f.get(60, 60), 255);
    }

    #[test]
    fn adaptive_threshold_of_a_large_white_frame_does_not_overflow() {
        // 4200 × 4100 × 255 exceeds u32: the integral image must be wider.
        let f = LumaFrame::filled(4200, 4100, 255)
            .unwrap()
            .adaptive_threshold(12, 4);
        assert!(f.data().iter().all(|&p| p == 255));
    }

    proptest! {
        #[test]
        fn new_never_panics(w in 0u32..100, h in 0u32..100, len in 0usize..12000) {
            let _ = LumaFrame::new(w, h, vec![0; len]);
            let _ = LumaFrame::from_yuyv(w, h, &vec![0; len]);
            let _ = LumaFrame::from_rgb(w, h, &vec![0; len]);
        }
    }
}
