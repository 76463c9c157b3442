//! The camera side: frames through `kiosk_qr`'s pipeline (its own thread), classified payloads
//! to the core as `Qr` / `QrUnreadable`, and the camera's health. A missing camera is a health
//! event (the pipeline keeps retrying), never a crash.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use kiosk_api::v1::DeviceHealth;
use kiosk_core::Event;
use kiosk_core::event::Device;
use kiosk_qr::pipeline::{Pipeline, PipelineConfig, ScanEvent};
use kiosk_qr::source::{FrameSource, SourceEvent};

use super::{RuntimeHandle, device_event};

/// The widest preview frame kept for the technician screen (the preview only shows that the
/// camera sees and is sharp; it need not be full size).
const PREVIEW_MAX_WIDTH: u32 = 320;

/// One preview frame: 8-bit luma, row-major.
pub struct PreviewFrame {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

impl Drop for PreviewFrame {
    fn drop(&mut self) {
        // The camera sees faces and cards.
        zeroize::Zeroize::zeroize(&mut self.luma);
    }
}

/// The technician screen's camera preview. Frames are kept only while the technician screen
/// asks for them, and only the newest one.
#[derive(Default)]
pub struct Preview {
    wanted: AtomicBool,
    frame: std::sync::Mutex<Option<PreviewFrame>>,
}

impl Preview {
    /// Starts or stops keeping frames; stopping drops the one kept.
    pub fn want(&self, on: bool) {
        self.wanted.store(on, Ordering::Relaxed);
        if !on && let Ok(mut f) = self.frame.lock() {
            f.take();
        }
    }

    /// The newest frame since the last call, if any.
    pub fn take(&self) -> Option<PreviewFrame> {
        self.frame.lock().ok().and_then(|mut f| f.take())
    }

    fn offer(&self, frame: &kiosk_qr::frame::LumaFrame) {
        if !self.wanted.load(Ordering::Relaxed) {
            return;
        }
        let scaled = downscale(frame, PREVIEW_MAX_WIDTH);
        if let Ok(mut f) = self.frame.lock() {
            *f = Some(scaled);
        }
    }
}

/// Nearest-neighbour downscale by a whole step so the width is at most `max_width`.
fn downscale(frame: &kiosk_qr::frame::LumaFrame, max_width: u32) -> PreviewFrame {
    let (w, h) = (frame.width(), frame.height());
    let step = w.div_ceil(max_width.max(1)).max(1);
    let (sw, sh) = (w / step, h / step);
    let mut luma = Vec::with_capacity((sw as usize) * (sh as usize));
    for y in 0..sh {
        for x in 0..sw {
            luma.push(frame.get(x * step, y * step));
        }
    }
    PreviewFrame {
        width: sw,
        height: sh,
        luma,
    }
}

/// Counters the diagnostics turn into rates, and the technician's preview.
pub struct CameraStats {
    pub device: String,
    pub preview: Preview,
    frames: AtomicU64,
    codes: AtomicU64,
    unreadable: AtomicU64,
    health: std::sync::Mutex<(DeviceHealth, String)>,
    since: Instant,
}

/// What the technician screen shows about the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraSnapshot {
    pub device: String,
    pub health: DeviceHealth,
    pub reason: String,
    pub frames: u64,
    pub codes: u64,
    pub unreadable: u64,
    pub fps: f64,
}

impl CameraStats {
    fn new(device: String) -> Self {
        CameraStats {
            device,
            preview: Preview::default(),
            frames: AtomicU64::new(0),
            codes: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
            health: std::sync::Mutex::new((DeviceHealth::Ok, String::new())),
            since: Instant::now(),
        }
    }

    fn set_health(&self, health: DeviceHealth, reason: String) {
        if let Ok(mut h) = self.health.lock() {
            *h = (health, reason);
        }
    }

    pub fn snapshot(&self) -> CameraSnapshot {
        let (health, reason) = self
            .health
            .lock()
            .map(|h| h.clone())
            .unwrap_or((DeviceHealth::Failed, "lock poisoned".into()));
        let frames = self.frames.load(Ordering::Relaxed);
        let secs = self.since.elapsed().as_secs_f64().max(0.001);
        CameraSnapshot {
            device: self.device.clone(),
            health,
            reason,
            frames,
            codes: self.codes.load(Ordering::Relaxed),
            unreadable: self.unreadable.load(Ordering::Relaxed),
            fps: frames as f64 / secs,
        }
    }
}

/// Counts the frames a source delivers.
struct Counting {
    inner: Box<dyn FrameSource>,
    stats: Arc<CameraStats>,
}

impl FrameSource for Counting {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn next_frame(&mut self, timeout: Duration) -> SourceEvent {
        let ev = self.inner.next_frame(timeout);
        if let SourceEvent::Frame(frame) = &ev {
            self.stats.frames.fetch_add(1, Ordering::Relaxed);
            self.stats.preview.offer(frame);
        }
        ev
    }
}

