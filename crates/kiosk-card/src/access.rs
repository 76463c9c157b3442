//! Opening the chip (ICAO 9303-11 §4.2): read EF.CardAccess by SFI in plain; if it offers a PACE
//! variant this reader supports, run PACE and select the eMRTD application under secure
//! messaging; otherwise — or when PACE fails for a reason other than a wrong password — select
//! the application and run BAC with the MRZ key(s).
//!
//! Passwords are tried in the order given (e.g. the CAN, then MRZ keys built from the expiry
//! candidates of [`crate::cccd::mrz_key_candidates`]). A wrong CAN does not fall back to BAC: the
//! card answered, the key is wrong, and the citizen should be asked again.
//!
//! On failure the transport is handed back in [`AccessFailure`] so the caller can retry (e.g.
//! after the citizen re-typed the CAN) without reconnecting.

use crate::apdu::CommandApdu;
use crate::crypto::RandomSource;
use crate::error::{Error, Result};
use crate::files::{EF_CARD_ACCESS, ReadProfile, read_file};
use crate::protocol::pace::{PaceOptions, establish as pace_establish};
use crate::protocol::{Password, bac};
use crate::security_infos::{AccessChoice, PaceInfo, SecurityInfos};
use crate::sm::SecureChannel;
use crate::transport::CardTransport;

/// The eMRTD LDS1 application identifier.
pub const EMRTD_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];

/// Which protocol opened the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessProtocol {
    Pace(PaceInfo),
    Bac,
}

/// An open session.
pub struct Access<T: CardTransport> {
    pub channel: SecureChannel<T>,
    pub protocol: AccessProtocol,
    /// EF.CardAccess, if the card has one and it parsed.
    pub card_access: Option<SecurityInfos>,
    /// The password that worked (index into the list given).
    pub password_index: usize,
}

impl<T: CardTransport> std::fmt::Debug for Access<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Access({:?}, {:?})", self.protocol, self.channel)
    }
}

/// A failed attempt, with the transport given back.
pub struct AccessFailure<T> {
    pub error: Error,
    pub transport: T,
}

impl<T> std::fmt::Debug for AccessFailure<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessFailure({:?})", self.error)
    }
}

impl<T> std::fmt::Display for AccessFailure<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// Options for [`establish`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessOptions {
    pub pace: PaceOptions,
    /// Skip PACE even if offered (diagnostics, or chips with a broken PACE).
    pub force_bac: bool,
}

/// The passwords to try for a citizen, in order: the CAN (last 6 digits of the ID, for PACE),
/// then, when the date of birth and issue date are known (from the card's QR code), one MRZ key
/// per legal expiry candidate (for BAC, or PACE-MRZ).
pub fn citizen_passwords(
    id: &crate::cccd::CitizenId,
    dob_and_issue: Option<(crate::cccd::Date, crate::cccd::Date)>,
) -> Result<Vec<Password>> {
    let mut out = vec![Password::Can(id.can())];
    if let Some((dob, issued)) = dob_and_issue {
        out.extend(
            crate::cccd::mrz_key_candidates(id, dob, issued)?
                .into_iter()
                .map(Password::Mrz),
        );
    }
    Ok(out)
}

/// Reads and parses EF.CardAccess in plain; `None` if the card has none (or it is unreadable:
/// then BAC is the way in, as ICAO prescribes).
pub fn read_card_access<T: CardTransport + ?Sized>(t: &mut T) -> Result<Option<SecurityInfos>> {
    let mut profile = ReadProfile::short();
    match read_file(t, EF_CARD_ACCESS, &mut profile) {
        Ok(bytes) => Ok(SecurityInfos::decode(&bytes).ok()),
        Err(Error::CardRemoved) => Err(Error::CardRemoved),
        Err(Error::Timeout { what, millis }) => Err(Error::Timeout { what, millis }),
        Err(_) => Ok(None),
    }
}

fn select_applet<T: CardTransport + ?Sized>(t: &mut T) -> Result<()> {
    t.transmit(&CommandApdu::new(0x00, 0xA4, 0x04, 0x0C).with_data(EMRTD_AID.to_vec()))?
        .ok("SELECT eMRTD application")
        .map(|_| ())
}

