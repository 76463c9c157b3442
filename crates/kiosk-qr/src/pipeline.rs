//! The decode pipeline on its own thread: frames from a [`FrameSource`] through a [`Scanner`]
//! to classified payloads on a channel. The same payload seen again within the de-duplication
//! window is reported once; a missing camera is an event and is retried, never a crash.

use std::collections::VecDeque;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::decoder::Engine;
use crate::error::{Error, Result};
use crate::payload::{Payload, classify};
use crate::scanner::{FrameTiming, ScanConfig, Scanner};
use crate::source::{FrameSource, SourceEvent};

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub engine: Engine,
    pub scan: ScanConfig,
    /// The same payload within this window is reported once.
    pub dedup_window: Duration,
    /// How long one `next_frame` call may wait.
    pub frame_timeout: Duration,
    /// Pause after the source reported itself unavailable, before asking again.
    pub retry_delay: Duration,
    /// How many recent frame timings are kept for diagnostics.
    pub timing_history: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            engine: Engine::default_for_build(),
            scan: ScanConfig::default(),
            dedup_window: Duration::from_secs(3),
            frame_timeout: Duration::from_millis(500),
            retry_delay: Duration::from_secs(2),
            timing_history: 256,
        }
    }
}

/// What the pipeline tells its owner.
#[derive(Debug)]
pub enum ScanEvent {
    /// A new code: its raw bytes (always kept) and what they parse to (or why not).
    Code {
        /// Wiped when dropped: it is the citizen's data.
        raw: zeroize::Zeroizing<Vec<u8>>,
        payload: Result<Payload>,
        engine: &'static str,
        timing: FrameTiming,
    },
    /// The source went away (camera unplugged or missing); the pipeline keeps retrying.
    SourceDown { reason: String },
    /// The source delivers frames again.
    SourceUp,
    /// An input was unusable and skipped (e.g. a corrupt file).
    Skipped { reason: String },
    /// A finite source is exhausted; the thread has stopped.
    Ended,
    /// The engine could not be built; the thread has stopped.
    Failed(Error),
}

/// The running pipeline. Dropping it stops the thread.
pub struct Pipeline {
    events: Receiver<ScanEvent>,
    stop: Arc<AtomicBool>,
    timings: Arc<Mutex<VecDeque<FrameTiming>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Starts the pipeline thread. The engine is built on that thread (FFI engines are not
    /// `Send`); a failure arrives as [`ScanEvent::Failed`].
    pub fn spawn(source: Box<dyn FrameSource>, config: PipelineConfig) -> Result<Self> {
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let timings = Arc::new(Mutex::new(VecDeque::with_capacity(config.timing_history)));
        let worker = Worker {
            source,
            config,
            tx,
            stop: Arc::clone(&stop),
            timings: Arc::clone(&timings),
        };
        let thread = std::thread::Builder::new()
            .name("kiosk-qr".into())
            .spawn(move || worker.run())
            .map_err(|e| Error::Camera(format!("cannot start the QR thread: {e}")))?;
        Ok(Self {
            events,
            stop,
            timings,
            thread: Some(thread),
        })
    }

    /// The event channel.
    pub fn events(&self) -> &Receiver<ScanEvent> {
        &self.events
    }

    /// Timings of the most recent frames (oldest first), for diagnostics.
    pub fn recent_timings(&self) -> Vec<FrameTiming> {
        self.timings
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Stops the thread and waits for it (at most one frame timeout plus one scan).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    source: Box<dyn FrameSource>,
    config: PipelineConfig,
    tx: Sender<ScanEvent>,
    stop: Arc<AtomicBool>,
    timings: Arc<Mutex<VecDeque<FrameTiming>>>,
}

/// Remembers hashes (not payloads: no personal data kept) of recently reported codes.
struct Dedup {
    window: Duration,
    seen: VecDeque<(u64, Instant)>,
}

impl Dedup {
    /// True when `bytes` was not seen within the window. Seeing it again extends the window, so
    /// a card held in front of the camera is reported once, not every few seconds.
    fn is_new(&mut self, bytes: &[u8], now: Instant) -> bool {
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        let key = h.finish();
        self.seen
            .retain(|(_, t)| now.duration_since(*t) < self.window);
        if let Some(entry) = self.seen.iter_mut().find(|(k, _)| *k == key) {
            entry.1 = now;
            return false;
        }
        if self.seen.len() >= 64 {
            self.seen.pop_front();
        }
        self.seen.push_back((key, now));
        true
    }
}

impl Worker {
    fn run(mut self) {
        let mut scanner = match Scanner::with_engine(self.config.engine, self.config.scan.clone()) {
            Ok(s) => s,
            Err(e) => {
                let _ = self.tx.send(ScanEvent::Failed(e));
                return;
            }
        };
        let mut dedup = Dedup {
            window: self.config.dedup_window,
            seen: VecDeque::new(),
        };
        let mut down = false;
        while !self.stop.load(Ordering::Relaxed) {
            let frame = match self.source.next_frame(self.config.frame_timeout) {
                SourceEvent::Frame(f) => f,
                SourceEvent::Idle => continue,
                SourceEvent::Unavailable(reason) => {
                    if !down {
                        down = true;
                        tracing::warn!(source = %self.source.describe(), %reason, "QR frame source unavailable");
                        if self.tx.send(ScanEvent::SourceDown { reason }).is_err() {
                            return;
                        }
                    }
                    self.sleep_unless_stopped(self.config.retry_delay);
                    continue;
                }
                SourceEvent::Skipped(e) => {
                    if self
                        .tx
                        .send(ScanEvent::Skipped {
                            reason: e.to_string(),
                        })
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                SourceEvent::End => {
                    let _ = self.tx.send(ScanEvent::Ended);
                    return;
                }
            };
            if down {
                down = false;
                if self.tx.send(ScanEvent::SourceUp).is_err() {
                    return;
                }
            }
            let result = scanner.scan(&frame);
            self.record(&result.timing);
            let now = Instant::now();
            for mut code in result.codes {
                if !dedup.is_new(&code.bytes, now) {
                    continue;
                }
                let payload = classify(&code.bytes);
                let event = ScanEvent::Code {
                    raw: zeroize::Zeroizing::new(std::mem::take(&mut code.bytes)),
                    payload,
                    engine: scanner.engine_name(),
                    timing: result.timing.clone(),
                };
                if self.tx.send(event).is_err() {
                    return; // the owner is gone
                }
            }
        }
    }

    fn record(&self, timing: &FrameTiming) {
        if let Ok(mut t) = self.timings.lock() {
            if t.len() >= self.config.timing_history.max(1) {
                t.pop_front();
            }
            t.push_back(timing.clone());
        }
    }

    fn sleep_unless_stopped(&self, total: Duration) {
        let step = Duration::from_millis(50);
        let start = Instant::now();
        while !self.stop.load(Ordering::Relaxed) && start.elapsed() < total {
            std::thread::sleep(step.min(total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_reports_once_within_window() {
        let mut d = Dedup {
            window: Duration::from_secs(3),
            seen: VecDeque::new(),
        };
        let t0 = Instant::now();
        assert!(d.is_new(b"abc", t0));
        assert!(!d.is_new(b"abc", t0 + Duration::from_secs(2)));
        assert!(d.is_new(b"xyz", t0 + Duration::from_secs(2)));
        // Seen at 2 s, so still a repeat at 4.5 s; new again after a 3 s gap.
        assert!(!d.is_new(b"abc", t0 + Duration::from_millis(4500)));
        assert!(d.is_new(b"abc", t0 + Duration::from_millis(7600)));
    }
}
