//! `kiosk-gateway`: the reference site backend and its operator commands.

mod bench;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use kiosk_api::redact::mask_id;
use kiosk_api::v1::SiteKind;
use kiosk_gateway::ops;

/// The site backend for CCCD kiosks.
#[derive(Debug, Parser)]
#[command(name = "kiosk-gateway", version, about)]
struct Cli {
    /// State directory: CA, keys, configuration, database.
    #[arg(
        long,
        global = true,
        env = "KIOSK_GATEWAY_DIR",
        default_value = "/var/lib/kiosk-gateway"
    )]
    dir: PathBuf,
    /// One JSON object per line, full values, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Clinic,
    OneStop,
}

impl From<Kind> for SiteKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Clinic => SiteKind::Clinic,
            Kind::OneStop => SiteKind::OneStop,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the CA, the server certificate, the data key and a sample gateway.toml.
    Init {
        #[arg(long)]
        site: String,
        #[arg(long, value_enum)]
        kind: Kind,
        /// URL kiosks use to reach this gateway.
        #[arg(long, default_value = "https://localhost:8443")]
        public_url: String,
        /// Host names / IPs for the server certificate (repeatable).
        #[arg(long = "name", default_values = ["localhost", "127.0.0.1", "::1"])]
        names: Vec<String>,
    },
    /// Serve the API over mutual TLS.
    Serve {
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: SocketAddr,
    },
    /// Enrolment tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Stored registrations.
    Registrations {
        #[command(subcommand)]
        command: RegistrationsCommand,
    },
    /// Enrolled kiosks.
    Kiosk {
        #[command(subcommand)]
        command: KioskCommand,
    },
    /// The local insurance table (adapter = "table"), for demos and tests.
    Insurance {
        #[command(subcommand)]
        command: InsuranceCommand,
    },
    /// Forwarding of clinic visits to the FHIR server.
    Fhir {
        #[command(subcommand)]
        command: FhirCommand,
    },
    /// Revoke a kiosk (same as `kiosk revoke`).
    Revoke { kiosk_id: String },
    /// Measure registrations per second over mTLS on loopback; writes docs/benchmarks.md.
    Bench(bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Print a single-use, short-lived enrolment token and its QR payload.
    Create {
        #[arg(long)]
        site: Option<String>,
        #[arg(long, value_enum)]
        kind: Option<Kind>,
    },
}

#[derive(Debug, Subcommand)]
enum InsuranceCommand {
    /// Add answers from JSON lines (`{"id_number": …, "status": "valid", "card_number": …,
    /// "registered_facility": …, "valid_from": …, "valid_to": …}`); stdin when FILE is `-` or
    /// absent. ID numbers never go on the command line, where shell history would keep them.
    Import { file: Option<PathBuf> },
}

#[derive(Debug, Subcommand)]
enum FhirCommand {
    /// Send again every clinic visit the FHIR server has not accepted.
    Retry,
}

