//! `kiosk card read`: read and verify one card, print the record and the verification report.

use std::io::IsTerminal;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use kiosk_card::access::{AccessProtocol, citizen_passwords};
use kiosk_card::cccd::{CitizenId, Date, MrzKeyInfo, mask_id};
use kiosk_card::lds::dg13::Dg13;
use kiosk_card::pa::trust::TrustStore;
use kiosk_card::protocol::Password;
use kiosk_card::read::{CardRead, CardReadResult, Progress, ReadOptions};
use kiosk_card::transport::pcsc::{PcscTransport, reader_status};
use serde::Serialize;

use super::card::ReadArgs;
use crate::Global;
use crate::output::Output;

pub fn run(global: &Global, out: &Output, args: ReadArgs) -> Result<()> {
    let passwords = passwords(&args)?;
    let trust = load_trust(global, args.trust.as_deref())?;
    let reader = match args.reader {
        Some(r) => r,
        None => reader_status()
            .context("asking pcscd for readers")?
            .into_iter()
            .find(|r| r.card_present)
            .map(|r| r.reader)
            .context(
                "no card in any reader: place the card on the reader (or name one with --reader)",
            )?,
    };
    let transport = PcscTransport::connect(&reader)
        .with_context(|| format!("connecting to the card in {reader}"))?;

    let show_progress = !out.json && std::io::stderr().is_terminal();
    let options = ReadOptions {
        photo: !args.no_photo,
        ..ReadOptions::default()
    };
    let mut read = CardRead::new(passwords, &trust, options);
    read.run(transport, &mut |p| {
        if show_progress {
            eprintln!("{}", describe_progress(&p));
        }
    })
    .with_context(|| format!("reading the card in {reader}"))?;
    let result = read.finish(SystemTime::now());

    if let (Some(path), Some(photo)) = (&args.photo, &result.record.photo) {
        std::fs::write(path, &photo.data)
            .with_context(|| format!("writing the photo to {}", path.display()))?;
    }
    let report = Report::new(&reader, &result);
    out.line(&report, || report.human(&result))?;
    if result.verification.any_failed() {
        bail!(
            "verification failed: {}",
            result
                .verification
                .unverified_reason()
                .unwrap_or_else(|| "chip or active authentication".into())
        );
    }
    Ok(())
}

fn passwords(args: &ReadArgs) -> Result<Vec<Password>> {
    if let Some(id) = &args.id {
        let id = CitizenId::parse(id).context("--id")?;
        let dates = match (&args.dob, &args.issued) {
            (Some(dob), Some(issued)) => Some((
                Date::parse_dmy(dob).context("--dob (DD/MM/YYYY)")?,
                Date::parse_dmy(issued).context("--issued (DD/MM/YYYY)")?,
            )),
            (None, None) => None,
            _ => bail!("--dob and --issued go together"),
        };
        return citizen_passwords(&id, dates).context("building the access keys");
    }
    if let Some(can) = &args.can {
        if can.len() != 6 || !can.bytes().all(|b| b.is_ascii_digit()) {
            bail!("--can must be 6 digits");
        }
        return Ok(vec![Password::can(can)]);
    }
    if let Some(mrz) = &args.mrz {
        let parts: Vec<&str> = mrz.split(',').collect();
        let [doc, dob, doe] = parts[..] else {
            bail!("--mrz must be DOCNO,YYMMDD,YYMMDD");
        };
        return Ok(vec![Password::Mrz(
            MrzKeyInfo::new(doc, dob, doe).context("--mrz")?,
        )]);
    }
    bail!("one of --id, --can or --mrz is required")
}

fn load_trust(global: &Global, path: Option<&std::path::Path>) -> Result<TrustStore> {
    let default = global.state_dir.join("trust");
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if default.exists() => default,
        None => {
            eprintln!(
                "warning: no CSCA trust store (--trust or {}): the chip cannot be verified",
                default.display()
            );
            return Ok(TrustStore::new());
        }
    };
    let store = TrustStore::load(&path)
        .with_context(|| format!("loading the trust store {}", path.display()))?;
    for skipped in store.skipped() {
        eprintln!(
            "warning: trust store: skipped {}: {}",
            skipped.source, skipped.reason
        );
    }
    Ok(store)
}

fn describe_progress(p: &Progress<'_>) -> String {
    match p {
        Progress::Opened { protocol } => {
            format!("opened the chip with {}", protocol_name(protocol))
        }
        Progress::FileRead { file, bytes, .. } => format!("read {} ({bytes} bytes)", file.name()),
        Progress::ChipAuthentication { check } => format!("chip authentication: {check}"),
        Progress::ActiveAuthentication { check } => format!("active authentication: {check}"),
        Progress::Reopening { reason } => {
            format!("the chip dropped the session ({reason}); re-opening")
        }
    }
}

fn protocol_name(p: &AccessProtocol) -> String {
    use kiosk_card::crypto::CipherAlg;
    use kiosk_card::crypto::ec::Curve;
    use kiosk_card::security_infos::PaceMapping;
    match p {
        AccessProtocol::Pace(info) => {
            let mut name = "PACE".to_owned();
            if let Some((mapping, cipher)) = info.suite() {
                name.push_str(match mapping {
                    PaceMapping::EcdhGeneric => " ECDH-GM",
                    PaceMapping::DhGeneric => " DH-GM",
                    PaceMapping::EcdhIntegrated => " ECDH-IM",
                    PaceMapping::DhIntegrated => " DH-IM",
                    PaceMapping::EcdhChipAuthentication => " ECDH-CAM",
                });
                if let Some(curve) = info.curve() {
                    name.push_str(match curve {
                        Curve::BrainpoolP256r1 => " brainpoolP256r1",
                        Curve::NistP256 => " P-256",
                    });
                }
                name.push_str(match cipher {
                    CipherAlg::Tdes => " 3DES",
                    CipherAlg::Aes128 => " AES-128",
                    CipherAlg::Aes192 => " AES-192",
                    CipherAlg::Aes256 => " AES-256",
                });
            }
            name
        }
        AccessProtocol::Bac => "BAC (3DES)".to_owned(),
    }
}

