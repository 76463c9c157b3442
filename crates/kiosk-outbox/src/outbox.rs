//! The outbox itself: durable, encrypted records with their life cycle
//! pending → delivered (receipt only) or pending → dead letter → (technician retry) → pending.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{OutboxError, Result};
use crate::record::{
    DEAD, INDEX, LastError, MAX_BODY, META, PENDING, RECEIPT, Receipt, Record, RecordId, decode,
    encode, record_id_from_key, sanitize_reason, store_key,
};
use crate::sealing::SealingKey;
use crate::store::{Op, SledStore, Store};

/// Where the outbox keeps its files under the kiosk's state directory.
#[derive(Debug, Clone)]
pub struct OutboxPaths {
    /// The sled store.
    pub store: PathBuf,
    /// The 0600 key file, in its own directory, away from the data.
    pub key: PathBuf,
}

impl OutboxPaths {
    pub fn under(state_dir: &Path) -> Self {
        OutboxPaths {
            store: state_dir.join("outbox"),
            key: state_dir.join("keys").join("outbox.key"),
        }
    }
}

/// Current time as Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A provisional ticket number from the kiosk's own durable sequence, shown when the gateway
/// cannot be reached in time. Displayed with a `P-` prefix so it is never mistaken for a number
/// the gateway assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionalTicket {
    /// The kiosk's day the sequence belongs to.
    pub date: time::Date,
    pub number: u32,
    /// Unix time in milliseconds when the number was taken.
    pub issued_ms: i64,
}

#[cfg(feature = "gateway")]
impl ProvisionalTicket {
    /// The number as the API carries it (`Registration::provisional_ticket`,
    /// `DeliveryResult::Offline`), for the registration's `queue`.
    pub fn to_api(&self, queue: &str) -> kiosk_api::v1::ProvisionalTicket {
        let issued_at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.issued_ms) * 1_000_000)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        kiosk_api::v1::ProvisionalTicket {
            queue: queue.to_owned(),
            number: self.number,
            issued_at,
        }
    }
}

impl std::fmt::Display for ProvisionalTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "P-{:04}", self.number)
    }
}

/// A record handed to the delivery worker. The body is zeroized on drop.
pub struct Pending {
    id: RecordId,
    record: Record,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.record.fmt(f)
    }
}

impl Pending {
    pub fn key(&self) -> Uuid {
        self.record.key
    }
    /// The registration as the gateway receives it (personal data: do not log).
    pub fn body(&self) -> &str {
        &self.record.body
    }
    pub fn provisional(&self) -> Option<&str> {
        self.record.provisional.as_deref()
    }
    /// The provisional number with its day and time, when one was assigned to this record.
    pub fn provisional_ticket(&self) -> Option<ProvisionalTicket> {
        self.record.provisional_ticket
    }
    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.record.attempts
    }
    /// Unix ms before which no attempt should be made.
    pub fn not_before_ms(&self) -> i64 {
        self.record.not_before_ms
    }
}

/// What [`Outbox::settle_delivered`] did.
#[derive(Debug)]
pub enum Settled {
    /// The record is delivered; this receipt is all that is left of it.
    Delivered(Receipt),
    /// The record got a provisional number meanwhile: send this copy again.
    SendAgain(Pending),
}

/// What technicians see about one record: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSummary {
    pub key: Uuid,
    pub created_ms: i64,
    pub attempts: u32,
    pub not_before_ms: i64,
    pub last_error: Option<String>,
    pub provisional: Option<String>,
    pub dead_reason: Option<String>,
    pub body_bytes: usize,
}

impl From<&Record> for RecordSummary {
    fn from(r: &Record) -> Self {
        RecordSummary {
            key: r.key,
            created_ms: r.created_ms,
            attempts: r.attempts,
            not_before_ms: r.not_before_ms,
            last_error: r.last_error.clone(),
            provisional: r.provisional.clone(),
            dead_reason: r.dead_reason.clone(),
            body_bytes: r.body.len(),
        }
    }
}

