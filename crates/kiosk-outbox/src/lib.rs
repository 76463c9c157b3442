//! `kiosk-outbox` owns the kiosk's durable, encrypted outbox of registrations and the worker that
//! delivers them to the site gateway.
//!
//! - [`store`]: the narrow storage trait and its sled 0.34.7 implementation, which fsyncs after
//!   every commit (facts/sled.md).
//! - [`sealing`]: XChaCha20-Poly1305 for every stored value, key in its own 0600 file.
//! - [`outbox`]: records and their life cycle (pending, delivered receipt, dead letter), the
//!   provisional ticket sequence, status for diagnostics.
//! - [`worker`]: FIFO delivery with exponential backoff, full jitter and `Retry-After`, through
//!   the [`worker::Deliver`] trait so the HTTP client stays outside this crate.
//!
//! - `gateway_delivery` (feature `gateway`): [`worker::Deliver`] over the kiosk-api mTLS client.
//!
//! Nothing personal is readable on disk: keys are random or sequence ids, values are sealed.

pub mod error;
#[cfg(feature = "gateway")]
pub mod gateway_delivery;
pub mod outbox;
pub mod record;
pub mod sealing;
pub mod store;
pub mod worker;

pub use error::OutboxError;
pub use outbox::{
    CheckReport, Outbox, OutboxPaths, Pending, ProvisionalTicket, RecordSummary, Settled, Status,
};
pub use record::{LastError, MAX_BODY, Receipt};
pub use worker::{Accepted, Backoff, Deliver, DeliveryError, DrainMode, DrainReport, WorkerConfig};
