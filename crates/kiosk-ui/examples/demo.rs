//! The kiosk UI in a window with the demo panel, driven by the real kiosk-core; the example
//! plays the devices (card reads from the fictional citizen, the card QR, the gateway's answers).
//! A reference for wiring the UI into the app; the product's demo is `kiosk demo`.
//!
//! `cargo run -p kiosk-ui --features winit --example demo -- [clinic] [--exit-after SECS]`

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use kiosk_core::config::Mode;
use kiosk_core::event::ReadStep;
use kiosk_core::{Command, Event};
use kiosk_ui::scenes::{self, Driver};
use kiosk_ui::{DemoAction, KioskUi, UiOptions};

const CARD_QR: &str =
    "001089012345|012345678|Nguyễn Văn Thử|14031989|Nam|Số 1 Phố Mẫu, Phường Thử, Hà Nội|01072021";

struct Demo {
    ui: KioskUi,
    core: RefCell<Driver>,
    gateway_online: Cell<bool>,
    ticket_number: Cell<u32>,
    /// Read steps still to report, one per timer tick (so the progress is visible).
    pending_read: RefCell<Vec<ReadStep>>,
}

impl Demo {
    fn send(self: &Rc<Self>, e: Event) {
        let out = self.core.borrow_mut().send(e);
        self.carry_out(out);
    }

    /// What the app does with the core's commands.
    fn carry_out(self: &Rc<Self>, out: Vec<Command>) {
        for c in out {
            match c {
                Command::ClearPersonalData => self.ui.clear(),
                Command::Show(v) => {
                    let core = self.core.borrow();
                    self.ui.render(&v, core.kiosk.photo());
                }
                Command::StartCardRead { .. } => {
                    *self.pending_read.borrow_mut() = ReadStep::ALL.to_vec();
                }
                Command::CancelCardRead => self.pending_read.borrow_mut().clear(),
                Command::Submit(_) => self.deliver(),
                _ => {}
            }
        }
    }

    /// The delivery worker: a ticket when the gateway is up, a provisional number otherwise.
    fn deliver(self: &Rc<Self>) {
        let n = self.ticket_number.get() + 1;
        self.ticket_number.set(n);
        let answer = {
            let core = self.core.borrow();
            if self.gateway_online.get() {
                core.ticket(&format!("A-{n:03}"), "Q02")
            } else {
                core.provisional("A", n)
            }
        };
        if let Ok(a) = answer {
            let demo = self.clone();
            // After the Submitting screen has been seen.
            slint::Timer::single_shot(Duration::from_millis(600), move || {
                demo.send(Event::Delivery(a))
            });
        }
    }

    fn tick(self: &Rc<Self>, elapsed_ms: u64) {
        let next = {
            let mut p = self.pending_read.borrow_mut();
            (!p.is_empty()).then(|| p.remove(0))
        };
        if let Some(step) = next {
            self.send(Event::ReadProgress(step));
            if step == ReadStep::Verifying
                && let Ok(identity) = scenes::chip_identity(true, "14/03/2029")
            {
                self.send(Event::ReadFinished(identity));
            }
        }
        let out = self.core.borrow_mut().advance_ms(elapsed_ms);
        self.carry_out(out);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut mode = Mode::OneStop;
    let mut exit_after: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "clinic" => mode = Mode::Clinic,
            "--exit-after" => exit_after = Some(args.next().ok_or("seconds")?.parse()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let catalog = match mode {
        Mode::OneStop => scenes::one_stop_catalog(),
        Mode::Clinic => scenes::clinic_catalog(),
    };
    let demo = Rc::new(Demo {
        ui: KioskUi::new(UiOptions { demo_panel: true })?,
        core: RefCell::new(Driver::new(mode, Some(catalog))?),
        gateway_online: Cell::new(true),
        ticket_number: Cell::new(0),
        pending_read: RefCell::new(vec![]),
    });
    let view = demo.core.borrow().view();
    demo.ui.render(&view, None);

    let d = demo.clone();
    demo.ui.on_action(move |a| d.send(Event::Touch(a)));
    let d = demo.clone();
    demo.ui.on_demo(move |a| match a {
        DemoAction::TapCard => d.send(Event::CardInserted),
        DemoAction::RemoveCard => d.send(Event::CardRemoved),
        DemoAction::ShowCardQr | DemoAction::ShowVneidQr => {
            match kiosk_qr::payload::classify(CARD_QR.as_bytes()) {
                Ok(p) => d.send(Event::Qr(p)),
                Err(_) => d.send(Event::QrUnreadable),
            }
        }
        DemoAction::GatewayOffline | DemoAction::GatewayOnline => {
            let online = a == DemoAction::GatewayOnline;
            d.gateway_online.set(online);
            d.ui.set_demo_gateway_online(online);
        }
    });

    // The timer: the core's clock and the simulated read's progress.
    let timer = slint::Timer::default();
    let d = demo.clone();
    let last = Cell::new(Instant::now());
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(250),
        move || {
            let now = Instant::now();
            let ms = u64::try_from(now.duration_since(last.get()).as_millis()).unwrap_or(0);
            last.set(now);
            d.tick(ms);
        },
    );
    if let Some(secs) = exit_after {
        slint::Timer::single_shot(Duration::from_secs(secs), || {
            let _ = slint::quit_event_loop();
        });
    }
    demo.ui.run()?;
    Ok(())
}
