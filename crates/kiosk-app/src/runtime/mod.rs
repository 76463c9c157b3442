//! The kiosk runtime behind `kiosk run` and `kiosk demo`: the session core
//! ([`kiosk_core::Kiosk`]) on a thread of its own, fed through one channel of events, and the
//! devices and workers that carry out its commands without ever blocking it.
//!
//! ```text
//!  timer ─Tick─┐      card thread (PC/SC monitor + reads) ─┐
//!  camera/QR ──┤                                            │
//!  touches ────┼──▶ channel ──▶ core thread: Kiosk::handle ─┼─▶ Display::show
//!  gateway ────┤                     │ commands             │
//!  outbox ─────┘                     ▼                      │
//!                 executor: card thread, tokio workers (gateway, outbox), printer thread
//! ```
//!
//! A device that is missing at start (no reader, no camera, no gateway) is reported as health;
//! the core shows the matching screen and the kiosk keeps running.

pub mod camera;
pub mod card;
pub mod delivery;
pub mod demo;
pub mod diagnostics;
pub mod display;
pub mod gateway;
pub mod headless;
pub mod printer;
pub mod timer;
pub mod watchdog;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use kiosk_api::v1::DeviceHealth;
use kiosk_card::pa::trust::TrustStore;
use kiosk_core::event::Device;
use kiosk_core::{Command, Event, Kiosk, Settings};
use kiosk_outbox::{Outbox, WorkerConfig};
use kiosk_qr::FrameSource;

pub use display::Display;
pub use watchdog::Watchdog;

/// What reaches the core thread.
enum Input {
    Event(Event),
    /// A command given directly to the executor (technician tools and tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Execute(Command),
    Stop,
}

/// Where the core thread's events come from: cloneable, cheap, usable from any thread (the UI
/// sends touches through it).
#[derive(Clone)]
pub struct RuntimeHandle {
    tx: Sender<Input>,
}

impl std::fmt::Debug for RuntimeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeHandle").finish_non_exhaustive()
    }
}

impl RuntimeHandle {
    /// Sends an event to the core; false once the runtime has stopped.
    pub fn send(&self, event: Event) -> bool {
        self.tx.send(Input::Event(event)).is_ok()
    }

    /// A touch on the screen.
    pub fn touch(&self, action: kiosk_core::Action) -> bool {
        self.send(Event::Touch(action))
    }

    /// Runs a command as if the core had given it (technician tools, tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn execute(&self, command: Command) -> bool {
        self.tx.send(Input::Execute(command)).is_ok()
    }
}

/// Observer of every event the core thread handles (tests, the demo's log).
pub type EventTap = Box<dyn FnMut(&Event) + Send>;

/// Everything the runtime is built from.
pub struct Setup {
    pub settings: Settings,
    pub state_dir: PathBuf,
    /// The card reader (PC/SC, or the demo's virtual card).
    pub card: card::CardSetup,
    /// Frames for the QR pipeline (the camera, or the demo's images).
    pub camera: Box<dyn FrameSource>,
    /// Where tickets are printed.
    pub printer: printer::PrinterTarget,
    /// CSCA trust store for passive authentication.
    pub trust: TrustStore,
    pub outbox: Arc<Outbox>,
    /// The gateway client (`None`: not enrolled yet; the technician can enrol from the screen).
    pub gateway: Arc<gateway::Gateway>,
    pub timing: Timing,
    pub watchdog: Watchdog,
    /// The core thread pings the watchdog on every tick (headless). A UI sets this to `false`
    /// and pings from its own loop, so that a frozen screen trips the watchdog.
    pub ping_on_tick: bool,
    pub tap: Option<EventTap>,
}

/// How long things may take and how often they happen.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Timer period.
    pub tick: Duration,
    /// How long a submission waits for the gateway's ticket before a provisional one is issued.
    pub delivery_deadline: Duration,
    /// Background outbox worker.
    pub worker: WorkerConfig,
    /// Longest sleep of the outbox worker between passes.
    pub worker_idle: Duration,
    /// Catalog refresh period (and retry period while the gateway is unreachable: a fifth).
    pub catalog_every: Duration,
    /// Longest wait for a printer.
    pub printer_timeout: Duration,
    /// How often a failed printer is checked again.
    pub printer_probe: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            tick: Duration::from_millis(250),
            delivery_deadline: Duration::from_secs(4),
            worker: WorkerConfig {
                attempt_timeout: Duration::from_secs(15),
                ..WorkerConfig::default()
            },
            worker_idle: Duration::from_secs(5),
            catalog_every: Duration::from_secs(300),
            printer_timeout: Duration::from_secs(5),
            printer_probe: Duration::from_secs(30),
        }
    }
}

