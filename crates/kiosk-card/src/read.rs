//! Reading a CCCD end to end, the "card service" above the protocols: open the chip (PACE, else
//! BAC), read the files in the kiosk's order (DG13 first, DG2 last), run Chip and Active
//! Authentication when the card offers them, and passive authentication over everything read.
//!
//! A [`CardRead`] survives interruptions: when the chip drops secure messaging mid-file it is
//! re-opened on the same transport and the file continues from its last offset; when the card is
//! taken away, [`CardRead::run`] returns [`Error::CardRemoved`] and can be called again with a new
//! transport once the card is back, continuing where it stopped (same card: the passwords check
//! that).

use std::time::SystemTime;

use crate::access::{self, Access, AccessOptions, AccessProtocol};
use crate::crypto::{OsRandom, RandomSource};
use crate::error::{Error, Result};
use crate::files::{FileId, FileRead, ReadProfile, resume};
use crate::lds::dg14::Dg14;
use crate::lds::dg15::Dg15;
use crate::lds::sod::Sod;
use crate::lds::{LdsFile, read_order};
use crate::pa::ecdsa::verify_plain_with_spki;
use crate::pa::passive_authentication;
use crate::pa::trust::TrustStore;
use crate::protocol::{Password, aa, ca};
use crate::record::CitizenRecord;
use crate::sm::SecureChannel;
use crate::transport::CardTransport;
use crate::verification::{Check, Verification};

/// What to do beyond reading the text data groups.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Read DG2 (the photo), last.
    pub photo: bool,
    /// Run Chip Authentication when DG14 offers it.
    pub chip_authentication: bool,
    /// Run Active Authentication when DG15 is present.
    pub active_authentication: bool,
    /// How often a dropped secure-messaging session is re-opened within one [`CardRead::run`].
    pub max_reopen: u32,
    /// Access protocol choices.
    pub access: AccessOptions,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            photo: true,
            chip_authentication: true,
            active_authentication: true,
            max_reopen: 2,
            access: AccessOptions::default(),
        }
    }
}