/// Health of the outbox for diagnostics and the status heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Records waiting for delivery.
    pub pending: usize,
    /// Records in the dead-letter list.
    pub dead: usize,
    /// Receipts of delivered records still kept.
    pub delivered: usize,
    /// Age in milliseconds of the oldest pending record.
    pub oldest_pending_age_ms: Option<i64>,
    pub last_error: Option<LastError>,
}

/// Result of a full consistency check (every value decrypted and parsed, index checked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub pending: usize,
    pub dead: usize,
    pub delivered: usize,
    pub index_entries: usize,
}

/// The durable, encrypted outbox.
pub struct Outbox {
    store: Box<dyn Store>,
    key: SealingKey,
    /// Serialises read-modify-write transitions within this process (sled's file lock keeps
    /// other processes out).
    lock: Mutex<()>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

const LAST_ERROR: &[u8] = b"last_error";

impl Outbox {
    /// Opens the outbox under the kiosk's state directory, creating the key and the store on
    /// first use.
    pub fn open(state_dir: &Path) -> Result<Self> {
        let paths = OutboxPaths::under(state_dir);
        let key = SealingKey::load_or_create(&paths.key)?;
        let store = SledStore::open(&paths.store)?;
        Ok(Self::with_store(Box::new(store), key))
    }

    /// An outbox over any store (tests use `MemoryStore`).
    pub fn with_store(store: Box<dyn Store>, key: SealingKey) -> Self {
        Outbox {
            store,
            key,
            lock: Mutex::new(()),
        }
    }

    fn guard(&self) -> Result<MutexGuard<'_, ()>> {
        self.lock
            .lock()
            .map_err(|_| OutboxError::Store("outbox lock poisoned".into()))
    }

    fn seal<T: Serialize>(&self, skey: &[u8], what: &'static str, v: &T) -> Result<Vec<u8>> {
        let plain = encode(what, v)?;
        self.key.seal(skey, &plain)
    }

    fn open_value<T: serde::de::DeserializeOwned>(
        &self,
        skey: &[u8],
        what: &'static str,
        sealed: &[u8],
    ) -> Result<T> {
        let plain = self.key.open(skey, sealed, what)?;
        decode(what, &plain)
    }

    fn index_lookup(&self, key: Uuid) -> Result<Option<RecordId>> {
        let Some(v) = self.store.get(&store_key(INDEX, key.as_bytes()))? else {
            return Ok(None);
        };
        <RecordId>::try_from(v.as_slice())
            .map(Some)
            .map_err(|_| OutboxError::Malformed {
                what: "index",
                reason: format!("index value of {} bytes", v.len()),
            })
    }

    fn load(&self, tree: u8, id: &RecordId) -> Result<Option<Record>> {
        let skey = store_key(tree, id);
        match self.store.get(&skey)? {
            Some(v) => Ok(Some(self.open_value(&skey, "record", &v)?)),
            None => Ok(None),
        }
    }

    /// Writes a registration to the outbox. Returns only when the record is durable (flushed and
    /// fsynced): only then may a ticket be shown or the key be printed.
    pub fn enqueue(&self, key: Uuid, body: &str) -> Result<()> {
        self.enqueue_batch(&[(key, body)])
    }