/// Opens the chip with the first password that works.
pub fn establish<T: CardTransport>(
    mut t: T,
    passwords: &[Password],
    rng: &mut dyn RandomSource,
    opts: AccessOptions,
) -> std::result::Result<Access<T>, AccessFailure<T>> {
    if passwords.is_empty() {
        return Err(AccessFailure {
            error: Error::Protocol {
                protocol: "access",
                what: "no password (CAN or MRZ data) given",
            },
            transport: t,
        });
    }
    let card_access = match read_card_access(&mut t) {
        Ok(c) => c,
        Err(error) => {
            return Err(AccessFailure {
                error,
                transport: t,
            });
        }
    };
    let choice = match (&card_access, opts.force_bac) {
        (Some(si), false) => si.choose_access(),
        _ => AccessChoice::Bac,
    };

    let mut last_error = None;
    if let AccessChoice::Pace(info) = &choice {
        for (i, pw) in passwords.iter().enumerate() {
            match pace_establish(&mut t, info, pw, rng, opts.pace) {
                Ok(out) => {
                    let mut channel = SecureChannel::new(t, out.keys);
                    return match select_applet(&mut channel) {
                        Ok(()) => Ok(Access {
                            channel,
                            protocol: AccessProtocol::Pace(info.clone()),
                            card_access,
                            password_index: i,
                        }),
                        Err(error) => Err(AccessFailure {
                            error,
                            transport: channel.into_inner(),
                        }),
                    };
                }
                Err(e @ Error::WrongPassword { .. }) => last_error = Some(e),
                Err(e @ (Error::CardRemoved | Error::Timeout { .. })) => {
                    return Err(AccessFailure {
                        error: e,
                        transport: t,
                    });
                }
                Err(e) => {
                    // PACE itself failed: BAC is the fallback.
                    last_error = Some(e);
                    break;
                }
            }
        }
        if let Some(e @ Error::WrongPassword { .. }) = &last_error
            && !passwords.iter().any(|p| matches!(p, Password::Mrz(_)))
        {
            return Err(AccessFailure {
                error: clone_wrong_password(e),
                transport: t,
            });
        }
    }

    let mrz: Vec<(usize, &crate::cccd::MrzKeyInfo)> = passwords
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Password::Mrz(m) => Some((i, m)),
            Password::Can(_) => None,
        })
        .collect();
    if mrz.is_empty() {
        return Err(AccessFailure {
            error: last_error.unwrap_or(Error::Protocol {
                protocol: "BAC",
                what: "the card needs BAC, which needs the MRZ data (document number, birth and expiry dates)",
            }),
            transport: t,
        });
    }
    if let Err(error) = select_applet(&mut t) {
        return Err(AccessFailure {
            error,
            transport: t,
        });
    }
    for (i, m) in mrz {
        match bac::establish(&mut t, m, rng) {
            Ok(keys) => {
                return Ok(Access {
                    channel: SecureChannel::new(t, keys),
                    protocol: AccessProtocol::Bac,
                    card_access,
                    password_index: i,
                });
            }
            Err(e @ Error::WrongPassword { .. }) => last_error = Some(e),
            Err(error) => {
                return Err(AccessFailure {
                    error,
                    transport: t,
                });
            }
        }
    }
    Err(AccessFailure {
        error: last_error.unwrap_or(Error::WrongPassword { protocol: "BAC" }),
        transport: t,
    })
}

