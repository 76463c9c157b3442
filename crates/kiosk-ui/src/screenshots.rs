//! Screenshots of every screen in Vietnamese and English, rendered headless by the software
//! renderer ([`crate::platform`]) at 1280×800. Each scene comes from driving the real
//! [`kiosk_core::Kiosk`] with events ([`crate::scenes::Driver`]), the technician screens
//! included (gesture, PIN, a diagnostics snapshot).

use std::path::{Path, PathBuf};

use kiosk_core::Event;
use kiosk_core::config::Mode;
use kiosk_core::event::{Purpose, ReadFailure, ReadStep};
use kiosk_core::messages::Language;
use kiosk_core::view::{DeadLetterView, DiagnosticLine, Diagnostics, Screen};
use kiosk_core::{Action, View};
use slint::ComponentHandle;

use crate::error::{Error, Result};
use crate::platform;
use crate::scenes::{self, CAN_DIGITS, Driver, TECHNICIAN_PIN};
use crate::{KioskUi, UiOptions};

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 800;

/// One screenshot: a name (the file is `<name>-<lang>.png`) and the core view with its photo.
pub struct Scene {
    pub name: &'static str,
    pub view: View,
    pub photo: Option<Vec<u8>>,
}

impl std::fmt::Debug for Scene {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scene")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn snap(d: &Driver, name: &'static str) -> Scene {
    Scene {
        name,
        view: d.view(),
        photo: d.kiosk.photo().map(<[u8]>::to_vec),
    }
}

fn start(mode: Mode, language: Language) -> Result<Driver> {
    let catalog = match mode {
        Mode::OneStop => scenes::one_stop_catalog(),
        Mode::Clinic => scenes::clinic_catalog(),
    };
    let mut d = Driver::new(mode, Some(catalog))?;
    d.send(Event::Language(language));
    Ok(d)
}