    /// Stores many registrations in one durable commit (restoring a backup, benchmarks). All or
    /// none are stored; keys must be new and distinct.
    pub fn enqueue_batch(&self, records: &[(Uuid, &str)]) -> Result<()> {
        let _g = self.guard()?;
        let mut ops = Vec::with_capacity(records.len() * 2);
        let mut seen = std::collections::HashSet::new();
        let created_ms = now_ms();
        for (key, body) in records {
            if body.len() > MAX_BODY {
                return Err(OutboxError::TooLarge {
                    len: body.len(),
                    max: MAX_BODY,
                });
            }
            if !seen.insert(*key) || self.index_lookup(*key)?.is_some() {
                return Err(OutboxError::Duplicate(*key));
            }
            let mut id: RecordId = [0; 16];
            id[..8].copy_from_slice(&self.store.next_sequence()?.to_be_bytes());
            rand::rng().fill_bytes(&mut id[8..]);
            let record = Record {
                key: *key,
                created_ms,
                attempts: 0,
                not_before_ms: 0,
                last_error: None,
                provisional: None,
                provisional_ticket: None,
                dead_reason: None,
                body: (*body).to_owned(),
            };
            let skey = store_key(PENDING, &id);
            let sealed = self.seal(&skey, "record", &record)?;
            ops.push(Op::Put(skey, sealed));
            ops.push(Op::Put(store_key(INDEX, key.as_bytes()), id.to_vec()));
        }
        self.store.commit(ops)
    }

    /// Makes every change so far durable (after a drain, before reporting success).
    pub fn sync(&self) -> Result<()> {
        self.store.sync()
    }

    /// The next provisional number for `date` and the write that records it.
    fn provisional_step(&self, date: time::Date) -> Result<(ProvisionalTicket, Op)> {
        let counter_key = store_key(META, format!("provisional/{date}").as_bytes());
        let last: u32 = match self.store.get(&counter_key)? {
            Some(v) => self.open_value(&counter_key, "provisional counter", &v)?,
            None => 0,
        };
        let ticket = ProvisionalTicket {
            date,
            number: last.saturating_add(1),
            issued_ms: now_ms(),
        };
        let counter = self.seal(&counter_key, "provisional counter", &ticket.number)?;
        Ok((ticket, Op::Put(counter_key, counter)))
    }

    /// Takes the next number from the kiosk's durable provisional sequence for `date` (durable
    /// on return). Use it when the gateway is known to be unreachable *before* the registration
    /// is built, so the number travels inside the registration body from its first attempt and
    /// the body never changes under its idempotency key.
    pub fn next_provisional(&self, date: time::Date) -> Result<ProvisionalTicket> {
        let _g = self.guard()?;
        let (ticket, op) = self.provisional_step(date)?;
        self.store.commit(vec![op])?;
        Ok(ticket)
    }

    /// Takes the next provisional number for `date` and attaches it to the pending record `key`
    /// in one durable step. The stored body is not changed: delivery puts the number into the
    /// body's `provisional_ticket` when it sends it (`gateway_delivery`), and it is kept in the
    /// receipt. A record that already has a number keeps it: asking again returns the same one,
    /// so the citizen's slip and the gateway never disagree.
    pub fn assign_provisional(&self, key: Uuid, date: time::Date) -> Result<ProvisionalTicket> {
        let _g = self.guard()?;
        let id = self.index_lookup(key)?.ok_or(OutboxError::NotFound {
            place: "pending",
            key,
        })?;
        let mut record = self.load(PENDING, &id)?.ok_or(OutboxError::NotFound {
            place: "pending",
            key,
        })?;
        if let Some(existing) = record.provisional_ticket {
            return Ok(existing);
        }
        let (ticket, counter) = self.provisional_step(date)?;
        record.provisional = Some(ticket.to_string());
        record.provisional_ticket = Some(ticket);
        let skey = store_key(PENDING, &id);
        let sealed = self.seal(&skey, "record", &record)?;
        self.store.commit(vec![Op::Put(skey, sealed), counter])?;
        Ok(ticket)
    }

    /// The head of the FIFO queue, whether due or not.
    pub fn head(&self) -> Result<Option<Pending>> {
        let Some((k, v)) = self.store.first_with_prefix(&[PENDING])? else {
            return Ok(None);
        };
        let id = record_id_from_key(&k)?;
        let record = self.open_value(&k, "record", &v)?;
        Ok(Some(Pending { id, record }))
    }

