//! The delivery worker: sends pending records to the gateway in FIFO order, one at a time.
//!
//! - Success → receipt only (personal data deleted).
//! - Retryable failure (connect, timeout, 408, 429, 5xx) → the record stays at the head and is
//!   retried after exponential backoff with full jitter, or after the server's `Retry-After` if
//!   that is later. The pass stops there: the next records would meet the same fault, and
//!   delivering them first would break FIFO.
//! - Permanent failure (other 4xx) → dead-letter list with the server's reason.
//!
//! Exactly-once rests on the gateway's idempotency: a record is removed only after the gateway
//! answered, so a crash in between re-sends the same key and the gateway replays its answer.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;
use crate::outbox::{Outbox, Pending, Settled, now_ms};

/// What the gateway said to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The queue number / ticket text the gateway assigned.
    pub ticket: String,
}

/// Why a delivery failed, already classified by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Try again later; `retry_after` is the server's `Retry-After`, if it sent one.
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The gateway refused the registration itself; retrying unchanged cannot help.
    Permanent { reason: String },
    /// A trust problem between kiosk and gateway (wrong server certificate, revoked or expired
    /// client certificate): nothing is wrong with the record, but no record can be delivered
    /// until a technician acts. The record stays pending and the drain stops.
    Refused { reason: String },
}

/// Sends one record to the gateway. Implemented by the kiosk-api client adapter in `kiosk-app`
/// and by fakes in tests. Implementations must bound their own I/O with timeouts; the worker
/// adds an overall per-attempt timeout as a backstop.
pub trait Deliver {
    fn deliver(&self, record: &Pending) -> impl Future<Output = Result<Accepted, DeliveryError>>;
}

/// Exponential backoff with full jitter: the n-th retry waits a uniform random time in
/// `[0, min(cap, base · 2ⁿ)]`, but never less than the server's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// Upper bound on an honoured `Retry-After`, so a hostile header cannot park the queue.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The ceiling of the jitter window before the retry that follows `attempts` failures.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before the next attempt, given `attempts` failures so far (including this one).
    pub fn delay(
        &self,
        attempts: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let ceiling = self.ceiling(attempts.saturating_sub(1));
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let jittered = Duration::from_millis(rng.random_range(0..=millis));
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// How a drain ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainMode {
    /// Deliver what is due now; stop at the first retryable failure or not-yet-due head.
    OnePass,
    /// Keep going, sleeping through backoffs, until the queue is empty or `deadline` passes.
    UntilEmpty { deadline: Duration },
}

/// Worker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    pub backoff: Backoff,
    /// Backstop per attempt, on top of the client's own timeouts.
    pub attempt_timeout: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            backoff: Backoff::default(),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

/// What one drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    pub delivered: usize,
    pub dead: usize,
    pub retries_scheduled: usize,
    /// Set when the drain stopped because the gateway and kiosk do not trust each other.
    pub refused: Option<String>,
    /// Pending records left when the drain ended.
    pub remaining: usize,
    /// Keys delivered in this drain, in order.
    pub delivered_keys: Vec<Uuid>,
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered { ticket: String },
    Retry { after: Duration, reason: String },
    Dead { reason: String },
    Refused { reason: String },
}

/// One attempt on `p`, with the outcome written durably to the outbox.
pub async fn attempt<D: Deliver>(
    outbox: &Outbox,
    deliver: &D,
    cfg: &WorkerConfig,
    p: &Pending,
) -> Result<AttemptOutcome> {
    match send(deliver, cfg, p).await {
        Ok(acc) => match outbox.settle_delivered(p, &acc.ticket)? {
            Settled::Delivered(_) => Ok(AttemptOutcome::Delivered { ticket: acc.ticket }),
            // A provisional number was assigned while `p` was on its way: one repeat carries it
            // to the gateway, which answers with the same ticket.
            Settled::SendAgain(again) => match send(deliver, cfg, &again).await {
                Ok(acc) => {
                    outbox.mark_delivered(&again, &acc.ticket)?;
                    Ok(AttemptOutcome::Delivered { ticket: acc.ticket })
                }
                Err(e) => failed(outbox, cfg, &again, e),
            },
        },
        Err(e) => failed(outbox, cfg, p, e),
    }
}

