//! End-to-end tests across crates, and the card rig they share: a real `pcscd` with the
//! `vsmartcard-vpcd` reader and a `kiosk-vcard` attached to it.

pub mod fault_proxy;
pub mod outbox_bench_support;
pub mod outbox_rig;
pub mod pcscd;
pub mod rig;
