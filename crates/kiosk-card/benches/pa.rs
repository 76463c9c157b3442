//! Passive-authentication timings: signature verification per algorithm and curve, explicit
//! curve parameter parsing, and a whole DS-to-CSCA chain check. Prints a Markdown table and
//! replaces this benchmark's section of `docs/benchmarks.md`.
//!
//! Run with `cargo bench -p kiosk-card --bench pa` (optimised build).

use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

use kiosk_card::lds::sod::HashAlgorithm;
use kiosk_card::pa::chain::verify_ds_certificate;
use kiosk_card::pa::curves::NamedCurve;
use kiosk_card::pa::ecc::Curve;
use kiosk_card::pa::ecdsa::{EcPrivateKey, ParametersForm, SignatureFormat};
use kiosk_card::pa::issue::{CertificateRequest, SigningKey, issue_certificate};
use kiosk_card::pa::signature::{PublicKey, SignatureAlgorithm};
use x509_cert::name::Name;

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Median and minimum of `runs` timings of `f` (the minimum is the better estimate on a machine
/// shared with other work).
fn median(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f(); // warm-up
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[0])
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut rows: Vec<(String, (Duration, Duration))> = Vec::new();
    let msg = b"signed attributes of an EF.SOD";

    for (curve, hash) in [
        (NamedCurve::P256, HashAlgorithm::Sha256),
        (NamedCurve::BrainpoolP256r1, HashAlgorithm::Sha256),
        (NamedCurve::P384, HashAlgorithm::Sha384),
        (NamedCurve::BrainpoolP384r1, HashAlgorithm::Sha384),
        (NamedCurve::P521, HashAlgorithm::Sha512),
        (NamedCurve::BrainpoolP512r1, HashAlgorithm::Sha512),
    ] {
        for form in [ParametersForm::Named, ParametersForm::Explicit] {
            let key = EcPrivateKey::generate(
                Curve::named(curve).expect("benchmark step failed"),
                form,
                &mut rng(),
            )
            .expect("benchmark step failed");
            let digest = hash.digest(msg);
            let sig = key
                .sign_prehash(&digest, SignatureFormat::Der, &mut rng())
                .expect("benchmark step failed");
            let spki = key
                .public_key()
                .to_spki_der(form)
                .expect("benchmark step failed");
            let public = PublicKey::from_spki_der(&spki).expect("benchmark step failed");
            let alg = SignatureAlgorithm::Ecdsa {
                hash,
                format: SignatureFormat::Der,
            };
            let form_name = match form {
                ParametersForm::Named => "named",
                ParametersForm::Explicit => "explicit",
            };
            rows.push((
                format!("ECDSA verify, {curve} ({form_name}), {}", hash.name()),
                median(30, || {
                    public
                        .verify(&alg, msg, &sig)
                        .expect("benchmark step failed")
                }),
            ));
            rows.push((
                format!("SPKI parse + checks, {curve} ({form_name})"),
                median(30, || {
                    PublicKey::from_spki_der(&spki).expect("benchmark step failed");
                }),
            ));
        }
    }

    for bits in [2048usize, 4096] {
        let private = rsa::PrivateKey::new(&mut rng(), bits).expect("benchmark step failed");
        let key = SigningKey::Rsa {
            key: Box::new(private),
            algorithm: SignatureAlgorithm::RsaPss {
                hash: HashAlgorithm::Sha256,
                salt_len: 32,
            },
        };
        let sig = key.sign(msg).expect("benchmark step failed");
        let public = PublicKey::from_spki_der(&key.spki_der().expect("benchmark step failed"))
            .expect("benchmark step failed");
        let alg = key.algorithm();
        rows.push((
            format!("RSASSA-PSS verify, RSA-{bits}, SHA-256"),
            median(30, || {
                public
                    .verify(&alg, msg, &sig)
                    .expect("benchmark step failed")
            }),
        ));
    }

    // A chain like Vietnam's: brainpoolP512r1 explicit CSCA, ecdsa-with-SHA512, DS on bp256.
    let now = SystemTime::now();
    let year = Duration::from_secs(365 * 24 * 3600);
    let ec = |curve, hash, form| SigningKey::Ec {
        key: Box::new(
            EcPrivateKey::generate(
                Curve::named(curve).expect("benchmark step failed"),
                form,
                &mut rng(),
            )
            .expect("benchmark step failed"),
        ),
        hash,
        form,
    };
    let csca_key = ec(
        NamedCurve::BrainpoolP512r1,
        HashAlgorithm::Sha512,
        ParametersForm::Explicit,
    );
    let csca_name = Name::from_str("CN=CSCA Bench,C=VN").expect("benchmark step failed");
    let csca = issue_certificate(
        &CertificateRequest {
            subject: csca_name.clone(),
            serial: vec![1],
            not_before: now - year,
            not_after: now + year,
            ca: true,
        },
        &csca_key,
        None,
    )
    .expect("benchmark step failed");
    let ds_key = ec(
        NamedCurve::BrainpoolP256r1,
        HashAlgorithm::Sha256,
        ParametersForm::Named,
    );
    let ds = issue_certificate(
        &CertificateRequest {
            subject: Name::from_str("CN=DS Bench,C=VN").expect("benchmark step failed"),
            serial: vec![2],
            not_before: now - year,
            not_after: now + year,
            ca: false,
        },
        &ds_key,
        Some((&csca_name, &csca_key)),
    )
    .expect("benchmark step failed");
    rows.push((
        "DS chain check, brainpoolP512r1 explicit CSCA (parse + verify + validity)".into(),
        median(30, || {
            verify_ds_certificate(&ds, &csca, "bench", now, Some(now))
                .expect("benchmark step failed");
        }),
    ));

    let mut table = String::from("| operation | median ms | min ms |\n|---|---:|---:|\n");
    for (name, (med, min)) in &rows {
        table.push_str(&format!("| {name} | {} | {} |\n", ms(*med), ms(*min)));
    }
    print!("{table}");
    write_section(&table);
}

/// Replaces this benchmark's section of docs/benchmarks.md (other sections stay as they are).
fn write_section(table: &str) {
    const BEGIN: &str = "<!-- kiosk-card pa: begin -->";
    const END: &str = "<!-- kiosk-card pa: end -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let date = utc_date(secs);
    let section = format!(
        "{BEGIN}\n## kiosk-card: passive authentication (`cargo bench -p kiosk-card --bench pa`)\n\n\
         Measured {date} at commit {commit} on {machine} ({cores} cores, shared with other builds, so \
         read the numbers as upper bounds); median and minimum of 30 runs, optimised build.\n\n{table}{END}\n"
    );
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!(
            "{}{}{}",
            &old[..b],
            section,
            &old[e + END.len()..].trim_start_matches('\n')
        ),
        _ => format!("{}\n\n{section}", old.trim_end()),
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&path, new) {
        eprintln!("could not write {}: {e}", path.display());
    }
}

/// `YYYY-MM-DD HH:MM UTC` from Unix seconds (civil-from-days, proleptic Gregorian).
fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hh, mm) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}
