//! Synthetic kiosk frames for tests and the benchmark: made-up card-QR payloads with Vietnamese
//! text, rendered with the `qrcode` encoder into 640×480 or 1280×720 frames and distorted the
//! way a kiosk camera distorts them. Deterministic for a seed; no image files needed.
//!
//! The people are fictional. ID numbers follow the CCCD layout (province, century/sex digit,
//! year) so the card-QR parser accepts them.

use qrcode::{Color, EcLevel, QrCode};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::frame::LumaFrame;

/// Distortion classes of the test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Clean,
    Rotation,
    Perspective,
    Blur,
    Noise,
    LowContrast,
    UnevenLight,
    Jpeg,
    SmallModules,
    /// No QR code at all (card print, background): must yield nothing.
    NoCode,
}

impl Class {
    pub const ALL: [Class; 10] = [
        Class::Clean,
        Class::Rotation,
        Class::Perspective,
        Class::Blur,
        Class::Noise,
        Class::LowContrast,
        Class::UnevenLight,
        Class::Jpeg,
        Class::SmallModules,
        Class::NoCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Clean => "clean",
            Class::Rotation => "rotation",
            Class::Perspective => "perspective",
            Class::Blur => "blur",
            Class::Noise => "noise",
            Class::LowContrast => "low_contrast",
            Class::UnevenLight => "uneven_light",
            Class::Jpeg => "jpeg",
            Class::SmallModules => "small_modules",
            Class::NoCode => "no_code",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Frame sizes of the test set.
pub const SIZES: [(u32, u32); 2] = [(640, 480), (1280, 720)];

/// One generated frame and what it must decode to.
#[derive(Debug, Clone)]
pub struct SynthFrame {
    pub class: Class,
    pub frame: LumaFrame,
    /// The payload bytes, `None` for [`Class::NoCode`].
    pub expected: Option<Vec<u8>>,
}

/// xorshift64*: tiny, deterministic across platforms and crate versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Approximately normal, mean 0, standard deviation 1 (Irwin–Hall of 4).
    pub fn normal(&mut self) -> f32 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SURNAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE: &[&str] = &[
    "Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Thuỳ", "Xuân",
];
const GIVEN: &[&str] = &[
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hạnh",
    "Hương",
    "Khánh",
    "Linh",
    "Ngọc Ánh",
    "Phương",
    "Quỳnh",
    "Sơn",
    "Thảo",
    "Tuấn",
    "Uyên",
    "Yến",
    "Đạt",
    "Ắng",
    "Ầu Cơ",
];
const STREETS: &[&str] = &[
    "Thôn 3",
    "Số 12 ngõ 45 phố Huế",
    "Tổ dân phố 7",
    "Ấp Bình Thạnh",
    "Xóm Đồng Lạc",
    "Khu phố 2",
    "Số 108 đường Nguyễn Trãi",
];
/// (province code, commune/district, province) — real province codes, made-up addresses.
const PLACES: &[(&str, &str, &str)] = &[
    ("001", "Xuân Phương, Nam Từ Liêm", "Hà Nội"),
    ("079", "Phường Bến Nghé, Quận 1", "TP. Hồ Chí Minh"),
    ("031", "Đằng Giang, Ngô Quyền", "Hải Phòng"),
    ("048", "Hòa Khánh Bắc, Liên Chiểu", "Đà Nẵng"),
    ("092", "An Hòa, Ninh Kiều", "Cần Thơ"),
    ("038", "Quảng Thắng, TP. Thanh Hóa", "Thanh Hóa"),
    ("040", "Hưng Dũng, TP. Vinh", "Nghệ An"),
    ("046", "Vĩnh Ninh, TP. Huế", "Thừa Thiên Huế"),
];

/// A made-up card-QR text (7 fields, or 11 like 2024 cards on one in four), 100–200 bytes.
pub fn card_payload(rng: &mut Rng) -> String {
    let female = rng.below(2) == 1;
    let year = 1950 + rng.below(56) as u32; // 1950–2005
    let month = 1 + rng.below(12) as u32;
    let day = 1 + rng.below(28) as u32;
    let (province, commune, city) = PLACES[rng.below(PLACES.len())];
    // Century/sex digit: 0/1 for 1900s men/women, 2/3 for 2000s.
    let century_sex = if year >= 2000 { 2 } else { 0 } + u32::from(female);
    let serial = rng.below(1_000_000);
    let id = format!("{province}{century_sex}{:02}{serial:06}", year % 100);
    let old_id = if year < 1995 && rng.below(3) > 0 {
        format!("{:09}", rng.next_u64() % 1_000_000_000)
    } else {
        String::new()
    };
    let middle = if female { "Thị" } else { rng.pick(MIDDLE) };
    let name = format!("{} {} {}", rng.pick(SURNAMES), middle, rng.pick(GIVEN));
    let sex = if female { "Nữ" } else { "Nam" };
    let address = format!("{}, {commune}, {city}", rng.pick(STREETS));
    let issue_year = 2021 + rng.below(4) as u32;
    let issue = format!(
        "{:02}{:02}{issue_year}",
        1 + rng.below(28),
        1 + rng.below(12)
    );
    let mut text = format!("{id}|{old_id}|{name}|{day:02}{month:02}{year}|{sex}|{address}|{issue}");
    if rng.below(4) == 0 {
        text.push_str(&format!("|{day:02}{month:02}{}||||", year + 25));
    }
    text
}

/// The QR modules of `bytes` (byte mode, EC level M): `(side, dark[y * side + x])`.
pub fn qr_modules(bytes: &[u8]) -> Result<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(bytes, EcLevel::M)
        .map_err(|e| Error::QrEncode(e.to_string()))?;
    let side = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok((side, dark))
}

/// Renders `bytes` as a clean QR image: `module_px` pixels per module, 4 modules of quiet zone.
pub fn render_qr(bytes: &[u8], module_px: u32) -> Result<LumaFrame> {
    let (side, dark) = qr_modules(bytes)?;
    let px = module_px.max(1) as usize;
    let full = (side + 8) * px;
    let mut data = vec![255u8; full * full];
    for y in 0..full {
        for x in 0..full {
            let (mx, my) = ((x / px) as isize - 4, (y / px) as isize - 4);
            if mx >= 0
                && my >= 0
                && (mx as usize) < side
                && (my as usize) < side
                && dark[my as usize * side + mx as usize]
            {
                data[y * full + x] = 0;
            }
        }
    }
    let full = u32::try_from(full).map_err(|_| Error::QrEncode("image too large".into()))?;
    LumaFrame::new(full, full, data)
}

/// Solves the homography mapping `from[i]` → `to[i]` (4 point pairs).
fn homography(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> Option<[f64; 9]> {
    let mut a = [[0f64; 9]; 8];
    for i in 0..4 {
        let (x, y) = (f64::from(from[i].0), f64::from(from[i].1));
        let (u, v) = (f64::from(to[i].0), f64::from(to[i].1));
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting on the 8×9 augmented matrix.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(pivot_row.iter()).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut h = [0f64; 9];
    for (i, row) in a.iter().enumerate() {
        h[i] = row[8] / row[i];
    }
    h[8] = 1.0;
    Some(h)
}

/// Parameters of one rendering.
#[derive(Debug, Clone)]
struct Scene {
    /// Pixels per module.
    module: f32,
    /// Rotation in radians.
    angle: f32,
    /// Corner displacement as a fraction of the code size (perspective).
    tilt: f32,
    dark: f32,
    light: f32,
    noise: f32,
    blur_radius: u32,
    uneven: bool,
    jpeg_quality: Option<u8>,
}

fn scene_for(class: Class, width: u32, rng: &mut Rng) -> Scene {
    let big = width >= 1000;
    let mut s = Scene {
        module: if big {
            rng.range(4.5, 7.0)
        } else {
            rng.range(3.5, 5.0)
        },
        angle: rng.range(-4.0, 4.0).to_radians(),
        tilt: 0.0,
        dark: rng.range(25.0, 50.0),
        light: rng.range(200.0, 235.0),
        noise: 3.0,
        blur_radius: 0,
        uneven: false,
        jpeg_quality: None,
    };
    match class {
        Class::Clean | Class::NoCode => {}
        Class::Rotation => s.angle = rng.range(10.0, 350.0).to_radians(),
        Class::Perspective => s.tilt = rng.range(0.10, 0.22),
        Class::Blur => s.blur_radius = 1 + rng.below(2) as u32,
        Class::Noise => s.noise = rng.range(14.0, 28.0),
        Class::LowContrast => {
            s.dark = rng.range(95.0, 115.0);
            s.light = s.dark + rng.range(30.0, 45.0);
        }
        Class::UnevenLight => s.uneven = true,
        Class::Jpeg => s.jpeg_quality = Some(15 + rng.below(20) as u8),
        Class::SmallModules => {
            s.module = if big {
                rng.range(2.4, 3.2)
            } else {
                rng.range(2.0, 2.8)
            }
        }
    }
    s
}

/// Generates one frame of `class` at `size` from `seed`.
pub fn frame(class: Class, size: (u32, u32), seed: u64) -> Result<SynthFrame> {
    let mut rng = Rng::new(seed ^ ((class as u64) << 32) ^ u64::from(size.0));
    let (w, h) = size;
    let scene = scene_for(class, w, &mut rng);
    let text = card_payload(&mut rng);
    let mut data = background(w, h, &mut rng);

    let expected = if class == Class::NoCode {
        // Card-like clutter without a code: text lines and a photo block.
        draw_clutter(&mut data, w, h, &scene, &mut rng);
        None
    } else {
        draw_code(&mut data, w, h, text.as_bytes(), &scene, &mut rng)?;
        Some(text.into_bytes())
    };
    if scene.uneven {
        uneven_light(&mut data, w, h, &mut rng);
    }
    if scene.blur_radius > 0 {
        box_blur(
            &mut data,
            w as usize,
            h as usize,
            scene.blur_radius as usize,
        );
        box_blur(
            &mut data,
            w as usize,
            h as usize,
            scene.blur_radius as usize,
        );
    }
    for p in data.iter_mut() {
        *p = (f32::from(*p) + rng.normal() * scene.noise).clamp(0.0, 255.0) as u8;
    }
    if let Some(q) = scene.jpeg_quality {
        data = jpeg_round_trip(&data, w, h, q)?;
    }
    Ok(SynthFrame {
        class,
        frame: LumaFrame::new(w, h, data)?,
        expected,
    })
}

fn background(w: u32, h: u32, rng: &mut Rng) -> Vec<u8> {
    // A desk/hand-ish gradient: never flat, never bright enough to compete with the quiet zone.
    let base = rng.range(90.0, 150.0);
    let gx = rng.range(-40.0, 40.0) / w as f32;
    let gy = rng.range(-40.0, 40.0) / h as f32;
    let mut data = vec![0u8; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            data[(y * w + x) as usize] =
                (base + gx * x as f32 + gy * y as f32).clamp(0.0, 255.0) as u8;
        }
    }
    data
}

fn draw_clutter(data: &mut [u8], w: u32, h: u32, scene: &Scene, rng: &mut Rng) {
    // A card rectangle with a "photo" and lines of "text" made of small dark blocks.
    let (cw, ch) = ((w as f32 * 0.6) as u32, (h as f32 * 0.55) as u32);
    let (cx, cy) = ((w - cw) / 2, (h - ch) / 2);
    fill_rect(data, w, cx, cy, cw, ch, scene.light as u8);
    fill_rect(
        data,
        w,
        cx + cw / 20,
        cy + ch / 6,
        cw / 4,
        ch / 2,
        scene.dark as u8 + 40,
    );
    let glyph = (scene.module * 2.0).max(3.0) as u32;
    for line in 0..6 {
        let y = cy + ch / 6 + line * glyph * 3;
        let mut x = cx + cw / 3;
        while x + glyph < cx + cw - cw / 20 {
            if rng.below(5) > 0 {
                fill_rect(
                    data,
                    w,
                    x,
                    y,
                    glyph - 1,
                    glyph + rng.below(2) as u32,
                    scene.dark as u8,
                );
            }
            x += glyph + 1;
        }
    }
}

fn fill_rect(data: &mut [u8], w: u32, x: u32, y: u32, rw: u32, rh: u32, level: u8) {
    let h = data.len() as u32 / w;
    for yy in y..(y + rh).min(h) {
        for xx in x..(x + rw).min(w) {
            data[(yy * w + xx) as usize] = level;
        }
    }
}

fn draw_code(
    data: &mut [u8],
    w: u32,
    h: u32,
    bytes: &[u8],
    scene: &Scene,
    rng: &mut Rng,
) -> Result<()> {
    let (side, dark) = qr_modules(bytes)?;
    // The printed area includes a 2-module white margin (the card's own margin is tight).
    let margin = 2.0f32;
    let span = side as f32 + 2.0 * margin;
    let size = span * scene.module;
    let max_size = (w.min(h) as f32) * 0.95;
    let size = size.min(max_size);
    // Centre somewhere the rotated code still fits.
    let half_diag = size * 0.75;
    let cx = rng.range(
        half_diag.min(w as f32 / 2.0),
        (w as f32 - half_diag).max(w as f32 / 2.0),
    );
    let cy = rng.range(
        half_diag.min(h as f32 / 2.0),
        (h as f32 - half_diag).max(h as f32 / 2.0),
    );
    let (sin, cos) = scene.angle.sin_cos();
    let corners_unit = [(-0.5f32, -0.5f32), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)];
    let mut dst = [(0f32, 0f32); 4];
    for (i, (ux, uy)) in corners_unit.iter().enumerate() {
        let jx = rng.range(-1.0, 1.0) * scene.tilt;
        let jy = rng.range(-1.0, 1.0) * scene.tilt;
        let (x, y) = ((ux + jx) * size, (uy + jy) * size);
        dst[i] = (cx + x * cos - y * sin, cy + x * sin + y * cos);
    }
    let src = [(0.0, 0.0), (span, 0.0), (span, span), (0.0, span)];
    // Map frame pixels back into module space.
    let hm =
        homography(dst, src).ok_or_else(|| Error::Bench("degenerate code placement".into()))?;
    let min_x = dst
        .iter()
        .map(|p| p.0)
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let max_x = dst
        .iter()
        .map(|p| p.0)
        .fold(f32::MIN, f32::max)
        .ceil()
        .min(w as f32 - 1.0) as u32;
    let min_y = dst
        .iter()
        .map(|p| p.1)
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let max_y = dst
        .iter()
        .map(|p| p.1)
        .fold(f32::MIN, f32::max)
        .ceil()
        .min(h as f32 - 1.0) as u32;
    let offsets = [(0.25f64, 0.25f64), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];
    for y in min_y..=max_y {
        for x in min_x..=max_x {
            let mut inside = 0u32;
            let mut darkness = 0u32;
            for (ox, oy) in offsets {
                let (fx, fy) = (f64::from(x) + ox, f64::from(y) + oy);
                let d = hm[6] * fx + hm[7] * fy + hm[8];
                let u = (hm[0] * fx + hm[1] * fy + hm[2]) / d;
                let v = (hm[3] * fx + hm[4] * fy + hm[5]) / d;
                if !(0.0..f64::from(span)).contains(&u) || !(0.0..f64::from(span)).contains(&v) {
                    continue;
                }
                inside += 1;
                let (mx, my) = (
                    (u - f64::from(margin)).floor(),
                    (v - f64::from(margin)).floor(),
                );
                if mx >= 0.0
                    && my >= 0.0
                    && (mx as usize) < side
                    && (my as usize) < side
                    && dark[my as usize * side + mx as usize]
                {
                    darkness += 1;
                }
            }
            if inside == 0 {
                continue;
            }
            let i = (y * w + x) as usize;
            let code = scene.light + (scene.dark - scene.light) * darkness as f32 / inside as f32;
            let old = f32::from(data[i]);
            data[i] = (old + (code - old) * inside as f32 / 4.0).clamp(0.0, 255.0) as u8;
        }
    }
    Ok(())
}

fn uneven_light(data: &mut [u8], w: u32, h: u32, rng: &mut Rng) {
    // A lamp off to one side: brightness falls from 100 % to 30–45 % across the frame.
    let (lx, ly) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
    let floor = rng.range(0.30, 0.45);
    let reach = (w as f32).hypot(h as f32);
    for y in 0..h {
        for x in 0..w {
            let d = (x as f32 - lx).hypot(y as f32 - ly) / reach;
            let gain = 1.0 - (1.0 - floor) * d.min(1.0);
            let i = (y * w + x) as usize;
            data[i] = (f32::from(data[i]) * gain) as u8;
        }
    }
}

fn box_blur(data: &mut [u8], w: usize, h: usize, r: usize) {
    let mut tmp = vec![0u8; data.len()];
    let n = (2 * r + 1) as u32;
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            for k in 0..=2 * r {
                let xx = (x + k).saturating_sub(r).min(w - 1);
                sum += u32::from(data[y * w + xx]);
            }
            tmp[y * w + x] = (sum / n) as u8;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            for k in 0..=2 * r {
                let yy = (y + k).saturating_sub(r).min(h - 1);
                sum += u32::from(tmp[yy * w + x]);
            }
            data[y * w + x] = (sum / n) as u8;
        }
    }
}