    /// Marks `p` delivered: its personal data is deleted and only a receipt is kept.
    ///
    /// This change is applied atomically but made durable lazily (by the next durable commit or
    /// [`sync`](Self::sync)): if a crash undoes it, the record is simply sent again and the
    /// gateway, keyed by the idempotency key, replays its stored answer. That saves an fsync per
    /// delivery when draining a long queue.
    pub fn mark_delivered(&self, p: &Pending, ticket: &str) -> Result<Receipt> {
        let _g = self.guard()?;
        self.write_receipt(p, ticket)
    }

    /// Like [`mark_delivered`](Self::mark_delivered), unless a provisional number was assigned
    /// to the record while `p` (sent without one) was on its way: then the record stays pending
    /// and the fresh copy comes back to be sent once more, so the gateway keeps the number the
    /// citizen was given (it answers the repeat with the same ticket).
    pub fn settle_delivered(&self, p: &Pending, ticket: &str) -> Result<Settled> {
        let _g = self.guard()?;
        if p.record.provisional_ticket.is_none()
            && let Some(stored) = self.load(PENDING, &p.id)?
            && stored.provisional_ticket.is_some()
        {
            return Ok(Settled::SendAgain(Pending {
                id: p.id,
                record: stored,
            }));
        }
        self.write_receipt(p, ticket).map(Settled::Delivered)
    }

    fn write_receipt(&self, p: &Pending, ticket: &str) -> Result<Receipt> {
        let receipt = Receipt {
            key: p.record.key,
            ticket: ticket.chars().take(64).collect(),
            provisional: p.record.provisional.clone(),
            delivered_ms: now_ms(),
        };
        let rkey = store_key(RECEIPT, &p.id);
        let sealed = self.seal(&rkey, "receipt", &receipt)?;
        self.store.commit_relaxed(vec![
            Op::Remove(store_key(PENDING, &p.id)),
            Op::Put(rkey, sealed),
        ])?;
        Ok(receipt)
    }

    /// Records a failed attempt that will be retried at `not_before_ms`.
    pub fn mark_retry(&self, p: &Pending, reason: &str, not_before_ms: i64) -> Result<()> {
        let _g = self.guard()?;
        let skey = store_key(PENDING, &p.id);
        // Re-read: the stored record is the truth (e.g. a provisional number set meanwhile).
        let Some(mut record) = self.load(PENDING, &p.id)? else {
            return Err(OutboxError::NotFound {
                place: "pending",
                key: p.record.key,
            });
        };
        let reason = sanitize_reason(reason);
        record.attempts = record.attempts.saturating_add(1);
        record.not_before_ms = not_before_ms;
        record.last_error = Some(reason.clone());
        let sealed = self.seal(&skey, "record", &record)?;
        let last = self.last_error_op(record.key, reason)?;
        self.store.commit(vec![Op::Put(skey, sealed), last])
    }

    /// Moves `p` to the dead-letter list with the reason (a permanent failure).
    pub fn mark_dead(&self, p: &Pending, reason: &str) -> Result<()> {
        let _g = self.guard()?;
        let Some(mut record) = self.load(PENDING, &p.id)? else {
            return Err(OutboxError::NotFound {
                place: "pending",
                key: p.record.key,
            });
        };
        let reason = sanitize_reason(reason);
        record.attempts = record.attempts.saturating_add(1);
        record.last_error = Some(reason.clone());
        record.dead_reason = Some(reason.clone());
        let dkey = store_key(DEAD, &p.id);
        let sealed = self.seal(&dkey, "record", &record)?;
        let last = self.last_error_op(record.key, reason)?;
        self.store.commit(vec![
            Op::Remove(store_key(PENDING, &p.id)),
            Op::Put(dkey, sealed),
            last,
        ])
    }

    fn last_error_op(&self, key: Uuid, reason: String) -> Result<Op> {
        let mkey = store_key(META, LAST_ERROR);
        let le = LastError {
            at_ms: now_ms(),
            key,
            reason,
        };
        let sealed = self.seal(&mkey, "last error", &le)?;
        Ok(Op::Put(mkey, sealed))
    }

