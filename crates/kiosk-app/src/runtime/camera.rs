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

/// Counters the diagnostics turn into rates.
pub struct CameraStats {
    pub device: String,
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
        if matches!(ev, SourceEvent::Frame(_)) {
            self.stats.frames.fetch_add(1, Ordering::Relaxed);
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