/// What the caller is told as the read goes on (e.g. to show the name before the photo loads).
#[derive(Debug)]
pub enum Progress<'a> {
    /// The chip is open.
    Opened { protocol: &'a AccessProtocol },
    /// A file has been read and added to the record.
    FileRead {
        file: LdsFile,
        bytes: usize,
        record: &'a CitizenRecord,
    },
    /// Chip Authentication ran (or could not).
    ChipAuthentication { check: &'a Check },
    /// Active Authentication ran (or could not).
    ActiveAuthentication { check: &'a Check },
    /// The chip dropped the session; it is being re-opened to continue.
    Reopening { reason: &'a Error },
}

/// The outcome: the record and the report.
#[derive(Debug)]
pub struct CardReadResult {
    pub record: CitizenRecord,
    pub verification: Verification,
    /// How the chip was opened.
    pub protocol: Option<AccessProtocol>,
}

/// A card read in progress. Keep it across card removals to resume.
pub struct CardRead<'t> {
    passwords: Vec<Password>,
    trust: &'t TrustStore,
    options: ReadOptions,
    profile: ReadProfile,
    rng: Box<dyn RandomSource>,
    record: CitizenRecord,
    plan: Option<Vec<LdsFile>>,
    partial: Option<(LdsFile, FileRead)>,
    verification: Verification,
    protocol: Option<AccessProtocol>,
    ca_done: bool,
    aa_done: bool,
}

impl std::fmt::Debug for CardRead<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardRead")
            .field("record", &self.record)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl<'t> CardRead<'t> {
    /// A read with the access passwords to try (CAN first, then MRZ keys; see
    /// [`access::citizen_passwords`]) and the CSCA trust store for passive authentication.
    pub fn new(passwords: Vec<Password>, trust: &'t TrustStore, options: ReadOptions) -> Self {
        Self::with_rng(passwords, trust, options, Box::new(OsRandom))
    }

    /// Like [`new`](Self::new) with a chosen randomness source (tests, benchmarks).
    pub fn with_rng(
        passwords: Vec<Password>,
        trust: &'t TrustStore,
        options: ReadOptions,
        rng: Box<dyn RandomSource>,
    ) -> Self {
        Self {
            passwords,
            trust,
            options,
            profile: ReadProfile::default(),
            rng,
            record: CitizenRecord::new(),
            plan: None,
            partial: None,
            verification: Verification::default(),
            protocol: None,
            ca_done: false,
            aa_done: false,
        }
    }

    /// Uses a chunk profile learnt on this reader before (saves the extended-length probe).
    pub fn with_profile(mut self, profile: ReadProfile) -> Self {
        self.profile = profile;
        self
    }

    /// The chunk profile learnt so far, to keep per reader.
    pub fn profile(&self) -> ReadProfile {
        self.profile
    }

    /// What has been read so far.
    pub fn record(&self) -> &CitizenRecord {
        &self.record
    }

    /// Opens the chip on `transport` and reads until done. On an error the read keeps what it
    /// has: call `run` again (with a new transport after [`Error::CardRemoved`]) to continue.
    pub fn run<T: CardTransport>(
        &mut self,
        transport: T,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        let mut channel = self.open(transport, progress)?;
        let mut reopened = 0;
        loop {
            match self.read_all(&mut channel, progress) {
                Ok(()) => return Ok(()),
                Err(e @ (Error::SessionLost { .. } | Error::SecureMessaging { .. }))
                    if reopened < self.options.max_reopen =>
                {
                    reopened += 1;
                    progress(Progress::Reopening { reason: &e });
                    channel = self.open(channel.into_inner(), progress)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs passive authentication over what was read and returns the result.
    pub fn finish(mut self, now: SystemTime) -> CardReadResult {
        let ca = std::mem::take(&mut self.verification.chip_authentication);
        let aa = std::mem::take(&mut self.verification.active_authentication);
        let algorithms = std::mem::take(&mut self.verification.algorithms);
        let mut v = match self.record.raw(LdsFile::Sod).map(Sod::decode) {
            Some(Ok(sod)) => {
                let dgs: Vec<(u8, &[u8])> = self
                    .record
                    .raw_files()
                    .iter()
                    .filter_map(|f| Some((f.file.dg_number()?, f.bytes.as_slice())))
                    .collect();
                passive_authentication(&sod, &dgs, self.trust, now)
            }
            Some(Err(e)) => {
                let mut v = Verification::default();
                let reason = format!("EF.SOD does not parse: {e}");
                v.sod_hashes = Check::failed(reason.clone());
                v.sod_signature = Check::failed(reason.clone());
                v.ds_certificate_chain = Check::not_possible(reason);
                v
            }
            None => {
                let mut v = Verification::default();
                let reason = "EF.SOD was not read";
                v.sod_hashes = Check::not_possible(reason);
                v.sod_signature = Check::not_possible(reason);
                v.ds_certificate_chain = Check::not_possible(reason);
                v
            }
        };
        v.chip_authentication = ca;
        v.active_authentication = aa;
        v.algorithms.chip_authentication = algorithms.chip_authentication;
        v.algorithms.active_authentication = algorithms.active_authentication;
        CardReadResult {
            record: std::mem::take(&mut self.record),
            verification: v,
            protocol: self.protocol.take(),
        }
    }

    fn open<T: CardTransport>(
        &mut self,
        transport: T,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<SecureChannel<T>> {
        let Access {
            channel, protocol, ..
        } = access::establish(
            transport,
            &self.passwords,
            self.rng.as_mut(),
            self.options.access,
        )
        .map_err(|f| f.error)?;
        progress(Progress::Opened {
            protocol: &protocol,
        });
        self.protocol = Some(protocol);
        Ok(channel)
    }

    fn read_all<T: CardTransport>(
        &mut self,
        channel: &mut SecureChannel<T>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        if self.plan.is_none() {
            // DG13 first: the name is on screen while the rest loads; EF.COM after it says what
            // else the card holds.
            for file in [LdsFile::Dg13, LdsFile::Com] {
                self.read_one(channel, file, progress)?;
            }
            let listed =
                crate::lds::com::Com::decode(self.record.raw(LdsFile::Com).unwrap_or_default())
                    .map(|c| c.files())
                    .unwrap_or_else(|_| crate::lds::KIOSK_READ_ORDER.to_vec());
            let plan = read_order(&listed)
                .into_iter()
                .filter(|f| self.options.photo || *f != LdsFile::Dg2)
                .collect();
            self.plan = Some(plan);
        }
        let plan = self.plan.clone().unwrap_or_default();
        for file in plan {
            if file == LdsFile::Dg2 {
                // The photo last, after the chip has proved itself.
                self.authenticate(channel, progress)?;
            }
            self.read_one(channel, file, progress)?;
        }
        self.authenticate(channel, progress)
    }

    fn read_one<T: CardTransport>(
        &mut self,
        channel: &mut SecureChannel<T>,
        file: LdsFile,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        if self.record.raw(file).is_some() {
            return Ok(());
        }
        let mut partial = match self.partial.take() {
            Some((f, read)) if f == file => read,
            _ => FileRead::new(FileId::new(file.fid(), Some(file.sfi())))
                .with_max_len(file.max_len()),
        };
        match resume(channel, &mut partial, &mut self.profile) {
            Ok(()) => {}
            Err(Error::FileProtected { .. } | Error::Status { .. })
                if file != LdsFile::Sod && file != LdsFile::Dg13 =>
            {
                // A data group the card lists but will not give (absent, or EAC): skip it; the
                // hash check covers only what was read.
                return Ok(());
            }
            Err(e) => {
                self.partial = Some((file, partial));
                return Err(e);
            }
        }
        let bytes = partial.finish()?;
        let len = bytes.len();
        self.record.add_file(file, bytes.to_vec())?;
        progress(Progress::FileRead {
            file,
            bytes: len,
            record: &self.record,
        });
        Ok(())
    }

    fn authenticate<T: CardTransport>(
        &mut self,
        channel: &mut SecureChannel<T>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        if !self.ca_done {
            self.ca_done = true;
            let (check, session_lost) = self.chip_authentication(channel)?;
            self.verification.chip_authentication = check;
            progress(Progress::ChipAuthentication {
                check: &self.verification.chip_authentication,
            });
            if session_lost {
                // The failed CA left the channel on keys the chip does not have: re-open it
                // (PACE/BAC again) to read the rest.
                return Err(Error::SessionLost {
                    command: "Chip Authentication",
                    sw: crate::apdu::StatusWord::SM_DATA_INCORRECT,
                });
            }
        }
        if !self.aa_done && self.record.raw(LdsFile::Dg15).is_some() {
            self.aa_done = true;
            let check = self.active_authentication(channel)?;
            self.verification.active_authentication = check;
            progress(Progress::ActiveAuthentication {
                check: &self.verification.active_authentication,
            });
        }
        Ok(())
    }

    /// The check, and whether the secure-messaging session was lost with it.
    fn chip_authentication<T: CardTransport>(
        &mut self,
        channel: &mut SecureChannel<T>,
    ) -> Result<(Check, bool)> {
        if !self.options.chip_authentication {
            return Ok((Check::not_possible("disabled by configuration"), false));
        }
        let Some(raw) = self.record.raw(LdsFile::Dg14) else {
            return Ok((Check::not_possible("the card has no DG14"), false));
        };
        let key = match Dg14::decode(raw).and_then(|d| d.chip_authentication_key()) {
            Ok(k) => k,
            Err(e) => return Ok((Check::failed(format!("DG14 is unusable: {e}")), false)),
        };
        self.verification.algorithms.chip_authentication = Some(oid_text(&key.info.oid));
        match ca::authenticate(channel, &key, self.rng.as_mut()) {
            Ok(()) => Ok((Check::Passed, false)),
            Err(e @ Error::AuthenticationFailed { .. }) => Ok((Check::failed(e.to_string()), true)),
            Err(e @ (Error::Unsupported { .. } | Error::Status { .. })) => {
                Ok((Check::not_possible(e.to_string()), false))
            }
            Err(e) => Err(e),
        }
    }

    fn active_authentication<T: CardTransport>(
        &mut self,
        channel: &mut SecureChannel<T>,
    ) -> Result<Check> {
        if !self.options.active_authentication {
            return Ok(Check::not_possible("disabled by configuration"));
        }
        let Some(raw) = self.record.raw(LdsFile::Dg15) else {
            return Ok(Check::not_possible("the card has no DG15"));
        };
        let dg15 = match Dg15::decode(raw) {
            Ok(d) => d,
            Err(e) => return Ok(Check::failed(format!("DG15 is unusable: {e}"))),
        };
        let dg14 = self
            .record
            .raw(LdsFile::Dg14)
            .and_then(|r| Dg14::decode(r).ok());
        let info = dg14
            .as_ref()
            .and_then(|d| d.active_authentication())
            .cloned();
        match aa::authenticate(
            channel,
            &dg15,
            info.as_ref(),
            self.rng.as_mut(),
            Some(&verify_plain_with_spki),
        ) {
            Ok(()) => Ok(Check::Passed),
            Err(e @ Error::AuthenticationFailed { .. }) => Ok(Check::failed(e.to_string())),
            Err(e @ (Error::Unsupported { .. } | Error::Status { .. })) => {
                Ok(Check::not_possible(e.to_string()))
            }
            Err(e) => Err(e),
        }
    }
}

fn oid_text(oid: &[u8]) -> String {
    der::asn1::ObjectIdentifier::from_bytes(oid)
        .map(|o| o.to_string())
        .unwrap_or_else(|_| hex_upper(oid))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Reads a whole card in one go: open, read, authenticate, verify.
pub fn read_card<T: CardTransport>(
    transport: T,
    passwords: Vec<Password>,
    trust: &TrustStore,
    options: ReadOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<CardReadResult> {
    let mut read = CardRead::new(passwords, trust, options);
    read.run(transport, progress)?;
    Ok(read.finish(SystemTime::now()))
}