    /// A technician's retry: moves a dead letter back to its place in the queue, due now.
    pub fn retry(&self, key: Uuid) -> Result<()> {
        let _g = self.guard()?;
        let not_dead = OutboxError::NotFound { place: "dead", key };
        let id = self.index_lookup(key)?.ok_or(not_dead)?;
        let Some(mut record) = self.load(DEAD, &id)? else {
            return Err(OutboxError::NotFound { place: "dead", key });
        };
        record.dead_reason = None;
        record.attempts = 0;
        record.not_before_ms = 0;
        let pkey = store_key(PENDING, &id);
        let sealed = self.seal(&pkey, "record", &record)?;
        self.store.commit(vec![
            Op::Remove(store_key(DEAD, &id)),
            Op::Put(pkey, sealed),
        ])
    }

    /// Makes every pending record due now (e.g. a technician's `drain` after fixing the network).
    pub fn make_all_due(&self) -> Result<usize> {
        let _g = self.guard()?;
        let mut ops = Vec::new();
        for entry in self.store.scan_prefix(&[PENDING]) {
            let (k, v) = entry?;
            let mut r: Record = self.open_value(&k, "record", &v)?;
            if r.not_before_ms != 0 {
                r.not_before_ms = 0;
                let sealed = self.seal(&k, "record", &r)?;
                ops.push(Op::Put(k, sealed));
            }
        }
        let n = ops.len();
        if n > 0 {
            self.store.commit(ops)?;
        }
        Ok(n)
    }

    /// Deletes receipts delivered before `before_ms` (all with `i64::MAX`), with their index
    /// entries. Returns how many were removed.
    pub fn purge_delivered(&self, before_ms: i64) -> Result<usize> {
        let _g = self.guard()?;
        let mut ops = Vec::new();
        for entry in self.store.scan_prefix(&[RECEIPT]) {
            let (k, v) = entry?;
            let r: Receipt = self.open_value(&k, "receipt", &v)?;
            if r.delivered_ms < before_ms {
                ops.push(Op::Remove(k));
                ops.push(Op::Remove(store_key(INDEX, r.key.as_bytes())));
            }
        }
        let n = ops.len() / 2;
        if n > 0 {
            self.store.commit(ops)?;
        }
        Ok(n)
    }

    fn summaries(&self, tree: u8) -> Result<Vec<RecordSummary>> {
        self.store
            .scan_prefix(&[tree])
            .map(|entry| {
                let (k, v) = entry?;
                let r: Record = self.open_value(&k, "record", &v)?;
                Ok(RecordSummary::from(&r))
            })
            .collect()
    }

    /// Pending records in delivery order.
    pub fn pending(&self) -> Result<Vec<RecordSummary>> {
        self.summaries(PENDING)
    }

    /// The dead-letter list with reasons.
    pub fn dead(&self) -> Result<Vec<RecordSummary>> {
        self.summaries(DEAD)
    }

    /// Receipts of delivered records.
    pub fn receipts(&self) -> Result<Vec<Receipt>> {
        self.store
            .scan_prefix(&[RECEIPT])
            .map(|entry| {
                let (k, v) = entry?;
                self.open_value(&k, "receipt", &v)
            })
            .collect()
    }

    /// The receipt for `key`, if it was delivered.
    pub fn receipt(&self, key: Uuid) -> Result<Option<Receipt>> {
        let Some(id) = self.index_lookup(key)? else {
            return Ok(None);
        };
        let rkey = store_key(RECEIPT, &id);
        match self.store.get(&rkey)? {
            Some(v) => Ok(Some(self.open_value(&rkey, "receipt", &v)?)),
            None => Ok(None),
        }
    }

    /// Depth, oldest age and last error.
    pub fn status(&self) -> Result<Status> {
        let oldest = self.head()?.map(|p| now_ms() - p.record.created_ms);
        let mkey = store_key(META, LAST_ERROR);
        let last_error = match self.store.get(&mkey)? {
            Some(v) => Some(self.open_value(&mkey, "last error", &v)?),
            None => None,
        };
        Ok(Status {
            pending: self.store.count_prefix(&[PENDING])?,
            dead: self.store.count_prefix(&[DEAD])?,
            delivered: self.store.count_prefix(&[RECEIPT])?,
            oldest_pending_age_ms: oldest,
            last_error,
        })
    }