fn clone_wrong_password(e: &Error) -> Error {
    match e {
        Error::WrongPassword { protocol } => Error::WrongPassword { protocol },
        _ => Error::WrongPassword { protocol: "PACE" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::{ResponseApdu, StatusWord};
    use crate::cccd::MrzKeyInfo;
    use crate::crypto::{CipherAlg, OsRandom};
    use crate::protocol::bac::BacChip;
    use crate::protocol::pace::{ChipPasswords, PaceChip};
    use crate::security_infos::{PaceMapping, SecurityInfo};
    use crate::sm::ChipSm;
    use zeroize::Zeroizing;

    /// A chip with EF.CardAccess, PACE, BAC and one readable file under SM.
    struct TestChip {
        card_access: Option<Vec<u8>>,
        pace: PaceChip,
        bac: BacChip,
        sm: Option<ChipSm>,
        log: Vec<CommandApdu>,
    }

    fn mrz() -> MrzKeyInfo {
        MrzKeyInfo::new("099012345", "990115", "240115").unwrap()
    }

    fn pace_info(param: u64) -> PaceInfo {
        PaceInfo {
            oid: PaceInfo::oid_for(PaceMapping::EcdhGeneric, CipherAlg::Aes128),
            version: 2,
            parameter_id: Some(param),
        }
    }

    impl TestChip {
        /// `offered` goes into EF.CardAccess; the PACE applet only implements `implemented`.
        fn new(offered: Option<PaceInfo>, implemented: PaceInfo) -> Self {
            Self {
                card_access: offered.map(|p| {
                    SecurityInfos {
                        infos: vec![SecurityInfo::Pace(p)],
                    }
                    .encode()
                }),
                pace: PaceChip::new(
                    ChipPasswords {
                        can: Some(Zeroizing::new("012345".into())),
                        mrz: Some(mrz()),
                    },
                    vec![implemented],
                ),
                bac: BacChip::new(&mrz()).unwrap(),
                sm: None,
                log: vec![],
            }
        }

        fn plain(&mut self, cmd: &CommandApdu) -> ResponseApdu {
            let sw = |v| ResponseApdu::new(vec![], StatusWord(v));
            match cmd.ins {
                0xB0 if cmd.p1 == 0x9C || cmd.p1 == 0 => {
                    let Some(ca) = &self.card_access else {
                        return sw(0x6A82);
                    };
                    let off = usize::from(cmd.p2);
                    let end = (off + cmd.le.unwrap_or(0)).min(ca.len());
                    ResponseApdu::new(ca[off.min(end)..end].to_vec(), StatusWord::SUCCESS)
                }
                0xA4 if cmd.p1 == 0x04 && cmd.data == EMRTD_AID => sw(0x9000),
                _ => sw(0x6D00),
            }
        }
    }

    impl CardTransport for TestChip {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            let cmd = CommandApdu::decode(c)?;
            self.log.push(cmd.clone());
            if cmd.cla & 0x0C == 0x0C {
                let Some(sm) = self.sm.as_mut() else {
                    return Ok(vec![0x69, 0x88]);
                };
                let Ok(inner) = sm.unwrap_command(c) else {
                    self.sm = None;
                    return Ok(vec![0x69, 0x88]);
                };
                let r = if inner.ins == 0xB0 {
                    ResponseApdu::new(vec![0x60, 0x00], StatusWord::SUCCESS)
                } else {
                    self.plain(&inner)
                };
                return self
                    .sm
                    .as_mut()
                    .map_or(Ok(vec![0x69, 0x88]), |s| s.wrap_response(&r));
            }
            let step = match cmd.ins {
                0x22 | 0x86 => self.pace.handle(&cmd, &mut OsRandom)?,
                0x84 | 0x82 => self.bac.handle(&cmd, &mut OsRandom)?,
                _ => return Ok(self.plain(&cmd).encode()),
            };
            if let Some(k) = step.established {
                self.sm = Some(ChipSm::new(k));
            }
            Ok(step.response.encode())
        }
        fn describe(&self) -> String {
            "test chip".into()
        }
    }

    fn read_something(a: &mut Access<TestChip>) {
        let r = a
            .channel
            .transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(2))
            .unwrap();
        assert_eq!(r.data, vec![0x60, 0x00]);
    }

    #[test]
    fn pace_with_can_when_offered() {
        let chip = TestChip::new(Some(pace_info(13)), pace_info(13));
        let mut a = establish(
            chip,
            &[Password::can("012345")],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap();
        assert_eq!(a.protocol, AccessProtocol::Pace(pace_info(13)));
        assert!(a.card_access.is_some());
        read_something(&mut a);
    }

    #[test]
    fn bac_without_card_access() {
        let chip = TestChip::new(None, pace_info(13));
        let mut a = establish(
            chip,
            &[Password::Mrz(mrz())],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap();
        assert_eq!(a.protocol, AccessProtocol::Bac);
        read_something(&mut a);
    }

    #[test]
    fn bac_fallback_when_pace_breaks_and_candidates_in_order() {
        // The card offers P-256 PACE but its applet only knows brainpool: MSE fails.
        let chip = TestChip::new(Some(pace_info(12)), pace_info(13));
        let wrong = MrzKeyInfo::new("099012345", "990115", "390115").unwrap();
        let mut a = establish(
            chip,
            &[Password::Mrz(wrong), Password::Mrz(mrz())],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap();
        assert_eq!(a.protocol, AccessProtocol::Bac);
        assert_eq!(a.password_index, 1);
        read_something(&mut a);
    }

    #[test]
    fn wrong_can_does_not_fall_back_and_returns_the_transport() {
        let chip = TestChip::new(Some(pace_info(13)), pace_info(13));
        let fail = establish(
            chip,
            &[Password::can("999999")],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(
            fail.error,
            Error::WrongPassword { protocol: "PACE" }
        ));
        assert!(fail.transport.log.iter().all(|c| c.ins != 0x84));
        // Retry on the same transport with the right CAN.
        let a = establish(
            fail.transport,
            &[Password::can("012345")],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap();
        assert!(matches!(a.protocol, AccessProtocol::Pace(_)));
    }

    #[test]
    fn citizen_passwords_open_a_bac_only_card() {
        let id = crate::cccd::CitizenId::parse("001099012345").unwrap();
        let dob = crate::cccd::Date::new(1999, 1, 15).unwrap();
        let issued = crate::cccd::Date::new(2021, 3, 1).unwrap();
        let pws = citizen_passwords(&id, Some((dob, issued))).unwrap();
        assert!(matches!(&pws[0], Password::Can(c) if c.as_str() == "012345"));
        assert!(pws.len() >= 2);
        let chip = TestChip::new(None, pace_info(13));
        let a = establish(chip, &pws, &mut OsRandom, AccessOptions::default()).unwrap();
        assert_eq!(a.protocol, AccessProtocol::Bac);
        assert_eq!(citizen_passwords(&id, None).unwrap().len(), 1);
    }

    #[test]
    fn can_only_and_bac_only_card_is_a_clear_error() {
        let chip = TestChip::new(None, pace_info(13));
        let fail = establish(
            chip,
            &[Password::can("012345")],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(
            fail.error,
            Error::Protocol {
                protocol: "BAC",
                ..
            }
        ));
    }
}
