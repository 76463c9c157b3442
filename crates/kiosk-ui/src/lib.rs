//! `kiosk-ui` owns the kiosk's touchscreen: the Slint screens under `ui/` (compiled here by
//! `build.rs`, with the Noto Sans font and the Vietnamese translation bundled), the binding that
//! renders kiosk-core's [`View`] and turns touches into the core's [`Action`]s, the hidden
//! technician gesture ([`gesture`]), the demo panel ([`DemoAction`]) and the screenshot renderer
//! ([`screenshots`]).
//!
//! The UI has no logic beyond presentation: the core decides what a screen shows and which
//! actions it offers; a click on anything the current view does not offer is dropped.
//!
//! Threads: [`KioskUi`] lives on the UI thread; other threads render through a [`UiHandle`]
//! (`Send + Clone`), which posts to the event loop and never blocks it.

pub mod action;
pub mod binding;
pub mod error;
pub mod gesture;
pub mod photo;
pub mod platform;
pub mod scenes;
pub mod screenshots;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use kiosk_core::{Action, View};
use slint::ComponentHandle;

pub use error::{Error, Result};

/// The code Slint generates from `ui/kiosk.slint` (`KioskWindow` and the data structs). Not ours
/// to lint.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::todo,
    clippy::unimplemented,
    clippy::dbg_macro,
    missing_docs,
    unused
)]
mod generated {
    slint::include_modules!();
}
pub use generated::{
    ChoiceData, ConsentData, DeadLetterData, DiagnosticData, IdentityData, KioskWindow,
    QuestionData, StepData, TicketData,
};

/// What the UI is started with.
#[derive(Debug, Clone, Copy, Default)]
pub struct UiOptions {
    /// Show the demo column (device simulation buttons) beside the kiosk screen.
    pub demo_panel: bool,
}

/// A button of the demo panel: the demo app plays the devices accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoAction {
    TapCard,
    RemoveCard,
    ShowCardQr,
    ShowVneidQr,
    GatewayOffline,
    GatewayOnline,
}

impl DemoAction {
    fn from_id(id: &str) -> Option<Self> {
        Some(match id {
            "tap_card" => DemoAction::TapCard,
            "remove_card" => DemoAction::RemoveCard,
            "card_qr" => DemoAction::ShowCardQr,
            "vneid_qr" => DemoAction::ShowVneidQr,
            "gateway_offline" => DemoAction::GatewayOffline,
            "gateway_online" => DemoAction::GatewayOnline,
            _ => return None,
        })
    }
}

type ActionSink = Box<dyn Fn(Action)>;
type DemoSink = Box<dyn Fn(DemoAction)>;

/// State shared by the window's callbacks (UI thread only).
struct Shared {
    window: slint::Weak<KioskWindow>,
    /// The view on screen: what the clicks are checked against. Holds personal data until the
    /// next view or `clear` (the core's `View` wipes its strings on drop).
    view: RefCell<Option<View>>,
    on_action: RefCell<Option<ActionSink>>,
    on_demo: RefCell<Option<DemoSink>>,
    gesture: RefCell<gesture::CornerTaps>,
    started: Instant,
    /// The last portrait decoded and its bytes, so a re-render of the same identity (every
    /// keystroke on the details screen) does not decode it again. Wiped by `clear`.
    photo: RefCell<Option<(zeroize::Zeroizing<Vec<u8>>, slint::Image)>>,
}

impl Shared {
    fn send(&self, make: impl FnOnce(&View) -> Option<Action>) {
        let action = self.view.borrow().as_ref().and_then(make);
        if let Some(a) = action
            && let Some(sink) = &*self.on_action.borrow()
        {
            sink(a);
        }
    }

