//! The chip's authentication commands (GET CHALLENGE, EXTERNAL AUTHENTICATE, MSE, GENERAL
//! AUTHENTICATE, INTERNAL AUTHENTICATE) and the secrets they use. The protocol steps live in
//! `bac`, `pace`, `ca` and `aa`; this module keeps the state between commands and maps failures
//! to the status words real chips use.

use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use zeroize::Zeroizing;

use crate::curve::SecretScalar;
use crate::fault::Faults;
use crate::pace::{PaceError, PaceState, Step};
use crate::random::ChipRandom;

/// Chip-side secure messaging, as the engine uses it.
pub trait SecureChannel: Send {
    /// Checks and decrypts a protected command; the error is the status word to answer with
    /// (plain) after the session is dropped.
    fn unwrap_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, StatusWord>;
    /// Protects the answer to `cmd` (the unwrapped command).
    fn wrap_response(&mut self, cmd: &CommandApdu, resp: &ResponseApdu) -> Vec<u8>;
}

/// The chip's secrets: the access passwords and the private keys. Nothing here is printed.
pub struct ChipKeys {
    /// `MRZ_information` (BAC key and PACE-MRZ password).
    pub mrz_information: Zeroizing<String>,
    /// The CAN (PACE-CAN password).
    pub can: Zeroizing<String>,
    /// Chip Authentication private key (its public key is in DG14).
    pub ca_private: SecretScalar,
    /// Active Authentication private key (its public key is in DG15).
    pub aa_private: SecretScalar,
    /// Nonces, challenges and ephemeral keys.
    pub random: ChipRandom,
}

impl std::fmt::Debug for ChipKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChipKeys(..)")
    }
}

impl ChipKeys {
    /// Keys for engine unit tests: the ICAO Appendix D MRZ and a fixed CAN.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        let mut random = ChipRandom::from_seed(42, "keys");
        Self {
            mrz_information: Zeroizing::new("L898902C<369080619406236".to_owned()),
            can: Zeroizing::new("012345".to_owned()),
            ca_private: SecretScalar::random(&mut random),
            aa_private: SecretScalar::random(&mut random),
            random,
        }
    }
}

/// What is going on between authentication commands.
#[derive(Debug, Default)]
pub enum AuthState {
    #[default]
    Idle,
    /// GET CHALLENGE answered: BAC may follow.
    Challenge([u8; 8]),
    /// PACE in progress.
    Pace(PaceState),
    /// MSE:Set AT selected Chip Authentication; the key comes with GENERAL AUTHENTICATE.
    CaSelected,
}

/// What the engine must do after an authentication command.
pub enum Outcome {
    /// Just answer.
    Respond(ResponseApdu),
    /// BAC or PACE succeeded: answer plain, then use `channel`.
    Established {
        response: ResponseApdu,
        channel: Box<dyn SecureChannel>,
    },
    /// Chip Authentication: answer under the old keys, then use `channel`.
    Rekey {
        response: ResponseApdu,
        channel: Box<dyn SecureChannel>,
    },
    /// Authentication failed: answer with this status word, plain, and drop the session.
    Failed(StatusWord),
}

fn respond(data: Vec<u8>, sw: StatusWord) -> Outcome {
    Outcome::Respond(ResponseApdu::new(data, sw))
}

fn status(sw: StatusWord) -> Outcome {
    respond(Vec::new(), sw)
}

/// "Authentication failed" as chips answer a wrong BAC/PACE cryptogram.
const AUTH_FAILED: StatusWord = StatusWord(0x6300);

