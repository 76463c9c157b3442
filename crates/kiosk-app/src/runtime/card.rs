//! The card reader: a monitor that turns reader and card events into core events and health,
//! and a read thread that runs [`kiosk_card::read::CardRead`] for `StartCardRead`, reporting
//! progress, the DG13 preview, the result or the failure. A read stopped by a removed card is
//! kept and continues when the core asks again (the card is back); a cancelled read is stopped
//! at its next APDU and its events are dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

use anyhow::Context;
use kiosk_api::v1::DeviceHealth;
use kiosk_card::CardTransport;
use kiosk_card::lds::LdsFile;
use kiosk_card::pa::trust::TrustStore;
use kiosk_card::protocol::Password;
use kiosk_card::read::{CardRead, Progress, ReadOptions};
use kiosk_core::Event;
use kiosk_core::event::{Device, ReadFailure, ReadStep};
use kiosk_core::identity::Identity;

use super::{RuntimeHandle, device_event};

/// What the diagnostics show about the reader (no personal data: an ATR identifies the chip
/// model, not the citizen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub reader: Option<String>,
    pub health: DeviceHealth,
    pub card_present: bool,
    pub last_atr: Option<Vec<u8>>,
}

/// A card reader slot: connects to the card on it.
pub trait CardSlot: Send + Sync {
    /// A transport to the card now on the reader.
    fn connect(&self) -> kiosk_card::Result<Box<dyn CardTransport>>;
    /// The slot's state for diagnostics.
    fn info(&self) -> SlotInfo;
}

/// Which reader the runtime uses.
pub enum CardSetup {
    /// PC/SC through pcscd: `auto` (the first reader) or a reader name. Presence and health
    /// come from the PC/SC monitor.
    Pcsc { reader: String },
    /// Another slot whose owner reports presence and health itself (the demo's virtual card).
    Slot(Arc<dyn CardSlot>),
}

/// What the executor tells the read thread.
#[derive(Debug)]
pub enum CardCommand {
    /// Read (or continue reading) with these passwords.
    Start(Vec<Password>),
    /// Stop the read in progress and forget it.
    Cancel,
    /// The session ended: forget any kept partial read.
    Forget,
}

enum Job {
    Start {
        passwords: Vec<Password>,
        generation_id: u64,
    },
    Forget,
    Stop,
}

/// The reader's threads.
pub struct CardThread {
    slot: Arc<dyn CardSlot>,
    generation: Arc<AtomicU64>,
    jobs: Sender<Job>,
    commands: Sender<CardCommand>,
    threads: Vec<JoinHandle<()>>,
    monitor: Option<kiosk_card::transport::monitor::ReaderMonitor>,
}

impl CardThread {
    pub fn start(
        setup: CardSetup,
        trust: TrustStore,
        handle: RuntimeHandle,
    ) -> anyhow::Result<CardThread> {
        let mut monitor = None;
        let mut threads = Vec::new();
        let slot: Arc<dyn CardSlot> = match setup {
            CardSetup::Slot(slot) => slot,
            CardSetup::Pcsc { reader } => {
                let slot = Arc::new(PcscSlot::new(reader));
                let (tx, rx) = mpsc::channel();
                match kiosk_card::transport::monitor::ReaderMonitor::spawn(tx) {
                    Ok(m) => {
                        monitor = Some(m);
                        let (slot2, handle2) = (Arc::clone(&slot), handle.clone());
                        threads.push(
                            std::thread::Builder::new()
                                .name("kiosk-reader-events".into())
                                .spawn(move || slot2.follow(&rx, &handle2))
                                .context("starting the reader event thread")?,
                        );
                    }
                    Err(e) => {
                        super::log_line(&format!("card reader monitor: {e}"));
                        slot.set_health(DeviceHealth::Failed);
                        handle.send(device_event(Device::CardReader, DeviceHealth::Failed));
                    }
                }
                // No reader at start is "absent" at once, not after the first touch.
                match kiosk_card::transport::pcsc::list_readers() {
                    Ok(r) if r.iter().any(|name| slot.wants(name)) => {}
                    _ => {
                        if slot.info().reader.is_none() {
                            slot.set_health(DeviceHealth::Absent);
                            handle.send(device_event(Device::CardReader, DeviceHealth::Absent));
                        }
                    }
                }
                slot
            }
        };
        let generation = Arc::new(AtomicU64::new(0));
        let (jobs, jobs_rx) = mpsc::channel();
        {
            let (slot, generation, handle) =
                (Arc::clone(&slot), Arc::clone(&generation), handle.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("kiosk-card-read".into())
                    .spawn(move || read_loop(&jobs_rx, slot.as_ref(), &trust, &generation, &handle))
                    .context("starting the card read thread")?,
            );
        }
        // Commands arrive on a channel of their own so that a cancel takes effect at once
        // (the generation changes) even while the read thread is busy.
        let (commands, commands_rx) = mpsc::channel::<CardCommand>();
        {
            let (generation, jobs) = (Arc::clone(&generation), jobs.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("kiosk-card-cmd".into())
                    .spawn(move || {
                        for c in commands_rx {
                            let job = match c {
                                CardCommand::Start(passwords) => Job::Start {
                                    passwords,
                                    generation_id: generation.fetch_add(1, Ordering::SeqCst) + 1,
                                },
                                CardCommand::Cancel => {
                                    generation.fetch_add(1, Ordering::SeqCst);
                                    Job::Forget
                                }
                                CardCommand::Forget => {
                                    generation.fetch_add(1, Ordering::SeqCst);
                                    Job::Forget
                                }
                            };
                            if jobs.send(job).is_err() {
                                return;
                            }
                        }
                    })
                    .context("starting the card command thread")?,
            );
        }
        Ok(CardThread {
            slot,
            generation,
            jobs,
            commands,
            threads,
            monitor,
        })
    }

