//! Delivery through the kiosk-api mTLS client: the stored bytes are sent verbatim (so every retry
//! carries the same body under the same idempotency key) and the client's classification maps
//! one-to-one onto the worker's. The one addition: a provisional number assigned to the record
//! after it was enqueued goes into the body's `provisional_ticket` (the gateway leaves that field
//! out of its idempotency comparison and keeps the number alongside its own).

use kiosk_api::GatewayClient;
use kiosk_api::v1::Registration;
use zeroize::Zeroizing;

use crate::record::MAX_BODY;

use crate::outbox::Pending;
use crate::worker::{Accepted, Deliver, DeliveryError};

/// [`Deliver`] over a [`GatewayClient`].
#[derive(Debug, Clone)]
pub struct GatewayDelivery {
    client: GatewayClient,
}

impl GatewayDelivery {
    pub fn new(client: GatewayClient) -> Self {
        GatewayDelivery { client }
    }
}

/// Maps a client error onto the worker's three outcomes.
pub fn classify(e: kiosk_api::Error) -> DeliveryError {
    match e {
        kiosk_api::Error::Retryable {
            retry_after,
            reason,
        } => DeliveryError::Retryable {
            reason,
            retry_after,
        },
        kiosk_api::Error::Permanent { reason, .. } => DeliveryError::Permanent { reason },
        // Trust and local configuration problems: no record can go until a technician acts.
        kiosk_api::Error::Refused { reason } => DeliveryError::Refused { reason },
        kiosk_api::Error::Config(reason) => DeliveryError::Refused {
            reason: format!("client configuration: {reason}"),
        },
        // The stored body itself breaks the contract: resending it cannot help.
        e @ (kiosk_api::Error::Invalid { .. } | kiosk_api::Error::Json(_)) => {
            DeliveryError::Permanent {
                reason: e.to_string(),
            }
        }
        other => DeliveryError::Retryable {
            reason: other.to_string(),
            retry_after: None,
        },
    }
}

/// The outbox part of the kiosk's heartbeat (`POST /v1/status`).
pub fn health(status: &crate::outbox::Status) -> kiosk_api::v1::OutboxHealth {
    kiosk_api::v1::OutboxHealth {
        depth: u64::try_from(status.pending).unwrap_or(u64::MAX),
        oldest_age_seconds: status
            .oldest_pending_age_ms
            .map(|ms| u64::try_from(ms / 1000).unwrap_or(0)),
        dead_letters: u64::try_from(status.dead).unwrap_or(u64::MAX),
        // Reasons were masked when stored (no ID numbers).
        last_error: status.last_error.as_ref().map(|e| e.reason.clone()),
    }
}

/// The body to send for `record`: the stored one, with the record's provisional number put into
/// `provisional_ticket` when it has one and the body does not. A body that is not a v1
/// registration object is a permanent failure (resending cannot help); the reason names the
/// position, never the content.
pub fn body_for_delivery(record: &Pending) -> Result<Zeroizing<Vec<u8>>, DeliveryError> {
    let body = record.body();
    let Some(provisional) = record.provisional_ticket() else {
        return Ok(Zeroizing::new(body.as_bytes().to_vec()));
    };
    if body.len() > MAX_BODY {
        return Err(DeliveryError::Permanent {
            reason: format!(
                "stored registration of {} bytes exceeds {MAX_BODY}",
                body.len()
            ),
        });
    }
    let mut registration: Registration =
        serde_json::from_str(body).map_err(|e| DeliveryError::Permanent {
            reason: format!(
                "stored registration is not a v1 registration object ({:?} error at line {} column {}); \
                 cannot add its provisional number",
                e.classify(),
                e.line(),
                e.column()
            ),
        })?;
    if registration.provisional_ticket.is_some() {
        // Built in from the first attempt (`Outbox::next_provisional`): never changed.
        return Ok(Zeroizing::new(body.as_bytes().to_vec()));
    }
    registration.provisional_ticket = Some(provisional.to_api(registration.queue_code()));
    serde_json::to_vec(&registration)
        .map(Zeroizing::new)
        .map_err(|e| DeliveryError::Permanent {
            reason: format!("registration with its provisional number cannot be encoded: {e}"),
        })
}