fn jpeg_round_trip(data: &[u8], w: u32, h: u32, quality: u8) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality)
        .encode(data, w, h, image::ExtendedColorType::L8)
        .map_err(|e| Error::Bench(format!("JPEG encoding: {e}")))?;
    let img = image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
        .map_err(|e| Error::Bench(format!("JPEG decoding: {e}")))?;
    Ok(img.into_luma8().into_raw())
}

/// The whole set: `per_class` frames of every class at both sizes, seeds from `seed`.
pub fn frame_set(per_class: usize, seed: u64) -> Result<Vec<SynthFrame>> {
    let mut out = Vec::new();
    for size in SIZES {
        for class in Class::ALL {
            for i in 0..per_class {
                out.push(frame(class, size, seed.wrapping_add(i as u64 * 7919))?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_payloads_parse_as_card_qr() {
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let text = card_payload(&mut rng);
            assert!((90..=220).contains(&text.len()), "{} bytes", text.len());
            crate::payload::CardQr::parse(&text).unwrap();
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = frame(Class::Noise, (640, 480), 42).unwrap();
        let b = frame(Class::Noise, (640, 480), 42).unwrap();
        let c = frame(Class::Noise, (640, 480), 43).unwrap();
        assert_eq!(a.frame, b.frame);
        assert_ne!(a.frame, c.frame);
        assert_eq!(a.expected, b.expected);
    }

    #[test]
    fn homography_maps_corners() {
        let from = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        let to = [(5.0, 5.0), (25.0, 7.0), (22.0, 30.0), (3.0, 26.0)];
        let h = homography(from, to).unwrap();
        for (f, t) in from.iter().zip(to) {
            let (x, y) = (f64::from(f.0), f64::from(f.1));
            let d = h[6] * x + h[7] * y + h[8];
            assert!(((h[0] * x + h[1] * y + h[2]) / d - f64::from(t.0)).abs() < 1e-6);
            assert!(((h[3] * x + h[4] * y + h[5]) / d - f64::from(t.1)).abs() < 1e-6);
        }
    }
}