/// Every scene in `language`, driven through the core.
pub fn scenes(language: Language) -> Result<Vec<Scene>> {
    let mut out = vec![];
    // One-stop: from the attract screen to the ticket.
    let mut d = start(Mode::OneStop, language)?;
    out.push(snap(&d, "attract"));
    d.send(Event::CardInserted);
    for c in CAN_DIGITS.bytes().take(4) {
        d.touch(Action::KeypadDigit(c - b'0'));
    }
    out.push(snap(&d, "identify"));
    for c in CAN_DIGITS.bytes().skip(4) {
        d.touch(Action::KeypadDigit(c - b'0'));
    }
    d.touch(Action::KeypadOk);
    d.send(Event::ReadProgress(ReadStep::PersonalData));
    d.send(Event::ReadPreview(scenes::preview_identity()?));
    d.send(Event::ReadProgress(ReadStep::ChipCheck));
    out.push(snap(&d, "reading"));
    d.send(Event::ReadFinished(scenes::chip_identity(
        true,
        "14/03/2029",
    )?));
    out.push(snap(&d, "identity"));
    d.touch(Action::Confirm);
    out.push(snap(&d, "choose"));
    d.touch(Action::Search("chung thuc".into()));
    out.push(snap(&d, "choose_search"));
    d.touch(Action::Search(String::new()));
    d.touch(Action::SelectProcedure("1.001".into()));
    d.touch(Action::Answer {
        question: "new_address".into(),
        text: "SO 9 PHO MOI".into(),
    });
    d.touch(Action::ToggleConsent(Purpose::DataProcessing));
    out.push(snap(&d, "details"));
    d.touch(Action::Submit);
    out.push(snap(&d, "submitting"));
    let ticket = d.ticket("Q01-007", "Q01")?;
    d.send(Event::Delivery(ticket));
    out.push(snap(&d, "ticket"));

    // Clinic: departments, consents with insurance, an offline (provisional) ticket.
    let mut d = start(Mode::Clinic, language)?;
    d.send(Event::CardInserted);
    d.digits(CAN_DIGITS);
    d.send(Event::ReadFinished(scenes::chip_identity(
        false,
        "14/03/2029",
    )?));
    out.push(snap(&d, "identity_unverified"));
    d.touch(Action::Confirm);
    out.push(snap(&d, "choose_clinic"));
    d.touch(Action::SelectDepartment("NOI".into()));
    d.touch(Action::ToggleConsent(Purpose::DataProcessing));
    d.touch(Action::ToggleConsent(Purpose::HealthData));
    out.push(snap(&d, "details_clinic"));
    d.touch(Action::Submit);
    let provisional = d.provisional("NOI", 3)?;
    d.send(Event::Delivery(provisional));
    out.push(snap(&d, "ticket_provisional"));

    // Errors that read differently.
    let mut d = start(Mode::OneStop, language)?;
    d.send(Event::CardInserted);
    d.digits(CAN_DIGITS);
    d.send(Event::ReadFailed(ReadFailure::CardRemoved));
    out.push(snap(&d, "error"));
    let mut d = start(Mode::OneStop, language)?;
    d.send(Event::CardInserted);
    d.digits(CAN_DIGITS);
    d.send(Event::ReadFailed(ReadFailure::WrongPassword));
    out.push(snap(&d, "error_wrong_can"));
    let mut d = start(Mode::OneStop, language)?;
    d.send(Event::CardInserted);
    d.digits(CAN_DIGITS);
    d.send(Event::ReadFinished(scenes::chip_identity(
        true,
        "14/03/2025",
    )?));
    out.push(snap(&d, "error_card_expired"));
    let mut d = start(Mode::OneStop, language)?;
    d.send(Event::CardInserted);
    d.digits(CAN_DIGITS);
    d.send(Event::ReadFinished(scenes::chip_identity(
        true,
        "14/03/2029",
    )?));
    d.touch(Action::Confirm);
    d.touch(Action::SelectProcedure("2.001".into()));
    d.touch(Action::ToggleConsent(Purpose::DataProcessing));
    d.touch(Action::Submit);
    let key = d.submitted.unwrap_or_default();
    d.send(Event::Delivery(
        kiosk_core::event::DeliveryResult::Refused {
            key,
            code: "invalid_registration".into(),
        },
    ));
    out.push(snap(&d, "error_submit_refused"));

    // The inactivity warning with its countdown.
    let mut d = start(Mode::OneStop, language)?;
    d.send(Event::CardInserted);
    let warn = u64::from(
        kiosk_core::config::Timeouts::default()
            .inactivity_seconds
            .saturating_sub(5),
    );
    d.advance_ms(warn * 1000);
    out.push(snap(&d, "identify_countdown"));

    // Technician screens, through the core: the hidden gesture, two digits of the PIN typed.
    let mut d = start(Mode::OneStop, language)?;
    d.touch(Action::TechnicianGesture);
    d.type_digits(&TECHNICIAN_PIN[..2]);
    out.push(snap(&d, "technician_pin"));

    // Wrong PINs until the lockout, 18 s into it.
    let limits = kiosk_core::config::Technician::default();
    for _ in 0..limits.max_attempts {
        d.digits("000000");
    }
    d.advance_ms(18_000);
    out.push(snap(&d, "technician_pin_locked"));

    // The right PIN, a diagnostics snapshot from the app, waiting for an enrolment QR.
    let mut d = start(Mode::OneStop, language)?;
    d.touch(Action::TechnicianGesture);
    d.digits(TECHNICIAN_PIN);
    d.send(Event::Diagnostics(Box::new(sample_diagnostics())));
    d.touch(Action::EnrolFromQr);
    out.push(snap(&d, "technician"));
    Ok(out)
}

/// A plausible diagnostics snapshot for the technician screen.
pub fn sample_diagnostics() -> Diagnostics {
    let line = |ok: bool, summary: &str, detail: &str| DiagnosticLine {
        ok,
        summary: summary.into(),
        detail: detail.into(),
    };
    Diagnostics {
        version: "0.1.0".into(),
        uptime: "3 h 12 min".into(),
        reader: line(
            true,
            "ACS ACR1281U · card absent",
            "ATR 3B 88 80 01 00 00 00 00",
        ),
        camera: line(true, "/dev/video0 · 15 fps", "decoded 14 of 15 frames"),
        printer: line(false, "paper out", "status 0x0C"),
        gateway: line(true, "reachable · 42 ms", ""),
        outbox: line(true, "2 waiting · oldest 3 min", ""),
        dead_letters: vec![DeadLetterView {
            key: "01JDEADLETTER0000000000001".into(),
            reason: "invalid_registration".into(),
            age: "2 h".into(),
        }],
    }
}