impl Deliver for GatewayDelivery {
    async fn deliver(&self, record: &Pending) -> Result<Accepted, DeliveryError> {
        let body = body_for_delivery(record)?;
        let ticket = self
            .client
            .submit_registration_json(body.to_vec())
            .await
            .map_err(classify)?;
        if ticket.idempotency_key.as_uuid() != record.key() {
            return Err(DeliveryError::Retryable {
                reason: format!(
                    "gateway answered for key {} instead of {}",
                    ticket.idempotency_key.as_uuid(),
                    record.key()
                ),
                retry_after: None,
            });
        }
        Ok(Accepted {
            ticket: ticket.display,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outbox;
    use crate::sealing::SealingKey;
    use crate::store::MemoryStore;
    use kiosk_api::v1::KioskId;
    use proptest::prelude::*;
    use std::time::Duration;

    const DAY: time::Date = time::macros::date!(2026 - 11 - 27);

    fn outbox_with(body: &str, provisional: bool) -> Outbox {
        let o = Outbox::with_store(Box::new(MemoryStore::default()), SealingKey::random());
        let key = uuid::Uuid::now_v7();
        o.enqueue(key, body).unwrap();
        if provisional {
            o.assign_provisional(key, DAY).unwrap();
        }
        o
    }

    fn sample_body() -> (Registration, String) {
        let kiosk = KioskId::new("site1-k0001".to_owned()).unwrap();
        let r = kiosk_api::sample::clinic_registration(&kiosk, "NOI");
        let body = serde_json::to_string(&r).unwrap();
        (r, body)
    }

    #[test]
    fn a_record_without_a_provisional_number_is_sent_verbatim() {
        let (_, body) = sample_body();
        let o = outbox_with(&body, false);
        let head = o.head().unwrap().unwrap();
        assert_eq!(&body_for_delivery(&head).unwrap()[..], body.as_bytes());
    }

    #[test]
    fn the_provisional_number_goes_into_the_body() {
        let (reg, body) = sample_body();
        let o = outbox_with(&body, true);
        let head = o.head().unwrap().unwrap();
        let sent: Registration =
            serde_json::from_slice(&body_for_delivery(&head).unwrap()).unwrap();
        let p = sent.provisional_ticket.clone().unwrap();
        assert_eq!((p.queue.as_str(), p.number), ("NOI", 1));
        let issued_ms = head.provisional_ticket().unwrap().issued_ms;
        assert_eq!(
            p.issued_at.unix_timestamp_nanos() / 1_000_000,
            i128::from(issued_ms)
        );
        // Nothing else changed.
        let mut without = sent;
        without.provisional_ticket = None;
        assert_eq!(without, reg);
    }

    #[test]
    fn a_number_already_in_the_body_is_kept() {
        let (mut reg, _) = sample_body();
        reg.provisional_ticket = Some(kiosk_api::v1::ProvisionalTicket {
            queue: "NOI".into(),
            number: 77,
            issued_at: time::OffsetDateTime::UNIX_EPOCH,
        });
        let body = serde_json::to_string(&reg).unwrap();
        let o = outbox_with(&body, true);
        let head = o.head().unwrap().unwrap();
        assert_eq!(&body_for_delivery(&head).unwrap()[..], body.as_bytes());
    }

    #[test]
    fn a_body_that_is_not_a_registration_is_a_permanent_failure_without_its_content() {
        for body in [
            "[1, 2]",
            "not json 001099012345",
            "{\"idempotency_key\": \"NGUYEN VAN A\"}",
        ] {
            let o = outbox_with(body, true);
            let head = o.head().unwrap().unwrap();
            match body_for_delivery(&head) {
                Err(DeliveryError::Permanent { reason }) => {
                    assert!(reason.contains("not a v1 registration"), "{reason}");
                    assert!(!reason.contains("NGUYEN"), "{reason}");
                    assert!(!reason.contains("001099012345"), "{reason}");
                }
                other => panic!("expected a permanent failure, got {other:?}"),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn arbitrary_bodies_with_a_provisional_number_never_panic(body in ".{0,300}") {
            let o = outbox_with(&body, true);
            let head = o.head().unwrap().unwrap();
            let _ = body_for_delivery(&head);
        }
    }

    #[test]
    fn health_reports_depth_age_dead_and_last_error() {
        let status = crate::outbox::Status {
            pending: 4,
            dead: 1,
            delivered: 9,
            oldest_pending_age_ms: Some(61_500),
            last_error: Some(crate::record::LastError {
                at_ms: 0,
                key: uuid::Uuid::nil(),
                reason: "HTTP 503".into(),
            }),
        };
        let h = health(&status);
        assert_eq!(
            (h.depth, h.oldest_age_seconds, h.dead_letters),
            (4, Some(61), 1)
        );
        assert_eq!(h.last_error.as_deref(), Some("HTTP 503"));
    }

    #[test]
    fn classification_maps_every_client_outcome() {
        let r = classify(kiosk_api::Error::Retryable {
            retry_after: Some(Duration::from_secs(7)),
            reason: "HTTP 503".into(),
        });
        assert_eq!(
            r,
            DeliveryError::Retryable {
                reason: "HTTP 503".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert!(matches!(
            classify(kiosk_api::Error::Permanent { status: 422, reason: "bad".into() }),
            DeliveryError::Permanent { reason } if reason == "bad"
        ));
        assert!(matches!(
            classify(kiosk_api::Error::Refused {
                reason: "revoked".into()
            }),
            DeliveryError::Refused { .. }
        ));
        assert!(matches!(
            classify(kiosk_api::Error::Config("pem".into())),
            DeliveryError::Refused { .. }
        ));
        assert!(matches!(
            classify(kiosk_api::Error::invalid("identity", "x")),
            DeliveryError::Permanent { .. }
        ));
    }
}
