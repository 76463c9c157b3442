//! `kiosk enrol`: provisions this kiosk with its site gateway.
//!
//! The kiosk generates its own key (ECDSA P-256, written 0600 under `keys/`, never sent), sends a
//! CSR with the single-use token to `POST /v1/enrol` over TLS that trusts only a server whose
//! chain holds the CA with the given SHA-256 fingerprint, and stores the short-lived client
//! certificate, the CA to pin from then on, and the site settings under the state directory.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use kiosk_api::Timeouts;
use kiosk_api::v1::{EnrolRequest, EnrolResponse, SiteKind};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Global;

#[derive(Debug, clap::Args)]
pub struct EnrolArgs {
    /// Gateway base URL, e.g. `https://gateway.local:8443`.
    #[arg(long, required_unless_present = "qr", conflicts_with = "qr")]
    pub gateway: Option<String>,
    /// The single-use enrolment token from `kiosk-gateway token create`.
    #[arg(long, required_unless_present = "qr", conflicts_with = "qr")]
    pub token: Option<String>,
    /// SHA-256 fingerprint of the gateway CA certificate (64 hex digits, `:` allowed).
    #[arg(long, required_unless_present = "qr", conflicts_with = "qr")]
    pub ca_fingerprint: Option<String>,
    /// The enrolment QR instead: an image of it, or a text file with its `kiosk-enrol:` payload.
    #[arg(long)]
    pub qr: Option<PathBuf>,
    /// Free label for operators, e.g. "Sảnh A, máy 2".
    #[arg(long)]
    pub label: Option<String>,
    /// Replace an existing enrolment (a new key and certificate).
    #[arg(long)]
    pub force: bool,
}

/// Where enrolment keeps its files under the state directory.
#[derive(Debug, Clone)]
pub struct EnrolmentPaths {
    pub key: PathBuf,
    pub cert: PathBuf,
    pub ca: PathBuf,
    pub settings: PathBuf,
}

impl EnrolmentPaths {
    pub fn under(state_dir: &Path) -> Self {
        EnrolmentPaths {
            key: state_dir.join("keys").join("client.key"),
            cert: state_dir.join("certs").join("client.pem"),
            ca: state_dir.join("certs").join("ca.pem"),
            settings: state_dir.join("enrolment.json"),
        }
    }
}

/// What enrolment learnt about the site (`enrolment.json`; no secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    pub kiosk_id: String,
    pub gateway_url: String,
    pub site_id: String,
    pub site_kind: SiteKind,
    pub display_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub certificate_not_after: time::OffsetDateTime,
}

/// The three inputs of an enrolment, however they were given.
struct Inputs {
    gateway: String,
    token: Zeroizing<String>,
    ca_fingerprint: String,
}

impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("gateway", &self.gateway)
            .finish_non_exhaustive()
    }
}

/// Largest enrolment-QR file read (text payloads are < 1 KiB; images a few MB at most).
const MAX_QR_FILE: u64 = 16 * 1024 * 1024;

/// The enrolment QR payload (format owned by `kiosk_qr::enrolment`).
fn inputs_from_text(text: &str) -> anyhow::Result<Inputs> {
    let e = kiosk_qr::enrolment::Enrolment::parse(text.trim()).context("enrolment QR")?;
    Ok(Inputs {
        gateway: e.gateway().to_owned(),
        token: Zeroizing::new(e.token().to_owned()),
        ca_fingerprint: hex::encode(e.ca_sha256()),
    })
}

fn inputs_from_qr_file(path: &Path) -> anyhow::Result<Inputs> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > MAX_QR_FILE {
        bail!(
            "{}: {len} bytes is too large for an enrolment QR",
            path.display()
        );
    }
    let bytes =
        Zeroizing::new(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    if let Ok(text) = std::str::from_utf8(&bytes)
        && text.trim_start().starts_with(kiosk_qr::enrolment::SCHEME)
    {
        return inputs_from_text(text);
    }
    // Otherwise an image of the QR.
    let frame = kiosk_qr::source::load_luma(path).with_context(|| {
        format!(
            "{}: neither an enrolment payload nor an image",
            path.display()
        )
    })?;
    let mut scanner =
        kiosk_qr::Scanner::with_engine(kiosk_qr::Engine::default_for_build(), Default::default())?;
    let result = scanner.scan(&frame);
    for code in &result.codes {
        if let Ok(text) = std::str::from_utf8(&code.bytes)
            && let Ok(inputs) = inputs_from_text(text)
        {
            return Ok(inputs);
        }
    }
    bail!(
        "{}: no enrolment QR code found in the image",
        path.display()
    )
}