    /// Decrypts and parses every value and checks that each record is indexed exactly once:
    /// the "store opens cleanly" proof after a crash, and the recovery benchmark.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        // One pass over the index instead of a lookup per record: recovery of a large store
        // must stay well under its 2 s budget.
        let mut index: std::collections::HashMap<Vec<u8>, Vec<u8>> =
            self.store.scan_prefix(&[INDEX]).collect::<Result<_>>()?;
        report.index_entries = index.len();
        for (tree, what) in [(PENDING, "record"), (DEAD, "record"), (RECEIPT, "receipt")] {
            for entry in self.store.scan_prefix(&[tree]) {
                let (k, v) = entry?;
                let id = record_id_from_key(&k)?;
                let key = if tree == RECEIPT {
                    self.open_value::<Receipt>(&k, what, &v)?.key
                } else {
                    self.open_value::<Record>(&k, what, &v)?.key
                };
                // Removing the entry also catches a record that sits in two lists.
                match index.remove(&store_key(INDEX, key.as_bytes())) {
                    Some(indexed) if indexed == id => {}
                    _ => {
                        return Err(OutboxError::Malformed {
                            what: "index",
                            reason: format!("record {key} is not indexed, or indexed twice"),
                        });
                    }
                }
                match tree {
                    PENDING => report.pending += 1,
                    DEAD => report.dead += 1,
                    _ => report.delivered += 1,
                }
            }
        }
        if !index.is_empty() {
            return Err(OutboxError::Malformed {
                what: "index",
                reason: format!("{} index entries point at no record", index.len()),
            });
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn mem() -> Outbox {
        Outbox::with_store(Box::new(MemoryStore::default()), SealingKey::random())
    }

    #[test]
    fn fifo_delivery_keeps_only_a_receipt() {
        let o = mem();
        let keys: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        // Enqueue in an order unrelated to key order: FIFO follows enqueue order.
        for k in keys.iter().rev() {
            o.enqueue(*k, r#"{"name":"x"}"#).unwrap();
        }
        let head = o.head().unwrap().unwrap();
        assert_eq!(head.key(), keys[2]);
        let receipt = o.mark_delivered(&head, "A-001").unwrap();
        assert_eq!(receipt.ticket, "A-001");
        assert_eq!(o.head().unwrap().unwrap().key(), keys[1]);
        assert_eq!(o.receipt(keys[2]).unwrap().unwrap().ticket, "A-001");
        let s = o.status().unwrap();
        assert_eq!((s.pending, s.dead, s.delivered), (2, 0, 1));
        o.check().unwrap();
    }

    #[test]
    fn duplicate_key_is_refused_and_nothing_changes() {
        let o = mem();
        let k = Uuid::now_v7();
        o.enqueue(k, "{}").unwrap();
        assert!(matches!(o.enqueue(k, "{}"), Err(OutboxError::Duplicate(d)) if d == k));
        assert_eq!(o.status().unwrap().pending, 1);
    }

    #[test]
    fn batch_is_all_or_nothing() {
        let o = mem();
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert!(matches!(
            o.enqueue_batch(&[(a, "{}"), (b, "{}"), (a, "{}")]),
            Err(OutboxError::Duplicate(k)) if k == a
        ));
        assert_eq!(o.status().unwrap().pending, 0);
        o.enqueue_batch(&[(a, "{}"), (b, "{}")]).unwrap();
        let keys: Vec<Uuid> = o.pending().unwrap().iter().map(|r| r.key).collect();
        assert_eq!(keys, vec![a, b]);
    }

    #[test]
    fn oversized_body_is_refused() {
        let o = mem();
        let body = "x".repeat(MAX_BODY + 1);
        assert!(matches!(
            o.enqueue(Uuid::now_v7(), &body),
            Err(OutboxError::TooLarge { .. })
        ));
        assert_eq!(o.status().unwrap().pending, 0);
    }

    #[test]
    fn dead_letter_keeps_reason_and_technician_retry_requeues_in_place() {
        let o = mem();
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        o.enqueue(a, "{}").unwrap();
        o.enqueue(b, "{}").unwrap();
        let head = o.head().unwrap().unwrap();
        o.mark_dead(&head, "422: procedure code unknown for 001099012345")
            .unwrap();
        let dead = o.dead().unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].key, a);
        assert_eq!(
            dead[0].dead_reason.as_deref(),
            Some("422: procedure code unknown for 0010******45")
        );
        assert_eq!(o.head().unwrap().unwrap().key(), b);
        assert!(matches!(
            o.retry(b),
            Err(OutboxError::NotFound { place: "dead", .. })
        ));
        o.retry(a).unwrap();
        // Back at its original FIFO position, ahead of b.
        let head = o.head().unwrap().unwrap();
        assert_eq!(head.key(), a);
        assert_eq!(head.attempts(), 0);
        assert!(o.dead().unwrap().is_empty());
        assert_eq!(o.status().unwrap().last_error.unwrap().key, a);
        o.check().unwrap();
    }

