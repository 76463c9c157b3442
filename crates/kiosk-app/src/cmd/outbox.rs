//! `kiosk outbox …`: the technician's view of the durable outbox (status, lists, retry, purge),
//! `enqueue` for scripted and crash tests, and `drain` to deliver to the gateway now.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use std::time::Duration;

use kiosk_outbox::{DrainMode, Outbox, RecordSummary, WorkerConfig};
use uuid::Uuid;

use crate::Global;

/// Longest JSON line `enqueue` reads (a registration is far smaller; the outbox caps bodies).
const MAX_LINE: usize = kiosk_outbox::MAX_BODY + 1;

#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: OutboxCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// Read registrations as JSON lines and store each durably; prints each idempotency key
    /// only once its record is on disk.
    Enqueue {
        /// File of JSON lines, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Depth, dead letters, receipts, oldest pending age and the last error.
    Status,
    /// Pending records in delivery order (no personal data).
    List,
    /// The dead-letter list with reasons.
    Dead,
    /// Move a dead letter back into the queue.
    Retry {
        /// Idempotency key of the dead letter.
        key: Uuid,
    },
    /// Deliver pending records to the gateway now (all are made due first).
    Drain {
        /// Keep going through retries until the queue is empty or the deadline passes.
        #[arg(long)]
        until_empty: bool,
        /// Deadline in seconds for --until-empty.
        #[arg(long, default_value_t = 300)]
        deadline_secs: u64,
    },
    /// Delete receipts of delivered records.
    PurgeDelivered {
        /// Keep receipts younger than this many days.
        #[arg(long, default_value_t = 0)]
        older_than_days: u32,
    },
}

pub fn run(global: &Global, args: OutboxArgs) -> anyhow::Result<()> {
    let outbox = open(&global.state_dir)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.command {
        OutboxCommand::Enqueue { file } => {
            let n = if file.as_os_str() == "-" {
                enqueue_lines(&outbox, std::io::stdin().lock(), &mut out, global.json)?
            } else {
                let f = std::fs::File::open(&file)
                    .with_context(|| format!("opening {}", file.display()))?;
                enqueue_lines(&outbox, std::io::BufReader::new(f), &mut out, global.json)?
            };
            eprintln!("{n} registration(s) stored");
        }
        OutboxCommand::Status => {
            let s = outbox.status()?;
            if global.json {
                writeln!(out, "{}", serde_json::to_string(&s)?)?;
            } else {
                writeln!(out, "pending:   {}", s.pending)?;
                writeln!(out, "dead:      {}", s.dead)?;
                writeln!(out, "delivered: {} (receipts kept)", s.delivered)?;
                match s.oldest_pending_age_ms {
                    Some(ms) => writeln!(out, "oldest:    {} s", ms / 1000)?,
                    None => writeln!(out, "oldest:    -")?,
                }
                match s.last_error {
                    Some(e) => writeln!(
                        out,
                        "last error: {} ({}, {})",
                        e.reason,
                        e.key,
                        format_ms(e.at_ms)
                    )?,
                    None => writeln!(out, "last error: -")?,
                }
            }
        }
        OutboxCommand::List => print_summaries(&mut out, &outbox.pending()?, global.json)?,
        OutboxCommand::Dead => print_summaries(&mut out, &outbox.dead()?, global.json)?,
        OutboxCommand::Retry { key } => {
            outbox.retry(key)?;
            writeln!(out, "{key} requeued")?;
        }
        OutboxCommand::Drain {
            until_empty,
            deadline_secs,
        } => {
            let (enrolment, settings) = crate::cmd::enrol::client_settings(&global.state_dir)?;
            let client = kiosk_api::GatewayClient::new(&settings).context("gateway client")?;
            let deliver = kiosk_outbox::gateway_delivery::GatewayDelivery::new(client);
            let mode = if until_empty {
                DrainMode::UntilEmpty {
                    deadline: Duration::from_secs(deadline_secs),
                }
            } else {
                DrainMode::OnePass
            };
            // A technician asking for a drain wants it now, not after the backoff.
            outbox.make_all_due()?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            eprintln!("draining to {} …", enrolment.gateway_url);
            let report = rt.block_on(kiosk_outbox::worker::drain(
                &outbox,
                &deliver,
                &WorkerConfig::default(),
                mode,
            ))?;
            if global.json {
                writeln!(out, "{}", serde_json::to_string(&report)?)?;
            } else {
                writeln!(
                    out,
                    "delivered {}, dead-lettered {}, retries scheduled {}, still pending {}",
                    report.delivered, report.dead, report.retries_scheduled, report.remaining
                )?;
            }
            if let Some(reason) = report.refused {
                bail!("the gateway and this kiosk refused each other: {reason}");
            }
            if until_empty && report.remaining > 0 {
                bail!(
                    "{} record(s) still pending at the deadline",
                    report.remaining
                );
            }
        }
        OutboxCommand::PurgeDelivered { older_than_days } => {
            let before = kiosk_outbox::outbox::now_ms()
                .saturating_sub(i64::from(older_than_days) * 86_400_000);
            let n = outbox.purge_delivered(before)?;
            writeln!(out, "{n} receipt(s) purged")?;
        }
    }
    Ok(())
}

