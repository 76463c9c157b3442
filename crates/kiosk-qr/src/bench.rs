//! The QR benchmark behind `kiosk qr bench` and `make bench`: a labelled folder of frames
//! (written from [`crate::synth`] or brought by a technician), every engine of the build run over
//! it, zbar's `zbarimg` run over the same files as the outside reference, and a Markdown report.
//!
//! Folder layout: image files plus `manifest.tsv`, one line per frame:
//! `file<TAB>class<TAB>expected payload as hex, or - for no code`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::decoder::Engine;
use crate::error::{Error, Result};
use crate::frame::LumaFrame;
use crate::scanner::{ScanConfig, Scanner};
use crate::source::{load_luma, save_png};
use crate::synth::{Class, SynthFrame};

/// Name of the manifest inside a benchmark folder.
pub const MANIFEST: &str = "manifest.tsv";
/// Longest manifest accepted.
const MAX_MANIFEST: u64 = 16 * 1024 * 1024;
/// Deadline for one `zbarimg` run.
const ZBAR_TIMEOUT: Duration = Duration::from_secs(20);

/// One labelled frame of a benchmark folder.
#[derive(Debug, Clone)]
pub struct BenchFrame {
    pub file: PathBuf,
    pub class: Class,
    pub frame: LumaFrame,
    pub expected: Option<Vec<u8>>,
}

impl BenchFrame {
    pub fn size(&self) -> (u32, u32) {
        (self.frame.width(), self.frame.height())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

/// Writes frames as PNG files plus the manifest into `dir` (created if missing).
pub fn write_set(dir: &Path, frames: &[SynthFrame]) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut manifest = String::new();
    for (i, f) in frames.iter().enumerate() {
        let name = format!(
            "{i:04}-{}-{}x{}.png",
            f.class.as_str(),
            f.frame.width(),
            f.frame.height()
        );
        let path = dir.join(&name);
        save_png(&f.frame, &path)?;
        let expected = f
            .expected
            .as_deref()
            .map(to_hex)
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(manifest, "{name}\t{}\t{expected}", f.class.as_str());
    }
    let path = dir.join(MANIFEST);
    std::fs::write(&path, manifest).map_err(io(&path))
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// A plain file name inside the folder.
    pub file: String,
    pub class: Class,
    pub expected: Option<Vec<u8>>,
}

/// Parses manifest text; errors say `line: what`.
pub fn parse_manifest(text: &str) -> std::result::Result<Vec<ManifestEntry>, String> {
    let mut entries = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |what: &str| format!("{}: {what}", n + 1);
        let mut cols = line.split('\t');
        let (Some(file), Some(class), Some(expected), None) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            return Err(bad("expected 3 tab-separated columns"));
        };
        if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
            return Err(bad("file names must be plain names inside the folder"));
        }
        let class = Class::parse(class).ok_or_else(|| bad("unknown class"))?;
        let expected = match expected {
            "-" => None,
            hex => Some(from_hex(hex).ok_or_else(|| bad("expected payload is not hex"))?),
        };
        entries.push(ManifestEntry {
            file: file.to_owned(),
            class,
            expected,
        });
    }
    Ok(entries)
}

