//! Card-read benchmark: a full verified read of a sample citizen (PACE-CAN on brainpoolP256r1,
//! every file, Chip and Active Authentication, passive authentication against the test CSCA on
//! brainpoolP512r1 with explicit parameters) against the in-process virtual chip.
//!
//! It measures, per read:
//! - APDUs and bytes sent/received, counted by a wrapping `CardTransport`;
//! - the terminal's own CPU time: this thread's CPU time minus the CPU time spent inside the
//!   virtual chip's `process` (the chip runs on the same thread, inside the wrapper's call), split
//!   by the read's progress events into PACE, each file (reading + secure messaging), CA, AA and
//!   PA (`CardRead::finish`);
//! - the wall time a real contactless reader would take under a latency model: 8 ms per APDU,
//!   command and response bytes at 106 kbit/s, plus our CPU time; for the whole read and up to
//!   the name on screen (PACE + DG13, the `Progress::FileRead { file: Dg13 }` event).
//!
//! Prints a Markdown report and replaces the card section of `docs/benchmarks.md`.
//! Run with `cargo bench -p kiosk-tests --bench card_read` (release profile) or `make bench-card`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use kiosk_card::CardTransport;
use kiosk_card::files::ReadProfile;
use kiosk_card::lds::LdsFile;
use kiosk_card::pa::trust::TrustStore;
use kiosk_card::protocol::Password;
use kiosk_card::read::{CardRead, Progress, ReadOptions};
use kiosk_card::verification::Check;
use kiosk_tests::rig::sample_profile;
use kiosk_vcard::{Fault, Faults, InProcessCard, Options, Profile, personalise};
use nix::time::{ClockId, clock_gettime};

/// Timed reads per mode (after the warm-up reads).
const READS: usize = 40;
const WARMUP: usize = 2;
/// The sample citizen: the largest sample photo (DG2 about 15 kB).
const CITIZEN: &str = "an.toml";

/// Latency model of a contactless reader: fixed cost per APDU exchange (reader, driver,
/// ISO 14443-4 framing and turnaround) and the 106 kbit/s base rate for every byte both ways.
const PER_APDU: Duration = Duration::from_millis(8);
const BITS_PER_SECOND: f64 = 106_000.0;

/// Goals from issue 2.
const GOAL_APDUS_EXTENDED: u64 = 30;
const GOAL_APDUS_SHORT: u64 = 130;
const GOAL_NAME_ON_SCREEN: Duration = Duration::from_millis(500);
const GOAL_CPU: Duration = Duration::from_millis(50);

const BEGIN: &str = "<!-- card:begin -->";
const END: &str = "<!-- card:end -->";

fn thread_cpu() -> Duration {
    // Per-thread CPU: the machine is shared with other builds, so wall time would measure them too.
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .expect("CLOCK_THREAD_CPUTIME_ID is available on Linux")
}

/// What the counting transport has seen since the read began.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    apdus: u64,
    sent: u64,
    received: u64,
    chip_cpu: Duration,
}

fn lock(c: &Mutex<Counters>) -> MutexGuard<'_, Counters> {
    c.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The virtual card behind a transport that counts APDUs and bytes and times the chip's side.
struct Counting {
    card: InProcessCard,
    counters: Arc<Mutex<Counters>>,
}

impl CardTransport for Counting {
    fn transmit_raw(&mut self, command: &[u8]) -> kiosk_card::Result<Vec<u8>> {
        let start = thread_cpu();
        let answer = self.card.transmit_raw(command);
        let chip = thread_cpu().saturating_sub(start);
        let mut c = lock(&self.counters);
        c.apdus += 1;
        c.sent += command.len() as u64;
        if let Ok(response) = &answer {
            c.received += response.len() as u64;
        }
        c.chip_cpu += chip;
        answer
    }

    fn describe(&self) -> String {
        format!("counting {}", self.card.describe())
    }

    fn extended_length(&self) -> Option<bool> {
        self.card.extended_length()
    }
}

/// A point in the read: this thread's CPU clock and the transport's counters.
#[derive(Debug, Clone, Copy)]
struct Mark {
    cpu: Duration,
    counters: Counters,
}

fn mark(counters: &Mutex<Counters>) -> Mark {
    let counters = *lock(counters);
    Mark {
        cpu: thread_cpu(),
        counters,
    }
}