/// The pipeline and the thread that forwards its events.
pub struct CameraThread {
    stats: Arc<CameraStats>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CameraThread {
    pub fn start(source: Box<dyn FrameSource>, handle: RuntimeHandle) -> anyhow::Result<Self> {
        let stats = Arc::new(CameraStats::new(source.describe()));
        let counting = Counting {
            inner: source,
            stats: Arc::clone(&stats),
        };
        let config = PipelineConfig {
            retry_delay: Duration::from_millis(500),
            ..PipelineConfig::default()
        };
        let pipeline =
            Pipeline::spawn(Box::new(counting), config).context("starting the QR pipeline")?;
        let stop = Arc::new(AtomicBool::new(false));
        let (stats2, stop2) = (Arc::clone(&stats), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("kiosk-camera-events".into())
            .spawn(move || forward(pipeline, &stats2, &stop2, &handle))
            .context("starting the camera event thread")?;
        Ok(CameraThread {
            stats,
            stop,
            thread: Some(thread),
        })
    }

    pub fn stats(&self) -> Arc<CameraStats> {
        Arc::clone(&self.stats)
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn forward(pipeline: Pipeline, stats: &CameraStats, stop: &AtomicBool, handle: &RuntimeHandle) {
    let mut health = DeviceHealth::Ok;
    let mut set = |h: DeviceHealth, reason: String| {
        stats.set_health(h, reason);
        if h != health {
            health = h;
            handle.send(device_event(Device::Camera, h));
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let ev = match pipeline.events().recv_timeout(Duration::from_millis(200)) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match ev {
            ScanEvent::Code { payload, .. } => match payload {
                Ok(p) => {
                    stats.codes.fetch_add(1, Ordering::Relaxed);
                    handle.send(Event::Qr(p));
                }
                Err(_) => {
                    stats.unreadable.fetch_add(1, Ordering::Relaxed);
                    handle.send(Event::QrUnreadable);
                }
            },
            ScanEvent::SourceDown { reason } => set(DeviceHealth::Absent, reason),
            ScanEvent::SourceUp => set(DeviceHealth::Ok, String::new()),
            ScanEvent::Skipped { .. } => {}
            ScanEvent::Ended => break,
            ScanEvent::Failed(e) => {
                set(DeviceHealth::Failed, e.to_string());
                break;
            }
        }
    }
    pipeline.stop();
}

/// The camera named in the configuration: V4L2 with the `camera` feature; without it the
/// camera is reported absent (the kiosk works with the card and the keypad).
pub fn configured_source(device: &std::path::Path) -> Box<dyn FrameSource> {
    let device = device.display().to_string();
    #[cfg(feature = "camera")]
    {
        match kiosk_qr::camera::CameraSource::start(&device) {
            Ok(c) => Box::new(c),
            Err(e) => Box::new(NoCamera {
                device,
                reason: e.to_string(),
            }),
        }
    }
    #[cfg(not(feature = "camera"))]
    {
        Box::new(NoCamera {
            device,
            reason: "this build has no camera support (feature `camera`)".into(),
        })
    }
}

/// A camera that is not there.
pub struct NoCamera {
    pub device: String,
    pub reason: String,
}

impl FrameSource for NoCamera {
    fn describe(&self) -> String {
        format!("camera {}", self.device)
    }

    fn next_frame(&mut self, timeout: Duration) -> SourceEvent {
        // The pipeline asks again after its retry delay; sleeping the timeout keeps it calm.
        std::thread::sleep(timeout.min(Duration::from_millis(200)));
        SourceEvent::Unavailable(self.reason.clone())
    }
}

#[cfg(test)]
mod preview_tests {
    use kiosk_qr::frame::LumaFrame;

    use super::*;

    fn gradient(w: u32, h: u32) -> LumaFrame {
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| ((x + y) % 256) as u8))
            .collect();
        LumaFrame::new(w, h, data).unwrap()
    }

    #[test]
    fn frames_are_kept_only_while_wanted_and_scaled_down() {
        let p = Preview::default();
        p.offer(&gradient(1280, 720));
        assert!(
            p.take().is_none(),
            "nothing is kept unless the technician screen asks"
        );
        p.want(true);
        p.offer(&gradient(1280, 720));
        let f = p.take().expect("a frame while wanted");
        assert_eq!((f.width, f.height), (320, 180));
        assert_eq!(f.luma.len(), 320 * 180);
        // Nearest neighbour with step 4: pixel (1, 1) is the source's (4, 4).
        assert_eq!(f.luma[320 + 1], 8);
        assert!(p.take().is_none(), "a frame is handed out once");
        p.offer(&gradient(640, 480));
        p.want(false);
        assert!(p.take().is_none(), "stopping drops the kept frame");
    }

    #[test]
    fn small_frames_keep_their_size() {
        let f = downscale(&gradient(200, 100), PREVIEW_MAX_WIDTH);
        assert_eq!((f.width, f.height), (200, 100));
    }
}