/// Writes `bytes` to `path` through a temporary file and a rename, with `mode`, fsynced.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().context("path without a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

/// Loads the enrolment written by `kiosk enrol` and builds the gateway client settings.
pub fn client_settings(state_dir: &Path) -> anyhow::Result<(Enrolment, kiosk_api::ClientSettings)> {
    let paths = EnrolmentPaths::under(state_dir);
    let read = |p: &Path| {
        std::fs::read_to_string(p).with_context(|| {
            format!(
                "reading {} (has this kiosk been enrolled? run `kiosk enrol`)",
                p.display()
            )
        })
    };
    let enrolment: Enrolment =
        serde_json::from_str(&read(&paths.settings)?).context("enrolment.json")?;
    let settings = kiosk_api::ClientSettings {
        base_url: enrolment.gateway_url.clone(),
        ca_pem: read(&paths.ca)?,
        cert_pem: read(&paths.cert)?,
        key_pem: Zeroizing::new(read(&paths.key)?),
        timeouts: Timeouts::default(),
    };
    Ok((enrolment, settings))
}

/// A new P-256 key and a CSR for it. The CSR's subject is left empty: the gateway decides it.
fn key_and_csr() -> anyhow::Result<(Zeroizing<String>, String)> {
    let key = rcgen::KeyPair::generate().context("generating the kiosk key")?;
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .context("CSR parameters")?
        .serialize_request(&key)
        .context("signing the CSR")?
        .pem()
        .context("encoding the CSR")?;
    Ok((Zeroizing::new(key.serialize_pem()), csr))
}

pub fn run(global: &Global, args: EnrolArgs) -> anyhow::Result<()> {
    let inputs = match (&args.qr, args.gateway, args.token, args.ca_fingerprint) {
        (Some(file), ..) => inputs_from_qr_file(file)?,
        (None, Some(gateway), Some(token), Some(ca_fingerprint)) => Inputs {
            gateway,
            token: Zeroizing::new(token),
            ca_fingerprint,
        },
        _ => bail!("give --gateway, --token and --ca-fingerprint, or --qr FILE"),
    };
    eprintln!("enrolling with {} …", inputs.gateway);
    let enrolment = enrol(&global.state_dir, inputs, args.label, args.force)?;
    if global.json {
        println!("{}", serde_json::to_string(&enrolment)?);
    } else {
        println!(
            "enrolled as {} at {} ({}), certificate valid until {}",
            enrolment.kiosk_id,
            enrolment.display_name,
            enrolment.gateway_url,
            enrolment.certificate_not_after
        );
    }
    Ok(())
}

/// Enrols from a parsed enrolment QR (the technician screen and the demo use this; the command
/// line uses [`run`]). `force` replaces an existing enrolment.
pub fn enrol_from_qr(
    state_dir: &Path,
    qr: &kiosk_qr::enrolment::Enrolment,
    label: Option<String>,
    force: bool,
) -> anyhow::Result<Enrolment> {
    let inputs = Inputs {
        gateway: qr.gateway().to_owned(),
        token: Zeroizing::new(qr.token().to_owned()),
        ca_fingerprint: hex::encode(qr.ca_sha256()),
    };
    enrol(state_dir, inputs, label, force)
}

