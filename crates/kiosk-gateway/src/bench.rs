//! `kiosk-gateway bench`: registrations per second over mutual TLS on loopback, with several
//! simulated kiosks submitting at once; the table goes between the gateway markers of
//! `docs/benchmarks.md`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use kiosk_api::v1::{KioskId, SiteKind};
use kiosk_api::{ClientSettings, GatewayClient, Timeouts};
use kiosk_gateway::ops;
use zeroize::Zeroizing;

const BEGIN: &str = "<!-- gateway:begin -->";
const END: &str = "<!-- gateway:end -->";

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Registrations to submit in total.
    #[arg(long, default_value_t = 4000)]
    registrations: usize,
    /// Simulated kiosks (each with its own certificate and connection pool).
    #[arg(long, default_value_t = 8)]
    kiosks: usize,
    /// Requests in flight per kiosk.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// File to update; the section between the gateway markers is replaced.
    #[arg(long, default_value = "docs/benchmarks.md")]
    output: PathBuf,
}

struct Measured {
    total: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.registrations > 0 && args.kiosks > 0 && args.concurrency > 0,
        "--registrations, --kiosks and --concurrency must be positive"
    );
    let tmp = tempfile::tempdir().context("temporary state directory")?;
    let dir = tmp.path().to_path_buf();
    ops::init(
        &dir,
        &ops::InitOptions {
            site_id: "bench".into(),
            kind: SiteKind::Clinic,
            public_url: "https://127.0.0.1:8443".into(),
            server_names: vec!["127.0.0.1".into()],
        },
    )?;
    let runtime = tokio::runtime::Runtime::new()?;
    let measured = runtime.block_on(measure(&dir, &args))?;
    let table = render(&args, &measured);
    eprint!("{table}");
    write_section(&args.output, &table)?;
    eprintln!("updated {}", args.output.display());
    Ok(())
}

async fn measure(dir: &std::path::Path, args: &BenchArgs) -> anyhow::Result<Measured> {
    let gateway = kiosk_gateway::start(dir, "127.0.0.1:0".parse()?).await?;
    let mut clients = Vec::new();
    for i in 0..args.kiosks {
        let creds = ops::issue_kiosk_credentials(dir, Some(&format!("bench {i}")))?;
        let client = GatewayClient::new(&ClientSettings {
            base_url: gateway.url(),
            ca_pem: creds.ca_pem.clone(),
            cert_pem: creds.cert_pem.clone(),
            key_pem: Zeroizing::new(creds.key_pem.clone()),
            timeouts: Timeouts::default(),
        })?;
        clients.push((client, KioskId::new(creds.kiosk_id)?));
    }
    let per_worker = args.registrations.div_ceil(args.kiosks * args.concurrency);
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(args.registrations));
    let departments = ["NOI", "NHI"];
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (client, kiosk_id) in &clients {
        for w in 0..args.concurrency {
            let client = client.clone();
            let kiosk_id = kiosk_id.clone();
            let remaining = Arc::clone(&remaining);
            let dept = departments[w % departments.len()];
            tasks.spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                while remaining
                    .fetch_update(
                        std::sync::atomic::Ordering::SeqCst,
                        std::sync::atomic::Ordering::SeqCst,
                        |n| n.checked_sub(1),
                    )
                    .is_ok()
                {
                    let reg = kiosk_api::sample::clinic_registration(&kiosk_id, dept);
                    let t = Instant::now();
                    client.submit_registration(&reg).await?;
                    latencies.push(t.elapsed());
                }
                anyhow::Ok(latencies)
            });
        }
    }
    let mut latencies = Vec::with_capacity(args.registrations);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    let elapsed = started.elapsed();
    let stored = gateway.state.store.registration_count()?;
    gateway.shutdown().await;
    anyhow::ensure!(
        stored as usize == latencies.len(),
        "stored {stored} registrations but {} were answered",
        latencies.len()
    );
    latencies.sort();
    Ok(Measured {
        total: latencies.len(),
        elapsed,
        latencies,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn render(args: &BenchArgs, m: &Measured) -> String {
    let rate = m.total as f64 / m.elapsed.as_secs_f64();
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let now = time::OffsetDateTime::now_utc();
    let date = now
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    // The machine may be shared (CI, other builds): say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!(
        "### Gateway registrations per second (mTLS, loopback)\n\n\
         `kiosk-gateway bench` on {date}, {cores} cores (load average {load} at the end), \
         commit {commit}, {profile} build. \
         {kiosks} simulated kiosks × {conc} requests in flight, each a clinic registration \
         with chip data, validated, sealed (ChaCha20-Poly1305), numbered and committed to SQLite \
         (WAL, synchronous=FULL) before the answer.\n\n\
         | registrations | wall time | registrations/s | latency p50 | p99 | max |\n\
         |---:|---:|---:|---:|---:|---:|\n\
         | {total} | {wall:.2} s | {rate:.0} | {p50} ms | {p99} ms | {max} ms |\n",
        kiosks = args.kiosks,
        conc = args.concurrency,
        total = m.total,
        wall = m.elapsed.as_secs_f64(),
        p50 = ms(percentile(&m.latencies, 0.5)),
        p99 = ms(percentile(&m.latencies, 0.99)),
        max = ms(m.latencies.last().copied().unwrap_or_default()),
    )
}

/// Replaces the text between the gateway markers, appending the section when absent.
fn write_section(path: &std::path::Path, body: &str) -> anyhow::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmarks\n".to_string(),
        Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
    };
    let section = format!("{BEGIN}\n{body}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{section}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("{}\n{section}\n", old.trim_end()),
    };
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, new).with_context(|| format!("write {}", path.display()))
}