    /// Where the executor sends card commands.
    pub fn commands(&self) -> Sender<CardCommand> {
        self.commands.clone()
    }

    pub fn slot(&self) -> Arc<dyn CardSlot> {
        Arc::clone(&self.slot)
    }

    pub fn stop(mut self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let _ = self.jobs.send(Job::Stop);
        if let Some(m) = self.monitor.take() {
            m.stop();
        }
        // The command thread ends when the executor's sender goes; the others are joined.
        drop(self.commands);
        for t in self.threads.drain(..) {
            if t.thread().name() != Some("kiosk-card-cmd") {
                let _ = t.join();
            }
        }
    }
}

/// A transport that fails at the next APDU once its read has been cancelled.
struct Guarded {
    inner: Box<dyn CardTransport>,
    generation_id: u64,
    current: Arc<AtomicU64>,
}

impl CardTransport for Guarded {
    fn transmit_raw(&mut self, command: &[u8]) -> kiosk_card::Result<Vec<u8>> {
        if self.current.load(Ordering::SeqCst) != self.generation_id {
            return Err(kiosk_card::Error::Transport("read cancelled".into()));
        }
        self.inner.transmit_raw(command)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn extended_length(&self) -> Option<bool> {
        self.inner.extended_length()
    }
}

fn read_loop(
    jobs: &Receiver<Job>,
    slot: &dyn CardSlot,
    trust: &TrustStore,
    generation: &Arc<AtomicU64>,
    handle: &RuntimeHandle,
) {
    // A read interrupted by a removed card, kept to continue on the same card.
    let mut kept: Option<CardRead<'_>> = None;
    for job in jobs {
        let (passwords, generation_id) = match job {
            Job::Stop => return,
            Job::Forget => {
                kept = None;
                continue;
            }
            Job::Start {
                passwords,
                generation_id,
            } => (passwords, generation_id),
        };
        let current = || generation.load(Ordering::SeqCst) == generation_id;
        let send = |e: Event| {
            if current() {
                handle.send(e);
            }
        };
        let mut read = kept
            .take()
            .unwrap_or_else(|| CardRead::new(passwords, trust, ReadOptions::default()));
        let transport = match slot.connect() {
            Ok(t) => t,
            Err(e) => {
                send(Event::ReadFailed(ReadFailure::from_error(&e)));
                if matches!(ReadFailure::from_error(&e), ReadFailure::CardRemoved) {
                    kept = Some(read);
                }
                continue;
            }
        };
        let guarded = Guarded {
            inner: transport,
            generation_id,
            current: Arc::clone(generation),
        };
        let outcome = read.run(guarded, &mut |p| {
            if let Progress::FileRead {
                file: LdsFile::Dg13,
                record,
                ..
            } = &p
                && let Ok(preview) = Identity::preview(record)
            {
                send(Event::ReadPreview(Box::new(preview)));
            }
            if let Some(step) = ReadStep::after(&p) {
                send(Event::ReadProgress(step));
            }
        });
        match outcome {
            Ok(()) => {
                let result = read.finish(SystemTime::now());
                match Identity::from_card_read(&result) {
                    Ok(identity) => send(Event::ReadFinished(Box::new(identity))),
                    Err(_) => send(Event::ReadFailed(ReadFailure::WrongCard)),
                }
            }
            Err(e) => {
                let failure = ReadFailure::from_error(&e);
                send(Event::ReadFailed(failure));
                if failure == ReadFailure::CardRemoved && current() {
                    kept = Some(read);
                }
            }
        }
    }
}

/// A PC/SC reader followed through the monitor.
pub struct PcscSlot {
    /// `auto` or a reader name.
    wanted: String,
    state: Mutex<SlotInfo>,
}

impl PcscSlot {
    pub fn new(wanted: String) -> PcscSlot {
        PcscSlot {
            wanted,
            state: Mutex::new(SlotInfo {
                reader: None,
                health: DeviceHealth::Ok,
                card_present: false,
                last_atr: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotInfo> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_health(&self, health: DeviceHealth) {
        self.lock().health = health;
    }

    fn wants(&self, reader: &str) -> bool {
        self.wanted == "auto" || self.wanted == reader
    }

    /// Turns monitor events into core events until the monitor stops.
    fn follow(
        &self,
        rx: &Receiver<kiosk_card::transport::monitor::ReaderEvent>,
        handle: &RuntimeHandle,
    ) {
        use kiosk_card::transport::monitor::ReaderEvent as R;
        for event in rx {
            let mut out = Vec::new();
            {
                let mut s = self.lock();
                let ours = |s: &SlotInfo, r: &str| s.reader.as_deref() == Some(r);
                match event {
                    R::ReaderAttached { reader } => {
                        if s.reader.is_none() && self.wants(&reader) {
                            s.reader = Some(reader);
                            s.health = DeviceHealth::Ok;
                            out.push(device_event(Device::CardReader, DeviceHealth::Ok));
                        }
                    }
                    R::ReaderDetached { reader } => {
                        if ours(&s, &reader) {
                            s.reader = None;
                            s.health = DeviceHealth::Absent;
                            if s.card_present {
                                s.card_present = false;
                                out.push(Event::CardRemoved);
                            }
                            out.push(device_event(Device::CardReader, DeviceHealth::Absent));
                        }
                    }
                    R::CardInserted { reader, atr } => {
                        if s.reader.is_none() && self.wants(&reader) {
                            s.reader = Some(reader.clone());
                            s.health = DeviceHealth::Ok;
                            out.push(device_event(Device::CardReader, DeviceHealth::Ok));
                        }
                        if ours(&s, &reader) {
                            s.card_present = true;
                            s.last_atr = Some(atr);
                            out.push(Event::CardInserted);
                        }
                    }
                    R::CardRemoved { reader } => {
                        if ours(&s, &reader) && s.card_present {
                            s.card_present = false;
                            out.push(Event::CardRemoved);
                        }
                    }
                    R::ServiceUnavailable { reason } => {
                        super::log_line(&format!("pcscd unavailable: {reason}"));
                        s.reader = None;
                        s.card_present = false;
                        s.health = DeviceHealth::Failed;
                        out.push(device_event(Device::CardReader, DeviceHealth::Failed));
                    }
                    // The monitor reports the readers and cards it finds again.
                    R::ServiceRestored => {}
                }
            }
            for e in out {
                if !handle.send(e) {
                    return;
                }
            }
        }
    }
}

impl CardSlot for PcscSlot {
    fn connect(&self) -> kiosk_card::Result<Box<dyn CardTransport>> {
        let reader = self
            .lock()
            .reader
            .clone()
            .ok_or_else(|| kiosk_card::Error::ReaderUnavailable("no card reader".into()))?;
        let t = kiosk_card::transport::pcsc::PcscTransport::connect(&reader)?;
        self.lock().last_atr = Some(t.atr().to_vec());
        Ok(Box::new(t))
    }

    fn info(&self) -> SlotInfo {
        self.lock().clone()
    }
}
