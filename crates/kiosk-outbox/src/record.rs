//! What the outbox stores, and how it lays keys out in the store.
//!
//! Key layout (one ordered key space):
//! - `p` + record id → sealed [`Record`] waiting for delivery (FIFO by record id)
//! - `d` + record id → sealed [`Record`] in the dead-letter list (with its reason)
//! - `r` + record id → sealed [`Receipt`] of a delivered record (no personal data left)
//! - `i` + idempotency key → record id (index; both are random, nothing personal)
//! - `m` + name → sealed metadata (last error, provisional ticket counters)
//!
//! A record id is a store sequence number (big-endian, so keys sort in arrival order) followed by
//! 8 random bytes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroize;

use crate::error::{OutboxError, Result};

pub(crate) const PENDING: u8 = b'p';
pub(crate) const DEAD: u8 = b'd';
pub(crate) const RECEIPT: u8 = b'r';
pub(crate) const INDEX: u8 = b'i';
pub(crate) const META: u8 = b'm';

/// Largest registration body the outbox accepts (raw DG13, DG1, SOD and answers fit easily;
/// a photo would too).
pub const MAX_BODY: usize = 1024 * 1024;
/// Largest decrypted value the outbox will try to parse (body plus JSON escaping and metadata).
pub(crate) const MAX_PLAINTEXT: usize = 8 * MAX_BODY;
/// Longest error text kept for a record.
pub(crate) const MAX_REASON: usize = 1000;

/// Record id: sequence (8 bytes, big-endian) + 8 random bytes.
pub(crate) type RecordId = [u8; 16];

pub(crate) fn store_key(tree: u8, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(tree);
    k.extend_from_slice(id);
    k
}

pub(crate) fn record_id_from_key(key: &[u8]) -> Result<RecordId> {
    key.get(1..)
        .and_then(|s| <RecordId>::try_from(s).ok())
        .ok_or_else(|| OutboxError::Malformed {
            what: "key",
            reason: format!("store key of {} bytes is not a record key", key.len()),
        })
}

/// A registration waiting in the outbox (pending or dead). The body is the registration as the
/// gateway receives it; it is zeroized when the record is dropped and never printed by `Debug`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub key: Uuid,
    /// Unix time in milliseconds when the record was first written.
    pub created_ms: i64,
    pub attempts: u32,
    /// Unix time in milliseconds before which no attempt is made.
    pub not_before_ms: i64,
    pub last_error: Option<String>,
    /// The provisional ticket shown to the citizen when the gateway was unreachable.
    pub provisional: Option<String>,
    /// The same number with its day and time, which delivery puts into the body's
    /// `provisional_ticket` (absent in records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional_ticket: Option<crate::outbox::ProvisionalTicket>,
    /// Why the record is in the dead-letter list.
    pub dead_reason: Option<String>,
    pub body: String,
}

impl Drop for Record {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("key", &self.key)
            .field("attempts", &self.attempts)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish_non_exhaustive()
    }
}

/// What stays of a delivered record: no personal data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub key: Uuid,
    /// The gateway's queue number / ticket text.
    pub ticket: String,
    /// The provisional number the citizen was shown, if any.
    pub provisional: Option<String>,
    /// Unix time in milliseconds of the delivery.
    pub delivered_ms: i64,
}

/// The last delivery error, for diagnostics.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LastError {
    pub at_ms: i64,
    pub key: Uuid,
    pub reason: String,
}

/// Parses a decrypted value; bounded and never panics.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T> {
    if bytes.len() > MAX_PLAINTEXT {
        return Err(OutboxError::Malformed {
            what,
            reason: format!("{} bytes exceeds {MAX_PLAINTEXT}", bytes.len()),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| OutboxError::Malformed {
        what,
        // serde_json errors name position and expectation, never the input itself.
        reason: e.to_string(),
    })
}

pub(crate) fn encode<T: Serialize>(
    what: &'static str,
    value: &T,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    serde_json::to_vec(value)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| OutboxError::Malformed {
            what,
            reason: e.to_string(),
        })
}

/// Keeps error text for technicians short and free of ID numbers: any run of 9 or more digits
/// (a CCCD is 12, an old ID 9) is masked like `0010******45`.
pub fn sanitize_reason(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len().min(MAX_REASON));
    let chars: Vec<char> = reason.chars().take(MAX_REASON).collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 9 {
                out.extend(&run[..4]);
                out.extend(std::iter::repeat_n('*', run.len() - 6));
                out.extend(&run[run.len() - 2..]);
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn id_numbers_are_masked_in_reasons() {
        assert_eq!(
            sanitize_reason("citizen 001099012345 rejected, code 422"),
            "citizen 0010******45 rejected, code 422"
        );
        assert_eq!(sanitize_reason("123456789"), "1234***89");
    }

    #[test]
    fn record_debug_hides_the_body() {
        let r = Record {
            key: Uuid::nil(),
            created_ms: 0,
            attempts: 0,
            not_before_ms: 0,
            last_error: None,
            provisional: None,
            provisional_ticket: None,
            dead_reason: None,
            body: "NGUYEN VAN A 001099012345".into(),
        };
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("NGUYEN"), "{dbg}");
        assert!(!dbg.contains("001099012345"), "{dbg}");
    }

    proptest! {
        #[test]
        fn decode_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Record>("record", &bytes);
            let _ = decode::<Receipt>("receipt", &bytes);
        }

        #[test]
        fn record_round_trips(body in ".{0,200}", attempts in any::<u32>(), nb in any::<i64>(),
                              err in proptest::option::of(".{0,50}")) {
            let r = Record { key: Uuid::from_u128(attempts as u128), created_ms: 5, attempts,
                not_before_ms: nb, last_error: err, provisional: Some("P-0001".into()),
                provisional_ticket: Some(crate::outbox::ProvisionalTicket {
                    date: time::macros::date!(2026 - 11 - 27), number: 1, issued_ms: nb }),
                dead_reason: None, body };
            let bytes = encode("record", &r).unwrap();
            prop_assert_eq!(decode::<Record>("record", &bytes).unwrap(), r);
        }

        #[test]
        fn sanitized_reason_never_shows_a_long_digit_run(s in "[0-9a-z ]{0,80}") {
            let out = sanitize_reason(&s);
            let mut run = 0;
            for c in out.chars() {
                run = if c.is_ascii_digit() { run + 1 } else { 0 };
                prop_assert!(run < 9, "{}", out);
            }
        }
    }
}
