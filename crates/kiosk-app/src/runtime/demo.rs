//! The `kiosk demo` world: everything a real kiosk talks to, in this process and a temporary
//! folder, so the whole flow runs on any machine.
//!
//! - the reference gateway (`kiosk_gateway`) on 127.0.0.1 with SQLite, initialised, and this
//!   kiosk enrolled through its real `/v1/enrol` with a fresh token;
//! - the outbox in the temporary state directory;
//! - the virtual card (`kiosk-vcard`, a profile from `crates/kiosk-vcard/profiles/`) on the
//!   in-process transport, with its CSCA as the trust store so the badge says verified;
//! - the citizen's card QR and VNeID QR as committed PNGs, decoded by `kiosk_qr`'s real decoder
//!   when "shown" to the demo camera;
//! - [`DemoControl`]: tap/remove the card, show a QR, switch the gateway off and on (the
//!   integrator wires these to the UI's demo panel; `--headless` reads them from stdin).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use kiosk_api::v1::{DeviceHealth, SiteKind};
use kiosk_card::CardTransport;
use kiosk_card::pa::trust::TrustStore;
use kiosk_core::config::Mode;
use kiosk_core::event::Device;
use kiosk_core::{Config, Event, Settings};
use kiosk_outbox::Outbox;
use kiosk_qr::LumaFrame;
use kiosk_qr::source::{FrameSource, SourceEvent};
use kiosk_vcard::{Answer, CardHandle, InProcessCard, Profile};

use super::card::{CardSetup, CardSlot, SlotInfo};
use super::display::Display;
use super::gateway::Gateway;
use super::printer::PrinterTarget;
use super::{Runtime, RuntimeHandle, Setup, Timing, Watchdog, device_event};

/// The technician PIN of the demo kiosk (five taps on the top-left corner, then this PIN). A real
/// kiosk's PIN is set by its own `technician_pin_hash`.
pub const DEMO_TECHNICIAN_PIN: &str = "246810";

/// The committed QR images of the demo citizen (`an.toml`), made by the test
/// `demo_qr_images_are_the_profiles_payloads` (run it with `KIOSK_WRITE_DEMO_QR=1` after
/// changing the profile).
const CARD_QR_PNG: &[u8] = include_bytes!("../../assets/demo/card-qr.png");
const VNEID_QR_PNG: &[u8] = include_bytes!("../../assets/demo/vneid-qr.png");

/// The default demo citizen (fictional).
pub fn default_profile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kiosk-vcard/profiles/an.toml")
}

/// How the demo is set up.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub mode: Mode,
    pub profile: PathBuf,
    /// `false`: the kiosk starts without a card reader.
    pub reader: bool,
    /// `false`: the kiosk starts without a camera.
    pub camera: bool,
    pub timing: Timing,
    /// The core pings the watchdog on every tick (headless); a UI that pings from its own loop
    /// sets this to `false`.
    pub ping_on_tick: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            mode: Mode::Clinic,
            profile: default_profile(),
            reader: true,
            camera: true,
            timing: Timing::default(),
            ping_on_tick: true,
        }
    }
}

#[cfg_attr(not(test), allow(dead_code))] // renders the committed PNGs
/// The card QR text of a profile: `ID|oldID|name|ddmmyyyy|sex|address|ddmmyyyy`.
pub fn card_qr_text(p: &Profile) -> String {
    let dmy = |d: &kiosk_vcard::profile::Date| d.dd_mm_yyyy().replace('/', "");
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        p.id,
        p.old_id.as_deref().unwrap_or(""),
        p.full_name,
        dmy(&p.date_of_birth),
        p.sex.dg13_text(),
        p.place_of_residence,
        dmy(&p.issue_date)
    )
}

#[cfg_attr(not(test), allow(dead_code))]
/// The VNeID app's QR of the same citizen: the card QR with the trailing fields 2024 cards
/// add (11 fields).
pub fn vneid_qr_text(p: &Profile) -> String {
    format!(
        "{}|{}|||",
        card_qr_text(p),
        p.date_of_birth.dd_mm_yyyy().replace('/', "")
    )
}

