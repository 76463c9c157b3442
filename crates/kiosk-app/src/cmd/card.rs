//! `kiosk card readers|watch|read`: what a technician uses to check the reader and a card.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Subcommand;
use kiosk_card::transport::monitor::{ReaderEvent, ReaderMonitor};
use kiosk_card::transport::pcsc;
use serde::Serialize;

use crate::Global;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// List the readers pcscd knows and whether each holds a card.
    Readers,
    /// Print reader and card events as they happen (Ctrl-C ends).
    Watch {
        /// Stop after this many events.
        #[arg(long)]
        events: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// Read and verify the card: PACE (or BAC), DG13 first, CA, AA, passive authentication.
    Read(ReadArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["id", "can", "mrz"])))]
pub struct ReadArgs {
    /// The reader to use (default: the first reader holding a card).
    #[arg(long)]
    pub reader: Option<String>,
    /// The 12-digit ID number: PACE with its last 6 digits as CAN (with --dob and --issued also
    /// BAC keys for every legal expiry date).
    #[arg(long)]
    pub id: Option<String>,
    /// Date of birth DD/MM/YYYY, with --id, for the BAC fallback.
    #[arg(long, requires = "id")]
    pub dob: Option<String>,
    /// Issue date DD/MM/YYYY, with --id, for the BAC fallback.
    #[arg(long, requires = "id")]
    pub issued: Option<String>,
    /// The 6-digit CAN.
    #[arg(long)]
    pub can: Option<String>,
    /// MRZ key: DOCNO,YYMMDD(birth),YYMMDD(expiry).
    #[arg(long)]
    pub mrz: Option<String>,
    /// CSCA trust store: a folder of PEM/DER certificates and ICAO master lists, or one file
    /// (default: `trust/` in the state directory, if present).
    #[arg(long)]
    pub trust: Option<std::path::PathBuf>,
    /// Write the photo (JPEG) to this file. It is personal data: delete it after use.
    #[arg(long)]
    pub photo: Option<std::path::PathBuf>,
    /// Skip the photo (faster).
    #[arg(long)]
    pub no_photo: bool,
}

pub fn run(global: &Global, cmd: CardCommand) -> Result<()> {
    let out = Output::new(global.json);
    match cmd {
        CardCommand::Readers => readers(&out),
        CardCommand::Watch { events, timeout } => {
            watch(&out, events, timeout.map(Duration::from_secs))
        }
        CardCommand::Read(args) => crate::cmd::card_read::run(global, &out, args),
    }
}

#[derive(Serialize)]
struct ReaderLine {
    reader: String,
    card_present: bool,
    atr: Option<String>,
}

fn readers(out: &Output) -> Result<()> {
    let readers = pcsc::reader_status().context("asking pcscd for readers")?;
    if readers.is_empty() && !out.json {
        eprintln!("no reader found (is the reader plugged in and pcscd running?)");
    }
    for r in readers {
        let atr = r.card_present.then(|| hex::encode_upper(&r.atr));
        let line = ReaderLine {
            reader: r.reader,
            card_present: r.card_present,
            atr,
        };
        out.line(&line, || {
            let card = match &line.atr {
                Some(atr) => format!("card present, ATR {atr}"),
                None => "no card".to_owned(),
            };
            format!("{}\t{card}", line.reader)
        })?;
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum EventLine {
    ReaderAttached { reader: String },
    ReaderDetached { reader: String },
    CardInserted { reader: String, atr: String },
    CardRemoved { reader: String },
    ServiceUnavailable { reason: String },
    ServiceRestored,
}

impl From<ReaderEvent> for EventLine {
    fn from(e: ReaderEvent) -> Self {
        match e {
            ReaderEvent::ReaderAttached { reader } => Self::ReaderAttached { reader },
            ReaderEvent::ReaderDetached { reader } => Self::ReaderDetached { reader },
            ReaderEvent::CardInserted { reader, atr } => Self::CardInserted {
                reader,
                atr: hex::encode_upper(atr),
            },
            ReaderEvent::CardRemoved { reader } => Self::CardRemoved { reader },
            ReaderEvent::ServiceUnavailable { reason } => Self::ServiceUnavailable { reason },
            ReaderEvent::ServiceRestored => Self::ServiceRestored,
        }
    }
}

impl EventLine {
    fn human(&self) -> String {
        match self {
            Self::ReaderAttached { reader } => format!("reader attached: {reader}"),
            Self::ReaderDetached { reader } => format!("reader detached: {reader}"),
            Self::CardInserted { reader, atr } => format!("card inserted:   {reader} (ATR {atr})"),
            Self::CardRemoved { reader } => format!("card removed:    {reader}"),
            Self::ServiceUnavailable { reason } => {
                format!("pcscd unavailable: {reason} (retrying)")
            }
            Self::ServiceRestored => "pcscd available again".to_owned(),
        }
    }
}

fn watch(out: &Output, max_events: Option<usize>, timeout: Option<Duration>) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    let monitor = ReaderMonitor::spawn(tx)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut seen = 0usize;
    while max_events.is_none_or(|m| seen < m) {
        let event = match deadline {
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(e) => e,
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
            None => match rx.recv() {
                Ok(e) => e,
                Err(_) => break,
            },
        };
        let line = EventLine::from(event);
        out.line(&line, || line.human())?;
        seen += 1;
    }
    monitor.stop();
    Ok(())
}