fn lang_id(l: Language) -> &'static str {
    crate::action::language_id(l)
}

/// Renders every scene in Vietnamese and English to `<dir>/<scene>-<lang>.png` (1280×800,
/// software renderer, no demo panel). Installs the headless platform on this thread, so call
/// it where no other Slint platform runs.
pub fn render_all(dir: &Path) -> Result<Vec<PathBuf>> {
    render_all_at(dir, WIDTH, HEIGHT)
}

/// [`render_all`] at another panel size (e.g. 1024×768 or 1920×1080, to check the layout).
pub fn render_all_at(dir: &Path, width: u32, height: u32) -> Result<Vec<PathBuf>> {
    if !(320..=4096).contains(&width) || !(240..=4096).contains(&height) {
        return Err(Error::Screenshot {
            path: dir.to_owned(),
            reason: format!("panel size {width}x{height} out of range"),
        });
    }
    platform::install()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::Screenshot {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    let ui = KioskUi::new(UiOptions::default())?;
    ui.window().show()?;
    let mut written = vec![];
    for language in [Language::Vi, Language::En] {
        for scene in scenes(language)? {
            ui.clear();
            ui.render(&scene.view, scene.photo.as_deref());
            if scene.view.screen == Screen::Technician {
                // A synthetic camera frame in the preview slot (a soft diagonal gradient).
                let (w, h) = (320u32, 240u32);
                let luma: Vec<u8> = (0..h)
                    .flat_map(|y| (0..w).map(move |x| ((x + y) * 255 / (w + h)) as u8))
                    .collect();
                ui.set_camera_preview(Some((w, h, &luma)))?;
            } else {
                ui.set_camera_preview(None)?;
            }
            let frame = platform::render(width, height)?;
            let path = dir.join(format!("{}-{}.png", scene.name, lang_id(language)));
            write_png(&path, &frame)?;
            written.push(path);
        }
    }
    ui.clear();
    ui.window().hide()?;
    Ok(written)
}

/// Writes an RGB frame as PNG.
pub fn write_png(path: &Path, frame: &platform::Frame) -> Result<()> {
    let img = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb.clone()).ok_or_else(
        || Error::Screenshot {
            path: path.to_owned(),
            reason: "frame size does not match its pixels".into(),
        },
    )?;
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| Error::Screenshot {
            path: path.to_owned(),
            reason: e.to_string(),
        })
}

/// How two screenshots differ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// Largest difference of one channel of one pixel (0–255).
    pub max_delta: u8,
    /// Share of pixels with any channel differing by more than the tolerance.
    pub differing_fraction: f64,
}

/// Compares two PNG files: pixels whose channels differ by more than `tolerance` count as
/// differing. Different sizes are an error.
pub fn compare_png(expected: &Path, actual: &Path, tolerance: u8) -> Result<Difference> {
    let load = |p: &Path| {
        image::open(p)
            .map(|i| i.into_rgb8())
            .map_err(|e| Error::Screenshot {
                path: p.to_owned(),
                reason: e.to_string(),
            })
    };
    let (a, b) = (load(expected)?, load(actual)?);
    if a.dimensions() != b.dimensions() {
        return Err(Error::Screenshot {
            path: actual.to_owned(),
            reason: format!(
                "size {:?} differs from {:?}",
                b.dimensions(),
                a.dimensions()
            ),
        });
    }
    let mut max_delta = 0u8;
    let mut differing = 0usize;
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        let d =
            pa.0.iter()
                .zip(pb.0.iter())
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
        max_delta = max_delta.max(d);
        if d > tolerance {
            differing += 1;
        }
    }
    let total = (a.width() as usize * a.height() as usize).max(1);
    Ok(Difference {
        max_delta,
        differing_fraction: differing as f64 / total as f64,
    })
}
