//! Outbox benchmarks for `make bench-outbox`: durable enqueue latency (p50/p99), recovery (open +
//! full decrypt-and-check scan) of a large store, and drain throughput. Writes its table between
//! `<!-- outbox:begin -->` and `<!-- outbox:end -->` in the file given with `--write`.
//!
//! Usage: `outbox_bench [--write docs/benchmarks.md] [--enqueues N] [--records N] [--drain N]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kiosk_outbox::{DrainMode, Outbox, WorkerConfig};
use kiosk_tests::outbox_bench_support::{DrainTarget, drain_target};
use kiosk_tests::outbox_rig::{offline_kiosk, registration_line};
use uuid::Uuid;

struct Args {
    write: Option<PathBuf>,
    enqueues: usize,
    records: usize,
    drain: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        write: None,
        enqueues: 2000,
        records: 100_000,
        drain: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--write" => a.write = Some(PathBuf::from(value()?)),
            "--enqueues" => a.enqueues = value()?.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--records" => a.records = value()?.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--drain" => a.drain = value()?.parse().map_err(|e| format!("{flag}: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn du(dir: &Path) -> u64 {
    kiosk_tests::outbox_rig::files_under(dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = parse_args()?;
    let mut rows: Vec<String> = Vec::new();
    let kiosk = offline_kiosk()?;

    // 1. Durable enqueue latency: one registration per commit, each flushed and fsynced.
    let dir = tempfile::tempdir()?;
    let outbox = Outbox::open(dir.path())?;
    let mut lat = Vec::with_capacity(args.enqueues);
    for _ in 0..args.enqueues {
        let (key, line) = registration_line(&kiosk);
        let t = Instant::now();
        outbox.enqueue(key, &line)?;
        lat.push(t.elapsed());
    }
    lat.sort();
    eprintln!(
        "enqueue: p50 {} p99 {} max {}",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&lat, 1.0))
    );
    rows.push(format!(
        "| durable enqueue latency ({} records, flush + fsync each) | p50 {}, p99 {}, max {} | p99 < 20 ms |",
        args.enqueues,
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&lat, 1.0))
    ));
    drop(outbox);
    drop(dir);

    // 2. Drain throughput to the gateway (see `outbox_bench_support` for what it talks to).
    if args.drain > 0 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let target: DrainTarget = rt.block_on(drain_target())?;
        let dir = tempfile::tempdir()?;
        let outbox = Outbox::open(dir.path())?;
        let lines: Vec<(Uuid, String)> = (0..args.drain)
            .map(|_| registration_line(target.kiosk()))
            .collect();
        for chunk in lines.chunks(1000) {
            let batch: Vec<(Uuid, &str)> = chunk.iter().map(|(k, l)| (*k, l.as_str())).collect();
            outbox.enqueue_batch(&batch)?;
        }
        let t = Instant::now();
        let report = rt.block_on(target.drain(
            &outbox,
            &WorkerConfig::default(),
            DrainMode::UntilEmpty {
                deadline: Duration::from_secs(600),
            },
        ))?;
        let took = t.elapsed();
        let stored = target.stored()?;
        eprintln!(
            "drain: {} delivered in {:.2} s, gateway stored {stored}",
            report.delivered,
            took.as_secs_f64()
        );
        rows.push(format!(
            "| drain of {} queued registrations to {} (one at a time, FIFO) | {:.2} s ({:.0}/s), {} left, gateway stored {} | < 20 s |",
            args.drain,
            target.describe(),
            took.as_secs_f64(),
            report.delivered as f64 / took.as_secs_f64().max(1e-9),
            report.remaining,
            stored
        ));
        rt.block_on(target.shutdown());
    }

    // 3. Recovery: open + full scan (every value decrypted, parsed and index-checked).
    if args.records > 0 {
        let dir = tempfile::tempdir()?;
        {
            let outbox = Outbox::open(dir.path())?;
            let lines: Vec<(Uuid, String)> = (0..1000).map(|_| registration_line(&kiosk)).collect();
            let mut written = 0;
            while written < args.records {
                let n = (args.records - written).min(1000);
                // Fresh keys per chunk; bodies reused (their size is what matters here).
                let batch: Vec<(Uuid, &str)> = lines[..n]
                    .iter()
                    .map(|(_, l)| (Uuid::now_v7(), l.as_str()))
                    .collect();
                outbox.enqueue_batch(&batch)?;
                written += n;
            }
        }
        let size = du(dir.path());
        let t = Instant::now();
        let outbox = Outbox::open(dir.path())?;
        let opened = t.elapsed();
        let report = outbox.check()?;
        let status = outbox.status()?;
        let total = t.elapsed();
        eprintln!(
            "recovery: open {} + scan = {} for {} records ({} MB)",
            ms(opened),
            ms(total),
            report.pending,
            size / 1_000_000
        );
        rows.push(format!(
            "| recovery of a store with {} records ({} MB on disk): open, then decrypt and check every record | open {}, open + scan {} ({} pending) | < 2 s |",
            report.pending,
            size / 1_000_000,
            ms(opened),
            ms(total),
            status.pending
        ));
    }

    let table = format!(
        "### Outbox (kiosk-outbox)\n\n{}\n\n| measurement | result | goal |\n|---|---|---|\n{}\n\n\
         Crash safety (SIGKILL at random moments) runs in `make bench` with \
         `KIOSK_CRASH_ROUNDS=200`; see the test output for kills and keys.\n",
        machine_line(),
        rows.join("\n")
    );
    println!("{table}");
    if let Some(path) = args.write {
        write_section(&path, &table)?;
        eprintln!("wrote the outbox section of {}", path.display());
    }
    Ok(())
}

fn machine_line() -> String {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    // The machine is shared: the load average says how much the numbers can be trusted.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!(
        "Run {date} on {cpu} ({cpus} CPUs, load average {load} at the end), commit {commit}, release build."
    )
}

/// Replaces the text between the outbox markers, or appends the section if they are missing.
fn write_section(path: &Path, table: &str) -> std::io::Result<()> {
    const BEGIN: &str = "<!-- outbox:begin -->";
    const END: &str = "<!-- outbox:end -->";
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let section = format!("{BEGIN}\n{table}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{}{}", &old[..b], section, &old[e + END.len()..]),
        _ => format!("{}\n{}\n", old.trim_end(), section),
    };
    std::fs::write(path, new)
}
