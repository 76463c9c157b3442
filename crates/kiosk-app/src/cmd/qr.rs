//! `kiosk qr decode|watch|bench`: read QR codes from image files or the camera, and benchmark
//! the engines. Human output masks personal data; `--json` gives full values, one object per
//! line.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use kiosk_qr::bench;
use kiosk_qr::payload::Payload;
use kiosk_qr::pipeline::{Pipeline, PipelineConfig, ScanEvent};
use kiosk_qr::source::{FileSource, FrameSource, load_luma};
use kiosk_qr::{Engine, ScanConfig, Scanner, classify};
use serde_json::json;

use crate::Global;

/// QR codes: decode files, watch the camera, benchmark the engines.
#[derive(Debug, clap::Args)]
pub struct QrArgs {
    #[command(subcommand)]
    pub command: QrCommand,
}

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Decode QR codes in image files (PNG, JPEG, PGM) or folders of them.
    Decode {
        /// Image files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Decoder engine: rqrr or zxing (default: the best one in this build).
        #[arg(long, value_parser = ["rqrr", "zxing"])]
        engine: Option<String>,
    },
    /// Show what the camera sees: every new code, camera loss and recovery, and timings.
    Watch {
        /// V4L2 device (needs a build with the `camera` feature).
        #[arg(long, default_value = "/dev/video0", conflicts_with = "folder")]
        device: String,
        /// Read frames from a folder of images instead of the camera (repeats it).
        #[arg(long)]
        folder: Option<PathBuf>,
        /// Decoder engine: rqrr or zxing.
        #[arg(long, value_parser = ["rqrr", "zxing"])]
        engine: Option<String>,
        /// Stop after this many seconds (default: until interrupted).
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// Run every engine of this build and zbarimg over a labelled folder and print the table.
    Bench {
        /// Folder with frames and manifest.tsv (generated first when it has no manifest).
        dir: PathBuf,
        /// Frames per class and size when generating.
        #[arg(long, default_value_t = 20)]
        per_class: usize,
        /// Seed of the generated set.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Write the table into this Markdown file between `<!-- qr:begin -->` and `<!-- qr:end -->`.
        #[arg(long)]
        write: Option<PathBuf>,
        /// Skip the zbar reference (zbarimg not installed).
        #[arg(long)]
        no_zbar: bool,
    },
}

fn engine_of(name: Option<&str>) -> anyhow::Result<Engine> {
    Ok(match name {
        Some(n) => n.parse()?,
        None => Engine::default_for_build(),
    })
}

pub fn run(args: QrArgs, global: &Global) -> anyhow::Result<()> {
    match args.command {
        QrCommand::Decode { files, engine } => {
            let files = kiosk_qr::source::expand_paths(&files)?;
            let failures = decode(
                &files,
                engine_of(engine.as_deref())?,
                global.json,
                &mut std::io::stdout().lock(),
            )?;
            if failures > 0 {
                bail!(
                    "{failures} of {} files gave no valid QR payload",
                    files.len()
                );
            }
            Ok(())
        }
        QrCommand::Watch {
            device,
            folder,
            engine,
            seconds,
        } => watch(
            &device,
            folder,
            engine_of(engine.as_deref())?,
            seconds,
            global.json,
            &mut std::io::stdout().lock(),
        ),
        QrCommand::Bench {
            dir,
            per_class,
            seed,
            write,
            no_zbar,
        } => bench_cmd(&dir, per_class, seed, write, no_zbar),
    }
}