/// One step of a read (between two marks), or a sum of steps.
#[derive(Debug, Clone, Copy, Default)]
struct Step {
    apdus: u64,
    sent: u64,
    received: u64,
    /// The terminal's CPU: the thread's CPU minus the chip's.
    cpu: Duration,
    /// The virtual chip's CPU (excluded from `cpu`; reported so the subtraction can be checked).
    chip: Duration,
}

impl Step {
    fn between(a: &Mark, b: &Mark) -> Self {
        let chip = b.counters.chip_cpu.saturating_sub(a.counters.chip_cpu);
        Self {
            apdus: b.counters.apdus - a.counters.apdus,
            sent: b.counters.sent - a.counters.sent,
            received: b.counters.received - a.counters.received,
            cpu: b.cpu.saturating_sub(a.cpu).saturating_sub(chip),
            chip,
        }
    }

    fn add(self, o: Self) -> Self {
        Self {
            apdus: self.apdus + o.apdus,
            sent: self.sent + o.sent,
            received: self.received + o.received,
            cpu: self.cpu + o.cpu,
            chip: self.chip + o.chip,
        }
    }

    /// Transmission time under the reader model (without our CPU).
    fn link(&self) -> Duration {
        let bytes = (self.sent + self.received) as f64;
        PER_APDU * self.apdus as u32 + Duration::from_secs_f64(bytes * 8.0 / BITS_PER_SECOND)
    }

    /// Wall time under the reader model: link plus our CPU.
    fn model(&self) -> Duration {
        self.link() + self.cpu
    }
}

/// The phases the brief asks to split the CPU time into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pace,
    Files,
    Ca,
    Aa,
    Pa,
}

impl Phase {
    const ALL: [Phase; 5] = [Phase::Pace, Phase::Files, Phase::Ca, Phase::Aa, Phase::Pa];

    fn of(label: &str) -> Self {
        match label {
            "PACE" | "re-open" => Phase::Pace,
            "CA" => Phase::Ca,
            "AA" => Phase::Aa,
            "PA" => Phase::Pa,
            _ => Phase::Files,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Phase::Pace => "PACE (until the chip is open)",
            Phase::Files => "file reading + secure messaging",
            Phase::Ca => "Chip Authentication",
            Phase::Aa => "Active Authentication",
            Phase::Pa => "passive authentication (SOD hashes, signature, DS → CSCA)",
        }
    }
}

fn file_label(file: LdsFile) -> String {
    match file {
        LdsFile::CardAccess => "EF.CardAccess".into(),
        LdsFile::Com => "EF.COM".into(),
        LdsFile::Sod => "EF.SOD".into(),
        other => format!("{other:?}").to_uppercase(),
    }
}

/// One full read, step by step.
#[derive(Debug)]
struct Sample {
    steps: Vec<(String, Step)>,
    /// In-process wall time (terminal and chip), for reference only.
    wall: Duration,
    profile: ReadProfile,
    dg2_len: usize,
}

impl Sample {
    fn total(&self) -> Step {
        self.steps
            .iter()
            .fold(Step::default(), |acc, (_, s)| acc.add(*s))
    }

    /// Everything up to and including the DG13 read: when the name can be shown.
    fn name_on_screen(&self) -> Step {
        let mut acc = Step::default();
        for (label, s) in &self.steps {
            acc = acc.add(*s);
            if label == "DG13" {
                return acc;
            }
        }
        panic!("the read has no DG13 step")
    }

    fn phase(&self, phase: Phase) -> Step {
        self.steps
            .iter()
            .filter(|(l, _)| Phase::of(l) == phase)
            .fold(Step::default(), |acc, (_, s)| acc.add(*s))
    }
}

/// A personalised sample citizen on the counting transport.
struct Bench {
    profile: Profile,
    trust: TrustStore,
    transport: Counting,
}

impl Bench {
    fn new(faults: Faults) -> Self {
        let profile = Profile::load(&sample_profile(CITIZEN)).expect("sample profile loads");
        let p = personalise(
            &profile,
            &Options {
                faults,
                ..Options::default()
            },
        )
        .expect("personalisation");
        let mut trust = TrustStore::new();
        trust
            .add_bytes(p.pki.csca_pem().expect("CSCA PEM").as_bytes(), "test CSCA")
            .expect("trust the test CSCA");
        Self {
            profile,
            trust,
            transport: Counting {
                card: InProcessCard::new(p.chip),
                counters: Arc::new(Mutex::new(Counters::default())),
            },
        }
    }