/// One JSON object per read, with full values (CONVENTIONS.md: `--json` is for scripts).
#[derive(Serialize)]
struct Report<'a> {
    reader: &'a str,
    protocol: Option<String>,
    assurance: String,
    citizen: Option<Citizen<'a>>,
    mrz: Option<Vec<String>>,
    photo: Option<Photo>,
    verification: &'a kiosk_card::verification::Verification,
}

#[derive(Serialize)]
struct Citizen<'a> {
    id_number: Option<&'a str>,
    full_name: Option<&'a str>,
    date_of_birth: Option<&'a str>,
    sex: Option<&'a str>,
    nationality: Option<&'a str>,
    ethnicity: Option<&'a str>,
    religion: Option<&'a str>,
    place_of_origin: Option<&'a str>,
    place_of_residence: Option<&'a str>,
    identifying_marks: Option<&'a str>,
    issue_date: Option<&'a str>,
    expiry_date: Option<&'a str>,
    father_name: Option<&'a str>,
    mother_name: Option<&'a str>,
    spouse_name: Option<&'a str>,
    old_id_number: Option<&'a str>,
}

impl<'a> Citizen<'a> {
    fn from_dg13(d: &'a Dg13) -> Self {
        Self {
            id_number: d.id_number.as_deref(),
            full_name: d.full_name.as_deref(),
            date_of_birth: d.date_of_birth.as_deref(),
            sex: d.sex.as_deref(),
            nationality: d.nationality.as_deref(),
            ethnicity: d.ethnicity.as_deref(),
            religion: d.religion.as_deref(),
            place_of_origin: d.place_of_origin.as_deref(),
            place_of_residence: d.place_of_residence.as_deref(),
            identifying_marks: d.identifying_marks.as_deref(),
            issue_date: d.issue_date.as_deref(),
            expiry_date: d.expiry_date.as_deref(),
            father_name: d.father_name.as_deref(),
            mother_name: d.mother_name.as_deref(),
            spouse_name: d.spouse_name.as_deref(),
            old_id_number: d.old_id_number.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Photo {
    image_type: String,
    width: u16,
    height: u16,
    bytes: usize,
}

impl<'a> Report<'a> {
    fn new(reader: &'a str, r: &'a CardReadResult) -> Self {
        let v = &r.verification;
        let assurance = if v.passive_authentication_passed() && !v.any_failed() {
            "chip-verified".to_owned()
        } else {
            format!(
                "chip-unverified ({})",
                v.unverified_reason()
                    .unwrap_or_else(|| "a chip check failed".into())
            )
        };
        Self {
            reader,
            protocol: r.protocol.as_ref().map(protocol_name),
            assurance,
            citizen: r.record.dg13.as_ref().map(Citizen::from_dg13),
            mrz: r.record.mrz.as_ref().and_then(|m| m.lines().ok()),
            photo: r.record.photo.as_ref().map(|p| Photo {
                image_type: format!("{:?}", p.image_type),
                width: p.width,
                height: p.height,
                bytes: p.data.len(),
            }),
            verification: v,
        }
    }

    /// The technician's view: everything but the ID number in clear (it is masked).
    fn human(&self, r: &CardReadResult) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: &str| s.push_str(&format!("{k:<22} {v}\n"));
        line("reader", self.reader);
        line("protocol", self.protocol.as_deref().unwrap_or("-"));
        if let Some(c) = &self.citizen {
            let opt = |v: Option<&str>| v.filter(|s| !s.is_empty()).unwrap_or("-").to_owned();
            line(
                "id_number",
                &c.id_number.map(mask_id).unwrap_or_else(|| "-".into()),
            );
            line("full_name", &opt(c.full_name));
            line("date_of_birth", &opt(c.date_of_birth));
            line("sex", &opt(c.sex));
            line("nationality", &opt(c.nationality));
            line("ethnicity", &opt(c.ethnicity));
            line("religion", &opt(c.religion));
            line("place_of_origin", &opt(c.place_of_origin));
            line("place_of_residence", &opt(c.place_of_residence));
            line("issue_date", &opt(c.issue_date));
            line("expiry_date", &opt(c.expiry_date));
            line("father_name", &opt(c.father_name));
            line("mother_name", &opt(c.mother_name));
            line("spouse_name", &opt(c.spouse_name));
            line(
                "old_id_number",
                &c.old_id_number.map(mask_id).unwrap_or_else(|| "-".into()),
            );
        }
        if let Some(p) = &self.photo {
            line(
                "photo",
                &format!(
                    "{} {}x{}, {} bytes",
                    p.image_type, p.width, p.height, p.bytes
                ),
            );
        }
        line(
            "mrz_matches_dg13",
            &match r.record.mrz_matches_dg13() {
                Some(true) => "yes".to_owned(),
                Some(false) => "NO".to_owned(),
                None => "-".to_owned(),
            },
        );
        s.push('\n');
        s.push_str(&r.verification.to_string());
        s.push_str(&format!("{:<22} {}", "assurance", self.assurance));
        s
    }
}
