//! Delivery through the kiosk-api mTLS client: the stored bytes are sent verbatim (so every retry
//! carries exactly the same body under the same idempotency key) and the client's classification
//! maps one-to-one onto the worker's.

use kiosk_api::GatewayClient;

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

impl Deliver for GatewayDelivery {
    async fn deliver(&self, record: &Pending) -> Result<Accepted, DeliveryError> {
        let ticket = self
            .client
            .submit_registration_json(record.body().as_bytes().to_vec())
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
    use std::time::Duration;

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