    #[test]
    fn retry_schedule_is_recorded() {
        let o = mem();
        let k = Uuid::now_v7();
        o.enqueue(k, "{}").unwrap();
        let head = o.head().unwrap().unwrap();
        o.mark_retry(&head, "connection refused", 12345).unwrap();
        let head = o.head().unwrap().unwrap();
        assert_eq!(head.attempts(), 1);
        assert_eq!(head.not_before_ms(), 12345);
        assert_eq!(o.make_all_due().unwrap(), 1);
        assert_eq!(o.head().unwrap().unwrap().not_before_ms(), 0);
    }

    #[test]
    fn provisional_numbers_count_per_day_and_travel_with_the_record() {
        let o = mem();
        let day = time::macros::date!(2026 - 11 - 27);
        let next = time::macros::date!(2026 - 11 - 28);
        let keys: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        for k in &keys {
            o.enqueue(*k, "{}").unwrap();
        }
        assert_eq!(o.assign_provisional(keys[0], day).unwrap().number, 1);
        let t2 = o.assign_provisional(keys[1], day).unwrap();
        assert_eq!(t2.number, 2);
        assert_eq!(t2.to_string(), "P-0002");
        assert_eq!(o.assign_provisional(keys[2], next).unwrap().number, 1);
        // The standalone sequence is the same one.
        assert_eq!(o.next_provisional(day).unwrap().number, 3);
        // Asking again for the same record gives its number, not a new one.
        let again = o.assign_provisional(keys[1], day).unwrap();
        assert_eq!(again, t2);
        assert_eq!(o.next_provisional(day).unwrap().number, 4);
        let head = o.head().unwrap().unwrap();
        assert_eq!(head.provisional(), Some("P-0001"));
        let meta = head.provisional_ticket().unwrap();
        assert_eq!((meta.date, meta.number), (day, 1));
        let r = o.mark_delivered(&head, "B-7").unwrap();
        assert_eq!(r.provisional.as_deref(), Some("P-0001"));
    }

