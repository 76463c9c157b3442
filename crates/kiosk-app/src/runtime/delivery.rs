//! Submissions and the background outbox worker.
//!
//! `Submit`: the registration is written to the outbox (durable, encrypted) first; then the
//! worker is woken to deliver it. The first worker pass that starts after the write decides
//! what the citizen sees: the gateway's ticket, a refusal, or — when the gateway did not take
//! it, or nothing came back within the deadline — a provisional number from the outbox's
//! durable sequence (`DeliveryResult::Offline`). The worker keeps delivering in the background
//! either way; the gateway's idempotency makes every repeat harmless.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use kiosk_api::v1::{ProvisionalTicket, Registration, Ticket};
use kiosk_core::Event;
use kiosk_core::event::DeliveryResult;
use kiosk_outbox::gateway_delivery::GatewayDelivery;
use kiosk_outbox::worker::{DrainMode, drain};
use kiosk_outbox::{Accepted, Deliver, DeliveryError, Outbox, OutboxError, Pending};
use tokio::sync::Notify;
use uuid::Uuid;

use super::gateway::Gateway;
use super::{RuntimeHandle, Timing};

/// The submission the screen is waiting for.
#[derive(Debug, Clone)]
struct Awaited {
    key: Uuid,
    /// The queue a provisional number is shown in (department or procedure).
    queue: String,
    /// Only a pass that started after this one may decide.
    after_pass: u64,
}

pub struct Delivery {
    outbox: Arc<Outbox>,
    gateway: Arc<Gateway>,
    handle: RuntimeHandle,
    rt: tokio::runtime::Handle,
    timing: Timing,
    wake: Notify,
    awaited: Mutex<Option<Awaited>>,
    passes: AtomicU64,
    /// Gateway refusals seen by the worker, by key (the reason, already sanitised).
    refused: Mutex<HashMap<Uuid, String>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").finish_non_exhaustive()
    }
}

/// The outbox's [`GatewayDelivery`], noting permanent refusals for the waiting screen.
struct Noting<'a> {
    inner: GatewayDelivery,
    refused: &'a Mutex<HashMap<Uuid, String>>,
}

impl Deliver for Noting<'_> {
    async fn deliver(&self, record: &Pending) -> Result<Accepted, DeliveryError> {
        let result = self.inner.deliver(record).await;
        if let Err(DeliveryError::Permanent { reason }) = &result
            && let Ok(mut r) = self.refused.lock()
        {
            r.insert(record.key(), kiosk_outbox::record::sanitize_reason(reason));
        }
        result
    }
}

/// Today in Vietnam (UTC+7, no daylight saving): the provisional sequence is per service day.
pub fn local_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7))
}

impl Delivery {
    /// Starts the background worker on `rt`.
    pub fn start(
        rt: &tokio::runtime::Handle,
        outbox: Arc<Outbox>,
        gateway: Arc<Gateway>,
        handle: RuntimeHandle,
        timing: Timing,
    ) -> Arc<Delivery> {
        let d = Arc::new(Delivery {
            outbox,
            gateway,
            handle,
            rt: rt.clone(),
            timing,
            wake: Notify::new(),
            awaited: Mutex::new(None),
            passes: AtomicU64::new(0),
            refused: Mutex::new(HashMap::new()),
        });
        let worker = Arc::clone(&d);
        rt.spawn(async move { worker.run().await });
        d
    }

    /// Makes every pending record due and wakes the worker (a new submission, the gateway
    /// back, a technician's retry).
    pub fn wake(&self) {
        if let Err(e) = self.outbox.make_all_due() {
            super::log_line(&format!("outbox: {e}"));
        }
        self.wake.notify_one();
    }

    /// Moves a dead letter (by idempotency key) back into the queue and wakes the worker.
    pub fn retry_dead_letter(&self, key: &str) -> anyhow::Result<()> {
        let key: Uuid = key.parse().context("not an idempotency key")?;
        self.outbox.retry(key)?;
        if let Ok(mut r) = self.refused.lock() {
            r.remove(&key);
        }
        self.wake();
        Ok(())
    }

