//! `kiosk-vcard` is a virtual CCCD chip (Vietnam's chip ID card, an ICAO 9303 eMRTD) for tests,
//! the card rig and the demo. It owns:
//! - citizen profiles ([`profile`]): fictional personal data in TOML/JSON, validated;
//! - personalisation ([`personalise`]): the LDS files, keys and a test PKI (CSCA → DS → SOD);
//! - the chip ([`engine`]): an APDU engine over an ISO 7816 file system ([`fs`]) answering
//!   SELECT, READ BINARY, BAC, PACE, CA and AA under secure messaging, with fault injection
//!   ([`fault`]);
//! - attachment: in-process as a [`kiosk_card::CardTransport`] ([`transport`]) or to pcscd
//!   through vpcd's socket ([`vpcd`]).
//!
//! The protocol steps themselves (secure messaging, BAC, PACE, CA, AA), the LDS encoders and
//! the explicit-curve ECDSA come from `kiosk-card`; this crate calls them from the chip's side.
//! All data it carries is fictional; the keys are generated from a seed and are test keys.
//!
//! Use from a test (in-process, no pcscd):
//!
//! ```text
//! let profile = Profile::load(Path::new("crates/kiosk-vcard/profiles/an.toml"))?;
//! let opts = Options { seed: 1, faults: Faults::none().with(Fault::CorruptDg), ..Default::default() };
//! let Personalised { chip, pki } = personalise(&profile, &opts)?;
//! let card = InProcessCard::new(chip);          // a kiosk_card::CardTransport
//! let csca_pem = pki.csca_pem()?;               // trust this to verify the SOD
//! ```
//!
//! From the command line (the card rig): `kiosk-vcard --profile FILE --write-trust DIR
//! [--vpcd 127.0.0.1:35963] [--fault NAME]... [--seed N] [--aa ecdsa|rsa1024|rsa2048]`.

pub mod auth;
pub mod engine;
pub mod error;
pub mod fault;
pub mod fs;
pub mod personalise;
pub mod photo;
pub mod pki;
pub mod profile;
pub mod random;
pub mod transport;
pub mod vpcd;

pub use engine::{Answer, Chip};
pub use error::{Error, Result};
pub use fault::{Fault, Faults};
pub use personalise::{Options, Personalised, personalise};
pub use profile::Profile;
pub use transport::{CardHandle, InProcessCard};