    /// One full read from a freshly reset card; panics unless every check passed (a benchmark
    /// of a broken read would measure the wrong thing).
    fn read(&mut self, learnt: Option<ReadProfile>) -> Sample {
        self.transport.card.with_chip(|c| {
            c.reset();
        });
        let chip_apdus_before = self.transport.card.with_chip(|c| c.apdu_count());
        let counters = Arc::clone(&self.transport.counters);
        *lock(&counters) = Counters::default();

        let passwords = vec![Password::can(&self.profile.can())];
        let wall = Instant::now();
        let mut marks = vec![("start".to_owned(), mark(&counters))];
        let mut read = CardRead::new(passwords, &self.trust, ReadOptions::default());
        if let Some(p) = learnt {
            read = read.with_profile(p);
        }
        read.run(&mut self.transport, &mut |p| {
            let label = match p {
                Progress::Opened { .. } => "PACE".to_owned(),
                Progress::FileRead { file, .. } => file_label(file),
                Progress::ChipAuthentication { .. } => "CA".to_owned(),
                Progress::ActiveAuthentication { .. } => "AA".to_owned(),
                Progress::Reopening { .. } => "re-open".to_owned(),
            };
            marks.push((label, mark(&counters)));
        })
        .expect("the card read failed");
        let profile = read.profile();
        let result = read.finish(SystemTime::now());
        marks.push(("PA".to_owned(), mark(&counters)));
        let wall = wall.elapsed();

        for (name, check) in result.verification.checks() {
            assert!(matches!(check, Check::Passed), "{name}: {check}");
        }
        let chip_apdus = self.transport.card.with_chip(|c| c.apdu_count()) - chip_apdus_before;
        let counted = lock(&counters).apdus;
        assert_eq!(
            chip_apdus, counted,
            "the counting transport must see every APDU the chip answers"
        );
        let dg2_len = result.record.raw(LdsFile::Dg2).map_or(0, <[u8]>::len);
        let steps = marks
            .windows(2)
            .map(|w| (w[1].0.clone(), Step::between(&w[0].1, &w[1].1)))
            .collect();
        Sample {
            steps,
            wall,
            profile,
            dg2_len,
        }
    }
}

