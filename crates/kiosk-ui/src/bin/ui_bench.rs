//! UI benchmark (release build): time to the first rendered frame, resident memory when idle
//! and after 100 simulated sessions, and the frame time of the busiest screens with the
//! software renderer. Writes the `ui` section of `docs/benchmarks.md`.
//!
//! `cargo run --release -p kiosk-ui --bin ui_bench -- [--write docs/benchmarks.md]`

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiosk_core::config::Mode;
use kiosk_core::event::{Event, Purpose};
use kiosk_core::view::Screen;
use kiosk_core::{Action, Command};
use kiosk_ui::platform;
use kiosk_ui::scenes::{self, CAN_DIGITS, Driver};
use kiosk_ui::screenshots::{HEIGHT, WIDTH};
use kiosk_ui::{KioskUi, UiOptions};
use slint::ComponentHandle;

type Res<T> = Result<T, Box<dyn Error>>;

/// Resident set size in kB (Linux `/proc/self/status`).
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or("n/a".into(), |k| format!("{:.1} MB", k as f64 / 1024.0))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

thread_local! {
    /// Frames drawn by the sessions.
    static FRAMES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Carries out the core's UI commands and draws a frame after each view, as the app would.
fn apply(ui: &KioskUi, d: &Driver, out: Vec<Command>) -> Res<()> {
    for c in out {
        match c {
            Command::ClearPersonalData => ui.clear(),
            Command::Show(v) => {
                ui.render(&v, d.kiosk.photo());
                platform::render(WIDTH, HEIGHT)?;
                FRAMES.with(|f| f.set(f.get() + 1));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One one-stop session from the card to the ticket and back to the attract screen.
fn session(ui: &KioskUi, d: &mut Driver, identity: &dyn Fn() -> Res<Event>) -> Res<()> {
    let out = d.send(Event::CardInserted);
    apply(ui, d, out)?;
    for c in CAN_DIGITS.bytes() {
        let out = d.touch(Action::KeypadDigit(c - b'0'));
        apply(ui, d, out)?;
    }
    let steps: Vec<Event> = vec![
        Event::Touch(Action::KeypadOk),
        identity()?,
        Event::Touch(Action::Confirm),
        Event::Touch(Action::Search("chung".into())),
        Event::Touch(Action::SelectProcedure("2.001".into())),
        Event::Touch(Action::ToggleConsent(Purpose::DataProcessing)),
        Event::Touch(Action::Submit),
    ];
    for e in steps {
        let out = d.send(e);
        apply(ui, d, out)?;
    }
    let ticket = d.ticket("Q02-001", "Q02")?;
    let out = d.send(Event::Delivery(ticket));
    apply(ui, d, out)?;
    let out = d.touch(Action::Done);
    apply(ui, d, out)?;
    if d.view().screen != Screen::Attract {
        return Err("a session did not return to the attract screen".into());
    }
    Ok(())
}

/// Full redraws of the screen on view: median and p95.
fn frame_times(n: usize) -> Res<(Duration, Duration)> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        platform::render(WIDTH, HEIGHT)?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.95)))
}

fn main() -> Res<()> {
    let start = Instant::now();
    let mut args = std::env::args().skip(1);
    let mut write: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--write" => write = Some(args.next().ok_or("--write needs a path")?.into()),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }

    // First frame: platform, window, the core's attract view, one full software render.
    platform::install()?;
    let ui = KioskUi::new(UiOptions::default())?;
    ui.window().show()?;
    let mut d = Driver::new(Mode::OneStop, Some(scenes::one_stop_catalog()))?;
    ui.render(&d.view(), None);
    platform::render(WIDTH, HEIGHT)?;
    let first_frame = start.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    let rss_idle = rss_kb();

    let identity = || -> Res<Event> {
        Ok(Event::ReadFinished(scenes::chip_identity(
            true,
            "14/03/2029",
        )?))
    };
    for _ in 0..10 {
        session(&ui, &mut d, &identity)?;
    }
    let rss_10 = rss_kb();
    let sessions = Instant::now();
    let frames_before = FRAMES.with(|f| f.get());
    for _ in 0..90 {
        session(&ui, &mut d, &identity)?;
    }
    let per_session = sessions.elapsed() / 90;
    let frames_per_session = (FRAMES.with(|f| f.get()) - frames_before) / 90;
    std::thread::sleep(Duration::from_millis(200));
    let rss_100 = rss_kb();

    // The busiest screens: procedure choice (keyboard, counters, list) and details (keyboard,
    // question, consent), and the identity screen with the decoded portrait.
    let mut frames = vec![];
    let mut busy = Driver::new(Mode::OneStop, Some(scenes::one_stop_catalog()))?;
    busy.send(Event::CardInserted);
    busy.digits(CAN_DIGITS);
    busy.send(identity()?);
    ui.render(&busy.view(), busy.kiosk.photo());
    frames.push(("identity (with photo)", frame_times(200)?));
    busy.touch(Action::Confirm);
    ui.render(&busy.view(), None);
    frames.push(("choose (keyboard, counters, list)", frame_times(200)?));
    busy.touch(Action::SelectProcedure("1.001".into()));
    ui.render(&busy.view(), None);
    frames.push(("details (keyboard with digits, consent)", frame_times(200)?));

    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let now = time::OffsetDateTime::now_utc();
    let date = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let growth = match (rss_10, rss_100) {
        (Some(a), Some(b)) => format!("{:+.1} MB", (b as f64 - a as f64) / 1024.0),
        _ => "n/a".into(),
    };
    let debug = cfg!(debug_assertions);
    let mut md = format!(
        "<!-- ui:begin -->\n### UI (kiosk-ui, Slint software renderer)\n\n\
         `ui_bench` on {date}, {cores} cores (load average {load} at the end), commit {commit}, \
         {} build. Headless: the software renderer draws {WIDTH}×{HEIGHT} RGB frames into memory \
         (no display, no compositor); each session drives the real kiosk-core from card to ticket \
         and draws a frame after every view it shows ({frames_per_session} frames a session).\n\n\
         | measurement | result | goal |\n|---|---|---|\n\
         | process start to first rendered frame (attract) | {} | < 1 s |\n\
         | resident memory idle (attract shown) | {} | < 80 MB |\n\
         | resident memory after 10 / 100 sessions | {} / {} ({growth} from 10 to 100) | no growth |\n\
         | one session (core + renders + frames), mean of 90 | {} | – |\n",
        if debug { "debug" } else { "release" },
        ms(first_frame),
        mb(rss_idle),
        mb(rss_10),
        mb(rss_100),
        ms(per_session),
    );
    for (name, (p50, p95)) in &frames {
        md += &format!(
            "| full frame, {name}: median / p95 of 200 | {} / {} | – |\n",
            ms(*p50),
            ms(*p95)
        );
    }
    md += "<!-- ui:end -->\n";
    print!("{md}");
    if let Some(path) = write {
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (old.find("<!-- ui:begin -->"), old.find("<!-- ui:end -->")) {
            (Some(b), Some(e)) if e > b => {
                let end = e + "<!-- ui:end -->\n".len();
                format!("{}{}{}", &old[..b], md, old.get(end..).unwrap_or_default())
            }
            _ => format!("{}\n{}", old.trim_end(), md),
        };
        std::fs::write(&path, new)?;
        eprintln!("wrote the ui section of {}", path.display());
    }
    Ok(())
}