/// One delivery bounded by the per-attempt backstop.
async fn send<D: Deliver>(
    deliver: &D,
    cfg: &WorkerConfig,
    p: &Pending,
) -> Result<Accepted, DeliveryError> {
    match tokio::time::timeout(cfg.attempt_timeout, deliver.deliver(p)).await {
        Ok(r) => r,
        Err(_) => Err(DeliveryError::Retryable {
            reason: format!("no answer within {:?}", cfg.attempt_timeout),
            retry_after: None,
        }),
    }
}

/// Writes the outcome of a failed delivery of `p`.
fn failed(
    outbox: &Outbox,
    cfg: &WorkerConfig,
    p: &Pending,
    error: DeliveryError,
) -> Result<AttemptOutcome> {
    match error {
        DeliveryError::Retryable {
            reason,
            retry_after,
        } => {
            let attempts = p.attempts().saturating_add(1);
            let after = cfg.backoff.delay(attempts, retry_after, &mut rand::rng());
            let not_before =
                now_ms().saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX));
            outbox.mark_retry(p, &reason, not_before)?;
            tracing::info!(key = %p.key(), attempts, ?after, "delivery will be retried: {reason}");
            Ok(AttemptOutcome::Retry { after, reason })
        }
        DeliveryError::Refused { reason } => {
            // Stays pending, backed off like any failure, but the drain ends: a technician must
            // re-enrol the kiosk or fix the gateway's certificate.
            let attempts = p.attempts().saturating_add(1);
            let after = cfg.backoff.delay(attempts, None, &mut rand::rng());
            let not_before =
                now_ms().saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX));
            outbox.mark_retry(p, &format!("refused: {reason}"), not_before)?;
            tracing::error!(key = %p.key(), "gateway and kiosk refused each other: {reason}");
            Ok(AttemptOutcome::Refused { reason })
        }
        DeliveryError::Permanent { reason } => {
            outbox.mark_dead(p, &reason)?;
            tracing::warn!(key = %p.key(), "delivery refused, moved to dead letters: {reason}");
            Ok(AttemptOutcome::Dead { reason })
        }
    }
}