/// The enrolment itself: key, CSR, `POST /v1/enrol` on a runtime of its own, files written in
/// an order that leaves no half-enrolled kiosk.
fn enrol(
    state_dir: &Path,
    inputs: Inputs,
    label: Option<String>,
    force: bool,
) -> anyhow::Result<Enrolment> {
    let paths = EnrolmentPaths::under(state_dir);
    if paths.settings.exists() && !force {
        bail!(
            "this kiosk is already enrolled ({}); use --force to enrol it again",
            paths.settings.display()
        );
    }
    // Check the pin before any key is made or the network is touched.
    kiosk_api::pin::parse_fingerprint(&inputs.ca_fingerprint).context("--ca-fingerprint")?;

    let (key_pem, csr_pem) = key_and_csr()?;
    let request = EnrolRequest {
        token: inputs.token.to_string(),
        csr_pem,
        label,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let answer: EnrolResponse = rt
        .block_on(kiosk_api::enrol(
            &inputs.gateway,
            &inputs.ca_fingerprint,
            &request,
            Timeouts::default(),
        ))
        .context("enrolment refused or failed")?;

    // Key first (0600), then the certificate that goes with it, then the settings that mark
    // the enrolment complete.
    write_atomically(&paths.key, key_pem.as_bytes(), 0o600)?;
    write_atomically(&paths.cert, answer.certificate_pem.as_bytes(), 0o644)?;
    write_atomically(&paths.ca, answer.ca_certificate_pem.as_bytes(), 0o644)?;
    let enrolment = Enrolment {
        kiosk_id: answer.kiosk_id.as_str().to_owned(),
        gateway_url: answer.config.gateway_url.clone(),
        site_id: answer.config.site_id.clone(),
        site_kind: answer.config.site_kind,
        display_name: answer.config.display_name.clone(),
        certificate_not_after: answer.certificate_not_after,
    };
    write_atomically(
        &paths.settings,
        serde_json::to_string_pretty(&enrolment)?.as_bytes(),
        0o644,
    )?;
    Ok(enrolment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn enrolment_uri_parses_and_other_text_is_refused() {
        let fp = "ab".repeat(32);
        let uri = format!(
            "kiosk-enrol:v1?gw=https%3A%2F%2Fgw.example%3A8443&tok=AAAAAAAAAAAAAAAAAAAA&ca={fp}&site=site1&kind=clinic"
        );
        let i = inputs_from_text(&uri).unwrap();
        assert_eq!(i.gateway, "https://gw.example:8443");
        assert_eq!(i.ca_fingerprint, fp);
        assert_eq!(&*i.token, "AAAAAAAAAAAAAAAAAAAA");
        assert!(inputs_from_text("not a payload").is_err());
    }

    #[test]
    fn csr_is_pem_and_key_file_is_written_0600() {
        let (key, csr) = key_and_csr().unwrap();
        assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        assert!(key.contains("PRIVATE KEY"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys/client.key");
        write_atomically(&p, key.as_bytes(), 0o600).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn args(url: &str, token: &str, fp: &str) -> EnrolArgs {
        EnrolArgs {
            gateway: Some(url.to_owned()),
            token: Some(token.to_owned()),
            ca_fingerprint: Some(fp.to_owned()),
            qr: None,
            label: Some("test".into()),
            force: false,
        }
    }

    /// The whole technician path against a real gateway in this process: enrol (flags, then
    /// the QR payload from a file), enqueue, drain, and the refusals along the way.
    #[test]
    fn enrol_enqueue_and_drain_against_a_real_gateway() {
        use kiosk_gateway::ops;
        let gw_dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("https://127.0.0.1:{port}");
        ops::init(
            gw_dir.path(),
            &ops::InitOptions {
                site_id: "site1".into(),
                kind: SiteKind::Clinic,
                public_url: url.clone(),
                server_names: vec!["127.0.0.1".into()],
            },
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let gw = rt
            .block_on(kiosk_gateway::start(
                gw_dir.path(),
                format!("127.0.0.1:{port}").parse().unwrap(),
            ))
            .unwrap();
        let fp = kiosk_gateway::pki::ca_fingerprint(gw_dir.path()).unwrap();
        let state = tempfile::tempdir().unwrap();
        let global = Global {
            state_dir: state.path().to_path_buf(),
            config: None,
            json: false,
        };

        // A wrong pin is refused and leaves nothing behind.
        let token = ops::create_token(gw_dir.path(), None, None).unwrap();
        let wrong = "00".repeat(32);
        assert!(run(&global, args(&url, &token.token, &wrong)).is_err());
        assert!(!EnrolmentPaths::under(state.path()).settings.exists());

        // The real pin works; the key stays local with mode 0600.
        run(&global, args(&url, &token.token, &fp)).unwrap();
        let paths = EnrolmentPaths::under(state.path());
        let mode = std::fs::metadata(&paths.key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (enrolment, _) = client_settings(state.path()).unwrap();
        assert_eq!(enrolment.gateway_url, url);
        assert_eq!(enrolment.site_id, "site1");

        // Enrolled already: refused without --force; the used token is refused with it.
        let again = run(&global, args(&url, &token.token, &fp)).unwrap_err();
        assert!(
            format!("{again:#}").contains("already enrolled"),
            "{again:#}"
        );
        let mut forced = args(&url, &token.token, &fp);
        forced.force = true;
        assert!(run(&global, forced).is_err());

        // --qr with the gateway's payload in a text file enrols again (new token).
        let token2 = ops::create_token(gw_dir.path(), None, None).unwrap();
        let qr_file = state.path().join("enrol-qr.txt");
        std::fs::write(&qr_file, token2.qr.to_payload()).unwrap();
        run(
            &global,
            EnrolArgs {
                gateway: None,
                token: None,
                ca_fingerprint: None,
                qr: Some(qr_file),
                label: None,
                force: true,
            },
        )
        .unwrap();
        let (enrolment1, _) = client_settings(state.path()).unwrap();
        assert_ne!(enrolment1.kiosk_id, enrolment.kiosk_id);

        // --qr with a photo of the QR (a rendered PNG) works the same way.
        let token3 = ops::create_token(gw_dir.path(), None, None).unwrap();
        let frame = kiosk_qr::synth::render_qr(token3.qr.to_payload().as_bytes(), 4).unwrap();
        let png = state.path().join("enrol-qr.png");
        kiosk_qr::source::save_png(&frame, &png).unwrap();
        run(
            &global,
            EnrolArgs {
                gateway: None,
                token: None,
                ca_fingerprint: None,
                qr: Some(png),
                label: None,
                force: true,
            },
        )
        .unwrap();
        let (enrolment2, _) = client_settings(state.path()).unwrap();
        assert_ne!(enrolment2.kiosk_id, enrolment1.kiosk_id);

        // Enqueue three registrations from this kiosk, then drain them to the gateway.
        let kiosk = kiosk_api::v1::KioskId::new(enrolment2.kiosk_id.clone()).unwrap();
        let input: String = (0..3)
            .map(|_| {
                serde_json::to_string(&kiosk_api::sample::clinic_registration(&kiosk, "NOI"))
                    .unwrap()
                    + "\n"
            })
            .collect();
        {
            let outbox = crate::cmd::outbox::open(state.path()).unwrap();
            let n = crate::cmd::outbox::enqueue_lines(
                &outbox,
                input.as_bytes(),
                &mut Vec::new(),
                false,
            )
            .unwrap();
            assert_eq!(n, 3);
        }
        crate::cmd::outbox::run(
            &global,
            crate::cmd::outbox::OutboxArgs {
                command: crate::cmd::outbox::OutboxCommand::Drain {
                    until_empty: true,
                    deadline_secs: 60,
                },
            },
        )
        .unwrap();
        assert_eq!(gw.state.store.registration_count().unwrap(), 3);
        let outbox = crate::cmd::outbox::open(state.path()).unwrap();
        let s = outbox.status().unwrap();
        assert_eq!((s.pending, s.delivered), (0, 3));
        drop(outbox);
        rt.block_on(gw.shutdown());
    }

    #[test]
    fn missing_enrolment_says_to_enrol() {
        let dir = tempfile::tempdir().unwrap();
        let err = client_settings(dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("kiosk enrol"), "{err:#}");
    }
}