    fn render(&self, view: View, photo: Option<&[u8]>) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        // A photo that does not decode (or is JPEG 2000) shows the placeholder.
        let wanted = view.identity.as_ref().filter(|i| i.has_photo).and(photo);
        let image = wanted.and_then(|p| self.decoded(p));
        binding::apply(&w, &view, image);
        *self.view.borrow_mut() = Some(view);
    }

    /// The decoded portrait, from the cache when the bytes are the same.
    fn decoded(&self, bytes: &[u8]) -> Option<slint::Image> {
        let mut cache = self.photo.borrow_mut();
        if let Some((b, img)) = &*cache
            && b.as_slice() == bytes
        {
            return Some(img.clone());
        }
        let img = photo::decode_photo(bytes).ok()?;
        *cache = Some((zeroize::Zeroizing::new(bytes.to_vec()), img.clone()));
        Some(img)
    }

    fn clear(&self) {
        self.photo.borrow_mut().take();
        if let Some(w) = self.window.upgrade() {
            binding::clear(&w);
        }
        self.view.borrow_mut().take();
        self.gesture.borrow_mut().reset();
    }
}

thread_local! {
    /// The UI thread's binding, for updates posted by [`UiHandle`].
    static CURRENT: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

/// The kiosk window and its binding. Create and use it on the UI thread.
pub struct KioskUi {
    window: KioskWindow,
    shared: Rc<Shared>,
}

impl std::fmt::Debug for KioskUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskUi").finish_non_exhaustive()
    }
}

impl KioskUi {
    /// Creates the window (not shown until [`KioskUi::run`] or `window().show()`).
    pub fn new(options: UiOptions) -> Result<Self> {
        let window = KioskWindow::new()?;
        let _ = slint::select_bundled_translation("vi");
        window.set_demo_enabled(options.demo_panel);
        let shared = Rc::new(Shared {
            window: window.as_weak(),
            view: RefCell::new(None),
            on_action: RefCell::new(None),
            on_demo: RefCell::new(None),
            gesture: RefCell::new(gesture::CornerTaps::new()),
            started: Instant::now(),
            photo: RefCell::new(None),
        });
        Self::connect(&window, &shared);
        CURRENT.with(|c| *c.borrow_mut() = Some(shared.clone()));
        Ok(KioskUi { window, shared })
    }

    fn connect(w: &KioskWindow, shared: &Rc<Shared>) {
        let sh = shared.clone();
        w.on_action(move |id| sh.send(|v| binding::plain(v, &id)));
        let sh = shared.clone();
        w.on_digit(move |d| sh.send(|v| binding::digit(v, d)));
        let sh = shared.clone();
        w.on_search_edit(move |op, k| sh.send(|v| binding::search(v, &op, &k)));
        let sh = shared.clone();
        w.on_category_selected(move |c| sh.send(|v| binding::category(v, &c)));
        let sh = shared.clone();
        w.on_select(move |code| sh.send(|v| binding::select(v, &code)));
        let sh = shared.clone();
        w.on_answer_edit(move |q, op, k| sh.send(|v| binding::answer(v, &q, &op, &k)));
        let sh = shared.clone();
        w.on_toggle_consent(move |p| sh.send(|v| binding::consent(v, &p)));
        let sh = shared.clone();
        w.on_visit_type_selected(move |t| sh.send(|v| binding::visit_type(v, &t)));
        let sh = shared.clone();
        w.on_language_selected(move |l| sh.send(|_| binding::language(&l)));
        let sh = shared.clone();
        w.on_retry_dead_letter(move |k| sh.send(|v| binding::retry_dead_letter(v, &k)));
        let sh = shared.clone();
        w.on_corner_tapped(move || {
            let now = u64::try_from(sh.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            if sh.gesture.borrow_mut().tap(now) {
                sh.send(|_| Some(Action::TechnicianGesture));
            }
        });
        let sh = shared.clone();
        w.on_demo(move |id| {
            if let (Some(a), Some(sink)) = (DemoAction::from_id(&id), &*sh.on_demo.borrow()) {
                sink(a);
            }
        });
    }

    /// Renders `view`; `photo` is the portrait from the chip (JPEG or PNG; anything else shows
    /// the placeholder).
    pub fn render(&self, view: &View, photo: Option<&[u8]>) {
        self.shared.render(view.clone(), photo);
    }

    /// Drops every personal value from the UI's models and the photo.
    pub fn clear(&self) {
        self.shared.clear();
    }

    /// Where the touches go: each is an action the view on screen offered.
    pub fn on_action(&self, f: impl Fn(Action) + 'static) {
        *self.shared.on_action.borrow_mut() = Some(Box::new(f));
    }

    /// Where the demo panel's buttons go.
    pub fn on_demo(&self, f: impl Fn(DemoAction) + 'static) {
        *self.shared.on_demo.borrow_mut() = Some(Box::new(f));
    }

    /// Shows the gateway state on the demo panel's toggle.
    pub fn set_demo_gateway_online(&self, online: bool) {
        self.window.set_demo_gateway_online(online);
    }

    /// The technician screen's camera preview: one 8-bit luma frame (row-major, no padding);
    /// `None` clears it.
    pub fn set_camera_preview(&self, frame: Option<(u32, u32, &[u8])>) -> Result<()> {
        let image = match frame {
            Some((w, h, luma)) => photo::luma_image(w, h, luma)?,
            None => slint::Image::default(),
        };
        self.window.set_camera_preview(image);
        Ok(())
    }

    /// A handle other threads can render through.
    pub fn handle(&self) -> UiHandle {
        UiHandle { _priv: () }
    }

    /// The Slint window (tests, screenshots, the app's watchdog timer).
    pub fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// Shows the window and runs the event loop until it closes.
    pub fn run(&self) -> Result<()> {
        self.window.run()?;
        Ok(())
    }
}

impl Drop for KioskUi {
    fn drop(&mut self) {
        self.shared.clear();
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_some_and(|s| Rc::ptr_eq(s, &self.shared)) {
                c.take();
            }
        });
    }
}

