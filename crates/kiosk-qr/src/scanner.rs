//! One frame through the passes: region of interest (where the last code was), the full frame,
//! then fallbacks when nothing was found (adaptive threshold; the centre crop enlarged for small
//! modules). Each pass is timed for diagnostics.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::decoder::{Decoded, Decoder, Engine};
use crate::error::Result;
use crate::frame::LumaFrame;

/// Which pass of [`Scanner::scan`] ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// Crop around the previous hit.
    Roi,
    /// The whole frame as captured.
    Full,
    /// The whole frame after local-mean binarisation.
    Threshold,
    /// The central part of the frame enlarged 2× (small modules).
    CentreZoom,
}

/// Timing of one pass.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PassTiming {
    pub pass: Pass,
    #[serde(serialize_with = "micros")]
    pub took: Duration,
    pub found: usize,
}

/// Timing of one frame: the passes that ran, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FrameTiming {
    #[serde(serialize_with = "micros")]
    pub total: Duration,
    pub passes: Vec<PassTiming>,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Which passes run.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Try the crop around the last hit first (cheap when the citizen holds still).
    pub roi: bool,
    /// On a miss, binarise with a local mean and try again.
    pub threshold_fallback: bool,
    /// On a miss, enlarge the centre and try again.
    pub zoom_fallback: bool,
    /// Window radius (px) of the adaptive threshold.
    pub threshold_radius: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            roi: true,
            threshold_fallback: true,
            zoom_fallback: true,
            threshold_radius: 12,
        }
    }
}

/// The result of scanning one frame.
#[derive(Debug, Clone)]
pub struct ScanResult {
    pub codes: Vec<Decoded>,
    pub timing: FrameTiming,
    /// Errors an engine reported on some pass (the scan went on).
    pub engine_errors: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

/// Runs the passes of one engine over frames; remembers where the last code was.
pub struct Scanner {
    decoder: Box<dyn Decoder>,
    config: ScanConfig,
    last_roi: Option<Rect>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("engine", &self.decoder.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// A scanner around an already built decoder.
    pub fn new(decoder: Box<dyn Decoder>, config: ScanConfig) -> Self {
        Self {
            decoder,
            config,
            last_roi: None,
        }
    }

    /// Builds `engine` and wraps it.
    pub fn with_engine(engine: Engine, config: ScanConfig) -> Result<Self> {
        Ok(Self::new(engine.build()?, config))
    }

    pub fn engine_name(&self) -> &'static str {
        self.decoder.name()
    }

    /// Forgets the region of interest (e.g. between independent files).
    pub fn reset(&mut self) {
        self.last_roi = None;
    }

    /// Scans one frame.
    pub fn scan(&mut self, frame: &LumaFrame) -> ScanResult {
        let start = Instant::now();
        let mut timing = FrameTiming::default();
        let mut errors = Vec::new();
        let mut codes = Vec::new();

        if self.config.roi
            && let Some(r) = self.last_roi
            && let Some(crop) = frame.crop(r.x, r.y, r.w, r.h)
        {
            codes = self.pass(Pass::Roi, &crop, &mut timing, &mut errors);
            offset_corners(&mut codes, r.x as i32, r.y as i32, 1);
        }
        if codes.is_empty() {
            codes = self.pass(Pass::Full, frame, &mut timing, &mut errors);
        }
        if codes.is_empty() && self.config.threshold_fallback {
            let binary = frame.adaptive_threshold(self.config.threshold_radius, 4);
            codes = self.pass(Pass::Threshold, &binary, &mut timing, &mut errors);
        }
        if codes.is_empty() && self.config.zoom_fallback {
            let (w, h) = (frame.width() / 2, frame.height() / 2);
            let (x, y) = (frame.width() / 4, frame.height() / 4);
            if let Some(zoomed) = frame.crop(x, y, w, h).and_then(|c| c.upscale(2)) {
                codes = self.pass(Pass::CentreZoom, &zoomed, &mut timing, &mut errors);
                scale_corners(&mut codes, x as i32, y as i32);
            }
        }
        self.last_roi = codes
            .first()
            .and_then(|c| c.corners)
            .map(|c| roi_around(&c, frame.width(), frame.height()));
        timing.total = start.elapsed();
        ScanResult {
            codes,
            timing,
            engine_errors: errors,
        }
    }

