//! `kiosk-core` owns the kiosk's session: the state machine from the attract screen to the
//! ticket and back ([`state::Kiosk`]), the events it takes ([`event`]) and the commands it gives
//! ([`command`]), the view model the UI renders ([`view`]) with the text of every screen
//! ([`messages`]), building the gateway registration ([`registration`]) from the identity
//! ([`identity`]), the kiosk's configuration ([`config`]) and the technician PIN ([`pin`]).
//!
//! It is pure: no I/O (except reading the config file), no threads, no clock. Devices, the
//! outbox and the UI live in `kiosk-app` and only feed events in and carry commands out, so every
//! flow runs in a unit test.

pub mod command;
pub mod config;
pub mod error;
pub mod event;
pub mod identity;
pub mod messages;
pub mod pin;
pub mod registration;
pub mod state;
pub mod view;

pub use command::Command;
pub use config::Config;
pub use error::{Error, Result};
pub use event::{Action, Event};
pub use state::{Kiosk, Settings, State, TechnicianSettings};
pub use view::View;
