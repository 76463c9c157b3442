//! `kiosk demo`: the kiosk on the in-process demo world (gateway, outbox, virtual card, sample
//! QR images; see `runtime::demo`) in a window, with a demo panel beside the kiosk screen that
//! taps and removes the virtual card, shows the sample QR codes and takes the gateway off line.
//! `--headless` prints views as JSON lines instead and reads touches and demo commands
//! (`{"demo":"tap_card"}`, `show_card_qr`, `show_vneid_qr`, `remove_card`, `gateway_offline`,
//! `gateway_online`) as JSON lines. `--screenshots DIR` renders every screen in Vietnamese and
//! English to PNG files and exits.

use std::path::PathBuf;

use kiosk_core::config::Mode;

use crate::Global;
use crate::runtime::Watchdog;
use crate::runtime::demo::{Demo, DemoOptions, default_profile};
use crate::runtime::display::JsonLinesDisplay;
use crate::runtime::headless::{self, Input};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// No window: views as JSON lines on stdout; touches and demo commands on stdin.
    #[arg(long)]
    pub headless: bool,
    /// `clinic` or `one-stop`.
    #[arg(long, default_value = "clinic", value_parser = parse_mode)]
    pub mode: Mode,
    /// The virtual citizen (a kiosk-vcard profile).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Start without a card reader (to see its screen).
    #[arg(long)]
    pub no_reader: bool,
    /// Start without a camera (to see its screen).
    #[arg(long)]
    pub no_camera: bool,
    /// Render every screen in Vietnamese and English to `<screen>-<lang>.png` in DIR (software
    /// renderer, no display needed) and exit.
    #[arg(long, value_name = "DIR")]
    pub screenshots: Option<PathBuf>,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    match s {
        "clinic" => Ok(Mode::Clinic),
        "one-stop" => Ok(Mode::OneStop),
        _ => Err("clinic or one-stop".into()),
    }
}

pub fn run(_global: &Global, args: DemoArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.screenshots {
        std::fs::create_dir_all(dir)?;
        let written = kiosk_ui::screenshots::render_all(dir)?;
        for path in &written {
            println!("{}", path.display());
        }
        eprintln!("demo: {} screenshots in {}", written.len(), dir.display());
        return Ok(());
    }
    let opts = DemoOptions {
        mode: args.mode,
        profile: args.profile.unwrap_or_else(default_profile),
        reader: !args.no_reader,
        camera: !args.no_camera,
        ..DemoOptions::default()
    };
    if !args.headless {
        return windowed(opts);
    }
    let watchdog = Watchdog::from_env();
    let ping = watchdog.clone();
    let display = JsonLinesDisplay::new(std::io::stdout()).after_show(move || ping.ping());
    eprintln!("demo: starting the gateway, enrolling, personalising the virtual card …");
    let demo = Demo::start(&opts, Box::new(display), watchdog, None)?;
    eprintln!(
        "demo: ready (state in {}); type JSON lines, e.g. {{\"action\":\"start\"}} or {{\"demo\":\"tap_card\"}}",
        demo.world.state_dir().display()
    );
    let control = demo.control.clone();
    let handle = demo.runtime.handle();
    // Ends with stdin (Ctrl-D) or a signal.
    headless::serve(true, move |input| match input {
        Input::Touch(a) => {
            handle.touch(a);
        }
        Input::Demo(c) => {
            if let Err(e) = control.run(c) {
                eprintln!("demo: {e:#}");
            }
        }
    })?;
    demo.stop();
    Ok(())
}

/// The demo in a window with the demo panel.
fn windowed(opts: DemoOptions) -> anyhow::Result<()> {
    crate::window::check_display()?;
    let window = crate::window::Window::new(true)?;
    // The panel tells the demo user what the keypads will ask for (a fictional citizen).
    let profile = kiosk_vcard::Profile::load(&opts.profile)?;
    let digits = profile
        .id
        .get(profile.id.len().saturating_sub(6)..)
        .unwrap_or_default();
    window.set_demo_hints(digits, crate::runtime::demo::DEMO_TECHNICIAN_PIN);
    let watchdog = Watchdog::from_env();
    let opts = DemoOptions {
        // The UI loop pings the watchdog: a frozen window must stop the pings.
        ping_on_tick: false,
        ..opts
    };
    eprintln!("demo: starting the gateway, enrolling, personalising the virtual card …");
    let demo = Demo::start(&opts, Box::new(window.display()), watchdog.clone(), None)?;
    eprintln!(
        "demo: ready (state in {}). Use the panel on the right: tap the card, show a QR, take \
         the gateway off line. Technician: five quick taps on the top-left corner, PIN {}.",
        demo.world.state_dir().display(),
        crate::runtime::demo::DEMO_TECHNICIAN_PIN
    );
    let result = window.run(
        demo.runtime.handle(),
        watchdog,
        Some(demo.control.clone()),
        demo.runtime.camera(),
        false,
    );
    demo.stop();
    result
}