/// Loads a benchmark folder written by [`write_set`] (or by hand in the same layout).
pub fn load_set(dir: &Path) -> Result<Vec<BenchFrame>> {
    let path = dir.join(MANIFEST);
    let meta = std::fs::metadata(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    if meta.len() > MAX_MANIFEST {
        return Err(Error::Bench(format!(
            "{} is larger than 16 MiB",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let mut frames = Vec::new();
    for entry in
        parse_manifest(&text).map_err(|e| Error::Bench(format!("{}:{e}", path.display())))?
    {
        let file = dir.join(&entry.file);
        let frame = load_luma(&file)?;
        frames.push(BenchFrame {
            file,
            class: entry.class,
            frame,
            expected: entry.expected,
        });
    }
    if frames.is_empty() {
        return Err(Error::Bench(format!("{} lists no frames", path.display())));
    }
    Ok(frames)
}

/// What one decoder did on one frame.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub class: Class,
    pub size: (u32, u32),
    /// The expected payload was among the results (no-code frames: nothing was found).
    pub ok: bool,
    /// Some result differed from the expected payload (no-code frames: anything was found).
    pub wrong: bool,
    /// Wall time.
    pub took: Duration,
    /// CPU time of the scanning thread (`None` for an outside process).
    pub cpu: Option<Duration>,
}

/// One decoder's results over a set.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    pub outcomes: Vec<Outcome>,
    /// How the time was measured, for the table's reader.
    pub timing_note: String,
}

fn judge(expected: Option<&[u8]>, found: &[Vec<u8>]) -> (bool, bool) {
    match expected {
        Some(e) => (found.iter().any(|f| f == e), found.iter().any(|f| f != e)),
        None => (found.is_empty(), !found.is_empty()),
    }
}

/// Runs one engine of this build over the frames (in memory, one thread), each frame on its own
/// (no region of interest carried over).
pub fn run_engine(engine: Engine, config: &ScanConfig, frames: &[BenchFrame]) -> Result<Report> {
    let mut scanner = Scanner::with_engine(engine, config.clone())?;
    // Warm-up: first-call costs (allocations, lazy tables) are not a per-frame cost.
    if let Some(f) = frames.first() {
        let _ = scanner.scan(&f.frame);
    }
    let outcomes = frames
        .iter()
        .map(|f| {
            scanner.reset();
            let cpu = cpu_time::ThreadTime::try_now().ok();
            let t = Instant::now();
            let result = scanner.scan(&f.frame);
            let took = t.elapsed();
            let cpu = cpu.and_then(|c| c.try_elapsed().ok());
            let found: Vec<Vec<u8>> = result
                .codes
                .into_iter()
                .map(|mut c| std::mem::take(&mut c.bytes))
                .collect();
            let (ok, wrong) = judge(f.expected.as_deref(), &found);
            Outcome {
                class: f.class,
                size: f.size(),
                ok,
                wrong,
                took,
                cpu,
            }
        })
        .collect();
    Ok(Report {
        name: engine.as_str().to_owned(),
        outcomes,
        timing_note: "in-process scan of a luma frame already in memory, all passes included"
            .into(),
    })
}

/// Runs `zbarimg` in binary mode on one file; `None` when it is not installed.
fn zbar_once(file: &Path) -> Result<(Vec<Vec<u8>>, Duration)> {
    let t = Instant::now();
    let mut child = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Error::Bench(format!("cannot run zbarimg (Debian package zbar-tools, installed by deploy/dev-setup.sh): {e}")))?;
    // Read stdout on a thread so the deadline also covers a zbarimg that hangs while writing.
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Bench("zbarimg stdout missing".into()))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut out);
        out
    });
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if t.elapsed() > ZBAR_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Bench(format!(
                    "zbarimg took more than {ZBAR_TIMEOUT:?} on {}",
                    file.display()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_micros(200)),
            Err(e) => return Err(Error::Bench(format!("waiting for zbarimg: {e}"))),
        }
    }
    let took = t.elapsed();
    let mut out = reader
        .join()
        .map_err(|_| Error::Bench("zbarimg reader thread panicked".into()))?;
    // Binary mode prints each symbol's bytes followed by a newline.
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    let found = if out.is_empty() {
        Vec::new()
    } else {
        vec![out]
    };
    Ok((found, took))
}