/// One human line for a payload, personal data masked.
fn describe(payload: &Payload) -> String {
    match payload {
        Payload::Card(c) => format!(
            "card QR, ID {} ({} extra fields)",
            c.masked_id(),
            c.extras().len()
        ),
        Payload::Enrolment(e) => format!(
            "enrolment QR for site {} ({}), gateway {}",
            e.site(),
            e.kind().as_str(),
            e.gateway()
        ),
        Payload::Dossier(d) => format!("dossier code {}", d.as_str()),
        Payload::Appointment(a) => format!("appointment code {}", a.as_str()),
        Payload::Opaque(t) => format!("opaque token ({} bytes) for the backend", t.as_str().len()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn code_json(raw: &[u8]) -> serde_json::Value {
    match classify(raw) {
        Ok(p) => json!({"kind": p.kind(), "fields": p, "raw_hex": hex(raw)}),
        Err(e) => json!({"kind": null, "error": e.to_string(), "raw_hex": hex(raw)}),
    }
}

/// Decodes each file and writes one line (or JSON object) per file; returns how many files gave
/// no valid payload.
fn decode(
    files: &[PathBuf],
    engine: Engine,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut scanner = Scanner::with_engine(engine, ScanConfig::default())?;
    let mut failures = 0usize;
    for file in files {
        let frame = match load_luma(file) {
            Ok(f) => f,
            Err(e) => {
                failures += 1;
                if as_json {
                    writeln!(
                        out,
                        "{}",
                        json!({"file": file, "engine": engine.as_str(), "error": e.to_string()})
                    )?;
                } else {
                    writeln!(out, "{}: error: {e}", file.display())?;
                }
                continue;
            }
        };
        scanner.reset();
        let t = Instant::now();
        let result = scanner.scan(&frame);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if !result.codes.iter().any(|c| classify(&c.bytes).is_ok()) {
            failures += 1;
        }
        if as_json {
            let codes: Vec<serde_json::Value> =
                result.codes.iter().map(|c| code_json(&c.bytes)).collect();
            let mut obj =
                json!({"file": file, "engine": engine.as_str(), "ms": ms, "codes": codes});
            if result.codes.is_empty() {
                obj["error"] = json!("no QR code found");
            }
            writeln!(out, "{obj}")?;
        } else if result.codes.is_empty() {
            writeln!(
                out,
                "{}: no QR code found ({engine}, {ms:.1} ms)",
                file.display()
            )?;
        } else {
            for c in &result.codes {
                match classify(&c.bytes) {
                    Ok(p) => writeln!(
                        out,
                        "{}: {} ({engine}, {ms:.1} ms)",
                        file.display(),
                        describe(&p)
                    )?,
                    Err(e) => {
                        writeln!(out, "{}: error: {e} ({engine}, {ms:.1} ms)", file.display())?
                    }
                }
            }
        }
    }
    Ok(failures)
}

fn open_source(device: &str, folder: Option<PathBuf>) -> anyhow::Result<Box<dyn FrameSource>> {
    if let Some(dir) = folder {
        // About 15 frames per second, like the camera.
        return Ok(Box::new(
            FileSource::new(&[dir], true)?.paced(Duration::from_millis(66)),
        ));
    }
    #[cfg(feature = "camera")]
    {
        Ok(Box::new(kiosk_qr::camera::CameraSource::start(device)?))
    }
    #[cfg(not(feature = "camera"))]
    {
        bail!(
            "this build has no camera support (build kiosk-app with `--features camera`); cannot open {device}"
        )
    }
}

fn watch(
    device: &str,
    folder: Option<PathBuf>,
    engine: Engine,
    seconds: Option<u64>,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let source = open_source(device, folder)?;
    eprintln!(
        "watching {} with {engine}; show a QR code (Ctrl-C to stop)",
        source.describe()
    );
    let config = PipelineConfig {
        engine,
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::spawn(source, config)?;
    let start = Instant::now();
    let deadline = seconds.map(Duration::from_secs);
    let mut last_stats = Instant::now();
    loop {
        if deadline.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        match pipeline.events().recv_timeout(Duration::from_millis(500)) {
            Ok(ScanEvent::Code {
                raw,
                payload,
                engine,
                timing,
            }) => {
                let ms = timing.total.as_secs_f64() * 1000.0;
                if as_json {
                    let mut obj = code_json(&raw);
                    obj["engine"] = json!(engine);
                    obj["ms"] = json!(ms);
                    writeln!(out, "{obj}")?;
                } else {
                    match payload {
                        Ok(p) => writeln!(out, "{} ({engine}, {ms:.1} ms)", describe(&p))?,
                        Err(e) => writeln!(out, "unreadable payload: {e} ({engine}, {ms:.1} ms)")?,
                    }
                }
                out.flush()?;
            }
            Ok(ScanEvent::SourceDown { reason }) => {
                eprintln!("camera unavailable: {reason} (retrying)")
            }
            Ok(ScanEvent::SourceUp) => eprintln!("camera delivering frames again"),
            Ok(ScanEvent::Skipped { reason }) => eprintln!("skipped a frame: {reason}"),
            Ok(ScanEvent::Ended) => break,
            Ok(ScanEvent::Failed(e)) => return Err(e).context("QR pipeline"),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if last_stats.elapsed() >= Duration::from_secs(5) {
            last_stats = Instant::now();
            let t: Vec<Duration> = pipeline.recent_timings().iter().map(|t| t.total).collect();
            if let Some((median, p95)) = bench::median_p95(&t) {
                eprintln!(
                    "last {} frames: median {median:.1} ms, p95 {p95:.1} ms per frame",
                    t.len()
                );
            } else {
                eprintln!("no frames yet");
            }
        }
    }
    pipeline.stop();
    Ok(())
}

fn bench_cmd(
    dir: &std::path::Path,
    per_class: usize,
    seed: u64,
    write: Option<PathBuf>,
    no_zbar: bool,
) -> anyhow::Result<()> {
    if !dir.join(bench::MANIFEST).exists() {
        eprintln!(
            "generating {per_class} frames per class and size into {}",
            dir.display()
        );
        let frames = kiosk_qr::synth::frame_set(per_class, seed)?;
        bench::write_set(dir, &frames)?;
    }
    let frames = bench::load_set(dir)?;
    eprintln!("{} frames loaded", frames.len());
    let mut reports = Vec::new();
    for engine in Engine::available() {
        eprintln!("running {engine}");
        reports.push(bench::run_engine(*engine, &ScanConfig::default(), &frames)?);
    }
    if !no_zbar {
        eprintln!("running zbarimg");
        reports.push(bench::run_zbar(&frames, dir)?);
    }
    let with_code = frames.iter().filter(|f| f.expected.is_some()).count();
    let heading = format!(
        "### QR decoding\n\nRun {} on {} ({}, load average {} at the start), commit {}, debug={}: {} frames ({} with a card QR, {} without), one thread.\nDefault engine of this build: {}.",
        utc_now(),
        machine(),
        std::env::consts::ARCH,
        load_average(),
        commit(),
        cfg!(debug_assertions),
        frames.len(),
        with_code,
        frames.len() - with_code,
        Engine::default_for_build()
    );
    let md = bench::markdown(&reports, &heading);
    println!("{md}");
    if let Some(path) = write {
        let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
        std::fs::write(&path, bench::replace_section(&doc, "qr", &md))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "(date unknown)".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cpu}, {cores} cores")
}

/// The 1-minute load average: timings on a busy machine are not comparable to an idle one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_qr::synth::{self, Class};

    fn save(dir: &std::path::Path, name: &str, frame: &kiosk_qr::LumaFrame) -> PathBuf {
        let path = dir.join(name);
        kiosk_qr::source::save_png(frame, &path).unwrap();
        path
    }

    #[test]
    fn decode_json_gives_one_object_per_file_with_kind_fields_or_error() {
        let dir = tempfile::tempdir().unwrap();
        let card = synth::frame(Class::Clean, (640, 480), 5).unwrap();
        let empty = synth::frame(Class::NoCode, (640, 480), 5).unwrap();
        let files = vec![
            save(dir.path(), "card.png", &card.frame),
            save(dir.path(), "empty.png", &empty.frame),
            dir.path().join("missing.png"),
        ];
        let mut out = Vec::new();
        let failures = decode(&files, Engine::default_for_build(), true, &mut out).unwrap();
        assert_eq!(failures, 2);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        let expected = String::from_utf8(card.expected.unwrap()).unwrap();
        assert_eq!(lines[0]["codes"][0]["kind"], "card");
        assert_eq!(lines[0]["codes"][0]["fields"]["id"], &expected[..12]);
        assert_eq!(lines[0]["engine"], Engine::default_for_build().as_str());
        assert!(lines[0]["ms"].as_f64().is_some());
        assert_eq!(lines[1]["error"], "no QR code found");
        assert!(lines[2]["error"].as_str().unwrap().contains("missing.png"));
    }

    #[test]
    fn watch_reports_a_code_held_in_view_once() {
        // A folder source loops over the same frame for 3 seconds: one report, not one per frame.
        let dir = tempfile::tempdir().unwrap();
        let card = synth::frame(Class::Clean, (1280, 720), 8).unwrap();
        save(dir.path(), "card.png", &card.frame);
        let mut out = Vec::new();
        watch(
            "/dev/video0",
            Some(dir.path().to_owned()),
            Engine::default_for_build(),
            Some(3),
            true,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["kind"], "card");
        let expected = String::from_utf8(card.expected.unwrap()).unwrap();
        assert_eq!(
            lines[0]["fields"]["name"],
            expected.split('|').nth(2).unwrap()
        );
    }

    #[test]
    fn human_output_masks_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let card = synth::frame(Class::Clean, (1280, 720), 6).unwrap();
        let files = vec![save(dir.path(), "card.png", &card.frame)];
        let mut out = Vec::new();
        assert_eq!(
            decode(&files, Engine::default_for_build(), false, &mut out).unwrap(),
            0
        );
        let text = String::from_utf8(out).unwrap();
        let id = String::from_utf8(card.expected.unwrap()).unwrap()[..12].to_owned();
        assert!(text.contains("card QR, ID "), "{text}");
        assert!(!text.contains(&id), "{text}");
        assert!(
            text.contains(&format!("{}******{}", &id[..4], &id[10..])),
            "{text}"
        );
    }
}
