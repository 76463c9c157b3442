//! Persistence behind the [`Store`] trait, so a site that outgrows one machine can add a
//! PostgreSQL implementation; [`SqliteStore`] is the embedded default (WAL, migrations by
//! `PRAGMA user_version`). Registration bodies arrive here already sealed (see `seal.rs`).
//!
//! Queue numbers are assigned inside the same immediate transaction that stores the registration,
//! from a per (site, queue, day) counter row: a number is used exactly when its registration is
//! committed, so there are no duplicates and no gaps, however many kiosks submit at once.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use kiosk_api::v1::{ProvisionalTicket, Ticket};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};

/// File name of the database inside the state directory.
pub const DB_FILE: &str = "gateway.db";

/// A registration ready to be stored; the ticket is made once its number is known.
pub struct NewRegistration<'a> {
    pub key: String,
    pub kiosk_id: &'a str,
    pub site_id: &'a str,
    pub kind: &'static str,
    pub queue: &'a str,
    pub service_day: Date,
    pub body_sha256: [u8; 32],
    pub body_sealed: Vec<u8>,
    pub provisional: Option<String>,
    pub received_at: OffsetDateTime,
}

/// What storing a registration did.
#[derive(Debug)]
pub enum SubmitOutcome {
    /// Stored now, with this ticket.
    Created(Ticket),
    /// The key was already stored, with this body hash and ticket.
    Existing {
        body_sha256: Vec<u8>,
        ticket: Ticket,
    },
}

/// One stored registration, for operators.
#[derive(Debug)]
pub struct RegistrationRow {
    pub key: String,
    pub kiosk_id: String,
    pub kind: String,
    pub ticket: Ticket,
    pub provisional: Option<String>,
    pub received_at: OffsetDateTime,
    pub body_sealed: Vec<u8>,
    /// Outcome of the last FHIR forward: `forwarded`, `failed: …`, or none yet.
    pub forward_state: Option<String>,
}

/// An enrolled kiosk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KioskRecord {
    pub kiosk_id: String,
    pub site_id: String,
    pub label: Option<String>,
    pub serial: String,
    pub not_after: OffsetDateTime,
    pub enrolled_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_seen: Option<OffsetDateTime>,
    /// The last heartbeat, JSON (device health and outbox depth; no personal data).
    pub last_status: Option<String>,
}

/// An enrolment token as stored (only its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub site_id: String,
    pub expires_at: OffsetDateTime,
}

/// Everything the gateway keeps.
pub trait Store: Send + Sync {
    /// Stores a registration and numbers it, or reports the one already stored under its key.
    fn submit(
        &self,
        new: NewRegistration<'_>,
        make_ticket: &dyn Fn(u32) -> Ticket,
    ) -> Result<SubmitOutcome>;
    /// Records the provisional number a kiosk sent with a retry of the stored registration `key`
    /// and returns the ticket as now stored (`None`: no such key). A number already stored is
    /// never replaced, and the gateway's own number never changes.
    fn attach_provisional(
        &self,
        key: &str,
        provisional: &ProvisionalTicket,
    ) -> Result<Option<Ticket>>;
    /// The stored ticket for a key.
    fn ticket(&self, key: &str) -> Result<Option<Ticket>>;
    /// Registrations received at or after `since`, oldest first.
    fn registrations(&self, since: Option<OffsetDateTime>) -> Result<Vec<RegistrationRow>>;
    /// How many registrations are stored.
    fn registration_count(&self) -> Result<u64>;
    /// Clinic visits not (yet) accepted by the FHIR server, oldest first.
    fn unforwarded(&self) -> Result<Vec<RegistrationRow>>;
    /// Records the outcome of forwarding to the hospital system.
    fn set_forward_state(&self, key: &str, state: &str) -> Result<()>;

    /// Stores a new enrolment token by its hash.
    fn add_token(&self, token_sha256: &str, token: &TokenRecord) -> Result<()>;
    /// Marks a token used if it exists, is unused and unexpired; single use is atomic.
    fn consume_token(&self, token_sha256: &str, now: OffsetDateTime)
    -> Result<Option<TokenRecord>>;

    /// Adds (or, on renewal, replaces the certificate of) a kiosk.
    fn put_kiosk(&self, kiosk: &KioskRecord) -> Result<()>;
    /// The kiosk owning a certificate serial (any of its certificates, current or past).
    fn kiosk_by_serial(&self, serial: &str) -> Result<Option<KioskRecord>>;
    /// All kiosks.
    fn kiosks(&self) -> Result<Vec<KioskRecord>>;
    /// Revokes a kiosk and all its certificates; false when unknown.
    fn revoke_kiosk(&self, kiosk_id: &str, at: OffsetDateTime) -> Result<bool>;
    /// Records a heartbeat.
    fn record_status(&self, kiosk_id: &str, at: OffsetDateTime, status_json: &str) -> Result<()>;