/// Renders from any thread: posts to the UI event loop and returns at once.
#[derive(Debug, Clone)]
pub struct UiHandle {
    _priv: (),
}

impl UiHandle {
    /// Shows `view` (and the portrait) on the UI thread.
    pub fn show(&self, view: View, photo: Option<Vec<u8>>) -> Result<()> {
        slint::invoke_from_event_loop(move || {
            let mut photo = photo.map(zeroize::Zeroizing::new);
            CURRENT.with(|c| {
                if let Some(s) = &*c.borrow() {
                    s.render(view, photo.as_deref().map(|p| p.as_slice()));
                }
            });
            photo.take();
        })
        .map_err(|_| Error::EventLoopGone)
    }

    /// Drops every personal value from the UI (on the UI thread).
    pub fn clear(&self) -> Result<()> {
        slint::invoke_from_event_loop(|| {
            CURRENT.with(|c| {
                if let Some(s) = &*c.borrow() {
                    s.clear();
                }
            });
        })
        .map_err(|_| Error::EventLoopGone)
    }

    /// Shows the gateway state on the demo panel's toggle (on the UI thread).
    pub fn set_demo_gateway_online(&self, online: bool) -> Result<()> {
        slint::invoke_from_event_loop(move || {
            CURRENT.with(|c| {
                if let Some(s) = &*c.borrow()
                    && let Some(w) = s.window.upgrade()
                {
                    w.set_demo_gateway_online(online);
                }
            });
        })
        .map_err(|_| Error::EventLoopGone)
    }

    /// Updates the technician's camera preview (8-bit luma frame) on the UI thread.
    pub fn set_camera_preview(&self, width: u32, height: u32, luma: Vec<u8>) -> Result<()> {
        slint::invoke_from_event_loop(move || {
            CURRENT.with(|c| {
                if let Some(s) = &*c.borrow()
                    && let Some(w) = s.window.upgrade()
                    && let Ok(img) = photo::luma_image(width, height, &luma)
                {
                    w.set_camera_preview(img);
                }
            });
        })
        .map_err(|_| Error::EventLoopGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_clone<T: Send + Clone>() {}

    #[test]
    fn handle_is_send_and_clone() {
        assert_send_clone::<UiHandle>();
        assert_eq!(DemoAction::from_id("tap_card"), Some(DemoAction::TapCard));
        assert_eq!(
            DemoAction::from_id("gateway_online"),
            Some(DemoAction::GatewayOnline)
        );
        assert_eq!(DemoAction::from_id("nope"), None);
    }
}
