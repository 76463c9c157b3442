//! The card rig: a real pcscd with the vpcd reader ([`crate::pcscd`]) and a `kiosk-vcard` chip
//! attached to vpcd's socket on a thread of this process, personalised from a sample profile.
//! The test CSCA is written to a temporary trust folder for the reader to trust.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use kiosk_vcard::vpcd::{self, VpcdOptions};
use kiosk_vcard::{Faults, Options, Profile, personalise};

use crate::pcscd::{Pcscd, VPCD_PORT, VPCD_READER, wait_for_card};

/// How long the reader may take to report the card (pcscd polls vpcd about every 400 ms).
const CARD_TIMEOUT: Duration = Duration::from_secs(10);

/// The sample profiles that ship with `kiosk-vcard`.
pub fn sample_profile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/kiosk-vcard/profiles")
        .join(name)
}

/// A running rig. Dropping it removes the card and stops what it started.
pub struct CardRig {
    card: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
    trust: tempfile::TempDir,
    profile: Profile,
    // Dropped last: the card goes before pcscd.
    _pcscd: Pcscd,
}

impl std::fmt::Debug for CardRig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardRig").finish_non_exhaustive()
    }
}

impl CardRig {
    /// Starts pcscd (or takes the machine's), personalises a chip from `profile` with `faults`,
    /// attaches it to vpcd and waits until the reader reports it.
    pub fn start(profile: &Path, faults: Faults) -> Result<Self> {
        let pcscd = Pcscd::acquire()?;
        let loaded =
            Profile::load(profile).with_context(|| format!("loading {}", profile.display()))?;
        let personalised = personalise(
            &loaded,
            &Options {
                faults,
                ..Options::default()
            },
        )?;
        let trust = tempfile::tempdir()?;
        std::fs::write(trust.path().join("csca.pem"), personalised.pki.csca_pem()?)?;

        let stop = Arc::new(AtomicBool::new(false));
        let mut chip = personalised.chip;
        let opts = VpcdOptions {
            addr: format!("127.0.0.1:{VPCD_PORT}"),
            ..VpcdOptions::default()
        };
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("vcard".into())
                .spawn(move || {
                    if let Err(e) = vpcd::run(&mut chip, &opts, &stop, |_| {}) {
                        eprintln!("virtual card: {e}");
                    }
                })?
        };
        let rig = Self {
            card: Some((stop, thread)),
            trust,
            profile: loaded,
            _pcscd: pcscd,
        };
        wait_for_card(VPCD_READER, true, CARD_TIMEOUT)?;
        Ok(rig)
    }

    /// The reader the card is in.
    pub fn reader(&self) -> &'static str {
        VPCD_READER
    }

    /// A folder holding the test CSCA that signed this card's Document Signer.
    pub fn trust_dir(&self) -> &Path {
        self.trust.path()
    }

    /// The citizen on the card.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Takes the card away and waits until the reader has seen it go.
    pub fn remove_card(&mut self) -> Result<()> {
        if let Some((stop, thread)) = self.card.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
        wait_for_card(VPCD_READER, false, CARD_TIMEOUT)
    }
}

impl Drop for CardRig {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.card.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }
}
