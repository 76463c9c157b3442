//! Commands out: what the app must do for the core.

use kiosk_api::v1::{InsuranceCheckRequest, Registration};
use kiosk_card::protocol::Password;

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
}
