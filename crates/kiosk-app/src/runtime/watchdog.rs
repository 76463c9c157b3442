//! systemd readiness and watchdog (`sd-notify`): `READY=1` once the first view is on screen,
//! `WATCHDOG=1` from the loop that draws (so a frozen UI misses its pings and systemd restarts
//! the kiosk), `STOPPING=1` on the way out. Outside systemd (`NOTIFY_SOCKET` unset) every call
//! does nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

type Sink = Box<dyn Fn(&[NotifyState<'_>]) + Send + Sync>;

struct Inner {
    sink: Option<Sink>,
    ready: AtomicBool,
    last_ping: Mutex<Option<Instant>>,
    /// Pings closer together than this are dropped (the UI loop may call at frame rate).
    min_interval: Duration,
}

/// The kiosk's link to systemd. Cheap to clone.
#[derive(Clone)]
pub struct Watchdog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("enabled", &self.inner.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl Watchdog {
    /// From the environment systemd sets (`NOTIFY_SOCKET`, `WATCHDOG_USEC`): pings at most
    /// every quarter of the watchdog period (every second when no period is set).
    pub fn from_env() -> Watchdog {
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            return Watchdog::disabled();
        }
        let period = sd_notify::watchdog_enabled().unwrap_or(Duration::from_secs(4));
        Watchdog::with_sink(
            Box::new(|states| {
                if let Err(e) = sd_notify::notify(states) {
                    super::log_line(&format!("sd_notify: {e}"));
                }
            }),
            period / 4,
        )
    }

    /// Outside systemd.
    pub fn disabled() -> Watchdog {
        Watchdog {
            inner: Arc::new(Inner {
                sink: None,
                ready: AtomicBool::new(false),
                last_ping: Mutex::new(None),
                min_interval: Duration::ZERO,
            }),
        }
    }

    fn with_sink(sink: Sink, min_interval: Duration) -> Watchdog {
        Watchdog {
            inner: Arc::new(Inner {
                sink: Some(sink),
                ready: AtomicBool::new(false),
                last_ping: Mutex::new(None),
                min_interval,
            }),
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if let Some(sink) = &self.inner.sink {
            sink(states);
        }
    }

    /// The first view is on screen (sent once).
    pub fn ready(&self) {
        if !self.inner.ready.swap(true, Ordering::SeqCst) {
            self.send(&[NotifyState::Ready]);
        }
    }

    /// The drawing loop is alive.
    pub fn ping(&self) {
        if self.inner.sink.is_none() {
            return;
        }
        let now = Instant::now();
        if let Ok(mut last) = self.inner.last_ping.lock() {
            if last.is_some_and(|l| now.duration_since(l) < self.inner.min_interval) {
                return;
            }
            *last = Some(now);
        }
        self.send(&[NotifyState::Watchdog]);
    }

    /// The kiosk is shutting down.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(min_interval: Duration) -> (Watchdog, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = Arc::clone(&seen);
        let w = Watchdog::with_sink(
            Box::new(move |states| {
                for st in states {
                    s2.lock().unwrap().push(st.to_string());
                }
            }),
            min_interval,
        );
        (w, seen)
    }

    #[test]
    fn ready_once_pings_throttled_then_stopping() {
        let (w, seen) = recording(Duration::from_secs(3600));
        w.ready();
        w.ready();
        w.ping();
        w.ping();
        w.stopping();
        assert_eq!(
            *seen.lock().unwrap(),
            vec!["READY=1", "WATCHDOG=1", "STOPPING=1"]
        );
    }

    #[test]
    fn without_systemd_nothing_is_sent() {
        let w = Watchdog::disabled();
        w.ready();
        w.ping();
        w.stopping();
        assert!(w.inner.sink.is_none());
    }
}