/// The virtual card on a virtual reader the demo controls.
pub struct DemoSlot {
    /// Keeps the chip alive; the handle below reaches it.
    _card: Mutex<InProcessCard>,
    chip: CardHandle,
    present: Arc<AtomicBool>,
    available: bool,
    atr: Mutex<Option<Vec<u8>>>,
}

struct DemoTransport {
    chip: CardHandle,
    present: Arc<AtomicBool>,
}

impl CardTransport for DemoTransport {
    fn transmit_raw(&mut self, command: &[u8]) -> kiosk_card::Result<Vec<u8>> {
        if !self.present.load(Ordering::SeqCst) {
            return Err(kiosk_card::Error::CardRemoved);
        }
        match self.chip.with_chip(|c| c.process(command)) {
            Answer::Response(bytes) => Ok(bytes),
            Answer::Removed => Err(kiosk_card::Error::CardRemoved),
        }
    }

    fn describe(&self) -> String {
        "kiosk-vcard (demo)".into()
    }
}

impl CardSlot for DemoSlot {
    fn connect(&self) -> kiosk_card::Result<Box<dyn CardTransport>> {
        if !self.available {
            return Err(kiosk_card::Error::ReaderUnavailable(
                "no card reader".into(),
            ));
        }
        if !self.present.load(Ordering::SeqCst) {
            return Err(kiosk_card::Error::CardRemoved);
        }
        Ok(Box::new(DemoTransport {
            chip: self.chip.clone(),
            present: Arc::clone(&self.present),
        }))
    }

    fn info(&self) -> SlotInfo {
        SlotInfo {
            reader: self.available.then(|| "kiosk-vcard demo reader".to_owned()),
            health: if self.available {
                DeviceHealth::Ok
            } else {
                DeviceHealth::Absent
            },
            card_present: self.present.load(Ordering::SeqCst),
            last_atr: self.atr.lock().ok().and_then(|a| a.clone()),
        }
    }
}

/// The demo camera: idle until a QR is "shown", then that image for a few frames.
struct DemoCamera {
    shown: Arc<Mutex<Option<(LumaFrame, u32)>>>,
}

impl FrameSource for DemoCamera {
    fn describe(&self) -> String {
        "demo camera".into()
    }

    fn next_frame(&mut self, timeout: Duration) -> SourceEvent {
        let frame = self.shown.lock().ok().and_then(|mut s| {
            let (frame, left) = s.as_mut()?;
            let f = frame.clone();
            *left = left.saturating_sub(1);
            if *left == 0 {
                *s = None;
            }
            Some(f)
        });
        match frame {
            Some(f) => SourceEvent::Frame(f),
            None => {
                std::thread::sleep(timeout.min(Duration::from_millis(50)));
                SourceEvent::Idle
            }
        }
    }
}

/// The in-process world around the kiosk.
pub struct DemoWorld {
    dir: tempfile::TempDir,
    gateway_dir: PathBuf,
    state_dir: PathBuf,
    addr: SocketAddr,
    rt: tokio::runtime::Runtime,
    gateway: Mutex<Option<kiosk_gateway::RunningGateway>>,
    slot: Arc<DemoSlot>,
    shown: Arc<Mutex<Option<(LumaFrame, u32)>>>,
    card_qr: LumaFrame,
    vneid_qr: LumaFrame,
    /// The kiosk's outbox and enrolled id, for tests and the UI's demo panel.
    #[cfg_attr(not(test), allow(dead_code))]
    pub outbox: Arc<Outbox>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub kiosk_id: String,
}