/// The running kiosk. Dropping it stops every thread it started.
pub struct Runtime {
    handle: RuntimeHandle,
    core: Option<JoinHandle<()>>,
    timer: Option<timer::Timer>,
    card: Option<card::CardThread>,
    camera: Option<camera::CameraThread>,
    tokio: Option<tokio::runtime::Runtime>,
    delivery: Arc<delivery::Delivery>,
    watchdog: Watchdog,
    stopped: bool,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// Shared state the executor and the diagnostics read.
pub(crate) struct Shared {
    pub started: Instant,
    pub outbox: Arc<Outbox>,
    pub gateway: Arc<gateway::Gateway>,
    pub card: Arc<dyn card::CardSlot>,
    pub camera: Arc<camera::CameraStats>,
    pub printer: Arc<printer::Printer>,
    pub delivery: Arc<delivery::Delivery>,
    pub state_dir: PathBuf,
}

impl Runtime {
    /// Starts every thread and returns once the core is running with `display`.
    pub fn start(setup: Setup, display: Box<dyn Display>) -> anyhow::Result<Runtime> {
        let (tx, rx) = mpsc::channel();
        let handle = RuntimeHandle { tx };
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiosk-worker")
            .enable_all()
            .build()
            .context("starting the worker runtime")?;

        let printer = Arc::new(printer::Printer::new(
            setup.printer,
            setup.timing.printer_timeout,
            &setup.settings.site_name,
        ));
        let delivery = delivery::Delivery::start(
            tokio.handle(),
            Arc::clone(&setup.outbox),
            Arc::clone(&setup.gateway),
            handle.clone(),
            setup.timing,
        );
        gateway::start_catalog_refresh(
            tokio.handle(),
            Arc::clone(&setup.gateway),
            handle.clone(),
            setup.timing.catalog_every,
        );
        let card = card::CardThread::start(setup.card, setup.trust, handle.clone())?;
        let camera = camera::CameraThread::start(setup.camera, handle.clone())?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            outbox: setup.outbox,
            gateway: setup.gateway,
            card: card.slot(),
            camera: camera.stats(),
            printer: Arc::clone(&printer),
            delivery: Arc::clone(&delivery),
            state_dir: setup.state_dir,
        });
        // The printer's health is known from the configuration until the first print.
        handle.send(Event::Device {
            device: Device::Printer,
            health: printer.health(),
        });
        {
            let (printer, handle, every) = (
                Arc::clone(&printer),
                handle.clone(),
                setup.timing.printer_probe,
            );
            tokio.spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let p = Arc::clone(&printer);
                    if let Ok(Some(health)) = tokio::task::spawn_blocking(move || p.probe()).await
                        && !handle.send(Event::Device {
                            device: Device::Printer,
                            health,
                        })
                    {
                        return;
                    }
                }
            });
        }

        let executor = Executor {
            shared,
            card: card.commands(),
            tokio: tokio.handle().clone(),
            handle: handle.clone(),
        };
        let core = CoreLoop {
            kiosk: Kiosk::new(setup.settings),
            display,
            executor,
            watchdog: setup.watchdog.clone(),
            ping_on_tick: setup.ping_on_tick,
            tap: setup.tap,
            shown_once: false,
            last: None,
        };
        let core = std::thread::Builder::new()
            .name("kiosk-core".into())
            .spawn(move || core.run(&rx))
            .context("starting the core thread")?;
        let timer = timer::Timer::start(handle.clone(), setup.timing.tick)?;
        Ok(Runtime {
            handle,
            core: Some(core),
            timer: Some(timer),
            card: Some(card),
            camera: Some(camera),
            tokio: Some(tokio),
            delivery,
            watchdog: setup.watchdog,
            stopped: false,
        })
    }

    /// The handle the UI sends touches through.
    /// The camera's counters and the technician screen's preview.
    pub fn camera(&self) -> Option<Arc<camera::CameraStats>> {
        self.camera.as_ref().map(camera::CameraThread::stats)
    }

    pub fn handle(&self) -> RuntimeHandle {
        self.handle.clone()
    }

    /// The outbox worker (the demo wakes it when the gateway comes back).
    pub fn delivery(&self) -> Arc<delivery::Delivery> {
        Arc::clone(&self.delivery)
    }

    /// Stops every thread: tells systemd, then the core, the devices and the workers.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        self.watchdog.stopping();
        if let Some(t) = self.timer.take() {
            t.stop();
        }
        let _ = self.handle.tx.send(Input::Stop);
        if let Some(core) = self.core.take() {
            let _ = core.join();
        }
        if let Some(c) = self.camera.take() {
            c.stop();
        }
        if let Some(c) = self.card.take() {
            c.stop();
        }
        if let Some(rt) = self.tokio.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The core thread: one event at a time into the machine, its commands out.
struct CoreLoop {
    kiosk: Kiosk,
    display: Box<dyn Display>,
    executor: Executor,
    watchdog: Watchdog,
    ping_on_tick: bool,
    tap: Option<EventTap>,
    shown_once: bool,
    last: Option<kiosk_core::View>,
}