/// Runs zbar over the same files. Its time includes process start-up and PNG decoding; the
/// report's note gives the start-up cost measured on a 1×1 image so readers can subtract it.
pub fn run_zbar(frames: &[BenchFrame], scratch: &Path) -> Result<Report> {
    let tiny = scratch.join("zbar-baseline-1x1.png");
    save_png(&LumaFrame::filled(1, 1, 255)?, &tiny)?;
    let mut baseline: Vec<Duration> = (0..7)
        .map(|_| zbar_once(&tiny).map(|r| r.1))
        .collect::<Result<_>>()?;
    baseline.sort();
    let base_ms = ms(baseline[baseline.len() / 2]);
    let _ = std::fs::remove_file(&tiny);
    let outcomes = frames
        .iter()
        .map(|f| {
            let (found, took) = zbar_once(&f.file)?;
            let (ok, wrong) = judge(f.expected.as_deref(), &found);
            Ok(Outcome {
                class: f.class,
                size: f.size(),
                ok,
                wrong,
                took,
                cpu: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Report {
        name: "zbar (zbarimg)".into(),
        outcomes,
        timing_note: format!(
            "one `zbarimg --raw -Sbinary` process per PNG file: includes process start-up and PNG decoding (start-up on a 1×1 image: median {base_ms:.1} ms)"
        ),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and 95th percentile (nearest rank) in ms.
pub fn median_p95(times: &[Duration]) -> Option<(f64, f64)> {
    if times.is_empty() {
        return None;
    }
    let mut t: Vec<Duration> = times.to_vec();
    t.sort();
    let median = t[(t.len() - 1) / 2];
    let rank = ((t.len() as f64) * 0.95).ceil() as usize;
    let p95 = t[rank.clamp(1, t.len()) - 1];
    Some((ms(median), ms(p95)))
}

/// Summary numbers of one report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Frames with a code that decoded to the expected payload.
    pub decoded: usize,
    /// Frames with a code.
    pub with_code: usize,
    /// Frames on which something other than the expected payload came out.
    pub wrong: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let coded: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.class != Class::NoCode)
            .collect();
        Summary {
            decoded: coded.iter().filter(|o| o.ok).count(),
            with_code: coded.len(),
            wrong: self.outcomes.iter().filter(|o| o.wrong).count(),
        }
    }

    /// Success rate of one class at one size (`None` when the set has no such frame).
    pub fn rate(&self, class: Class, size: Option<(u32, u32)>) -> Option<(usize, usize)> {
        let sel: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.class == class && size.is_none_or(|s| o.size == s))
            .collect();
        (!sel.is_empty()).then(|| (sel.iter().filter(|o| o.ok).count(), sel.len()))
    }

    /// Median and p95 ms over every frame of one size.
    pub fn times(&self, size: (u32, u32)) -> Option<(f64, f64)> {
        let t: Vec<Duration> = self
            .outcomes
            .iter()
            .filter(|o| o.size == size)
            .map(|o| o.took)
            .collect();
        median_p95(&t)
    }

    /// Median and p95 CPU ms of the scanning thread over every frame of one size (`None` when
    /// not measured, e.g. for an outside process).
    pub fn cpu_times(&self, size: (u32, u32)) -> Option<(f64, f64)> {
        let t: Option<Vec<Duration>> = self
            .outcomes
            .iter()
            .filter(|o| o.size == size)
            .map(|o| o.cpu)
            .collect();
        median_p95(&t?)
    }
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "–".into()
    } else {
        format!("{:.1} % ({n}/{d})", 100.0 * n as f64 / d as f64)
    }
}

/// The Markdown section: one table per decoder plus a comparison line.
pub fn markdown(reports: &[Report], heading: &str) -> String {
    let mut sizes: Vec<(u32, u32)> = reports
        .iter()
        .flat_map(|r| r.outcomes.iter().map(|o| o.size))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    sizes.sort_by_key(|s| u64::from(s.0) * u64::from(s.1));
    let classes: Vec<Class> = Class::ALL
        .into_iter()
        .filter(|c| reports.iter().any(|r| r.rate(*c, None).is_some()))
        .collect();
    let mut md = String::new();
    let _ = writeln!(md, "{heading}\n");
    let _ = writeln!(
        md,
        "| decoder | success (frames with a code) | wrong payloads | {} |",
        sizes
            .iter()
            .map(|s| format!(
                "wall ms {w}×{h} median / p95 | CPU ms {w}×{h} median / p95",
                w = s.0,
                h = s.1
            ))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(md, "|---|---|---|{}", "---|".repeat(2 * sizes.len()));
    for r in reports {
        let s = r.summary();
        let times: Vec<String> = sizes
            .iter()
            .map(|sz| {
                let cell = |t: Option<(f64, f64)>| {
                    t.map_or("–".into(), |(m, p)| format!("{m:.2} / {p:.2}"))
                };
                format!("{} | {}", cell(r.times(*sz)), cell(r.cpu_times(*sz)))
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.name,
            pct(s.decoded, s.with_code),
            s.wrong,
            times.join(" | ")
        );
    }
    for r in reports {
        let _ = writeln!(md, "\n#### {}\n\nTime: {}.\n", r.name, r.timing_note);
        let _ = writeln!(
            md,
            "| class | {} | both |",
            sizes
                .iter()
                .map(|s| format!("{}×{}", s.0, s.1))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(md, "|---|{}---|", "---|".repeat(sizes.len()));
        let mut wrong_by_class: BTreeMap<Class, usize> = BTreeMap::new();
        for o in r.outcomes.iter().filter(|o| o.wrong) {
            *wrong_by_class.entry(o.class).or_default() += 1;
        }
        for c in &classes {
            let cells: Vec<String> = sizes
                .iter()
                .map(|s| r.rate(*c, Some(*s)).map_or("–".into(), |(n, d)| pct(n, d)))
                .collect();
            let both = r.rate(*c, None).map_or("–".into(), |(n, d)| pct(n, d));
            let label = if *c == Class::NoCode {
                "no_code (nothing found)"
            } else {
                c.as_str()
            };
            let wrong = wrong_by_class
                .get(c)
                .map(|w| format!(", {w} wrong"))
                .unwrap_or_default();
            let _ = writeln!(md, "| {label} | {} | {both}{wrong} |", cells.join(" | "));
        }
    }
    md
}

/// Replaces the text between `<!-- {tag}:begin -->` and `<!-- {tag}:end -->` (markers kept),
/// or appends a new marked section when the markers are absent.
pub fn replace_section(doc: &str, tag: &str, body: &str) -> String {
    let begin = format!("<!-- {tag}:begin -->");
    let end = format!("<!-- {tag}:end -->");
    let section = format!("{begin}\n{}\n{end}", body.trim_end());
    match (doc.find(&begin), doc.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{section}{}", &doc[..b], &doc[e + end.len()..]),
        _ => {
            let mut out = doc.trim_end().to_owned();
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&section);
            out.push('\n');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judge_counts_wrong_and_missing() {
        assert_eq!(judge(Some(b"a"), &[b"a".to_vec()]), (true, false));
        assert_eq!(judge(Some(b"a"), &[b"b".to_vec()]), (false, true));
        assert_eq!(judge(Some(b"a"), &[]), (false, false));
        assert_eq!(judge(None, &[]), (true, false));
        assert_eq!(judge(None, &[b"x".to_vec()]), (false, true));
    }

    #[test]
    fn manifest_errors_name_the_line() {
        assert_eq!(parse_manifest("a.png\tclean\t-\n").unwrap().len(), 1);
        assert_eq!(
            parse_manifest("a.png\tclean\t-\n\nb.png\tblurry\t-").unwrap_err(),
            "3: unknown class"
        );
        assert_eq!(
            parse_manifest("a.png\tclean").unwrap_err(),
            "1: expected 3 tab-separated columns"
        );
        assert_eq!(
            parse_manifest("a.png\tclean\tzz").unwrap_err(),
            "1: expected payload is not hex"
        );
        assert!(parse_manifest("../x.png\tclean\t-").is_err());
        assert!(parse_manifest("/etc/x.png\tclean\t-").is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_manifest_never_panics(text in "[a-z0-9._/\t\n-]{0,200}") {
            let _ = parse_manifest(&text);
        }
    }

    #[test]
    fn percentiles() {
        let t: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(median_p95(&t), Some((10.0, 19.0)));
        assert_eq!(median_p95(&[]), None);
    }

    #[test]
    fn section_replacement_keeps_the_rest() {
        let doc = "# Benchmarks\n\n<!-- card:begin -->\ncard\n<!-- card:end -->\n\n<!-- qr:begin -->\nold\n<!-- qr:end -->\ntail\n";
        let out = replace_section(doc, "qr", "new table");
        assert_eq!(
            out,
            "# Benchmarks\n\n<!-- card:begin -->\ncard\n<!-- card:end -->\n\n<!-- qr:begin -->\nnew table\n<!-- qr:end -->\ntail\n"
        );
        let appended = replace_section("# Benchmarks\n", "qr", "t");
        assert_eq!(
            appended,
            "# Benchmarks\n\n<!-- qr:begin -->\nt\n<!-- qr:end -->\n"
        );
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(
            from_hex(&to_hex(b"\x00\xffab")),
            Some(b"\x00\xffab".to_vec())
        );
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn set_round_trips_through_a_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let frames = vec![
            crate::synth::frame(Class::Clean, (640, 480), 1).unwrap(),
            crate::synth::frame(Class::NoCode, (640, 480), 2).unwrap(),
        ];
        write_set(&dir, &frames).unwrap();
        let back = load_set(&dir).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].frame, frames[0].frame);
        assert_eq!(back[0].expected, frames[0].expected);
        assert_eq!(back[1].class, Class::NoCode);
        assert!(back[1].expected.is_none());
        std::fs::write(dir.join(MANIFEST), "../etc/passwd\tclean\t-\n").unwrap();
        assert!(matches!(load_set(&dir), Err(Error::Bench(_))));
    }
}
