//! The timer: `Event::Tick` every period with monotonic milliseconds and the wall clock
//! (Vietnam's UTC+7).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use kiosk_core::Event;
use kiosk_core::event::Now;

use super::RuntimeHandle;

pub struct Timer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Timer {
    pub fn start(handle: RuntimeHandle, period: Duration) -> anyhow::Result<Timer> {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("kiosk-timer".into())
            .spawn(move || {
                let origin = Instant::now();
                let mut next = origin;
                while !stop2.load(Ordering::Relaxed) {
                    let monotonic_ms =
                        u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX);
                    let now = Now {
                        monotonic_ms,
                        // Local time: card expiry and service days are Vietnamese dates.
                        wall: super::delivery::local_now(),
                    };
                    if !handle.send(Event::Tick { now }) {
                        return;
                    }
                    // Fixed rate without drift; after a long stall, no burst of ticks.
                    next += period;
                    let now = Instant::now();
                    if next < now {
                        next = now;
                    }
                    std::thread::sleep(next - now);
                }
            })
            .context("starting the timer thread")?;
        Ok(Timer {
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
