//! The V4L2 camera through nokhwa (feature `camera`), kept thin: a capture thread opens the
//! device, picks a mode with [`crate::camera_mode::choose`], turns each buffer into luma (the Y
//! plane of YUYV as is, MJPEG decoded) and hands frames over a bounded channel. A missing or
//! unplugged camera is reported as [`SourceEvent::Unavailable`] and retried; the receiving side's
//! `recv_timeout` is the device timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use nokhwa::Camera;
use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

use crate::camera_mode::{Mode, PixelFormat, buffer_to_luma, choose};
use crate::error::{Error, Result};
use crate::source::{FrameSource, SourceEvent};

/// Pause between attempts to open a missing camera.
const RETRY: Duration = Duration::from_secs(2);

/// `/dev/video2` → index 2; a bare number is an index too.
pub fn parse_device(device: &str) -> Result<u32> {
    let digits = device.strip_prefix("/dev/video").unwrap_or(device);
    digits
        .parse()
        .map_err(|_| Error::Camera(format!("`{device}` is not /dev/videoN or an index")))
}

fn to_mode(f: &CameraFormat) -> Mode {
    let format = match f.format() {
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::GRAY => PixelFormat::Gray,
        FrameFormat::NV12 => PixelFormat::Nv12,
        _ => PixelFormat::Other,
    };
    Mode {
        format,
        width: f.width(),
        height: f.height(),
        fps: f.frame_rate(),
    }
}

/// Camera frames as a [`FrameSource`].
pub struct CameraSource {
    device: String,
    frames: Receiver<SourceEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CameraSource({})", self.device)
    }
}

impl CameraSource {
    /// Starts the capture thread for `device` (`/dev/videoN` or an index). Never fails because
    /// the camera is absent: that arrives as an event.
    pub fn start(device: &str) -> Result<Self> {
        let index = parse_device(device)?;
        let (tx, frames) = mpsc::sync_channel(2);
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("kiosk-camera".into())
            .spawn(move || capture_loop(index, &tx, &stop2))
            .map_err(|e| Error::Camera(format!("cannot start the capture thread: {e}")))?;
        Ok(Self {
            device: device.to_owned(),
            frames,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock a sender waiting on a full channel, then wait for the thread.
        while self.frames.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl FrameSource for CameraSource {
    fn describe(&self) -> String {
        format!("camera {}", self.device)
    }

    fn next_frame(&mut self, timeout: Duration) -> SourceEvent {
        match self.frames.recv_timeout(timeout) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => SourceEvent::Idle,
            Err(RecvTimeoutError::Disconnected) => {
                SourceEvent::Unavailable("capture thread stopped".into())
            }
        }
    }
}

fn send(tx: &SyncSender<SourceEvent>, ev: SourceEvent) -> bool {
    match tx.try_send(ev) {
        // A full channel means the decoder is behind: dropping the frame keeps latency low.
        Ok(()) | Err(TrySendError::Full(_)) => true,
        Err(TrySendError::Disconnected(_)) => false,
    }
}

fn open(index: u32) -> Result<(Camera, Mode)> {
    let err = |e: nokhwa::NokhwaError| Error::Camera(e.to_string());
    let any = RequestedFormat::new::<LumaFormat>(RequestedFormatType::None);
    let mut cam = Camera::new(CameraIndex::Index(index), any).map_err(err)?;
    let formats = cam.compatible_camera_formats().map_err(err)?;
    let modes: Vec<(Mode, CameraFormat)> = formats.iter().map(|f| (to_mode(f), *f)).collect();
    let best = choose(&modes.iter().map(|m| m.0).collect::<Vec<_>>())
        .ok_or_else(|| Error::Camera("no YUYV/MJPEG/GRAY mode at 15 fps or more".into()))?;
    let chosen = modes
        .iter()
        .find(|m| m.0 == best)
        .map(|m| m.1)
        .ok_or_else(|| Error::Camera("mode vanished".into()))?;
    cam.set_camera_requset(RequestedFormat::new::<LumaFormat>(
        RequestedFormatType::Exact(chosen),
    ))
    .map_err(err)?;
    cam.open_stream().map_err(err)?;
    Ok((cam, best))
}

fn capture_loop(index: u32, tx: &SyncSender<SourceEvent>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let (mut cam, mode) = match open(index) {
            Ok(c) => c,
            Err(e) => {
                if !send(tx, SourceEvent::Unavailable(e.to_string())) {
                    return;
                }
                sleep_unless(stop, RETRY);
                continue;
            }
        };
        tracing::info!(index, ?mode, "camera streaming");
        while !stop.load(Ordering::Relaxed) {
            let event = match cam.frame() {
                Ok(buf) => {
                    let res = buf.resolution();
                    match buffer_to_luma(&mode, res.width(), res.height(), buf.buffer()) {
                        Ok(f) => SourceEvent::Frame(f),
                        Err(e) => SourceEvent::Skipped(e),
                    }
                }
                Err(e) => {
                    // Unplugged or stalled: report, drop the handle and reopen.
                    let _ = send(tx, SourceEvent::Unavailable(e.to_string()));
                    break;
                }
            };
            if !send(tx, event) {
                return;
            }
        }
        let _ = cam.stop_stream();
        sleep_unless(stop, RETRY);
    }
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) && waited < total {
        std::thread::sleep(step);
        waited += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        assert_eq!(parse_device("/dev/video2").unwrap(), 2);
        assert_eq!(parse_device("0").unwrap(), 0);
        assert!(parse_device("/dev/sda").is_err());
    }

    #[test]
    fn missing_camera_is_an_event_not_a_crash() {
        // No V4L2 device with this index exists in CI or on a dev machine.
        let mut cam = CameraSource::start("/dev/video63").unwrap();
        let ev = cam.next_frame(Duration::from_secs(10));
        assert!(matches!(ev, SourceEvent::Unavailable(_)), "{ev:?}");
    }
}