    /// Demo insurance table: sealed answer by hashed ID number.
    fn insurance_card(&self, id_hash: &str) -> Result<Option<Vec<u8>>>;
    /// Adds a row to the demo insurance table.
    fn put_insurance_card(&self, id_hash: &str, sealed: &[u8]) -> Result<()>;
}

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE registrations (
    idempotency_key TEXT PRIMARY KEY,
    kiosk_id        TEXT NOT NULL,
    site_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    queue           TEXT NOT NULL,
    service_day     TEXT NOT NULL,
    number          INTEGER NOT NULL,
    body_sha256     BLOB NOT NULL,
    body_sealed     BLOB NOT NULL,
    ticket          TEXT NOT NULL,
    provisional     TEXT,
    received_unix   INTEGER NOT NULL,
    forward_state   TEXT,
    UNIQUE (site_id, queue, service_day, number)
);
CREATE INDEX registrations_received ON registrations (received_unix);
CREATE TABLE queue_counters (
    site_id     TEXT NOT NULL,
    queue       TEXT NOT NULL,
    service_day TEXT NOT NULL,
    last        INTEGER NOT NULL,
    PRIMARY KEY (site_id, queue, service_day)
);
CREATE TABLE tokens (
    token_sha256 TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL,
    expires_unix INTEGER NOT NULL,
    used_unix    INTEGER
);
CREATE TABLE kiosks (
    kiosk_id      TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL,
    label         TEXT,
    serial        TEXT NOT NULL,
    not_after     INTEGER NOT NULL,
    enrolled_unix INTEGER NOT NULL,
    revoked_unix  INTEGER,
    last_seen     INTEGER,
    last_status   TEXT
);
CREATE TABLE certificates (
    serial    TEXT PRIMARY KEY,
    kiosk_id  TEXT NOT NULL REFERENCES kiosks (kiosk_id)
);
CREATE TABLE insurance_cards (
    id_hash TEXT PRIMARY KEY,
    sealed  BLOB NOT NULL
);
"#];

/// The embedded SQLite store. One connection behind a mutex: SQLite serialises writers anyway,
/// and this keeps numbering trivially atomic.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Store(format!(
                "could not enable WAL (journal_mode is {mode})"
            )));
        }
        // FULL: a committed registration survives a power cut (its ticket was shown).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Store("connection lock poisoned".into()))
    }
}