/// Delivers pending records in FIFO order (see the module docs for the rules).
pub async fn drain<D: Deliver>(
    outbox: &Outbox,
    deliver: &D,
    cfg: &WorkerConfig,
    mode: DrainMode,
) -> Result<DrainReport> {
    let started = tokio::time::Instant::now();
    let mut report = DrainReport::default();
    loop {
        let Some(head) = outbox.head()? else {
            break;
        };
        let wait_ms = head.not_before_ms().saturating_sub(now_ms());
        if wait_ms > 0 {
            match mode {
                DrainMode::OnePass => break,
                DrainMode::UntilEmpty { deadline } => {
                    let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
                    let left = deadline.saturating_sub(started.elapsed());
                    if wait >= left {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
        }
        match attempt(outbox, deliver, cfg, &head).await? {
            AttemptOutcome::Delivered { .. } => {
                report.delivered += 1;
                report.delivered_keys.push(head.key());
            }
            AttemptOutcome::Dead { .. } => report.dead += 1,
            AttemptOutcome::Refused { reason } => {
                report.refused = Some(reason);
                break;
            }
            AttemptOutcome::Retry { .. } => {
                report.retries_scheduled += 1;
                if mode == DrainMode::OnePass {
                    break;
                }
            }
        }
        if let DrainMode::UntilEmpty { deadline } = mode
            && started.elapsed() >= deadline
        {
            break;
        }
    }
    // Receipts are written lazily (see `Outbox::mark_delivered`); settle them now.
    outbox.sync()?;
    report.remaining = outbox.status()?.pending;
    Ok(report)
}

/// The kiosk's background worker: delivers whatever is due, then sleeps until the head is due
/// (at most `idle_poll`, so records enqueued meanwhile go out promptly), until `stop` resolves.
/// Refusals and errors of the store are logged and retried on the next round; the queue itself
/// is the only state, so stopping at any point loses nothing.
pub async fn run<D: Deliver>(
    outbox: &Outbox,
    deliver: &D,
    cfg: &WorkerConfig,
    idle_poll: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        let wait = match drain(outbox, deliver, cfg, DrainMode::OnePass).await {
            Ok(report) => {
                if let Some(reason) = report.refused {
                    tracing::error!("delivery paused, gateway refused: {reason}");
                }
                match outbox.head() {
                    Ok(Some(head)) => {
                        let ms = head.not_before_ms().saturating_sub(now_ms()).max(0);
                        Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(idle_poll)
                    }
                    _ => idle_poll,
                }
            }
            Err(e) => {
                tracing::error!("outbox worker: {e}");
                idle_poll
            }
        };
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealing::SealingKey;
    use crate::store::MemoryStore;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    /// Answers from a script; records the keys it saw.
    struct Scripted {
        answers: RefCell<VecDeque<Result<Accepted, DeliveryError>>>,
        seen: RefCell<Vec<Uuid>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<Accepted, DeliveryError>>) -> Self {
            Scripted {
                answers: RefCell::new(answers.into()),
                seen: RefCell::new(Vec::new()),
            }
        }
    }

    impl Deliver for Scripted {
        async fn deliver(&self, record: &Pending) -> Result<Accepted, DeliveryError> {
            self.seen.borrow_mut().push(record.key());
            self.answers
                .borrow_mut()
                .pop_front()
                .unwrap_or(Ok(Accepted {
                    ticket: format!("T{}", self.seen.borrow().len()),
                }))
        }
    }

    fn fast() -> WorkerConfig {
        WorkerConfig {
            backoff: Backoff {
                base: Duration::from_millis(5),
                cap: Duration::from_millis(20),
                max_retry_after: Duration::from_millis(200),
            },
            attempt_timeout: Duration::from_millis(200),
        }
    }

    fn outbox_with(n: usize) -> (Outbox, Vec<Uuid>) {
        let o = Outbox::with_store(Box::new(MemoryStore::default()), SealingKey::random());
        let keys: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        for k in &keys {
            o.enqueue(*k, "{}").unwrap();
        }
        (o, keys)
    }

    fn retryable(reason: &str, after: Option<Duration>) -> Result<Accepted, DeliveryError> {
        Err(DeliveryError::Retryable {
            reason: reason.into(),
            retry_after: after,
        })
    }

    #[test]
    fn backoff_ceiling_doubles_up_to_the_cap_and_jitter_stays_inside() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(10),
        };
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(800));
        assert_eq!(b.ceiling(4), Duration::from_millis(1000));
        assert_eq!(b.ceiling(200), Duration::from_millis(1000));
        let mut rng = rand::rng();
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..200 {
            let d = b.delay(3, None, &mut rng);
            assert!(d <= Duration::from_millis(400));
            distinct.insert(d);
        }
        // Full jitter spreads retries rather than synchronising them.
        assert!(distinct.len() > 20);
        // Retry-After is a floor, bounded by max_retry_after.
        assert!(b.delay(1, Some(Duration::from_secs(5)), &mut rng) >= Duration::from_secs(5));
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(99_999)), &mut rng),
            Duration::from_secs(10)
        );
    }

    /// The kiosk gives up waiting and assigns a provisional number while the first delivery is
    /// on its way; records the number each delivery carried.
    struct AssignsMidFlight<'a> {
        outbox: &'a Outbox,
        carried: RefCell<Vec<Option<String>>>,
    }

    impl Deliver for AssignsMidFlight<'_> {
        async fn deliver(&self, record: &Pending) -> Result<Accepted, DeliveryError> {
            if self.carried.borrow().is_empty() {
                let day = time::macros::date!(2026 - 11 - 27);
                self.outbox.assign_provisional(record.key(), day).unwrap();
            }
            self.carried
                .borrow_mut()
                .push(record.provisional().map(str::to_owned));
            Ok(Accepted {
                ticket: "NOI-001".into(),
            })
        }
    }

    #[tokio::test]
    async fn a_number_assigned_mid_delivery_is_sent_once_more() {
        let (o, keys) = outbox_with(1);
        let d = AssignsMidFlight {
            outbox: &o,
            carried: RefCell::new(Vec::new()),
        };
        let r = drain(&o, &d, &fast(), DrainMode::OnePass).await.unwrap();
        assert_eq!((r.delivered, r.remaining), (1, 0), "{r:?}");
        assert_eq!(*d.carried.borrow(), vec![None, Some("P-0001".to_owned())]);
        let receipt = o.receipt(keys[0]).unwrap().unwrap();
        assert_eq!(receipt.ticket, "NOI-001");
        assert_eq!(receipt.provisional.as_deref(), Some("P-0001"));
    }

    #[tokio::test]
    async fn one_pass_stops_at_the_first_retryable_failure_and_keeps_fifo() {
        let (o, keys) = outbox_with(3);
        let d = Scripted::new(vec![
            Ok(Accepted { ticket: "1".into() }),
            retryable("503 busy", Some(Duration::from_millis(150))),
        ]);
        let r = drain(&o, &d, &fast(), DrainMode::OnePass).await.unwrap();
        assert_eq!(r.delivered_keys, vec![keys[0]]);
        assert_eq!((r.retries_scheduled, r.remaining), (1, 2));
        assert_eq!(*d.seen.borrow(), vec![keys[0], keys[1]]);
        let head = o.head().unwrap().unwrap();
        assert_eq!(head.key(), keys[1]);
        // Retry-After honoured: not due for at least ~150 ms.
        assert!(head.not_before_ms() - now_ms() > 100);
        assert_eq!(o.status().unwrap().last_error.unwrap().reason, "503 busy");
    }

    #[tokio::test]
    async fn until_empty_rides_out_retries_and_dead_letters_permanent_failures() {
        let (o, keys) = outbox_with(4);
        let d = Scripted::new(vec![
            retryable("connection refused", None),
            retryable("timeout", None),
            Ok(Accepted {
                ticket: "A1".into(),
            }),
            Err(DeliveryError::Permanent {
                reason: "422 unknown procedure".into(),
            }),
        ]);
        let mode = DrainMode::UntilEmpty {
            deadline: Duration::from_secs(10),
        };
        let r = drain(&o, &d, &fast(), mode).await.unwrap();
        assert_eq!(r.delivered_keys, vec![keys[0], keys[2], keys[3]]);
        assert_eq!((r.dead, r.remaining, r.retries_scheduled), (1, 0, 2));
        let dead = o.dead().unwrap();
        assert_eq!(dead[0].key, keys[1]);
        assert_eq!(
            dead[0].dead_reason.as_deref(),
            Some("422 unknown procedure")
        );
        assert_eq!(o.receipt(keys[0]).unwrap().unwrap().ticket, "A1");
    }

    #[tokio::test]
    async fn refusal_stops_the_drain_and_keeps_the_record_pending() {
        let (o, keys) = outbox_with(2);
        let d = Scripted::new(vec![Err(DeliveryError::Refused {
            reason: "certificate revoked".into(),
        })]);
        let mode = DrainMode::UntilEmpty {
            deadline: Duration::from_secs(10),
        };
        let r = drain(&o, &d, &fast(), mode).await.unwrap();
        assert_eq!(r.refused.as_deref(), Some("certificate revoked"));
        assert_eq!((r.delivered, r.dead, r.remaining), (0, 0, 2));
        assert_eq!(*d.seen.borrow(), vec![keys[0]]);
        assert!(o.dead().unwrap().is_empty());
        let pending = o.pending().unwrap();
        assert_eq!(
            pending[0].last_error.as_deref(),
            Some("refused: certificate revoked")
        );
    }

    #[tokio::test]
    async fn background_worker_delivers_records_enqueued_while_it_runs_and_stops_on_request() {
        let (o, mut keys) = outbox_with(2);
        let d = Scripted::new(vec![retryable("busy", None)]);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let cfg = fast();
        let worker = run(&o, &d, &cfg, Duration::from_millis(20), async {
            let _ = rx.await;
        });
        let feeder = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let k = Uuid::now_v7();
            o.enqueue(k, "{}").unwrap();
            keys.push(k);
            // Wait until everything went out, then stop the worker.
            for _ in 0..500 {
                if o.status().unwrap().pending == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = tx.send(());
        };
        tokio::join!(worker, feeder);
        assert_eq!(o.status().unwrap().pending, 0);
        // The first key was tried twice (one retryable failure), then every key once, in order.
        let seen = d.seen.borrow().clone();
        assert_eq!(seen[0], keys[0]);
        let mut dedup = seen.clone();
        dedup.dedup();
        assert_eq!(dedup, keys);
        for k in &keys {
            assert!(o.receipt(*k).unwrap().is_some());
        }
    }

    struct Hangs;
    impl Deliver for Hangs {
        async fn deliver(&self, _: &Pending) -> Result<Accepted, DeliveryError> {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Accepted {
                ticket: "never".into(),
            })
        }
    }

    #[tokio::test]
    async fn a_hanging_gateway_is_cut_off_by_the_attempt_timeout() {
        let (o, keys) = outbox_with(1);
        let r = drain(&o, &Hangs, &fast(), DrainMode::OnePass)
            .await
            .unwrap();
        assert_eq!((r.delivered, r.retries_scheduled, r.remaining), (0, 1, 1));
        let head = o.head().unwrap().unwrap();
        assert_eq!(head.key(), keys[0]);
        assert!(head.attempts() == 1);
    }
}
