//! Reader and card presence events from pcscd, on a thread of their own.
//!
//! Built on `SCardGetStatusChange` with the PnP pseudo-reader, so the thread sleeps inside pcscd
//! until something changes: no polling. When pcscd goes away (restart, crash) the monitor says so,
//! waits with a growing pause and re-establishes its context, then reports the readers and cards
//! it finds as new.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use pcsc::{Context, PNP_NOTIFICATION, ReaderState, Scope, State};

use crate::error::{Error, Result};

/// What the monitor reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared (also reported for every reader found at start).
    ReaderAttached { reader: String },
    /// A reader went away.
    ReaderDetached { reader: String },
    /// A card is in the reader (also reported for cards present at start).
    CardInserted { reader: String, atr: Vec<u8> },
    /// The card left the reader.
    CardRemoved { reader: String },
    /// pcscd cannot be reached; the monitor keeps retrying.
    ServiceUnavailable { reason: String },
    /// pcscd answers again after [`ReaderEvent::ServiceUnavailable`].
    ServiceRestored,
}

/// Longest wait inside one `SCardGetStatusChange`; the call returns early on any change.
const WAIT: Duration = Duration::from_secs(60);
/// Pause before re-establishing a context after pcscd went away, doubled up to the maximum.
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A running monitor. Dropping it (or [`ReaderMonitor::stop`]) ends the thread promptly.
pub struct ReaderMonitor {
    stop: Arc<AtomicBool>,
    ctx: Arc<Mutex<Option<Arc<Context>>>>,
    wake: mpsc::Sender<()>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ReaderMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderMonitor").finish_non_exhaustive()
    }
}