impl SqliteStore {
    /// Registration rows matching `filter` (which may use `?1` = `arg`), oldest first.
    fn rows(&self, filter: &str, arg: i64) -> Result<Vec<RegistrationRow>> {
        let conn = self.lock()?;
        // `?1 = ?1` keeps the parameter bound when the filter does not use it.
        let mut stmt = conn.prepare(&format!(
            "SELECT idempotency_key, kiosk_id, kind, ticket, provisional, received_unix,
                    body_sealed, forward_state
             FROM registrations {filter} AND ?1 = ?1 ORDER BY received_unix, rowid"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Vec<u8>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, kiosk_id, kind, ticket, provisional, received, body_sealed, forward_state) =
                row?;
            out.push(RegistrationRow {
                key,
                kiosk_id,
                kind,
                ticket: ticket_from_json(&ticket)?,
                provisional,
                received_at: from_unix(received)?,
                body_sealed,
                forward_state,
            });
        }
        Ok(out)
    }
}

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(Error::Store(format!(
            "database schema version {version} is newer than this gateway ({known})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// How operators see a kiosk's provisional number (`registrations list`): as the citizen's
/// slip shows it (`T-NOI-003`).
pub fn provisional_display(p: &ProvisionalTicket) -> String {
    p.display()
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_unix(n: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(n).map_err(|e| Error::Store(format!("bad time: {e}")))
}

fn ticket_from_json(text: &str) -> Result<Ticket> {
    serde_json::from_str(text).map_err(|e| Error::Store(format!("stored ticket unreadable: {e}")))
}

fn kiosk_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KioskRow> {
    Ok(KioskRow {
        kiosk_id: r.get(0)?,
        site_id: r.get(1)?,
        label: r.get(2)?,
        serial: r.get(3)?,
        not_after: r.get(4)?,
        enrolled: r.get(5)?,
        revoked: r.get(6)?,
        last_seen: r.get(7)?,
        last_status: r.get(8)?,
    })
}

struct KioskRow {
    kiosk_id: String,
    site_id: String,
    label: Option<String>,
    serial: String,
    not_after: i64,
    enrolled: i64,
    revoked: Option<i64>,
    last_seen: Option<i64>,
    last_status: Option<String>,
}

impl KioskRow {
    fn into_record(self) -> Result<KioskRecord> {
        Ok(KioskRecord {
            kiosk_id: self.kiosk_id,
            site_id: self.site_id,
            label: self.label,
            serial: self.serial,
            not_after: from_unix(self.not_after)?,
            enrolled_at: from_unix(self.enrolled)?,
            revoked_at: self.revoked.map(from_unix).transpose()?,
            last_seen: self.last_seen.map(from_unix).transpose()?,
            last_status: self.last_status,
        })
    }
}

const KIOSK_COLUMNS: &str = "k.kiosk_id, k.site_id, k.label, k.serial, k.not_after, \
     k.enrolled_unix, k.revoked_unix, k.last_seen, k.last_status";

impl Store for SqliteStore {
    fn submit(
        &self,
        new: NewRegistration<'_>,
        make_ticket: &dyn Fn(u32) -> Ticket,
    ) -> Result<SubmitOutcome> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<(Vec<u8>, String)> = tx
            .query_row(
                "SELECT body_sha256, ticket FROM registrations WHERE idempotency_key = ?1",
                [&new.key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((body_sha256, ticket)) = existing {
            return Ok(SubmitOutcome::Existing {
                body_sha256,
                ticket: ticket_from_json(&ticket)?,
            });
        }
        let day = new.service_day.to_string();
        let number: i64 = tx.query_row(
            "INSERT INTO queue_counters (site_id, queue, service_day, last) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (site_id, queue, service_day) DO UPDATE SET last = last + 1
             RETURNING last",
            params![new.site_id, new.queue, day],
            |r| r.get(0),
        )?;
        let number = u32::try_from(number)
            .map_err(|_| Error::Store(format!("queue counter out of range: {number}")))?;
        let ticket = make_ticket(number);
        let ticket_json =
            serde_json::to_string(&ticket).map_err(|e| Error::Store(e.to_string()))?;
        tx.execute(
            "INSERT INTO registrations (idempotency_key, kiosk_id, site_id, kind, queue,
                 service_day, number, body_sha256, body_sealed, ticket, provisional,
                 received_unix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                new.key,
                new.kiosk_id,
                new.site_id,
                new.kind,
                new.queue,
                day,
                number,
                &new.body_sha256[..],
                new.body_sealed,
                ticket_json,
                new.provisional,
                unix(new.received_at),
            ],
        )?;
        tx.commit()?;
        Ok(SubmitOutcome::Created(ticket))
    }

    fn attach_provisional(
        &self,
        key: &str,
        provisional: &ProvisionalTicket,
    ) -> Result<Option<Ticket>> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT ticket, provisional FROM registrations WHERE idempotency_key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((ticket_json, column)) = stored else {
            return Ok(None);
        };
        let mut ticket = ticket_from_json(&ticket_json)?;
        if column.is_some() || ticket.provisional_ticket.is_some() {
            return Ok(Some(ticket));
        }
        ticket.provisional_ticket = Some(provisional.clone());
        let ticket_json =
            serde_json::to_string(&ticket).map_err(|e| Error::Store(e.to_string()))?;
        tx.execute(
            "UPDATE registrations SET ticket = ?2, provisional = ?3
             WHERE idempotency_key = ?1 AND provisional IS NULL",
            params![key, ticket_json, provisional_display(provisional)],
        )?;
        tx.commit()?;
        Ok(Some(ticket))
    }

    fn ticket(&self, key: &str) -> Result<Option<Ticket>> {
        let conn = self.lock()?;
        let text: Option<String> = conn
            .query_row(
                "SELECT ticket FROM registrations WHERE idempotency_key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| ticket_from_json(&t)).transpose()
    }

    fn registrations(&self, since: Option<OffsetDateTime>) -> Result<Vec<RegistrationRow>> {
        self.rows(
            "WHERE received_unix >= ?1",
            since.map(unix).unwrap_or(i64::MIN),
        )
    }

    fn unforwarded(&self) -> Result<Vec<RegistrationRow>> {
        self.rows(
            "WHERE kind = 'clinic_visit' \
             AND (forward_state IS NULL OR forward_state <> 'forwarded')",
            0,
        )
    }

    fn registration_count(&self) -> Result<u64> {
        let conn = self.lock()?;
        let n: i64 = conn.query_row("SELECT count(*) FROM registrations", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn set_forward_state(&self, key: &str, state: &str) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE registrations SET forward_state = ?2 WHERE idempotency_key = ?1",
            params![key, state],
        )?;
        Ok(())
    }

    fn add_token(&self, token_sha256: &str, token: &TokenRecord) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO tokens (token_sha256, site_id, expires_unix) VALUES (?1, ?2, ?3)",
            params![token_sha256, token.site_id, unix(token.expires_at)],
        )?;
        Ok(())
    }

    fn consume_token(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TokenRecord>> {
        let conn = self.lock()?;
        let row: Option<(String, i64)> = conn
            .query_row(
                "UPDATE tokens SET used_unix = ?2
                 WHERE token_sha256 = ?1 AND used_unix IS NULL AND expires_unix > ?2
                 RETURNING site_id, expires_unix",
                params![token_sha256, unix(now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(site_id, exp)| {
            Ok(TokenRecord {
                site_id,
                expires_at: from_unix(exp)?,
            })
        })
        .transpose()
    }

    fn put_kiosk(&self, k: &KioskRecord) -> Result<()> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO kiosks (kiosk_id, site_id, label, serial, not_after, enrolled_unix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (kiosk_id) DO UPDATE SET serial = ?4, not_after = ?5",
            params![
                k.kiosk_id,
                k.site_id,
                k.label,
                k.serial,
                unix(k.not_after),
                unix(k.enrolled_at)
            ],
        )?;
        tx.execute(
            "INSERT INTO certificates (serial, kiosk_id) VALUES (?1, ?2)",
            params![k.serial, k.kiosk_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn kiosk_by_serial(&self, serial: &str) -> Result<Option<KioskRecord>> {
        let conn = self.lock()?;
        let row = conn
            .query_row(
                &format!(
                    "SELECT {KIOSK_COLUMNS} FROM certificates c JOIN kiosks k
                     ON k.kiosk_id = c.kiosk_id WHERE c.serial = ?1"
                ),
                [serial],
                kiosk_from_row,
            )
            .optional()?;
        row.map(KioskRow::into_record).transpose()
    }

    fn kiosks(&self) -> Result<Vec<KioskRecord>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {KIOSK_COLUMNS} FROM kiosks k ORDER BY k.kiosk_id"
        ))?;
        let rows = stmt.query_map([], kiosk_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.into_record()?);
        }
        Ok(out)
    }

    fn revoke_kiosk(&self, kiosk_id: &str, at: OffsetDateTime) -> Result<bool> {
        let conn = self.lock()?;
        let n = conn.execute(
            "UPDATE kiosks SET revoked_unix = coalesce(revoked_unix, ?2) WHERE kiosk_id = ?1",
            params![kiosk_id, unix(at)],
        )?;
        Ok(n > 0)
    }

    fn record_status(&self, kiosk_id: &str, at: OffsetDateTime, status_json: &str) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE kiosks SET last_seen = ?2, last_status = ?3 WHERE kiosk_id = ?1",
            params![kiosk_id, unix(at), status_json],
        )?;
        Ok(())
    }

    fn insurance_card(&self, id_hash: &str) -> Result<Option<Vec<u8>>> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT sealed FROM insurance_cards WHERE id_hash = ?1",
                [id_hash],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put_insurance_card(&self, id_hash: &str, sealed: &[u8]) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO insurance_cards (id_hash, sealed) VALUES (?1, ?2)
             ON CONFLICT (id_hash) DO UPDATE SET sealed = ?2",
            params![id_hash, sealed],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_api::v1::IdempotencyKey;
    use time::macros::{date, datetime};

    fn submit(store: &SqliteStore, queue: &str, day: Date) -> (String, SubmitOutcome) {
        let key = IdempotencyKey::new();
        let outcome = submit_key(store, key, queue, day, [1; 32]);
        (key.to_string(), outcome)
    }

    fn submit_key(
        store: &SqliteStore,
        key: IdempotencyKey,
        queue: &str,
        day: Date,
        hash: [u8; 32],
    ) -> SubmitOutcome {
        let q = queue.to_string();
        store
            .submit(
                NewRegistration {
                    key: key.to_string(),
                    kiosk_id: "k1",
                    site_id: "s1",
                    kind: "clinic_visit",
                    queue,
                    service_day: day,
                    body_sha256: hash,
                    body_sealed: vec![0; 40],
                    provisional: None,
                    received_at: datetime!(2026-11-26 01:00 UTC),
                },
                &|number| Ticket {
                    idempotency_key: key,
                    queue: q.clone(),
                    number,
                    display: format!("{q}-{number:03}"),
                    counter_or_room: "P1".into(),
                    estimated_wait_minutes: 0,
                    service_day: day,
                    issued_at: datetime!(2026-11-26 01:00 UTC),
                    provisional_ticket: None,
                },
            )
            .unwrap()
    }

    fn number(o: &SubmitOutcome) -> u32 {
        match o {
            SubmitOutcome::Created(t) => t.number,
            SubmitOutcome::Existing { .. } => panic!("expected a new registration"),
        }
    }

    #[test]
    fn numbers_are_per_queue_and_per_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let d1 = date!(2026 - 11 - 26);
        let d2 = date!(2026 - 11 - 27);
        assert_eq!(number(&submit(&store, "A", d1).1), 1);
        assert_eq!(number(&submit(&store, "A", d1).1), 2);
        assert_eq!(number(&submit(&store, "B", d1).1), 1);
        assert_eq!(
            number(&submit(&store, "A", d2).1),
            1,
            "a new day starts at 1"
        );
        assert_eq!(number(&submit(&store, "A", d1).1), 3);
        assert_eq!(store.registration_count().unwrap(), 5);
    }

    #[test]
    fn an_existing_key_returns_its_hash_and_ticket_and_uses_no_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let day = date!(2026 - 11 - 26);
        let key = IdempotencyKey::new();
        let first = submit_key(&store, key, "A", day, [7; 32]);
        assert_eq!(number(&first), 1);
        match submit_key(&store, key, "A", day, [8; 32]) {
            SubmitOutcome::Existing {
                body_sha256,
                ticket,
            } => {
                assert_eq!(body_sha256, vec![7; 32]);
                assert_eq!(ticket.number, 1);
            }
            SubmitOutcome::Created(_) => panic!("stored twice"),
        }
        assert_eq!(
            number(&submit(&store, "A", day).1),
            2,
            "no gap after a repeat"
        );
    }

