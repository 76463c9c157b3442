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

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut rows: Vec<(String, Duration)> = Vec::new();
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
            let key =
                EcPrivateKey::generate(Curve::named(curve).unwrap(), form, &mut rng()).unwrap();
            let digest = hash.digest(msg);
            let sig = key
                .sign_prehash(&digest, SignatureFormat::Der, &mut rng())
                .unwrap();
            let spki = key.public_key().to_spki_der(form).unwrap();
            let public = PublicKey::from_spki_der(&spki).unwrap();
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
                median(30, || public.verify(&alg, msg, &sig).unwrap()),
            ));
            rows.push((
                format!("SPKI parse + checks, {curve} ({form_name})"),
                median(30, || {
                    PublicKey::from_spki_der(&spki).unwrap();
                }),
            ));
        }
    }

    for bits in [2048usize, 4096] {
        let private = rsa::PrivateKey::new(&mut rng(), bits).unwrap();
        let key = SigningKey::Rsa {
            key: Box::new(private),
            algorithm: SignatureAlgorithm::RsaPss {
                hash: HashAlgorithm::Sha256,
                salt_len: 32,
            },
        };
        let sig = key.sign(msg).unwrap();
        let public = PublicKey::from_spki_der(&key.spki_der().unwrap()).unwrap();
        let alg = key.algorithm();
        rows.push((
            format!("RSASSA-PSS verify, RSA-{bits}, SHA-256"),
            median(30, || public.verify(&alg, msg, &sig).unwrap()),
        ));
    }

    // A chain like Vietnam's: brainpoolP512r1 explicit CSCA, ecdsa-with-SHA512, DS on bp256.
    let now = SystemTime::now();
    let year = Duration::from_secs(365 * 24 * 3600);
    let ec = |curve, hash, form| SigningKey::Ec {
        key: Box::new(
            EcPrivateKey::generate(Curve::named(curve).unwrap(), form, &mut rng()).unwrap(),
        ),
        hash,
        form,
    };
    let csca_key = ec(
        NamedCurve::BrainpoolP512r1,
        HashAlgorithm::Sha512,
        ParametersForm::Explicit,
    );
    let csca_name = Name::from_str("CN=CSCA Bench,C=VN").unwrap();
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
    .unwrap();
    let ds_key = ec(
        NamedCurve::BrainpoolP256r1,
        HashAlgorithm::Sha256,
        ParametersForm::Named,
    );
    let ds = issue_certificate(
        &CertificateRequest {
            subject: Name::from_str("CN=DS Bench,C=VN").unwrap(),
            serial: vec![2],
            not_before: now - year,
            not_after: now + year,
            ca: false,
        },
        &ds_key,
        Some((&csca_name, &csca_key)),
    )
    .unwrap();
    rows.push((
        "DS chain check, brainpoolP512r1 explicit CSCA (parse + verify + validity)".into(),
        median(30, || {
            verify_ds_certificate(&ds, &csca, "bench", now, Some(now)).unwrap();
        }),
    ));

    let mut table = String::from("| operation | median ms |\n|---|---:|\n");
    for (name, d) in &rows {
        table.push_str(&format!("| {name} | {} |\n", ms(*d)));
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
    let section = format!(
        "{BEGIN}\n## kiosk-card: passive authentication (`cargo bench -p kiosk-card --bench pa`)\n\n\
         Measured at Unix time {secs} on {machine} ({cores} cores, shared with other builds, so \
         read the numbers as upper bounds); median of 30 runs, optimised build.\n\n{table}{END}\n"
    );
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!(
            "{}{}{}",
            &old[..b],
            section,
            &old[e + END.len()..].trim_start_matches('\n')
        ),
        _ => format!("{}\n{}", old.trim_end(), format!("\n{section}")),
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&path, new) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