/// Handles one authentication command. `secure`: the command came under SM; `authenticated`:
/// BAC or PACE has succeeded in this session.
pub fn handle(
    state: &mut AuthState,
    keys: &mut ChipKeys,
    _faults: &Faults,
    cmd: &CommandApdu,
    secure: bool,
    authenticated: bool,
) -> Outcome {
    match (cmd.ins, cmd.p1, cmd.p2) {
        // GET CHALLENGE
        (0x84, 0, 0) => {
            if cmd.le != Some(8) || !cmd.data.is_empty() {
                return status(StatusWord::WRONG_LENGTH);
            }
            let mut rnd = [0u8; 8];
            keys.random.fill(&mut rnd);
            if !secure {
                *state = AuthState::Challenge(rnd);
            }
            respond(rnd.to_vec(), StatusWord::SUCCESS)
        }
        (0x84, ..) => status(StatusWord::INCORRECT_P1P2),
        // EXTERNAL AUTHENTICATE (BAC)
        (0x82, 0, 0) => {
            let AuthState::Challenge(rnd_ic) = std::mem::take(state) else {
                return status(StatusWord::CONDITIONS_NOT_SATISFIED);
            };
            if cmd.data.len() != 40 {
                return status(StatusWord::WRONG_LENGTH);
            }
            match crate::bac::external_authenticate(
                &keys.mrz_information,
                &rnd_ic,
                &cmd.data,
                &mut keys.random,
            ) {
                Some((answer, session)) => Outcome::Established {
                    response: ResponseApdu::new(answer, StatusWord::SUCCESS),
                    channel: Box::new(session),
                },
                None => Outcome::Failed(AUTH_FAILED),
            }
        }
        (0x82, ..) => status(StatusWord::INCORRECT_P1P2),
        // MSE:Set AT for PACE
        (0x22, 0xC1, 0xA4) => match crate::pace::parse_set_at(&cmd.data) {
            Ok(password) => {
                let k_pi = crate::pace::password_key(password, &keys.mrz_information, &keys.can);
                *state = AuthState::Pace(PaceState::Selected { k_pi });
                status(StatusWord::SUCCESS)
            }
            Err(PaceError::UnknownPassword) => status(StatusWord::REFERENCED_DATA_NOT_FOUND),
            Err(_) => status(StatusWord::WRONG_DATA),
        },
        // MSE:Set AT for Chip Authentication (followed by GENERAL AUTHENTICATE)
        (0x22, 0x41, 0xA4) => {
            if !(secure && authenticated) {
                return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
            }
            if !crate::ca::set_at_selects_ca(&cmd.data) {
                return status(StatusWord::WRONG_DATA);
            }
            *state = AuthState::CaSelected;
            status(StatusWord::SUCCESS)
        }
        // MSE:Set KAT: Chip Authentication in one command
        (0x22, 0x41, 0xA6) => {
            if !(secure && authenticated) {
                return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
            }
            let Some(key) = crate::ca::key_from_set_kat(&cmd.data) else {
                return status(StatusWord::WRONG_DATA);
            };
            match crate::ca::agree(&keys.ca_private, key) {
                Some(session) => Outcome::Rekey {
                    response: ResponseApdu::new(Vec::new(), StatusWord::SUCCESS),
                    channel: Box::new(session),
                },
                None => status(StatusWord::WRONG_DATA),
            }
        }
        // MSE:Set DST etc. for Terminal Authentication: not offered without EAC certificates.
        (0x22, 0x81, 0xB6) => status(StatusWord::REFERENCED_DATA_NOT_FOUND),
        (0x22, ..) => status(StatusWord::INCORRECT_P1P2),
        // GENERAL AUTHENTICATE
        (0x86, 0, 0) => match std::mem::take(state) {
            AuthState::Pace(mut pace) => {
                if secure {
                    return status(StatusWord::CONDITIONS_NOT_SATISFIED);
                }
                match crate::pace::general_authenticate(&mut pace, &cmd.data, &mut keys.random) {
                    Ok(Step::Continue(data)) => {
                        *state = AuthState::Pace(pace);
                        respond(data, StatusWord::SUCCESS)
                    }
                    Ok(Step::Done(data, session)) => Outcome::Established {
                        response: ResponseApdu::new(data, StatusWord::SUCCESS),
                        channel: Box::new(session),
                    },
                    Err(PaceError::AuthenticationFailed) => Outcome::Failed(AUTH_FAILED),
                    Err(_) => status(StatusWord::WRONG_DATA),
                }
            }
            AuthState::CaSelected => {
                let Some(key) = crate::ca::key_from_general_authenticate(&cmd.data) else {
                    return status(StatusWord::WRONG_DATA);
                };
                match crate::ca::agree(&keys.ca_private, key) {
                    Some(session) => Outcome::Rekey {
                        response: ResponseApdu::new(vec![0x7C, 0x00], StatusWord::SUCCESS),
                        channel: Box::new(session),
                    },
                    None => status(StatusWord::WRONG_DATA),
                }
            }
            _ => status(StatusWord::CONDITIONS_NOT_SATISFIED),
        },
        (0x86, ..) => status(StatusWord::INCORRECT_P1P2),
        // INTERNAL AUTHENTICATE (Active Authentication)
        (0x88, 0, 0) => {
            if !(secure && authenticated) {
                return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
            }
            match crate::aa::sign(&keys.aa_private, &cmd.data) {
                Some(sig) => respond(sig, StatusWord::SUCCESS),
                None => status(StatusWord::WRONG_DATA),
            }
        }
        (0x88, ..) => status(StatusWord::INCORRECT_P1P2),
        _ => status(StatusWord::INS_NOT_SUPPORTED),
    }
}
