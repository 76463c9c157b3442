//! What a QR code said, classified: the card QR, the kiosk's enrolment QR, dossier and
//! appointment codes, and anything else as an opaque token for the backend.
//!
//! Order of recognition (each kind has a prefix or shape the others cannot have, so the order
//! only decides which error a near-miss gets): enrolment (`kiosk-enrol:`), card QR (a 12-digit
//! first field followed by `|`), dossier code, appointment code, opaque token.

pub mod card;
pub mod codes;
pub mod enrolment;

use serde::Serialize;

pub use card::{CardQr, Sex};
pub use codes::{AppointmentCode, DossierCode};
pub use enrolment::{Enrolment, KioskKind};

use crate::error::{Error, Result};

/// Longest payload accepted at all (a version-40 QR holds at most 2 953 bytes).
pub const MAX_PAYLOAD: usize = 3000;
/// Longest opaque token passed to the backend.
pub const MAX_TOKEN: usize = 2048;

/// A classified QR payload.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// The 7-field (or longer) card QR, also shown by VNeID.
    Card(CardQr),
    /// The kiosk's own provisioning QR.
    Enrolment(Enrolment),
    /// A one-stop dossier receipt code.
    Dossier(DossierCode),
    /// A clinic appointment code.
    Appointment(AppointmentCode),
    /// Anything else (e.g. a VNeID verification code): passed to the backend untouched, never
    /// trusted locally.
    Opaque(OpaqueToken),
}

impl Payload {
    /// The kind as a stable snake_case word (CLI and JSON output).
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Card(_) => "card",
            Payload::Enrolment(_) => "enrolment",
            Payload::Dossier(_) => "dossier",
            Payload::Appointment(_) => "appointment",
            Payload::Opaque(_) => "opaque",
        }
    }
}

/// A payload the kiosk does not interpret, bounded in size.
#[derive(Clone, Serialize)]
pub struct OpaqueToken {
    text: String,
}

impl OpaqueToken {
    /// The token text, for the backend.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpaqueToken({} bytes)", self.text.len())
    }
}

impl Drop for OpaqueToken {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}

/// Decodes raw QR bytes as UTF-8 (never another encoding) within the size cap.
pub fn text_of(bytes: &[u8]) -> Result<&str> {
    if bytes.is_empty() {
        return Err(Error::EmptyPayload);
    }
    if bytes.len() > MAX_PAYLOAD {
        return Err(Error::PayloadTooLong {
            len: bytes.len(),
            max: MAX_PAYLOAD,
        });
    }
    std::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })
}

/// Classifies and parses raw QR bytes. A payload that has the shape of a kind but breaks its
/// rules is an error of that kind, never downgraded to an opaque token.
pub fn classify(bytes: &[u8]) -> Result<Payload> {
    let text = text_of(bytes)?;
    if text.starts_with(enrolment::SCHEME) {
        return Enrolment::parse(text).map(Payload::Enrolment);
    }
    if card::looks_like_card(text) {
        return CardQr::parse(text).map(Payload::Card);
    }
    if codes::looks_like_dossier(text) {
        return DossierCode::parse(text).map(Payload::Dossier);
    }
    if let Some(code) = AppointmentCode::parse(text) {
        return Ok(Payload::Appointment(code));
    }
    if text.len() > MAX_TOKEN {
        return Err(Error::PayloadTooLong {
            len: text.len(),
            max: MAX_TOKEN,
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Error::Token {
            reason: "contains control characters",
        });
    }
    Ok(Payload::Opaque(OpaqueToken {
        text: text.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn non_utf8_is_an_error_not_mojibake() {
        // "Nguyễn" in Windows-1258-ish bytes: invalid UTF-8.
        let err = classify(b"001099012345||Nguy\xea\xd7n").unwrap_err();
        assert!(matches!(err, Error::NotUtf8 { valid_up_to: 18 }), "{err}");
    }

    #[test]
    fn empty_and_oversized() {
        assert!(matches!(classify(b""), Err(Error::EmptyPayload)));
        let big = vec![b'a'; MAX_PAYLOAD + 1];
        assert!(matches!(
            classify(&big),
            Err(Error::PayloadTooLong {
                max: MAX_PAYLOAD,
                ..
            })
        ));
        let token = vec![b'a'; MAX_TOKEN + 1];
        assert!(matches!(
            classify(&token),
            Err(Error::PayloadTooLong { max: MAX_TOKEN, .. })
        ));
    }

    #[test]
    fn unknown_text_is_opaque_and_debug_hides_it() {
        let p = classify(b"VNEID:Zm9vYmFyYmF6cXV4").unwrap();
        let Payload::Opaque(t) = &p else {
            panic!("expected opaque, got {}", p.kind())
        };
        assert_eq!(t.as_str(), "VNEID:Zm9vYmFyYmF6cXV4");
        assert!(!format!("{p:?}").contains("Zm9v"));
    }

    #[test]
    fn control_characters_rejected_in_tokens() {
        assert!(matches!(classify(b"abc\x00def"), Err(Error::Token { .. })));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
            let _ = classify(&bytes);
        }

        #[test]
        fn arbitrary_pipe_text_never_panics(fields in proptest::collection::vec("[0-9A-Za-zạễữ ]{0,14}", 0..14)) {
            let _ = classify(fields.join("|").as_bytes());
        }
    }
}