#[derive(Debug, Subcommand)]
enum RegistrationsCommand {
    /// List registrations (no personal data unless --with-identity).
    List {
        /// RFC 3339 time; only registrations received since then.
        #[arg(long)]
        since: Option<String>,
        /// Include the decrypted registration (personal data) in each line.
        #[arg(long)]
        with_identity: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KioskCommand {
    /// List enrolled kiosks.
    List,
    /// Revoke a kiosk: all its certificates are refused from now on.
    Revoke { kiosk_id: String },
    /// Issue a kiosk key and certificate here (tests, demo, a kiosk without a camera): writes
    /// kiosk.pem, kiosk.key (0600) and ca.pem to --out and prints the kiosk id.
    Issue {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        label: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = cli.dir;
    match cli.command {
        Command::Init {
            site,
            kind,
            public_url,
            names,
        } => {
            ops::init(
                &dir,
                &ops::InitOptions {
                    site_id: site,
                    kind: kind.into(),
                    public_url,
                    server_names: names,
                },
            )?;
            let fp = kiosk_gateway::pki::ca_fingerprint(&dir)?;
            eprintln!("initialised {}; edit gateway.toml there", dir.display());
            println!("ca_sha256 {fp}");
        }
        Command::Serve { listen } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_writer(std::io::stderr)
                .init();
            let runtime = tokio::runtime::Runtime::new().context("start runtime")?;
            runtime.block_on(async {
                let gateway = kiosk_gateway::start(&dir, listen).await?;
                tracing::info!("listening on {}", gateway.addr);
                // The bound URL on stdout, so scripts and tests that pass port 0 can read it.
                println!("{}", gateway.url());
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                tracing::info!("shutting down");
                gateway.shutdown().await;
                anyhow::Ok(())
            })?;
        }
        Command::Token {
            command: TokenCommand::Create { site, kind },
        } => {
            let t = ops::create_token(&dir, site.as_deref(), kind.map(Into::into))?;
            let payload = t.qr.to_payload();
            let expires = t
                .expires_at
                .format(&time::format_description::well_known::Rfc3339)?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({"token": t.token, "expires_at": expires, "qr": payload})
                );
            } else {
                println!("token      {}", t.token);
                println!("expires_at {expires}");
                println!("qr         {payload}");
            }
        }
        Command::Registrations {
            command:
                RegistrationsCommand::List {
                    since,
                    with_identity,
                },
        } => {
            let since = since
                .map(|s| {
                    time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                        .with_context(|| format!("--since: `{s}` is not an RFC 3339 time"))
                })
                .transpose()?;
            for line in ops::list_registrations(&dir, since, with_identity)? {
                if cli.json {
                    println!("{}", serde_json::to_string(&line)?);
                } else {
                    let who = line
                        .registration
                        .as_ref()
                        .map(|r| format!(" {}", mask_id(&r.identity.fields.id_number)))
                        .unwrap_or_default();
                    println!(
                        "{}  {}  {:<14} {:<10} {}{}{}",
                        line.received_at,
                        line.key,
                        line.kind,
                        line.ticket,
                        line.kiosk,
                        line.provisional
                            .as_ref()
                            .map(|p| format!(" (provisional {p})"))
                            .unwrap_or_default(),
                        who
                    );
                }
            }
        }
        Command::Kiosk {
            command: KioskCommand::List,
        } => {
            for k in ops::list_kiosks(&dir)? {
                if cli.json {
                    println!("{}", serde_json::to_string(&k)?);
                } else {
                    println!(
                        "{:<24} {} cert {} until {}{}",
                        k.kiosk,
                        k.site,
                        k.certificate_serial,
                        k.certificate_not_after,
                        if k.revoked { "  REVOKED" } else { "" }
                    );
                }
            }
        }
        Command::Kiosk {
            command: KioskCommand::Issue { out, label },
        } => {
            let creds = ops::issue_kiosk_credentials(&dir, label.as_deref())?;
            std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
            std::fs::write(out.join("kiosk.pem"), &creds.cert_pem)?;
            std::fs::write(out.join("ca.pem"), &creds.ca_pem)?;
            kiosk_gateway::pki::write_secret(&out.join("kiosk.key"), &creds.key_pem)?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({"kiosk": creds.kiosk_id, "dir": out})
                );
            } else {
                println!("{}", creds.kiosk_id);
            }
        }
        Command::Kiosk {
            command: KioskCommand::Revoke { kiosk_id },
        }
        | Command::Revoke { kiosk_id } => {
            if !ops::revoke(&dir, &kiosk_id)? {
                anyhow::bail!("no kiosk {kiosk_id}");
            }
            eprintln!("revoked {kiosk_id}");
        }
        Command::Insurance {
            command: InsuranceCommand::Import { file },
        } => {
            let reader: Box<dyn std::io::BufRead> = match file {
                Some(path) if path.as_os_str() != "-" => Box::new(std::io::BufReader::new(
                    std::fs::File::open(&path)
                        .with_context(|| format!("open {}", path.display()))?,
                )),
                _ => Box::new(std::io::stdin().lock()),
            };
            let n = ops::import_insurance(&dir, reader)?;
            eprintln!("imported {n} insurance answers");
        }
        Command::Fhir {
            command: FhirCommand::Retry,
        } => {
            let runtime = tokio::runtime::Runtime::new().context("start runtime")?;
            let (ok, failed) = runtime.block_on(ops::retry_fhir(&dir))?;
            if cli.json {
                println!("{}", serde_json::json!({"forwarded": ok, "failed": failed}));
            } else {
                println!("forwarded {ok}, still failing {failed}");
            }
            if failed > 0 {
                anyhow::bail!("{failed} clinic visits could not be forwarded");
            }
        }
        Command::Bench(args) => bench::run(args)?,
    }
    Ok(())
}