    /// Stores the registration, then has it delivered; answers the core with exactly one
    /// `Event::Delivery` for it.
    pub fn submit(self: &Arc<Self>, registration: Registration) {
        let this = Arc::clone(self);
        self.rt
            .spawn_blocking(move || this.store_and_await(registration));
    }

    fn store_and_await(self: Arc<Self>, registration: Registration) {
        let key = registration.idempotency_key.as_uuid();
        let queue = registration.queue_code().to_owned();
        let stored = serde_json::to_string(&registration)
            .map_err(|e| anyhow::anyhow!("encoding: {e}"))
            .and_then(|body| {
                let body = zeroize::Zeroizing::new(body);
                match self.outbox.enqueue(key, &body) {
                    Ok(()) => Ok(()),
                    // A retry of the same registration: it is stored already (pending, or a
                    // dead letter the citizen retries).
                    Err(OutboxError::Duplicate(_)) => {
                        if self.outbox.dead()?.iter().any(|r| r.key == key) {
                            self.outbox.retry(key)?;
                        }
                        Ok(())
                    }
                    Err(e) => Err(e.into()),
                }
            });
        drop(registration);
        if let Err(e) = stored {
            // Not stored: the citizen must not get a ticket for it.
            super::log_line(&format!("outbox write failed for {key}: {e:#}"));
            self.handle.send(Event::Delivery(DeliveryResult::Refused {
                key: kiosk_api::v1::IdempotencyKey::from_uuid(key)
                    .unwrap_or_else(|_| kiosk_api::v1::IdempotencyKey::new()),
                code: "outbox_unavailable".into(),
            }));
            return;
        }
        if let Ok(mut r) = self.refused.lock() {
            r.remove(&key);
        }
        // Already delivered earlier (a retry after a lost answer): the gateway replays it.
        if let Ok(Some(_)) = self.outbox.receipt(key) {
            let this = Arc::clone(&self);
            self.rt
                .spawn(async move { this.answer_delivered(key, queue).await });
            return;
        }
        if let Ok(mut a) = self.awaited.lock() {
            *a = Some(Awaited {
                key,
                queue: queue.clone(),
                after_pass: self.passes.load(Ordering::SeqCst),
            });
        }
        if self.gateway.client().is_none() {
            self.resolve_offline(key);
            return;
        }
        self.wake();
        let this = Arc::clone(&self);
        let deadline = self.timing.delivery_deadline;
        self.rt.spawn(async move {
            tokio::time::sleep(deadline).await;
            this.resolve_offline(key);
        });
    }

    /// Takes the awaited submission if it is `key`.
    fn take_awaited(&self, key: Uuid) -> Option<Awaited> {
        let mut a = self.awaited.lock().ok()?;
        if a.as_ref().is_some_and(|a| a.key == key) {
            a.take()
        } else {
            None
        }
    }

    /// No ticket in time: a provisional number, unless the record got delivered meanwhile.
    fn resolve_offline(self: &Arc<Self>, key: Uuid) {
        let Some(awaited) = self.take_awaited(key) else {
            return;
        };
        if let Ok(Some(_)) = self.outbox.receipt(key) {
            let this = Arc::clone(self);
            self.rt
                .spawn(async move { this.answer_delivered(key, awaited.queue).await });
            return;
        }
        let now = local_now();
        let number = match self.outbox.assign_provisional(key, now.date()) {
            Ok(p) => p.number,
            Err(OutboxError::NotFound { .. }) => {
                // Delivered between the two looks.
                let this = Arc::clone(self);
                self.rt
                    .spawn(async move { this.answer_delivered(key, awaited.queue).await });
                return;
            }
            Err(e) => {
                super::log_line(&format!("provisional number for {key}: {e}"));
                match self.outbox.next_provisional(now.date()) {
                    Ok(p) => p.number,
                    Err(_) => 0,
                }
            }
        };
        let key = kiosk_api::v1::IdempotencyKey::from_uuid(key)
            .unwrap_or_else(|_| kiosk_api::v1::IdempotencyKey::new());
        self.handle.send(Event::Delivery(DeliveryResult::Offline {
            key,
            provisional: ProvisionalTicket {
                queue: awaited.queue,
                number,
                issued_at: now,
            },
        }));
    }