impl CoreLoop {
    fn run(mut self, rx: &Receiver<Input>) {
        // The attract screen at once, before any event.
        let view = self.kiosk.view();
        self.show(view);
        loop {
            let input = match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(i) => i,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match input {
                Input::Stop => break,
                Input::Execute(c) => self.executor.execute(c),
                Input::Event(event) => {
                    if let Some(tap) = &mut self.tap {
                        tap(&event);
                    }
                    // Headless, the core thread handling ticks is what is alive; a UI pings
                    // from its own loop instead.
                    if self.ping_on_tick && matches!(event, Event::Tick { .. }) {
                        self.watchdog.ping();
                    }
                    for command in self.kiosk.handle(event) {
                        match command {
                            Command::Show(view) => self.show(*view),
                            Command::ClearPersonalData => {
                                self.last = None;
                                self.display.clear();
                                self.executor.execute(Command::ClearPersonalData);
                            }
                            other => self.executor.execute(other),
                        }
                    }
                }
            }
        }
        self.display.clear();
    }

    fn show(&mut self, view: kiosk_core::View) {
        // The core repeats a view only after a change; the first one may equal ours.
        if self.last.as_ref() == Some(&view) {
            return;
        }
        self.last = Some(view.clone());
        let photo = view
            .identity
            .as_ref()
            .filter(|i| i.has_photo)
            .and_then(|_| self.kiosk.photo().map(<[u8]>::to_vec));
        self.display.show(view, photo);
        if !self.shown_once {
            self.shown_once = true;
            self.watchdog.ready();
        }
    }
}

/// Carries out commands; every one returns at once (the work happens on a device thread or a
/// worker).
struct Executor {
    shared: Arc<Shared>,
    card: Sender<card::CardCommand>,
    tokio: tokio::runtime::Handle,
    handle: RuntimeHandle,
}

impl Executor {
    fn execute(&mut self, command: Command) {
        match command {
            Command::StartCardRead { passwords } => {
                let _ = self.card.send(card::CardCommand::Start(passwords));
            }
            Command::CancelCardRead => {
                let _ = self.card.send(card::CardCommand::Cancel);
            }
            Command::ClearPersonalData => {
                let _ = self.card.send(card::CardCommand::Forget);
            }
            Command::CheckInsurance(request) => {
                gateway::check_insurance(
                    &self.tokio,
                    Arc::clone(&self.shared.gateway),
                    request,
                    self.handle.clone(),
                );
            }
            Command::Submit(registration) => self.shared.delivery.submit(*registration),
            Command::PrintTicket(ticket) => {
                let printer = Arc::clone(&self.shared.printer);
                let handle = self.handle.clone();
                self.tokio.spawn_blocking(move || {
                    let health = printer.print(&ticket);
                    handle.send(Event::Device {
                        device: Device::Printer,
                        health,
                    });
                });
            }
            Command::Show(_) => {}
            Command::RefreshDiagnostics => {
                let shared = Arc::clone(&self.shared);
                let handle = self.handle.clone();
                self.tokio.spawn(async move {
                    let d = diagnostics::snapshot(&shared).await;
                    handle.send(Event::Diagnostics(Box::new(d)));
                });
            }
            Command::RetryDeadLetter(key) => {
                let shared = Arc::clone(&self.shared);
                let handle = self.handle.clone();
                self.tokio.spawn(async move {
                    if let Err(e) = shared.delivery.retry_dead_letter(&key) {
                        log_line(&format!("dead letter retry: {e:#}"));
                    }
                    let d = diagnostics::snapshot(&shared).await;
                    handle.send(Event::Diagnostics(Box::new(d)));
                });
            }
            Command::Enrol(enrolment) => {
                let shared = Arc::clone(&self.shared);
                let handle = self.handle.clone();
                self.tokio.spawn_blocking(move || {
                    let (ok, message) = match crate::cmd::enrol::enrol_from_qr(
                        &shared.state_dir,
                        &enrolment,
                        Some("technician screen".into()),
                        true,
                    ) {
                        Ok(e) => match shared.gateway.reload(&shared.state_dir) {
                            Ok(()) => (
                                true,
                                format!("enrolled as {} at {}", e.kiosk_id, e.display_name),
                            ),
                            Err(err) => {
                                (false, format!("enrolled, but the client failed: {err:#}"))
                            }
                        },
                        Err(e) => (false, format!("enrolment failed: {e:#}")),
                    };
                    shared.delivery.wake();
                    handle.send(Event::EnrolFinished { ok, message });
                });
            }
        }
    }
}

/// Logs to stderr (the journal on the appliance). Messages never carry personal data.
pub(crate) fn log_line(message: &str) {
    eprintln!("kiosk: {message}");
}

/// A device's health as the core wants it.
pub(crate) fn device_event(device: Device, health: DeviceHealth) -> Event {
    Event::Device { device, health }
}

#[cfg(test)]
mod tests;
