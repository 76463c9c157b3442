//! The gateway's small certificate authority: its CA, its TLS server certificate, and the
//! short-lived client certificates it issues to kiosks from their CSRs. ECDSA P-256 throughout,
//! signed with `ring` through rcgen. Private keys are written 0600.

use std::fs;
use std::io::Write;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};

pub const CA_CERT: &str = "ca.pem";
pub const CA_KEY: &str = "ca.key";
pub const SERVER_CERT: &str = "server.pem";
pub const SERVER_KEY: &str = "server.key";

/// A certificate issued to a kiosk.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    pub pem: String,
    /// Serial, lower-case hex, as the TLS layer will report it.
    pub serial: String,
    pub not_after: OffsetDateTime,
}

/// Creates the CA and the server certificate under `dir`. Refuses to overwrite an existing CA,
/// so a second `init` can never invalidate every enrolled kiosk by accident.
pub fn init(dir: &Path, site_id: &str, server_names: &[String]) -> Result<()> {
    if dir.join(CA_KEY).exists() {
        return Err(Error::AlreadyInitialised(dir.display().to_string()));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("create state directory", e))?;

    let ca_key = KeyPair::generate().map_err(Error::cert)?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = name(&format!("kiosk-gateway CA {site_id}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.serial_number = Some(random_serial().0);
    let now = OffsetDateTime::now_utc();
    ca_params.not_before = now - Duration::hours(1);
    ca_params.not_after = now + Duration::days(3650);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(Error::cert)?;
    write_secret(&dir.join(CA_KEY), &ca_key.serialize_pem())?;
    write_public(&dir.join(CA_CERT), &ca_cert.pem())?;

    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().map_err(Error::cert)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(&format!("kiosk-gateway {site_id}"));
    params.subject_alt_names = server_names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(Error::cert),
        })
        .collect::<Result<_>>()?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.serial_number = Some(random_serial().0);
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(825);
    let server_cert = params
        .signed_by(&server_key, &issuer)
        .map_err(Error::cert)?;
    write_secret(&dir.join(SERVER_KEY), &server_key.serialize_pem())?;
    // Chain: leaf then CA, so a kiosk that knows only the CA's fingerprint can find it.
    write_public(
        &dir.join(SERVER_CERT),
        &format!("{}{}", server_cert.pem(), ca_cert.pem()),
    )?;
    Ok(())
}

/// The CA certificate (PEM).
pub fn ca_pem(dir: &Path) -> Result<String> {
    read(&dir.join(CA_CERT))
}

/// SHA-256 of the CA certificate (DER), lower-case hex: what the enrolment QR carries.
pub fn ca_fingerprint(dir: &Path) -> Result<String> {
    let pem = ca_pem(dir)?;
    let certs = kiosk_api::pin::certs_from_pem(&pem).map_err(|e| Error::Cert(e.to_string()))?;
    let first = certs
        .first()
        .ok_or_else(|| Error::Cert("CA file holds no certificate".into()))?;
    Ok(kiosk_api::pin::fingerprint(first.as_ref()))
}

/// Signs a kiosk's CSR. Only the public key is taken from the request; subject, validity and
/// usages are the gateway's choice, so a kiosk cannot ask for a CA or a server certificate.
pub fn issue_from_csr(
    dir: &Path,
    csr_pem: &str,
    kiosk_id: &str,
    lifetime: Duration,
) -> Result<IssuedCert> {
    let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)
        .map_err(|e| Error::BadCsr(e.to_string()))?;
    let (params, issued) = client_params(kiosk_id, lifetime);
    csr.params = params;
    let issuer = load_issuer(dir)?;
    let cert = csr.signed_by(&issuer).map_err(Error::cert)?;
    Ok(IssuedCert {
        pem: cert.pem(),
        ..issued
    })
}

/// Generates a key pair and a certificate for a kiosk in one step (tests, benchmarks and the demo,
/// where no separate device exists to hold the key). Returns the certificate and the key PEM.
pub fn issue_with_new_key(
    dir: &Path,
    kiosk_id: &str,
    lifetime: Duration,
) -> Result<(IssuedCert, String)> {
    let key = KeyPair::generate().map_err(Error::cert)?;
    let (params, issued) = client_params(kiosk_id, lifetime);
    let issuer = load_issuer(dir)?;
    let cert = params.signed_by(&key, &issuer).map_err(Error::cert)?;
    Ok((
        IssuedCert {
            pem: cert.pem(),
            ..issued
        },
        key.serialize_pem(),
    ))
}

fn client_params(kiosk_id: &str, lifetime: Duration) -> (CertificateParams, IssuedCert) {
    let (serial, serial_hex) = random_serial();
    let now = OffsetDateTime::now_utc();
    // Whole seconds: certificates carry no sub-second precision.
    let not_after = (now + lifetime)
        .replace_nanosecond(0)
        .unwrap_or(now + lifetime);
    let mut params = CertificateParams::default();
    params.distinguished_name = name(kiosk_id);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.serial_number = Some(serial);
    params.not_before = now - Duration::minutes(5);
    params.not_after = not_after;
    (
        params,
        IssuedCert {
            pem: String::new(),
            serial: serial_hex,
            not_after,
        },
    )
}

fn load_issuer(dir: &Path) -> Result<Issuer<'static, KeyPair>> {
    let key = KeyPair::from_pem(&read(&dir.join(CA_KEY))?).map_err(Error::cert)?;
    Issuer::from_ca_cert_pem(&read(&dir.join(CA_CERT))?, key).map_err(Error::cert)
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// 16 random bytes, positive and without a leading zero byte, so the DER encoding (and the hex
/// the TLS layer reports) is exactly these bytes.
fn random_serial() -> (SerialNumber, String) {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    (SerialNumber::from_slice(&bytes), hex::encode(bytes))
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io_path("read", path, e))
}

fn write_public(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| Error::io_path("write", path, e))
}

/// Writes a private key readable by the owner only (created with mode 0600, never widened).
pub fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io_path("create", path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io_path("write", path, e))
}
