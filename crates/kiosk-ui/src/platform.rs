//! A headless Slint platform for screenshots and benchmarks: every window is a
//! [`MinimalSoftwareWindow`] drawn by the software renderer into a buffer, with a frozen clock
//! so renders are reproducible. Public Slint API only.

use std::cell::RefCell;
use std::rc::Rc;

use slint::PhysicalSize;
use slint::Rgb8Pixel;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};

use crate::error::{Error, Result};

thread_local! {
    /// The last window the platform made on this thread.
    static LAST: RefCell<Option<Rc<MinimalSoftwareWindow>>> = const { RefCell::new(None) };
}

struct Headless;

impl Platform for Headless {
    fn create_window_adapter(
        &self,
    ) -> std::result::Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        LAST.with(|l| *l.borrow_mut() = Some(window.clone()));
        Ok(window)
    }

    fn duration_since_start(&self) -> core::time::Duration {
        // Frozen: no animation or timer moves between two renders of the same scene.
        core::time::Duration::ZERO
    }
}

/// Installs the headless platform on this thread. Fails if another platform is already set
/// (e.g. the winit backend started, or the testing backend in a test).
pub fn install() -> Result<()> {
    if LAST.with(|l| l.borrow().is_some()) {
        // Installed earlier on this thread.
        return Ok(());
    }
    slint::platform::set_platform(Box::new(Headless))
        .map_err(|e| Error::Platform(format!("headless platform: {e}")))
}

/// An RGB frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Row-major RGB, 3 bytes a pixel.
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({}x{})", self.width, self.height)
    }
}

/// Sizes the last window made on this thread and renders it completely.
pub fn render(width: u32, height: u32) -> Result<Frame> {
    let window = LAST
        .with(|l| l.borrow().clone())
        .ok_or_else(|| Error::Platform("no headless window on this thread".into()))?;
    window.set_size(PhysicalSize::new(width, height));
    slint::platform::update_timers_and_animations();
    window.request_redraw();
    let mut pixels = vec![Rgb8Pixel::new(0, 0, 0); width as usize * height as usize];
    let drawn = window.draw_if_needed(|renderer| {
        renderer.render(&mut pixels, width as usize);
    });
    if !drawn {
        return Err(Error::Platform("the window did not draw".into()));
    }
    let rgb = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    Ok(Frame { width, height, rgb })
}