    #[test]
    fn a_number_assigned_during_delivery_sends_the_record_again() {
        let o = mem();
        let day = time::macros::date!(2026 - 11 - 27);
        let k = Uuid::now_v7();
        o.enqueue(k, "{}").unwrap();
        let sent = o.head().unwrap().unwrap();
        // The kiosk gives up waiting and assigns a number while `sent` is on its way.
        o.assign_provisional(k, day).unwrap();
        let fresh = match o.settle_delivered(&sent, "A-001").unwrap() {
            Settled::SendAgain(fresh) => fresh,
            Settled::Delivered(r) => panic!("delivered without its number: {r:?}"),
        };
        assert_eq!(fresh.provisional(), Some("P-0001"));
        assert_eq!(o.status().unwrap().pending, 1, "still pending");
        match o.settle_delivered(&fresh, "A-001").unwrap() {
            Settled::Delivered(r) => assert_eq!(r.provisional.as_deref(), Some("P-0001")),
            Settled::SendAgain(_) => panic!("sent twice with the number"),
        }
        assert_eq!(o.status().unwrap().pending, 0);
        // Without a number assigned meanwhile, settling is plain delivery.
        let k2 = Uuid::now_v7();
        o.enqueue(k2, "{}").unwrap();
        let head = o.head().unwrap().unwrap();
        assert!(matches!(
            o.settle_delivered(&head, "A-002").unwrap(),
            Settled::Delivered(_)
        ));
    }

    #[test]
    fn purge_removes_receipts_and_their_index() {
        let o = mem();
        let k = Uuid::now_v7();
        o.enqueue(k, "{}").unwrap();
        let head = o.head().unwrap().unwrap();
        o.mark_delivered(&head, "1").unwrap();
        assert_eq!(o.purge_delivered(i64::MAX).unwrap(), 1);
        assert_eq!(o.receipt(k).unwrap(), None);
        let report = o.check().unwrap();
        assert_eq!(report, CheckReport::default());
        // The key may be used again once its receipt is gone.
        o.enqueue(k, "{}").unwrap();
    }

    #[test]
    fn sled_outbox_survives_reopen_and_keeps_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let k = Uuid::now_v7();
        {
            let o = Outbox::open(dir.path()).unwrap();
            o.enqueue(
                k,
                r#"{"full_name":"TRAN THI BICH NGOC","id":"079188001234"}"#,
            )
            .unwrap();
        }
        let o = Outbox::open(dir.path()).unwrap();
        assert_eq!(o.head().unwrap().unwrap().key(), k);
        assert_eq!(o.check().unwrap().pending, 1);
        for entry in walk(dir.path()) {
            let bytes = std::fs::read(&entry).unwrap();
            for needle in [&b"TRAN THI BICH NGOC"[..], b"079188001234"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "plaintext in {entry:?}"
                );
            }
        }
    }

    #[test]
    fn provisional_sequence_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let day = time::macros::date!(2026 - 11 - 27);
        {
            let o = Outbox::open(dir.path()).unwrap();
            assert_eq!(o.next_provisional(day).unwrap().number, 1);
            assert_eq!(o.next_provisional(day).unwrap().number, 2);
        }
        let o = Outbox::open(dir.path()).unwrap();
        assert_eq!(o.next_provisional(day).unwrap().to_string(), "P-0003");
    }

    #[test]
    fn check_reports_dangling_index_and_tampered_values() {
        let dir = tempfile::tempdir().unwrap();
        let k = Uuid::now_v7();
        {
            let o = Outbox::open(dir.path()).unwrap();
            o.enqueue(k, "{}").unwrap();
            assert_eq!(o.check().unwrap().pending, 1);
        }
        let paths = OutboxPaths::under(dir.path());
        {
            let store = SledStore::open(&paths.store).unwrap();
            let stray = Uuid::now_v7();
            store
                .commit(vec![Op::Put(
                    store_key(INDEX, stray.as_bytes()),
                    vec![0; 16],
                )])
                .unwrap();
        }
        let err = Outbox::open(dir.path()).unwrap().check().unwrap_err();
        assert!(err.to_string().contains("point at no record"), "{err}");
        {
            let store = SledStore::open(&paths.store).unwrap();
            let (pk, mut v) = store.first_with_prefix(&[PENDING]).unwrap().unwrap();
            let last = v.len() - 1;
            v[last] ^= 1;
            store.commit(vec![Op::Put(pk, v)]).unwrap();
        }
        let err = Outbox::open(dir.path()).unwrap().check().unwrap_err();
        assert!(matches!(err, OutboxError::Decrypt { .. }), "{err}");
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