    fn pass(
        &mut self,
        pass: Pass,
        frame: &LumaFrame,
        timing: &mut FrameTiming,
        errors: &mut Vec<String>,
    ) -> Vec<Decoded> {
        let t = Instant::now();
        let codes = match self.decoder.decode(frame) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e.to_string());
                Vec::new()
            }
        };
        timing.passes.push(PassTiming {
            pass,
            took: t.elapsed(),
            found: codes.len(),
        });
        codes
    }
}

fn offset_corners(codes: &mut [Decoded], dx: i32, dy: i32, div: i32) {
    for c in codes {
        if let Some(corners) = c.corners.as_mut() {
            for p in corners.iter_mut() {
                *p = (p.0 / div + dx, p.1 / div + dy);
            }
        }
    }
}

fn scale_corners(codes: &mut [Decoded], dx: i32, dy: i32) {
    offset_corners(codes, dx, dy, 2);
}

/// The bounding box of the corners, grown by half its size on each side, clipped to the frame.
fn roi_around(corners: &[(i32, i32); 4], width: u32, height: u32) -> Rect {
    let min_x = corners.iter().map(|p| p.0).min().unwrap_or(0);
    let max_x = corners.iter().map(|p| p.0).max().unwrap_or(0);
    let min_y = corners.iter().map(|p| p.1).min().unwrap_or(0);
    let max_y = corners.iter().map(|p| p.1).max().unwrap_or(0);
    let margin = ((max_x - min_x).max(max_y - min_y) / 2).max(16);
    let clamp = |v: i32, hi: u32| v.clamp(0, hi as i32) as u32;
    let x0 = clamp(min_x - margin, width);
    let y0 = clamp(min_y - margin, height);
    let x1 = clamp(max_x + margin, width);
    let y1 = clamp(max_y + margin, height);
    Rect {
        x: x0,
        y: y0,
        w: x1.saturating_sub(x0).max(1),
        h: y1.saturating_sub(y0).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoder that finds a code only in frames of one width, to see which pass ran.
    struct OnlyWidth(u32);
    impl Decoder for OnlyWidth {
        fn name(&self) -> &'static str {
            "fake"
        }
        fn decode(&mut self, frame: &LumaFrame) -> Result<Vec<Decoded>> {
            Ok(if frame.width() == self.0 {
                vec![Decoded {
                    bytes: b"x".to_vec(),
                    corners: Some([(10, 10), (20, 10), (20, 20), (10, 20)]),
                }]
            } else {
                vec![]
            })
        }
    }

    #[test]
    fn fallbacks_run_only_on_a_miss() {
        let frame = LumaFrame::filled(100, 80, 128).unwrap();
        let mut s = Scanner::new(Box::new(OnlyWidth(100)), ScanConfig::default());
        let r = s.scan(&frame);
        assert_eq!(r.codes.len(), 1);
        let passes: Vec<Pass> = r.timing.passes.iter().map(|p| p.pass).collect();
        assert_eq!(passes, [Pass::Full]);
        // Second frame: the ROI (a crop, narrower than 100) misses, then the full frame hits.
        let r = s.scan(&frame);
        let passes: Vec<Pass> = r.timing.passes.iter().map(|p| p.pass).collect();
        assert_eq!(passes, [Pass::Roi, Pass::Full]);
    }

    #[test]
    fn zoom_pass_runs_after_misses_and_maps_corners_back() {
        let frame = LumaFrame::filled(960, 80, 0).unwrap();
        let config = ScanConfig {
            roi: false,
            threshold_fallback: true,
            ..ScanConfig::default()
        };
        // The third call is the zoom of the centre crop 480×40 at (240, 20).
        let mut s = Scanner::new(Box::new(NthCall { n: 3, calls: 0 }), config);
        let r = s.scan(&frame);
        let passes: Vec<Pass> = r.timing.passes.iter().map(|p| p.pass).collect();
        assert_eq!(passes, [Pass::Full, Pass::Threshold, Pass::CentreZoom]);
        // Corners (10,10) in the zoomed image map to (240 + 5, 20 + 5) in the frame.
        assert_eq!(r.codes[0].corners.unwrap()[0], (245, 25));
    }

    /// Finds a code on its n-th call only.
    struct NthCall {
        n: u32,
        calls: u32,
    }
    impl Decoder for NthCall {
        fn name(&self) -> &'static str {
            "nth"
        }
        fn decode(&mut self, _frame: &LumaFrame) -> Result<Vec<Decoded>> {
            self.calls += 1;
            Ok(if self.calls == self.n {
                vec![Decoded {
                    bytes: b"x".to_vec(),
                    corners: Some([(10, 10), (20, 10), (20, 20), (10, 20)]),
                }]
            } else {
                vec![]
            })
        }
    }
}