    #[test]
    fn a_provisional_number_is_attached_once_and_never_changes_the_ticket() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let day = date!(2026 - 11 - 26);
        let key = IdempotencyKey::new();
        let first = match submit_key(&store, key, "A", day, [7; 32]) {
            SubmitOutcome::Created(t) => t,
            SubmitOutcome::Existing { .. } => panic!("expected a new registration"),
        };
        let p = |number| ProvisionalTicket {
            queue: "A".into(),
            number,
            issued_at: datetime!(2026-11-26 00:59 UTC),
        };
        let attached = store
            .attach_provisional(&key.to_string(), &p(4))
            .unwrap()
            .unwrap();
        assert_eq!(attached.provisional_ticket, Some(p(4)));
        assert_eq!(
            (attached.number, &attached.display, attached.issued_at),
            (first.number, &first.display, first.issued_at),
            "the gateway's own number is unchanged"
        );
        // A second, different number never overwrites the first.
        let again = store
            .attach_provisional(&key.to_string(), &p(9))
            .unwrap()
            .unwrap();
        assert_eq!(again.provisional_ticket, Some(p(4)));
        assert_eq!(store.ticket(&key.to_string()).unwrap(), Some(attached));
        let rows = store.registrations(None).unwrap();
        assert_eq!(rows[0].provisional.as_deref(), Some("T-A-004"));
        assert_eq!(
            store
                .attach_provisional(&IdempotencyKey::new().to_string(), &p(1))
                .unwrap(),
            None,
            "unknown key"
        );
        assert_eq!(store.registration_count().unwrap(), 1);
    }

    #[test]
    fn tokens_are_single_use_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let now = datetime!(2026-11-26 01:00 UTC);
        let token = TokenRecord {
            site_id: "s1".into(),
            expires_at: now + time::Duration::minutes(30),
        };
        store.add_token("h1", &token).unwrap();
        store.add_token("h2", &token).unwrap();
        assert_eq!(store.consume_token("h1", now).unwrap(), Some(token.clone()));
        assert_eq!(store.consume_token("h1", now).unwrap(), None, "used");
        assert_eq!(store.consume_token("nope", now).unwrap(), None);
        let late = now + time::Duration::minutes(31);
        assert_eq!(store.consume_token("h2", late).unwrap(), None, "expired");
    }

    #[test]
    fn reopening_keeps_data_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let store = SqliteStore::open(&path).unwrap();
            submit(&store, "A", date!(2026 - 11 - 26));
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.registration_count().unwrap(), 1);
        let conn = store.lock().unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        drop(store);
        let err = SqliteStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer than this gateway"), "{err}");
    }
}
