//! Commands out: what the app must do for the core.

use kiosk_api::v1::{InsuranceCheckRequest, Registration};
use kiosk_card::protocol::Password;
use kiosk_qr::payload::Enrolment;

use crate::view::{TicketView, View};

/// Something to do.
#[derive(Debug)]
pub enum Command {
    /// Read the card on the reader with these passwords (CAN first, then MRZ keys). A read that
    /// stopped because the card was removed continues when this comes again.
    StartCardRead { passwords: Vec<Password> },
    /// Stop the read in progress and forget what it read.
    CancelCardRead,
    /// Ask the gateway for the insurance answer (only after the citizen ticked that consent).
    CheckInsurance(InsuranceCheckRequest),
    /// Write the registration to the outbox and deliver it. A retry carries the same
    /// idempotency key.
    Submit(Box<Registration>),
    /// Print the ticket.
    PrintTicket(TicketView),
    /// Render this screen.
    Show(Box<View>),
    /// Drop every piece of personal data the app holds for the session (UI models, photo).
    ClearPersonalData,
    /// Gather a diagnostics snapshot and answer with [`Event::Diagnostics`] (given every few
    /// seconds while the technician screen is open).
    ///
    /// [`Event::Diagnostics`]: crate::Event::Diagnostics
    RefreshDiagnostics,
    /// Move a dead letter back to the delivery queue.
    RetryDeadLetter(String),
    /// Enrol with the gateway named in this QR; answer with [`Event::EnrolFinished`].
    ///
    /// [`Event::EnrolFinished`]: crate::Event::EnrolFinished
    Enrol(Box<Enrolment>),
}