pub(crate) fn open(state_dir: &Path) -> anyhow::Result<Outbox> {
    Outbox::open(state_dir).with_context(|| {
        format!(
            "opening the outbox under {} (is the kiosk service running? it holds the store)",
            state_dir.display()
        )
    })
}

/// The idempotency key of one registration line, after checking that the line is a valid v1
/// registration. The key is created once, upstream, and never here. Errors name the position
/// and the field, never the values (they are personal data).
pub(crate) fn registration_key(line: &str) -> anyhow::Result<Uuid> {
    let registration: kiosk_api::v1::Registration = serde_json::from_str(line).map_err(|e| {
        anyhow::anyhow!(
            "not a valid registration ({:?} error at column {})",
            e.classify(),
            e.column()
        )
    })?;
    registration.validate().context("invalid registration")?;
    Ok(registration.idempotency_key.as_uuid())
}

/// Stores each line durably and only then writes its key to `out` (flushed per line, so a
/// reader that sees a key knows the record survives a kill). Stops at the first bad line with
/// an error naming it; earlier lines stay stored.
pub(crate) fn enqueue_lines(
    outbox: &Outbox,
    mut input: impl BufRead,
    out: &mut impl Write,
    json: bool,
) -> anyhow::Result<usize> {
    let mut buf = Vec::new();
    let mut stored = 0;
    for lineno in 1.. {
        buf.clear();
        let n = std::io::Read::take(&mut input, MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading line {lineno}"))?;
        if n == 0 {
            break;
        }
        if buf.last() != Some(&b'\n') && n >= MAX_LINE {
            bail!("line {lineno}: longer than {} bytes", MAX_LINE - 1);
        }
        let line = std::str::from_utf8(&buf)
            .with_context(|| format!("line {lineno}: not UTF-8"))?
            .trim();
        if line.is_empty() {
            continue;
        }
        let key = registration_key(line).with_context(|| format!("line {lineno}"))?;
        outbox
            .enqueue(key, line)
            .with_context(|| format!("line {lineno}"))?;
        if json {
            writeln!(out, "{}", serde_json::json!({ "idempotency_key": key }))?;
        } else {
            writeln!(out, "{key}")?;
        }
        out.flush()?;
        stored += 1;
    }
    // The raw line held personal data.
    zeroize::Zeroize::zeroize(&mut buf);
    Ok(stored)
}

fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn print_summaries(out: &mut impl Write, list: &[RecordSummary], json: bool) -> anyhow::Result<()> {
    for r in list {
        if json {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        } else {
            let reason = r
                .dead_reason
                .as_deref()
                .or(r.last_error.as_deref())
                .unwrap_or("-");
            writeln!(
                out,
                "{}  created {}  attempts {}  {}  {}",
                r.key,
                format_ms(r.created_ms),
                r.attempts,
                r.provisional.as_deref().unwrap_or("-"),
                reason
            )?;
        }
    }
    if !json {
        eprintln!("{} record(s)", list.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn memory_outbox() -> Outbox {
        Outbox::with_store(
            Box::new(kiosk_outbox::store::MemoryStore::default()),
            kiosk_outbox::sealing::SealingKey::random(),
        )
    }

    proptest! {
        /// Arbitrary input never panics; whatever is stored was printed, and nothing else.
        #[test]
        fn arbitrary_input_never_panics_and_prints_only_stored_keys(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048)
        ) {
            let outbox = memory_outbox();
            let mut out = Vec::new();
            let _ = enqueue_lines(&outbox, bytes.as_slice(), &mut out, false);
            let printed: Vec<Uuid> = String::from_utf8(out).unwrap()
                .lines().map(|l| l.parse().unwrap()).collect();
            let stored: Vec<Uuid> = outbox.pending().unwrap().iter().map(|r| r.key).collect();
            prop_assert_eq!(printed, stored);
        }

        #[test]
        fn valid_lines_round_trip(n in 0usize..8) {
            let outbox = memory_outbox();
            let keys: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
            let input: String = keys.iter().map(|k| line(*k) + "\n").collect();
            let mut out = Vec::new();
            prop_assert_eq!(enqueue_lines(&outbox, input.as_bytes(), &mut out, false).unwrap(), n);
            let stored: Vec<Uuid> = outbox.pending().unwrap().iter().map(|r| r.key).collect();
            prop_assert_eq!(stored, keys);
        }
    }

    /// A valid sample registration with `key`.
    fn line(key: Uuid) -> String {
        let kiosk = kiosk_api::v1::KioskId::new("site1-k0001".to_owned()).unwrap();
        let mut r = kiosk_api::sample::clinic_registration(&kiosk, "NOI");
        r.idempotency_key = kiosk_api::v1::IdempotencyKey::from_uuid(key).unwrap();
        serde_json::to_string(&r).unwrap()
    }

    #[test]
    fn errors_never_echo_personal_data() {
        let (id, name) = {
            let f = kiosk_api::sample::chip_identity().fields;
            (f.id_number.clone(), f.full_name.clone())
        };
        // The ID number where a date belongs, the name where a number belongs.
        let bad = line(Uuid::now_v7())
            .replace("\"1989-03-14\"", &format!("\"{id}\""))
            .replace("\"DN4010123456789\"", &format!("{{\"x\":\"{name}\"}}"));
        let err = format!("{:#}", registration_key(&bad).unwrap_err());
        assert!(!err.contains(&id) && !err.contains(&name), "{err}");
        assert!(err.contains("column"), "{err}");
    }

    #[test]
    fn enqueue_prints_each_key_after_storing_it() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let keys: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let input: String = keys.iter().map(|k| line(*k) + "\n").collect();
        let mut out = Vec::new();
        let n = enqueue_lines(&outbox, input.as_bytes(), &mut out, false).unwrap();
        assert_eq!(n, 3);
        let printed: Vec<Uuid> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(printed, keys);
        let pending: Vec<Uuid> = outbox.pending().unwrap().iter().map(|r| r.key).collect();
        assert_eq!(pending, keys);
    }

    #[test]
    fn a_bad_line_is_named_and_earlier_lines_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let k = Uuid::now_v7();
        let input = format!("{}\n{{\"no_key\":1}}\n{}\n", line(k), line(Uuid::now_v7()));
        let mut out = Vec::new();
        let err = enqueue_lines(&outbox, input.as_bytes(), &mut out, true).unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
        assert_eq!(
            String::from_utf8(out).unwrap().trim(),
            format!(r#"{{"idempotency_key":"{k}"}}"#)
        );
        assert_eq!(outbox.status().unwrap().pending, 1);
    }

    #[test]
    fn an_overlong_line_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let input = vec![b'x'; MAX_LINE * 2];
        let err = enqueue_lines(&outbox, input.as_slice(), &mut Vec::new(), false).unwrap_err();
        assert!(format!("{err:#}").contains("longer than"), "{err:#}");
        assert_eq!(outbox.status().unwrap().pending, 0);
    }
}
