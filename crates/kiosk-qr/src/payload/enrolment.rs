//! The kiosk's enrolment QR, printed by the gateway and scanned by the technician to provision
//! a kiosk. Format (docs/qr.md explains the choice):
//!
//! ```text
//! kiosk-enrol:v1?gw=https%3A%2F%2Fgw.example%3A8443&tok=<16–128 base64url>&ca=<64 hex>&site=<id>&kind=clinic|one-stop
//! ```
//!
//! Each key exactly once, in any order; unknown keys, duplicate keys and other versions are
//! refused, so one text can only mean one thing. Only `gw` is percent-encoded; the other values
//! have alphabets that need no escaping.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Serialize;
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// The URI scheme that marks an enrolment QR.
pub const SCHEME: &str = "kiosk-enrol:";
const VERSION: &str = "v1";
const MAX_URI: usize = 1024;
const MAX_GATEWAY: usize = 256;

// Escape everything except what is unambiguous inside a query value.
const GW_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Which kind of site the kiosk serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KioskKind {
    #[serde(rename = "clinic")]
    Clinic,
    #[serde(rename = "one-stop")]
    OneStop,
}

impl KioskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KioskKind::Clinic => "clinic",
            KioskKind::OneStop => "one-stop",
        }
    }
}

/// A parsed enrolment QR. The one-time token is secret: `Debug` hides it, drop wipes it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Enrolment {
    gateway: String,
    token: String,
    #[serde(serialize_with = "hex_fingerprint")]
    ca_sha256: [u8; 32],
    site: String,
    kind: KioskKind,
}