impl ReaderMonitor {
    /// Starts the monitor; `events` receives every [`ReaderEvent`] in order.
    pub fn spawn(events: mpsc::Sender<ReaderEvent>) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = Arc::new(Mutex::new(None));
        let (wake, wake_rx) = mpsc::channel();
        let thread = {
            let (stop, ctx) = (stop.clone(), ctx.clone());
            thread::Builder::new()
                .name("pcsc-monitor".into())
                .spawn(move || run(&stop, &ctx, &wake_rx, &events))
                .map_err(|e| Error::Transport(format!("cannot start the reader monitor: {e}")))?
        };
        Ok(Self {
            stop,
            ctx,
            wake,
            thread: Some(thread),
        })
    }

    /// Stops the monitor and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
        let Some(t) = self.thread.take() else { return };
        // SCardCancel only interrupts a call already waiting, so repeat it until the thread has
        // seen the stop flag; give up (and leave the thread to end on its own) after a while.
        for _ in 0..100 {
            if t.is_finished() {
                let _ = t.join();
                return;
            }
            if let Ok(guard) = self.ctx.lock()
                && let Some(ctx) = guard.as_ref()
            {
                let _ = ctx.cancel();
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ReaderMonitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(
    stop: &AtomicBool,
    shared_ctx: &Mutex<Option<Arc<Context>>>,
    wake: &mpsc::Receiver<()>,
    events: &mpsc::Sender<ReaderEvent>,
) {
    let mut pause = RETRY_MIN;
    let mut down = false;
    // Readers and whether each holds a card, as last reported.
    let mut known: BTreeMap<String, bool> = BTreeMap::new();
    let emit = |e: ReaderEvent| events.send(e).is_ok();

    while !stop.load(Ordering::SeqCst) {
        let ctx = match Context::establish(Scope::User) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                if !down {
                    down = true;
                    if !emit(ReaderEvent::ServiceUnavailable {
                        reason: e.to_string(),
                    }) {
                        return;
                    }
                }
                // Sleeps, but wakes at once when stopped.
                let _ = wake.recv_timeout(pause);
                pause = (pause * 2).min(RETRY_MAX);
                continue;
            }
        };
        if let Ok(mut g) = shared_ctx.lock() {
            *g = Some(ctx.clone());
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if down {
            // `down` is set again below if the service goes away once more.
            if !emit(ReaderEvent::ServiceRestored) {
                return;
            }
        }
        pause = RETRY_MIN;
        let outcome = watch(&ctx, stop, &mut known, &emit);
        if let Ok(mut g) = shared_ctx.lock() {
            *g = None;
        }
        match outcome {
            Watch::Stopped | Watch::ReceiverGone => return,
            Watch::ServiceLost(reason) => {
                // Everything we knew is gone with the service.
                for (reader, had_card) in std::mem::take(&mut known) {
                    if had_card
                        && !emit(ReaderEvent::CardRemoved {
                            reader: reader.clone(),
                        })
                    {
                        return;
                    }
                    if !emit(ReaderEvent::ReaderDetached { reader }) {
                        return;
                    }
                }
                down = true;
                if !emit(ReaderEvent::ServiceUnavailable { reason }) {
                    return;
                }
                let _ = wake.recv_timeout(pause);
            }
        }
    }
}

enum Watch {
    Stopped,
    ReceiverGone,
    ServiceLost(String),
}

fn is_service_loss(e: pcsc::Error) -> bool {
    matches!(
        e,
        pcsc::Error::NoService
            | pcsc::Error::ServiceStopped
            | pcsc::Error::InvalidHandle
            | pcsc::Error::CommError
            | pcsc::Error::Shutdown
    )
}

fn watch(
    ctx: &Context,
    stop: &AtomicBool,
    known: &mut BTreeMap<String, bool>,
    emit: &dyn Fn(ReaderEvent) -> bool,
) -> Watch {
    let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    loop {
        if stop.load(Ordering::SeqCst) {
            return Watch::Stopped;
        }
        // Bring the reader list up to date (at start and after every PnP change).
        let names: Vec<String> = match ctx.list_readers_owned() {
            Ok(n) => n
                .into_iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect(),
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) if is_service_loss(e) => return Watch::ServiceLost(e.to_string()),
            Err(e) => return Watch::ServiceLost(format!("listing readers: {e}")),
        };
        let gone: Vec<String> = known
            .keys()
            .filter(|k| !names.contains(k))
            .cloned()
            .collect();
        for reader in gone {
            if known.remove(&reader) == Some(true)
                && !emit(ReaderEvent::CardRemoved {
                    reader: reader.clone(),
                })
            {
                return Watch::ReceiverGone;
            }
            if !emit(ReaderEvent::ReaderDetached {
                reader: reader.clone(),
            }) {
                return Watch::ReceiverGone;
            }
            states.retain(|s| s.name().to_string_lossy() != reader);
        }
        for reader in &names {
            if !known.contains_key(reader) {
                known.insert(reader.clone(), false);
                if !emit(ReaderEvent::ReaderAttached {
                    reader: reader.clone(),
                }) {
                    return Watch::ReceiverGone;
                }
            }
            if !states.iter().any(|s| s.name().to_string_lossy() == *reader)
                && let Ok(c) = CString::new(reader.as_str())
            {
                states.push(ReaderState::new(c, State::UNAWARE));
            }
        }

        // Wait for changes until the reader list itself changes.
        loop {
            for s in &mut states {
                s.sync_current_state();
            }
            if stop.load(Ordering::SeqCst) {
                return Watch::Stopped;
            }
            match ctx.get_status_change(WAIT, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                Err(pcsc::Error::Cancelled) => {
                    if stop.load(Ordering::SeqCst) {
                        return Watch::Stopped;
                    }
                    continue;
                }
                Err(pcsc::Error::UnknownReader) => break,
                Err(e) if is_service_loss(e) => return Watch::ServiceLost(e.to_string()),
                Err(e) => return Watch::ServiceLost(format!("waiting for reader changes: {e}")),
            }
            let mut relist = false;
            for s in &states {
                let ev = s.event_state();
                if !ev.contains(State::CHANGED) {
                    continue;
                }
                if s.name() == PNP_NOTIFICATION() {
                    relist = true;
                    continue;
                }
                let reader = s.name().to_string_lossy().into_owned();
                if ev.intersects(State::UNKNOWN | State::IGNORE | State::UNAVAILABLE) {
                    relist = true;
                    continue;
                }
                let present = ev.contains(State::PRESENT) && !ev.contains(State::MUTE);
                let had = known.get(&reader).copied().unwrap_or(false);
                if had && !present {
                    known.insert(reader.clone(), false);
                    if !emit(ReaderEvent::CardRemoved {
                        reader: reader.clone(),
                    }) {
                        return Watch::ReceiverGone;
                    }
                }
                if present && !had {
                    known.insert(reader.clone(), true);
                    if !emit(ReaderEvent::CardInserted {
                        reader,
                        atr: s.atr().to_vec(),
                    }) {
                        return Watch::ReceiverGone;
                    }
                }
            }
            if relist {
                break;
            }
        }
    }
}
