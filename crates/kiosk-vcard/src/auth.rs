//! The chip's authentication commands (GET CHALLENGE, EXTERNAL AUTHENTICATE, MSE, GENERAL
//! AUTHENTICATE, INTERNAL AUTHENTICATE), routed to the chip-side protocol handlers of
//! `kiosk_card::protocol` (BAC, PACE, CA, AA). This module only keeps which protocol may run
//! when, and the secrets they are built from.

use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use kiosk_card::cccd::MrzKeyInfo;
use kiosk_card::crypto::CipherAlg;
use kiosk_card::crypto::ec::Curve;
use kiosk_card::protocol::ChipStep;
use kiosk_card::protocol::aa::AaChip;
use kiosk_card::protocol::bac::BacChip;
use kiosk_card::protocol::ca::CaChip;
use kiosk_card::protocol::pace::{ChipPasswords, PaceChip};
use kiosk_card::security_infos::PaceInfo;
use kiosk_card::sm::SmKeys;
use zeroize::Zeroizing;

use crate::random::ChipRandom;

/// The chip's secrets and offers. Nothing here is printed.
pub struct ChipKeys {
    /// BAC key and the PACE-MRZ password.
    pub mrz: MrzKeyInfo,
    /// The PACE-CAN password.
    pub can: Zeroizing<String>,
    /// What EF.CardAccess offers for PACE.
    pub pace_offers: Vec<PaceInfo>,
    /// Chip Authentication: curve, cipher and the private key (big-endian scalar).
    pub ca_curve: Curve,
    pub ca_cipher: CipherAlg,
    pub ca_private: Zeroizing<Vec<u8>>,
    /// Active Authentication's private key.
    pub aa: AaChip,
    /// Nonces, challenges and ephemeral keys.
    pub random: ChipRandom,
}

impl std::fmt::Debug for ChipKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChipKeys(..)")
    }
}

/// The per-session state of each protocol, created fresh at every reset.
pub struct Protocols {
    bac: Option<BacChip>,
    pace: PaceChip,
    ca: Option<CaChip>,
}

impl std::fmt::Debug for Protocols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Protocols(..)")
    }
}

impl Protocols {
    /// A session with nothing in progress. A key the protocol library refuses leaves that
    /// protocol unavailable (it answers 6A88), instead of failing the whole chip.
    pub fn new(keys: &ChipKeys) -> Self {
        let passwords = ChipPasswords {
            can: Some(keys.can.clone()),
            mrz: Some(keys.mrz.clone()),
        };
        Self {
            bac: BacChip::new(&keys.mrz).ok(),
            pace: PaceChip::new(passwords, keys.pace_offers.clone()),
            ca: CaChip::new(keys.ca_curve, keys.ca_cipher, &keys.ca_private).ok(),
        }
    }
}

/// What the engine must do after an authentication command.
#[derive(Debug)]
pub enum Outcome {
    /// Just answer (under SM if the command came under SM).
    Respond(ResponseApdu),
    /// BAC or PACE succeeded: answer plain, then use these keys.
    Established {
        response: ResponseApdu,
        keys: SmKeys,
    },
    /// Chip Authentication: answer under the old keys, then use these.
    Rekey {
        response: ResponseApdu,
        keys: SmKeys,
    },
}

fn status(sw: StatusWord) -> Outcome {
    Outcome::Respond(ResponseApdu::new(Vec::new(), sw))
}

/// Handles one authentication command. `secure`: the command came under SM;
/// `authenticated`: BAC or PACE has succeeded in this session.
pub fn handle(
    protocols: &mut Protocols,
    keys: &mut ChipKeys,
    cmd: &CommandApdu,
    secure: bool,
    authenticated: bool,
) -> Outcome {
    let after_access = secure && authenticated;
    let step = match (cmd.ins, cmd.p1, cmd.p2) {
        // BAC: GET CHALLENGE (also used before AA by some readers) and EXTERNAL AUTHENTICATE.
        (0x84 | 0x82, ..) if cmd.ins == 0x82 && secure => {
            return status(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        (0x84 | 0x82, ..) => match protocols.bac.as_mut() {
            Some(bac) => bac.handle(cmd, &mut keys.random),
            None => return status(StatusWord::REFERENCED_DATA_NOT_FOUND),
        },
        // PACE: MSE:Set AT (C1 A4) and GENERAL AUTHENTICATE before access.
        (0x22, 0xC1, 0xA4) | (0x86, ..) if !secure => protocols.pace.handle(cmd, &mut keys.random),
        (0x22, 0xC1, 0xA4) => return status(StatusWord::CONDITIONS_NOT_SATISFIED),
        // Chip Authentication: MSE:Set KAT (41 A6), MSE:Set AT (41 A4), GENERAL AUTHENTICATE.
        (0x22, 0x41, 0xA6 | 0xA4) | (0x86, ..) => {
            if !after_access {
                return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
            }
            match protocols.ca.as_mut() {
                Some(ca) => {
                    return match ca.handle(cmd) {
                        Ok(ChipStep {
                            response,
                            established: Some(keys),
                        }) => Outcome::Rekey { response, keys },
                        Ok(step) => Outcome::Respond(step.response),
                        Err(_) => status(StatusWord::WRONG_DATA),
                    };
                }
                None => return status(StatusWord::REFERENCED_DATA_NOT_FOUND),
            }
        }
        // MSE:Set DST for Terminal Authentication: no EAC certificates on this chip.
        (0x22, 0x81, 0xB6) => return status(StatusWord::REFERENCED_DATA_NOT_FOUND),
        (0x22, ..) => return status(StatusWord::INCORRECT_P1P2),
        // Active Authentication.
        (0x88, 0, 0) => {
            if !after_access {
                return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
            }
            keys.aa.handle(cmd, &mut keys.random)
        }
        (0x88, ..) => return status(StatusWord::INCORRECT_P1P2),
        _ => return status(StatusWord::INS_NOT_SUPPORTED),
    };
    match step {
        Ok(ChipStep {
            response,
            established: Some(keys),
        }) => Outcome::Established { response, keys },
        Ok(step) => Outcome::Respond(step.response),
        // The handlers answer protocol faults with status words themselves; an error is a
        // failure inside the chip (e.g. a key it cannot use).
        Err(_) => status(StatusWord::NO_PRECISE_DIAGNOSIS),
    }
}