    /// The gateway has the registration: fetch its ticket (a replay) for the screen.
    async fn answer_delivered(&self, key: Uuid, queue: String) {
        let ikey = match kiosk_api::v1::IdempotencyKey::from_uuid(key) {
            Ok(k) => k,
            Err(_) => return,
        };
        let mut ticket: Option<Ticket> = None;
        if let Some(client) = self.gateway.client() {
            for _ in 0..2 {
                match client.registration(ikey).await {
                    Ok(t) => {
                        ticket = Some(t);
                        break;
                    }
                    Err(e) => super::log_line(&format!("ticket of {key}: {e}")),
                }
            }
        }
        let result = match ticket {
            Some(t) => DeliveryResult::Ticket(Box::new(t)),
            // Delivered, but its ticket cannot be fetched now: the receipt's number is the
            // gateway's, shown as a ticket without a room.
            None => match self.outbox.receipt(key) {
                Ok(Some(r)) => {
                    let now = local_now();
                    DeliveryResult::Ticket(Box::new(Ticket {
                        idempotency_key: ikey,
                        queue,
                        number: 0,
                        display: r.ticket,
                        counter_or_room: String::new(),
                        estimated_wait_minutes: 0,
                        service_day: now.date(),
                        issued_at: now,
                        provisional_ticket: None,
                    }))
                }
                _ => return,
            },
        };
        self.handle.send(Event::Delivery(result));
    }

    /// After a pass that started after the awaited write: the ticket, the refusal, or offline.
    async fn decide(self: &Arc<Self>, pass: u64) {
        let awaited = match self.awaited.lock() {
            Ok(a) => a.clone(),
            Err(_) => return,
        };
        let Some(awaited) = awaited else { return };
        if pass <= awaited.after_pass {
            return;
        }
        let key = awaited.key;
        if let Ok(Some(_)) = self.outbox.receipt(key) {
            if self.take_awaited(key).is_some() {
                self.answer_delivered(key, awaited.queue).await;
            }
            return;
        }
        let refused = self.refused.lock().ok().and_then(|r| r.get(&key).cloned());
        if refused.is_some() {
            if self.take_awaited(key).is_some()
                && let Ok(ikey) = kiosk_api::v1::IdempotencyKey::from_uuid(key)
            {
                self.handle.send(Event::Delivery(DeliveryResult::Refused {
                    key: ikey,
                    code: "refused_by_gateway".into(),
                }));
            }
            return;
        }
        self.resolve_offline(key);
    }

    async fn run(self: Arc<Self>) {
        loop {
            let pass = self.passes.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(client) = self.gateway.client() {
                let deliver = Noting {
                    inner: GatewayDelivery::new(client),
                    refused: &self.refused,
                };
                match drain(
                    &self.outbox,
                    &deliver,
                    &self.timing.worker,
                    DrainMode::OnePass,
                )
                .await
                {
                    Ok(report) => {
                        if let Some(reason) = report.refused {
                            super::log_line(&format!("delivery paused, gateway refused: {reason}"));
                        }
                    }
                    Err(e) => super::log_line(&format!("outbox worker: {e}")),
                }
            }
            self.decide(pass).await;
            let wait = match self.outbox.head() {
                Ok(Some(head)) => {
                    let ms = head
                        .not_before_ms()
                        .saturating_sub(kiosk_outbox::outbox::now_ms())
                        .max(0);
                    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
                        .min(self.timing.worker_idle)
                }
                _ => self.timing.worker_idle,
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
            }
        }
    }
}
