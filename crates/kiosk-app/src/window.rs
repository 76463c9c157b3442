//! The kiosk in a window: the Slint UI of `kiosk-ui` as the runtime's [`Display`], touches sent
//! back to the core, the demo panel wired to the demo world, and the systemd watchdog pinged from
//! the UI loop (so a frozen UI stops the pings and systemd restarts the kiosk).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use kiosk_core::View;
use kiosk_ui::{DemoAction, KioskUi, UiHandle, UiOptions};
use slint::ComponentHandle;

use crate::runtime::camera::CameraStats;
use crate::runtime::display::Display;
use crate::runtime::headless::DemoCommand;
use crate::runtime::{RuntimeHandle, Watchdog};

/// How often the UI loop tells systemd it is alive (the unit's WatchdogSec is 30 s; the watchdog
/// itself throttles to a quarter of it).
const WATCHDOG_TICK: Duration = Duration::from_secs(1);

/// How often the technician screen's camera preview is refreshed.
const PREVIEW_TICK: Duration = Duration::from_millis(200);

/// The technician screen's camera preview: frames are asked for only while that screen is up,
/// and the image is dropped when it closes.
fn camera_preview(ui: &KioskUi, stats: Arc<CameraStats>) -> slint::Timer {
    let weak = ui.window().as_weak();
    let mut showing = false;
    let timer = slint::Timer::default();
    timer.start(slint::TimerMode::Repeated, PREVIEW_TICK, move || {
        let Some(w) = weak.upgrade() else { return };
        let on =
            w.get_screen() == kiosk_ui::binding::screen_id(kiosk_core::view::Screen::Technician);
        stats.preview.want(on);
        if on {
            if let Some(f) = stats.preview.take()
                && let Ok(image) = kiosk_ui::photo::luma_image(f.width, f.height, &f.luma)
            {
                w.set_camera_preview(image);
            }
        } else if showing {
            w.set_camera_preview(slint::Image::default());
        }
        showing = on;
    });
    timer
}

/// The runtime's display: hands each view to the UI thread and returns at once.
pub struct UiDisplay(UiHandle);

impl Display for UiDisplay {
    fn show(&mut self, view: View, photo: Option<Vec<u8>>) {
        // The event loop is gone only while the kiosk shuts down: nothing left to show.
        let _ = self.0.show(view, photo);
    }

    fn clear(&mut self) {
        let _ = self.0.clear();
    }
}

/// Fails early, with the way out, where no window can open (no X11 or Wayland display).
pub fn check_display() -> anyhow::Result<()> {
    let has = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    if has("DISPLAY") || has("WAYLAND_DISPLAY") {
        Ok(())
    } else {
        bail!(
            "no display to open the kiosk window on (neither DISPLAY nor WAYLAND_DISPLAY is set); \
             run it in a desktop session, under cage, or with --headless"
        )
    }
}

/// The window, created on the main thread before the runtime starts rendering into it.
pub struct Window {
    ui: KioskUi,
}

impl Window {
    pub fn new(demo_panel: bool) -> anyhow::Result<Self> {
        let ui = KioskUi::new(UiOptions { demo_panel }).context("creating the kiosk window")?;
        Ok(Window { ui })
    }

    /// The demo panel's reminders: the card's last 6 ID digits and the technician PIN.
    pub fn set_demo_hints(&self, card_digits: &str, technician_pin: &str) {
        let w = self.ui.window();
        w.set_demo_card_digits(card_digits.into());
        w.set_demo_technician_pin(technician_pin.into());
    }

    /// The display the runtime renders through.
    pub fn display(&self) -> UiDisplay {
        UiDisplay(self.ui.handle())
    }

    /// Wires touches to the core, the demo panel (if any) to `demo`, and runs the event loop
    /// until the window is closed. `fullscreen` for the appliance.
    pub fn run(
        self,
        handle: RuntimeHandle,
        watchdog: Watchdog,
        demo: Option<crate::runtime::demo::DemoControl>,
        camera: Option<Arc<CameraStats>>,
        fullscreen: bool,
    ) -> anyhow::Result<()> {
        let ui = self.ui;
        let preview_timer = camera.map(|stats| camera_preview(&ui, stats));
        ui.on_action(move |a| {
            handle.touch(a);
        });
        if let Some(control) = demo {
            let weak = ui.window().as_weak();
            ui.on_demo(move |a| {
                let command = match a {
                    DemoAction::TapCard => DemoCommand::TapCard,
                    DemoAction::RemoveCard => DemoCommand::RemoveCard,
                    DemoAction::ShowCardQr => DemoCommand::ShowCardQr,
                    DemoAction::ShowVneidQr => DemoCommand::ShowVneidQr,
                    DemoAction::GatewayOffline => DemoCommand::GatewayOffline,
                    DemoAction::GatewayOnline => DemoCommand::GatewayOnline,
                };
                // Stopping or starting the in-process gateway takes a moment: never on the UI
                // thread.
                let control = control.clone();
                let weak = weak.clone();
                std::thread::spawn(move || {
                    let result = control.run(command);
                    if let Err(e) = &result {
                        eprintln!("demo: {e:#}");
                    }
                    let online = match command {
                        DemoCommand::GatewayOnline => Some(result.is_ok()),
                        DemoCommand::GatewayOffline => Some(result.is_err()),
                        _ => None,
                    };
                    if let Some(online) = online {
                        let _ = weak.upgrade_in_event_loop(move |w| {
                            w.set_demo_gateway_online(online);
                        });
                    }
                });
            });
            ui.set_demo_gateway_online(true);
        }
        let timer = slint::Timer::default();
        timer.start(slint::TimerMode::Repeated, WATCHDOG_TICK, move || {
            watchdog.ping()
        });
        if fullscreen {
            ui.window().window().set_fullscreen(true);
        }
        // systemd stops the kiosk with SIGTERM: close the window so the runtime stops cleanly
        // (STOPPING=1, workers joined) instead of dying mid-write.
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
        let signal_handle = signals.handle();
        let watcher = std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = slint::invoke_from_event_loop(|| {
                    let _ = slint::quit_event_loop();
                });
            }
        });
        let result = ui.run().context("running the kiosk window");
        signal_handle.close();
        let _ = watcher.join();
        drop(timer);
        drop(preview_timer);
        result
    }
}