/// Nearest-rank percentile of durations.
fn percentile(values: &[Duration], p: f64) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn median_u64(values: impl Iterator<Item = u64>) -> u64 {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn met(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**not met**" }
}

/// The reads of one configuration.
struct Mode {
    name: &'static str,
    samples: Vec<Sample>,
}

impl Mode {
    fn run(name: &'static str, bench: &mut Bench, learnt: Option<ReadProfile>) -> Self {
        eprintln!("card_read: {name}: {WARMUP} warm-up + {READS} reads");
        for _ in 0..WARMUP {
            bench.read(learnt);
        }
        let samples: Vec<Sample> = (0..READS).map(|_| bench.read(learnt)).collect();
        let first: Vec<&String> = samples[0].steps.iter().map(|(l, _)| l).collect();
        for s in &samples {
            let labels: Vec<&String> = s.steps.iter().map(|(l, _)| l).collect();
            assert_eq!(labels, first, "every read goes through the same steps");
        }
        Self { name, samples }
    }

    fn totals(&self) -> Vec<Step> {
        self.samples.iter().map(Sample::total).collect()
    }

    fn cpu(&self, f: impl Fn(&Sample) -> Step) -> Vec<Duration> {
        self.samples.iter().map(|s| f(s).cpu).collect()
    }

    fn model(&self, f: impl Fn(&Sample) -> Step) -> Vec<Duration> {
        self.samples.iter().map(|s| f(s).model()).collect()
    }

    fn apdus(&self) -> u64 {
        median_u64(self.totals().iter().map(|s| s.apdus))
    }

    fn name_model_median(&self) -> Duration {
        percentile(&self.model(Sample::name_on_screen), 0.5)
    }

    fn cpu_median(&self) -> Duration {
        percentile(&self.cpu(Sample::total), 0.5)
    }

    fn row(&self) -> String {
        let t = self.totals();
        let cpu = self.cpu(Sample::total);
        let walls: Vec<Duration> = self.samples.iter().map(|s| s.wall).collect();
        let chip: Vec<Duration> = t.iter().map(|s| s.chip).collect();
        let name = self.samples[0].name_on_screen();
        format!(
            "| {} | {} | {} | {} | {} / {} | {} | {} | {} ({} APDUs) / {} | {} / {} |\n",
            self.name,
            self.apdus(),
            median_u64(t.iter().map(|s| s.sent)),
            median_u64(t.iter().map(|s| s.received)),
            ms(percentile(&cpu, 0.5)),
            ms(percentile(&cpu, 0.95)),
            ms(percentile(&chip, 0.5)),
            ms(percentile(&walls, 0.5)),
            ms(self.name_model_median()),
            name.apdus,
            ms(percentile(&self.model(Sample::name_on_screen), 0.95)),
            ms(percentile(&self.model(Sample::total), 0.5)),
            ms(percentile(&self.model(Sample::total), 0.95)),
        )
    }

    /// The split by phase, then by step.
    fn split(&self) -> String {
        let mut out = String::new();
        let total_cpu = self.cpu_median().as_secs_f64().max(f64::MIN_POSITIVE);
        out.push_str(
            "| phase | APDUs | bytes sent / received | our CPU ms median / p95 | share of median CPU | link ms (model) |\n\
             |---|---|---|---|---|---|\n",
        );
        for phase in Phase::ALL {
            let cpu = self.cpu(|s| s.phase(phase));
            let s0 = self.samples[0].phase(phase);
            let med = percentile(&cpu, 0.5);
            let _ = writeln!(
                out,
                "| {} | {} | {} / {} | {} / {} | {:.0} % | {} |",
                phase.name(),
                s0.apdus,
                s0.sent,
                s0.received,
                ms(med),
                ms(percentile(&cpu, 0.95)),
                100.0 * med.as_secs_f64() / total_cpu,
                ms(s0.link()),
            );
        }
        out.push_str("\nStep by step, in the order of the read:\n\n");
        out.push_str(
            "| step | APDUs | bytes sent / received | our CPU ms median / p95 | link ms (model) |\n\
             |---|---|---|---|---|\n",
        );
        for (i, (label, s0)) in self.samples[0].steps.iter().enumerate() {
            let cpu: Vec<Duration> = self.samples.iter().map(|s| s.steps[i].1.cpu).collect();
            let _ = writeln!(
                out,
                "| {label} | {} | {} / {} | {} / {} | {} |",
                s0.apdus,
                s0.sent,
                s0.received,
                ms(percentile(&cpu, 0.5)),
                ms(percentile(&cpu, 0.95)),
                ms(s0.link()),
            );
        }
        out
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into());
    format!(
        "{cpu}, {cores} cores ({}), load average {load} at the start",
        std::env::consts::ARCH
    )
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn now_utc() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_else(|_| "unknown date".into())
}

/// Replaces the card section of docs/benchmarks.md; the other sections stay as they are.
fn write_section(section: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let block = format!("{BEGIN}\n{section}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{block}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("{}\n\n{block}\n", old.trim_end()),
    };
    match std::fs::write(&path, new) {
        Ok(()) => eprintln!("card_read: wrote the card section of {}", path.display()),
        Err(e) => eprintln!("card_read: could not write {}: {e}", path.display()),
    }
}

fn main() {
    let started = now_utc();
    let machine = machine();
    let commit = commit();

    let mut extended = Bench::new(Faults::none());
    let mut short = Bench::new(Faults::none().with(Fault::NoExtendedLength));

    let cold_ext = Mode::run("extended length, first read", &mut extended, None);
    let learnt_ext = cold_ext.samples[0].profile;
    assert!(
        learnt_ext.uses_extended_length(),
        "the chip without faults must be read with extended length"
    );
    let warm_ext = Mode::run(
        "extended length, reader profile remembered",
        &mut extended,
        Some(learnt_ext),
    );
    let cold_short = Mode::run("`no-extended-length` fault, first read", &mut short, None);
    let learnt_short = cold_short.samples[0].profile;
    assert!(
        !learnt_short.uses_extended_length(),
        "the no-extended-length chip must be read in short chunks"
    );
    let warm_short = Mode::run(
        "`no-extended-length` fault, profile remembered",
        &mut short,
        Some(learnt_short),
    );
    let modes = [&cold_ext, &warm_ext, &cold_short, &warm_short];

    let mut s = String::new();
    let _ = writeln!(
        s,
        "### Card read (`cargo bench -p kiosk-tests --bench card_read`)\n\n\
         Run {started} on {machine}, commit {commit}, release profile. A full verified read of the \
         fictional sample citizen `{CITIZEN}` (DG2 {} bytes) from the in-process virtual chip: \
         PACE-CAN (ECDH-GM, brainpoolP256r1), DG13 first, EF.COM, the other files, Chip \
         Authentication (DG14), Active Authentication (DG15, ECDSA brainpoolP256r1), DG2 last, then \
         passive authentication against the test CSCA (brainpoolP512r1, explicit parameters). \
         {READS} reads per mode after {WARMUP} warm-up reads, each with a fresh `CardRead`; every \
         read passes every check.\n",
        cold_ext.samples[0].dg2_len
    );
    let _ = writeln!(
        s,
        "*Our CPU* is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) minus the CPU \
         time spent inside the virtual chip's `process` calls (timed in the counting transport), so \
         the chip's own crypto is excluded. *Model* is the wall time on a real contactless reader \
         estimated as {} ms per APDU + command and response bytes at {} kbit/s + our CPU. It does \
         not model ISO 14443 framing bytes or a real chip's own compute time beyond the per-APDU \
         cost (a real chip's EC operations in PACE, CA and AA can add tens of ms each). \
         *Name on screen* is the model time until DG13 has been read (PACE + DG13). The \
         in-process wall time includes the chip's work and the machine's other load; it is given \
         for reference only.\n",
        PER_APDU.as_millis(),
        BITS_PER_SECOND / 1000.0
    );

    s.push_str("#### Goals (issue 2)\n\n| goal | measured | |\n|---|---|---|\n");
    let _ = writeln!(
        s,
        "| ≤ {GOAL_APDUS_EXTENDED} APDUs per full read with extended length | {} (first read on a reader), {} (profile remembered) | {} |",
        cold_ext.apdus(),
        warm_ext.apdus(),
        met(cold_ext.apdus() <= GOAL_APDUS_EXTENDED && warm_ext.apdus() <= GOAL_APDUS_EXTENDED)
    );
    let _ = writeln!(
        s,
        "| ≤ {GOAL_APDUS_SHORT} APDUs per full read without extended length | {} (first read), {} (profile remembered) | {} |",
        cold_short.apdus(),
        warm_short.apdus(),
        met(cold_short.apdus() <= GOAL_APDUS_SHORT && warm_short.apdus() <= GOAL_APDUS_SHORT)
    );
    let name_worst = modes
        .iter()
        .map(|m| m.name_model_median())
        .max()
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "| name on screen (PACE + DG13) < {} ms under the model | median {} ms extended, {} ms without extended length (first reads) | {} |",
        GOAL_NAME_ON_SCREEN.as_millis(),
        ms(cold_ext.name_model_median()),
        ms(cold_short.name_model_median()),
        met(name_worst < GOAL_NAME_ON_SCREEN)
    );
    let cpu_worst = modes
        .iter()
        .map(|m| m.cpu_median())
        .max()
        .unwrap_or_default();
    let cpu_p95_worst = modes
        .iter()
        .map(|m| percentile(&m.cpu(Sample::total), 0.95))
        .max()
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "| our CPU per full read < {} ms (median) | median {} ms extended, {} ms without extended length (first reads); worst p95 of all modes {} ms | {} |\n",
        GOAL_CPU.as_millis(),
        ms(cold_ext.cpu_median()),
        ms(cold_short.cpu_median()),
        ms(cpu_p95_worst),
        met(cpu_worst < GOAL_CPU)
    );

    s.push_str(
        "#### Per mode\n\n\
         | mode | APDUs | bytes sent | bytes received | our CPU ms median / p95 | virtual chip CPU ms median (excluded) | in-process wall ms median | model: name on screen ms median / p95 | model: full read ms median / p95 |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for m in modes {
        s.push_str(&m.row());
    }
    s.push('\n');

    for m in [&cold_ext, &cold_short] {
        let _ = writeln!(s, "#### Where the time goes: {}\n\n{}", m.name, m.split());
    }

    print!("{s}");
    write_section(&s);
}