fn hex_fingerprint<S: serde::Serializer>(
    fp: &[u8; 32],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&to_hex(fp))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("gateway", &self.gateway)
            .field("token", &"<redacted>")
            .field("ca_sha256", &to_hex(&self.ca_sha256))
            .field("site", &self.site)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Drop for Enrolment {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

fn value_err(key: &'static str, reason: &'static str) -> Error {
    Error::EnrolmentValue { key, reason }
}

fn check_gateway(gw: &str) -> Result<()> {
    let rest = gw
        .strip_prefix("https://")
        .ok_or(value_err("gw", "must be an https:// URL"))?;
    if gw.len() > MAX_GATEWAY {
        return Err(value_err("gw", "longer than 256 characters"));
    }
    if !gw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(value_err("gw", "contains spaces or non-ASCII characters"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') {
        return Err(value_err("gw", "has no host"));
    }
    if authority.contains('@') || gw.contains(['?', '#']) {
        return Err(value_err(
            "gw",
            "must not carry credentials, a query or a fragment",
        ));
    }
    Ok(())
}

fn check_token(tok: &str) -> Result<()> {
    if !(16..=128).contains(&tok.len()) {
        return Err(value_err("tok", "must be 16–128 characters"));
    }
    if !tok
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(value_err("tok", "must be base64url (A–Z a–z 0–9 - _)"));
    }
    Ok(())
}

fn check_site(site: &str) -> Result<()> {
    if site.is_empty() || site.len() > 64 {
        return Err(value_err("site", "must be 1–64 characters"));
    }
    if !site
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    {
        return Err(value_err(
            "site",
            "must be lowercase letters, digits, - _ .",
        ));
    }
    Ok(())
}

fn parse_fingerprint(hex: &str) -> Result<[u8; 32]> {
    if hex.len() != 64 {
        return Err(value_err("ca", "must be 64 hex digits (SHA-256)"));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = hex
            .get(2 * i..2 * i + 2)
            .ok_or(value_err("ca", "must be 64 hex digits (SHA-256)"))?;
        *byte = u8::from_str_radix(pair, 16)
            .map_err(|_| value_err("ca", "must be 64 hex digits (SHA-256)"))?;
    }
    Ok(out)
}

fn parse_kind(s: &str) -> Result<KioskKind> {
    match s {
        "clinic" => Ok(KioskKind::Clinic),
        "one-stop" => Ok(KioskKind::OneStop),
        _ => Err(value_err("kind", "must be `clinic` or `one-stop`")),
    }
}

/// Keeps a key from the QR printable and short enough for an error message.
fn printable_key(k: &str) -> String {
    k.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(32)
        .collect()
}

impl Enrolment {
    /// Builds an enrolment after checking every value as the parser would.
    pub fn new(
        gateway: &str,
        token: &str,
        ca_sha256: [u8; 32],
        site: &str,
        kind: KioskKind,
    ) -> Result<Self> {
        check_gateway(gateway)?;
        check_token(token)?;
        check_site(site)?;
        Ok(Self {
            gateway: gateway.to_owned(),
            token: token.to_owned(),
            ca_sha256,
            site: site.to_owned(),
            kind,
        })
    }

    /// Parses the QR text.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_URI {
            return Err(Error::PayloadTooLong {
                len: text.len(),
                max: MAX_URI,
            });
        }
        let rest = text.strip_prefix(SCHEME).ok_or(Error::EnrolmentScheme)?;
        let (version, query) = rest.split_once('?').unwrap_or((rest, ""));
        if version != VERSION {
            return Err(Error::EnrolmentVersion {
                found: printable_key(version),
            });
        }
        let (mut gw, mut tok, mut ca, mut site, mut kind) = (None, None, None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "gw" => &mut gw,
                "tok" => &mut tok,
                "ca" => &mut ca,
                "site" => &mut site,
                "kind" => &mut kind,
                _ => {
                    return Err(Error::EnrolmentUnknownKey {
                        key: printable_key(key),
                    });
                }
            };
            if slot.replace(value).is_some() {
                return Err(Error::EnrolmentDuplicate {
                    key: key.to_owned(),
                });
            }
        }
        let gw = gw.ok_or(Error::EnrolmentMissing { key: "gw" })?;
        let tok = tok.ok_or(Error::EnrolmentMissing { key: "tok" })?;
        let ca = ca.ok_or(Error::EnrolmentMissing { key: "ca" })?;
        let site = site.ok_or(Error::EnrolmentMissing { key: "site" })?;
        let kind = kind.ok_or(Error::EnrolmentMissing { key: "kind" })?;
        let gateway = percent_decode_str(gw)
            .decode_utf8()
            .map_err(|_| value_err("gw", "percent-escapes are not UTF-8"))?;
        Self::new(
            &gateway,
            tok,
            parse_fingerprint(&ca.to_ascii_lowercase())?,
            site,
            parse_kind(kind)?,
        )
    }

    /// The canonical QR text (keys in a fixed order, lowercase hex).
    pub fn to_uri(&self) -> String {
        format!(
            "{SCHEME}{VERSION}?gw={}&tok={}&ca={}&site={}&kind={}",
            utf8_percent_encode(&self.gateway, GW_ESCAPE),
            self.token,
            to_hex(&self.ca_sha256),
            self.site,
            self.kind.as_str()
        )
    }

    /// The QR image to print (black on white, 4-module quiet zone, `module_px` pixels per
    /// module; 8 gives a 6–7 cm code at 300 dpi).
    pub fn to_qr_image(&self, module_px: u32) -> Result<crate::frame::LumaFrame> {
        crate::synth::render_qr(self.to_uri().as_bytes(), module_px)
    }

    /// Base URL of the site gateway (https).
    pub fn gateway(&self) -> &str {
        &self.gateway
    }
    /// The one-time enrolment token (secret).
    pub fn token(&self) -> &str {
        &self.token
    }
    /// SHA-256 of the gateway CA certificate (DER), to pin on first contact.
    pub fn ca_sha256(&self) -> &[u8; 32] {
        &self.ca_sha256
    }
    pub fn site(&self) -> &str {
        &self.site
    }
    pub fn kind(&self) -> KioskKind {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Payload, classify};
    use proptest::prelude::*;

    const FP: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn uri(query: &str) -> String {
        format!("kiosk-enrol:v1?{query}")
    }

    fn good_query() -> String {
        format!(
            "gw=https%3A%2F%2Fgw.bv-hanoi.example%3A8443%2Fkiosk&tok=AbCdEfGh12345678_-xyz&ca={FP}&site=bv-dongda-01&kind=clinic"
        )
    }

    #[test]
    fn parses_and_round_trips() {
        let e = Enrolment::parse(&uri(&good_query())).unwrap();
        assert_eq!(e.gateway(), "https://gw.bv-hanoi.example:8443/kiosk");
        assert_eq!(e.token(), "AbCdEfGh12345678_-xyz");
        assert_eq!(e.ca_sha256()[0], 0x9f);
        assert_eq!(e.ca_sha256()[31], 0x08);
        assert_eq!(e.site(), "bv-dongda-01");
        assert_eq!(e.kind(), KioskKind::Clinic);
        assert_eq!(e.to_uri(), uri(&good_query()));
        assert!(matches!(
            classify(e.to_uri().as_bytes()).unwrap(),
            Payload::Enrolment(_)
        ));
    }

    #[test]
    fn debug_hides_token() {
        let e = Enrolment::parse(&uri(&good_query())).unwrap();
        assert!(!format!("{e:?}").contains("AbCdEfGh"));
    }

    fn err(text: &str) -> Error {
        Enrolment::parse(text).unwrap_err()
    }

    #[test]
    fn precise_errors() {
        assert!(
            matches!(err("kiosk-enrol:v2?x=1"), Error::EnrolmentVersion { found } if found == "v2")
        );
        let q = good_query();
        assert!(
            matches!(err(&uri(&format!("{q}&site=x"))), Error::EnrolmentDuplicate { key } if key == "site")
        );
        assert!(
            matches!(err(&uri(&format!("{q}&pin=1"))), Error::EnrolmentUnknownKey { key } if key == "pin")
        );
        let no_ca = q.replace(&format!("&ca={FP}"), "");
        assert!(matches!(
            err(&uri(&no_ca)),
            Error::EnrolmentMissing { key: "ca" }
        ));
        let http = q.replace("https%3A", "http%3A");
        assert!(matches!(
            err(&uri(&http)),
            Error::EnrolmentValue { key: "gw", .. }
        ));
        let short_fp = q.replace(FP, &FP[..62]);
        assert!(matches!(
            err(&uri(&short_fp)),
            Error::EnrolmentValue { key: "ca", .. }
        ));
        let bad_fp = q.replace(FP, &format!("zz{}", &FP[2..]));
        assert!(matches!(
            err(&uri(&bad_fp)),
            Error::EnrolmentValue { key: "ca", .. }
        ));
        let bad_kind = q.replace("kind=clinic", "kind=hospital");
        assert!(matches!(
            err(&uri(&bad_kind)),
            Error::EnrolmentValue { key: "kind", .. }
        ));
        let short_tok = q.replace("AbCdEfGh12345678_-xyz", "abc");
        assert!(matches!(
            err(&uri(&short_tok)),
            Error::EnrolmentValue { key: "tok", .. }
        ));
        let upper_site = q.replace("bv-dongda-01", "BV");
        assert!(matches!(
            err(&uri(&upper_site)),
            Error::EnrolmentValue { key: "site", .. }
        ));
        let creds = q.replace("gw.bv", "user%40gw.bv");
        assert!(matches!(
            err(&uri(&creds)),
            Error::EnrolmentValue { key: "gw", .. }
        ));
        assert!(matches!(
            err(&format!("kiosk-enrol:v1?{}", "a".repeat(2000))),
            Error::PayloadTooLong { .. }
        ));
    }

    proptest! {
        #[test]
        fn round_trip(
            host in "[a-z][a-z0-9-]{0,20}(\\.[a-z]{2,6}){1,2}",
            port in proptest::option::of(1u16..),
            path in "(/[a-zA-Z0-9_.~ -]{0,10}){0,3}",
            tok in "[A-Za-z0-9_-]{16,128}",
            fp in proptest::array::uniform32(any::<u8>()),
            site in "[a-z0-9._-]{1,64}",
            clinic in any::<bool>(),
        ) {
            let path = path.replace(' ', "%20");
            let gw = match port { Some(p) => format!("https://{host}:{p}{path}"), None => format!("https://{host}{path}") };
            let kind = if clinic { KioskKind::Clinic } else { KioskKind::OneStop };
            let e = Enrolment::new(&gw, &tok, fp, &site, kind).unwrap();
            let back = Enrolment::parse(&e.to_uri()).unwrap();
            prop_assert_eq!(&back, &e);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "kiosk-enrol:v1\\?[a-z=&%0-9A-F:/.]{0,300}") {
            let _ = Enrolment::parse(&text);
        }
    }
}