impl std::fmt::Debug for DemoWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoWorld")
            .field("dir", &self.dir.path())
            .field("gateway", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DemoWorld {
    /// Builds the world and the runtime setup that uses it.
    pub fn create(opts: &DemoOptions) -> anyhow::Result<(Arc<DemoWorld>, Setup)> {
        let dir = tempfile::Builder::new()
            .prefix("kiosk-demo-")
            .tempdir()
            .context("creating the demo folder")?;
        let gateway_dir = dir.path().join("gateway");
        let state_dir = dir.path().join("state");
        std::fs::create_dir_all(&gateway_dir)?;
        std::fs::create_dir_all(&state_dir)?;

        // The gateway on a port of its own, kept across off/on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port")?
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let url = format!("https://{addr}");
        let kind = match opts.mode {
            Mode::Clinic => SiteKind::Clinic,
            Mode::OneStop => SiteKind::OneStop,
        };
        kiosk_gateway::ops::init(
            &gateway_dir,
            &kiosk_gateway::ops::InitOptions {
                site_id: "demo".into(),
                kind,
                public_url: url,
                server_names: vec!["127.0.0.1".into()],
            },
        )
        .context("initialising the demo gateway")?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("demo-gateway")
            .enable_all()
            .build()
            .context("starting the gateway runtime")?;
        let running = rt
            .block_on(kiosk_gateway::start(&gateway_dir, addr))
            .context("starting the demo gateway")?;

        // Enrol this kiosk the real way: a token, its QR payload, POST /v1/enrol.
        let token = kiosk_gateway::ops::create_token(&gateway_dir, None, None)
            .context("creating an enrolment token")?;
        let qr = kiosk_qr::enrolment::Enrolment::parse(&token.qr.to_payload())
            .context("the gateway's enrolment QR")?;
        let enrolment =
            crate::cmd::enrol::enrol_from_qr(&state_dir, &qr, Some("demo".into()), false)
                .context("enrolling the demo kiosk")?;

        // The virtual card and its CSCA as the trust store.
        let profile = Profile::load(&opts.profile)
            .with_context(|| format!("loading the profile {}", opts.profile.display()))?;
        let personalised = kiosk_vcard::personalise(&profile, &kiosk_vcard::Options::default())
            .context("personalising the virtual card")?;
        let trust_dir = state_dir.join("trust");
        std::fs::create_dir_all(&trust_dir)?;
        std::fs::write(trust_dir.join("csca.pem"), personalised.pki.csca_pem()?)?;
        let trust = TrustStore::load(&trust_dir).context("loading the demo trust store")?;
        let card = InProcessCard::new(personalised.chip);
        let slot = Arc::new(DemoSlot {
            chip: card.handle(),
            _card: Mutex::new(card),
            present: Arc::new(AtomicBool::new(false)),
            available: opts.reader,
            atr: Mutex::new(None),
        });

        // The QR images, decoded later by the real pipeline.
        let load = |name: &str, bytes: &[u8]| -> anyhow::Result<LumaFrame> {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes)?;
            Ok(kiosk_qr::source::load_luma(&path)?)
        };
        let card_qr = load("card-qr.png", CARD_QR_PNG)?;
        let vneid_qr = load("vneid-qr.png", VNEID_QR_PNG)?;
        let shown = Arc::new(Mutex::new(None));

        let config_text = format!(
            r#"mode = "{mode}"
site_name = "{site}"
kiosk_id = "{id}"
trust_store = "{trust}"
gateway_url = "{url}"
technician_pin_hash = "{pin_hash}"
"#,
            pin_hash = kiosk_core::pin::hash(DEMO_TECHNICIAN_PIN)?,
            mode = match opts.mode {
                Mode::Clinic => "clinic",
                Mode::OneStop => "one-stop",
            },
            site = if enrolment.display_name == "demo" {
                match opts.mode {
                    Mode::Clinic => "Phòng khám Demo",
                    Mode::OneStop => "UBND phường Demo",
                }
            } else {
                &enrolment.display_name
            },
            id = enrolment.kiosk_id,
            trust = trust_dir.display(),
            url = enrolment.gateway_url,
        );
        let config = Config::parse(&config_text, "demo kiosk.toml")?;
        let settings = Settings::from_config(&config)?;
        let outbox = Arc::new(Outbox::open(&state_dir).context("opening the demo outbox")?);
        let camera: Box<dyn FrameSource> = if opts.camera {
            Box::new(DemoCamera {
                shown: Arc::clone(&shown),
            })
        } else {
            Box::new(super::camera::NoCamera {
                device: "/dev/video0".into(),
                reason: "the demo was started without a camera".into(),
            })
        };
        let gateway = Arc::new(Gateway::from_state_dir(&state_dir));
        let setup = Setup {
            settings,
            state_dir: state_dir.clone(),
            card: CardSetup::Slot(Arc::clone(&slot) as Arc<dyn CardSlot>),
            camera,
            printer: PrinterTarget::TextFile(state_dir.join("tickets.txt")),
            trust,
            outbox: Arc::clone(&outbox),
            gateway,
            timing: opts.timing,
            watchdog: Watchdog::disabled(),
            ping_on_tick: true,
            tap: None,
        };
        let world = Arc::new(DemoWorld {
            dir,
            gateway_dir,
            state_dir,
            addr,
            rt,
            gateway: Mutex::new(Some(running)),
            slot,
            shown,
            card_qr,
            vneid_qr,
            outbox,
            kiosk_id: enrolment.kiosk_id,
        });
        Ok((world, setup))
    }

    /// The temporary state directory of the kiosk.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// Where the gateway listens (and the kiosk's enrolment points).
    pub fn gateway_addr(&self) -> SocketAddr {
        self.addr
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// The gateway's state directory (its SQLite database).
    pub fn gateway_dir(&self) -> &Path {
        &self.gateway_dir
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// Registrations the gateway stored: (idempotency key, ticket).
    pub fn gateway_registrations(&self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(
            kiosk_gateway::ops::list_registrations(&self.gateway_dir, None, false)?
                .into_iter()
                .map(|l| (l.key, l.ticket))
                .collect(),
        )
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// The printed tickets (the demo printer's file).
    pub fn printed(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("tickets.txt")).unwrap_or_default()
    }

    fn show(&self, frame: &LumaFrame) {
        if let Ok(mut s) = self.shown.lock() {
            // A few frames, as a hand holding a phone would give.
            *s = Some((frame.clone(), 5));
        }
    }

    fn set_gateway_online(&self, online: bool) -> anyhow::Result<()> {
        let mut g = self
            .gateway
            .lock()
            .map_err(|_| anyhow::anyhow!("gateway lock poisoned"))?;
        match (online, g.is_some()) {
            (false, true) => {
                if let Some(running) = g.take() {
                    self.rt.block_on(running.shutdown());
                }
            }
            (true, false) => {
                // The same address: the kiosk's enrolment names it.
                let mut last = None;
                for _ in 0..20 {
                    match self
                        .rt
                        .block_on(kiosk_gateway::start(&self.gateway_dir, self.addr))
                    {
                        Ok(running) => {
                            *g = Some(running);
                            return Ok(());
                        }
                        Err(e) => {
                            last = Some(e);
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
                if let Some(e) = last {
                    bail!("restarting the demo gateway: {e}");
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Drop for DemoWorld {
    fn drop(&mut self) {
        if let Ok(mut g) = self.gateway.lock()
            && let Some(running) = g.take()
        {
            self.rt.block_on(running.shutdown());
        }
    }
}

/// The demo panel's buttons.
#[derive(Clone)]
pub struct DemoControl {
    handle: RuntimeHandle,
    world: Arc<DemoWorld>,
    delivery: Arc<super::delivery::Delivery>,
    gateway: Arc<Gateway>,
}

impl std::fmt::Debug for DemoControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoControl").finish_non_exhaustive()
    }
}

impl DemoControl {
    /// The card is placed on the reader (powered up afresh, as a real tap does).
    pub fn tap_card(&self) {
        if !self.world.slot.available {
            return;
        }
        let atr = self.world.slot.chip.with_chip(|c| c.reset());
        if let Ok(mut a) = self.world.slot.atr.lock() {
            *a = Some(atr.to_vec());
        }
        self.world.slot.present.store(true, Ordering::SeqCst);
        self.handle.send(Event::CardInserted);
    }

    /// The card is taken away (a read in progress fails at its next APDU).
    pub fn remove_card(&self) {
        if self.world.slot.present.swap(false, Ordering::SeqCst) {
            self.handle.send(Event::CardRemoved);
        }
    }

    /// The card's printed QR is held to the camera.
    pub fn show_card_qr(&self) {
        self.world.show(&self.world.card_qr);
    }

    /// The VNeID app's QR of the same citizen is held to the camera.
    pub fn show_vneid_qr(&self) {
        self.world.show(&self.world.vneid_qr);
    }

    /// Holds any image to the camera (tests: a damaged or foreign QR).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn show_frame(&self, frame: &LumaFrame) {
        self.world.show(frame);
    }

    /// Stops or restarts the in-process gateway. Back online, the outbox worker is woken and
    /// the catalog fetched again.
    pub fn set_gateway_online(&self, online: bool) -> anyhow::Result<()> {
        self.world.set_gateway_online(online)?;
        if online {
            self.delivery.wake();
            self.gateway.refresh.notify_one();
        }
        Ok(())
    }

    /// Runs one demo panel command.
    pub fn run(&self, command: super::headless::DemoCommand) -> anyhow::Result<()> {
        use super::headless::DemoCommand as C;
        match command {
            C::TapCard => self.tap_card(),
            C::RemoveCard => self.remove_card(),
            C::ShowCardQr => self.show_card_qr(),
            C::ShowVneidQr => self.show_vneid_qr(),
            C::GatewayOnline => self.set_gateway_online(true)?,
            C::GatewayOffline => self.set_gateway_online(false)?,
        }
        Ok(())
    }
}

/// A running demo: the world, the kiosk runtime on it, and the demo panel.
pub struct Demo {
    pub world: Arc<DemoWorld>,
    pub control: DemoControl,
    pub runtime: Runtime,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("world", &self.world)
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// Builds the world and starts the kiosk on it with `display`.
    pub fn start(
        opts: &DemoOptions,
        display: Box<dyn Display>,
        watchdog: Watchdog,
        tap: Option<super::EventTap>,
    ) -> anyhow::Result<Demo> {
        let (world, mut setup) = DemoWorld::create(opts)?;
        setup.watchdog = watchdog;
        setup.ping_on_tick = opts.ping_on_tick;
        setup.tap = tap;
        let gateway = Arc::clone(&setup.gateway);
        let runtime = Runtime::start(setup, display)?;
        let handle = runtime.handle();
        if !opts.reader {
            handle.send(device_event(Device::CardReader, DeviceHealth::Absent));
        }
        let control = DemoControl {
            handle,
            world: Arc::clone(&world),
            delivery: runtime.delivery(),
            gateway,
        };
        Ok(Demo {
            world,
            control,
            runtime,
        })
    }

    /// Stops the kiosk, then the world.
    pub fn stop(self) {
        self.runtime.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed PNGs are this profile's QR texts, and the real decoder reads them back.
    /// With `KIOSK_WRITE_DEMO_QR=1` they are rendered again first.
    #[test]
    fn demo_qr_images_are_the_profiles_payloads() {
        let profile = Profile::load(&default_profile()).unwrap();
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        let cases = [
            ("card-qr.png", card_qr_text(&profile), CARD_QR_PNG),
            ("vneid-qr.png", vneid_qr_text(&profile), VNEID_QR_PNG),
        ];
        for (name, text, committed) in cases {
            let path = assets.join(name);
            let bytes = if std::env::var_os("KIOSK_WRITE_DEMO_QR").is_some() {
                let frame = kiosk_qr::synth::render_qr(text.as_bytes(), 6).unwrap();
                kiosk_qr::source::save_png(&frame, &path).unwrap();
                std::fs::read(&path).unwrap()
            } else {
                committed.to_vec()
            };
            let dir = tempfile::tempdir().unwrap();
            let tmp = dir.path().join(name);
            std::fs::write(&tmp, &bytes).unwrap();
            let frame = kiosk_qr::source::load_luma(&tmp).unwrap();
            let mut scanner = kiosk_qr::Scanner::with_engine(
                kiosk_qr::Engine::default_for_build(),
                Default::default(),
            )
            .unwrap();
            let result = scanner.scan(&frame);
            assert_eq!(result.codes.len(), 1, "{name}");
            assert_eq!(result.codes[0].bytes, text.as_bytes(), "{name}");
            match kiosk_qr::classify(&result.codes[0].bytes).unwrap() {
                kiosk_qr::Payload::Card(qr) => {
                    assert_eq!(qr.id(), profile.id);
                    assert_eq!(qr.name(), profile.full_name);
                }
                other => panic!("{name}: {}", other.kind()),
            }
        }
        assert!(vneid_qr_text(&profile).split('|').count() == 11);
    }
}
