//! Chip side of PACE with Generic Mapping on brainpoolP256r1 and AES-128
//! (`id-PACE-ECDH-GM-AES-CBC-CMAC-128`, parameter id 13), the CCCD's suite (ICAO 9303-11 §4.4):
//! MSE:Set AT, then four GENERAL AUTHENTICATE steps.
//!
//! Swap point: card-proto's chip-side PACE replaces this when it lands.

use bp256::r1::ProjectivePoint;
use kiosk_card::tlv;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::curve::{SecretScalar, decode_point, encode_point, nonce_scalar, x_coordinate};
use crate::random::ChipRandom;
use crate::sm::{SmCipher, SmSession, aes_cbc, aes_cmac8, kdf};

/// `id-PACE-ECDH-GM-AES-CBC-CMAC-128` (0.4.0.127.0.7.2.2.4.2.2), DER content bytes.
pub const OID_PACE_ECDH_GM_AES_128: [u8; 10] =
    [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02];
/// Standardized domain parameter 13: brainpoolP256r1.
pub const PARAM_BRAINPOOL_P256R1: u8 = 0x0D;

/// Which password the terminal uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Password {
    Mrz,
    Can,
}

/// Why a PACE step was refused, mapped to status words by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaceError {
    /// Unsupported OID, parameter or malformed data (6A80).
    WrongData,
    /// Password reference the chip does not have (6A88).
    UnknownPassword,
    /// The terminal's token does not verify: wrong password (6300).
    AuthenticationFailed,
}

/// Parses MSE:Set AT data for PACE.
pub fn parse_set_at(data: &[u8]) -> Result<Password, PaceError> {
    let mut oid_ok = false;
    let mut password = None;
    for item in tlv::iter(data) {
        let item = item.map_err(|_| PaceError::WrongData)?;
        match item.tag {
            0x80 => oid_ok = item.value == OID_PACE_ECDH_GM_AES_128,
            0x83 => {
                password = match item.value {
                    [0x01] => Some(Password::Mrz),
                    [0x02] => Some(Password::Can),
                    _ => return Err(PaceError::UnknownPassword),
                }
            }
            0x84 if item.value != [PARAM_BRAINPOOL_P256R1] => return Err(PaceError::WrongData),
            // Parameter id 13, or a CHAT (7F4C) for terminal authentication: nothing to keep.
            _ => {}
        }
    }
    if !oid_ok {
        return Err(PaceError::WrongData);
    }
    password.ok_or(PaceError::WrongData)
}

/// `K_π` from the password: the CAN as ASCII, or SHA-1 of `MRZ_information` (ICAO 9303-11
/// §9.7.3).
pub fn password_key(password: Password, mrz_information: &str, can: &str) -> Zeroizing<[u8; 16]> {
    match password {
        Password::Can => kdf(can.as_bytes(), 3, SmCipher::Aes128),
        Password::Mrz => {
            let seed = Zeroizing::new(Sha1::digest(mrz_information.as_bytes()).to_vec());
            kdf(&seed, 3, SmCipher::Aes128)
        }
    }
}

/// Where a PACE run is.
#[derive(Default)]
pub enum PaceState {
    #[default]
    Idle,
    /// MSE:Set AT accepted.
    Selected { k_pi: Zeroizing<[u8; 16]> },
    /// Step 1 done: the nonce is known.
    Nonce { s: Zeroizing<Vec<u8>> },
    /// Step 2 done: the mapped generator.
    Mapped {
        g_tilde: ProjectivePoint,
        pk_map_picc: Vec<u8>,
    },
    /// Step 3 done: the shared secret and both ephemeral keys.
    Agreed {
        k: Zeroizing<Vec<u8>>,
        pk_picc: Vec<u8>,
        pk_pcd: Vec<u8>,
    },
}

impl std::fmt::Debug for PaceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = match self {
            Self::Idle => "idle",
            Self::Selected { .. } => "selected",
            Self::Nonce { .. } => "nonce",
            Self::Mapped { .. } => "mapped",
            Self::Agreed { .. } => "agreed",
        };
        write!(f, "PaceState({step})")
    }
}

/// The result of one GENERAL AUTHENTICATE step.
pub enum Step {
    /// Answer with this dynamic authentication data and wait for the next step.
    Continue(Vec<u8>),
    /// Mutual authentication done: answer, then switch to this session.
    Done(Vec<u8>, SmSession),
}

/// Runs one GENERAL AUTHENTICATE step; `state` moves forward or is reset on error.
pub fn general_authenticate(
    state: &mut PaceState,
    data: &[u8],
    rng: &mut ChipRandom,
) -> Result<Step, PaceError> {
    let current = std::mem::take(state);
    let dyn_data = tlv::parse_exact(data, 0x7C).map_err(|_| PaceError::WrongData)?;
    let field = |tag| {
        dyn_data
            .find(tag)
            .ok()
            .flatten()
            .map(|t| t.value)
            .ok_or(PaceError::WrongData)
    };
    match current {
        PaceState::Selected { k_pi } => {
            if !dyn_data.value.is_empty() {
                return Err(PaceError::WrongData);
            }
            let s = rng.bytes(16);
            let z = aes_cbc(&k_pi, &[0; 16], &s, true);
            *state = PaceState::Nonce { s };
            Ok(Step::Continue(tlv::encode(0x7C, &tlv::encode(0x80, &z))))
        }
        PaceState::Nonce { s } => {
            let pk_map_pcd = decode_point(field(0x81)?).ok_or(PaceError::WrongData)?;
            let sk_map = SecretScalar::random(rng);
            let pk_map_picc = encode_point(&sk_map.public());
            let h = pk_map_pcd * sk_map.scalar();
            let s = nonce_scalar(&s).ok_or(PaceError::WrongData)?;
            let g_tilde = ProjectivePoint::GENERATOR * s + h;
            let answer = tlv::encode(0x7C, &tlv::encode(0x82, &pk_map_picc));
            *state = PaceState::Mapped {
                g_tilde,
                pk_map_picc,
            };
            Ok(Step::Continue(answer))
        }
        PaceState::Mapped {
            g_tilde,
            pk_map_picc,
        } => {
            let pk_pcd_bytes = field(0x83)?;
            let pk_pcd = decode_point(pk_pcd_bytes).ok_or(PaceError::WrongData)?;
            let sk = SecretScalar::random(rng);
            let pk_picc = encode_point(&(g_tilde * sk.scalar()));
            // The two ephemeral keys must differ (ICAO 9303-11 §4.4.3.3.2 d).
            if pk_picc == pk_pcd_bytes || pk_map_picc == pk_pcd_bytes {
                return Err(PaceError::WrongData);
            }
            let k = x_coordinate(&(pk_pcd * sk.scalar())).ok_or(PaceError::WrongData)?;
            let answer = tlv::encode(0x7C, &tlv::encode(0x84, &pk_picc));
            *state = PaceState::Agreed {
                k,
                pk_picc,
                pk_pcd: pk_pcd_bytes.to_vec(),
            };
            Ok(Step::Continue(answer))
        }
        PaceState::Agreed { k, pk_picc, pk_pcd } => {
            let t_pcd = field(0x85)?;
            let ks_enc = kdf(&k, 1, SmCipher::Aes128);
            let ks_mac = kdf(&k, 2, SmCipher::Aes128);
            if aes_cmac8(&ks_mac, &public_key_data(&pk_picc)) != t_pcd {
                return Err(PaceError::AuthenticationFailed);
            }
            let t_picc = aes_cmac8(&ks_mac, &public_key_data(&pk_pcd));
            let answer = tlv::encode(0x7C, &tlv::encode(0x86, &t_picc));
            Ok(Step::Done(
                answer,
                SmSession::new(SmCipher::Aes128, *ks_enc, *ks_mac, &[0; 16]),
            ))
        }
        PaceState::Idle => Err(PaceError::WrongData),
    }
}

/// The authentication token input: `7F49 { 06 OID, 86 point }` (ICAO 9303-11 §4.4.3.4).
pub fn public_key_data(point: &[u8]) -> Vec<u8> {
    let mut inner = tlv::encode(0x06, &OID_PACE_ECDH_GM_AES_128);
    inner.extend(tlv::encode(0x86, point));
    tlv::encode(0x7F49, &inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn password_keys_match_icao_and_cccd_examples() {
        let k = password_key(Password::Mrz, "T22000129364081251010318", "");
        assert_eq!(k.to_vec(), h("89DED1B26624EC1E634C1989302849DD"));
        let k = password_key(Password::Can, "", "012345");
        assert_eq!(k.to_vec(), h("5E5CD537047973C8F8BFDEA168324EC0"));
    }

    #[test]
    fn set_at_is_parsed_strictly() {
        assert_eq!(
            parse_set_at(&h("800A04007F0007020204020283010284010D")),
            Ok(Password::Can)
        );
        assert_eq!(
            parse_set_at(&h("800A04007F00070202040202830101")),
            Ok(Password::Mrz)
        );
        assert_eq!(
            parse_set_at(&h("800A04007F00070202040202830103")),
            Err(PaceError::UnknownPassword)
        );
        assert_eq!(
            parse_set_at(&h("800A04007F0007020204020283010284010C")),
            Err(PaceError::WrongData)
        );
        assert_eq!(
            parse_set_at(&h("800A04007F00070202040102830101")),
            Err(PaceError::WrongData)
        );
    }

    /// ICAO 9303-11 Appendix G.1 from the chip's side, with its nonce and private keys
    /// injected: every answer byte-exact.
    #[test]
    fn icao_appendix_g1_chip_side() {
        let mut rng = ChipRandom::from_seed(0, "test");
        rng.script(h("3F00C4D39D153F2B2A214A078D899B22"));
        rng.script(h(
            "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560",
        ));
        rng.script(h(
            "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A",
        ));
        let k_pi = password_key(Password::Mrz, "T22000129364081251010318", "");
        let mut state = PaceState::Selected { k_pi };

        let Step::Continue(a) = general_authenticate(&mut state, &h("7C00"), &mut rng).unwrap()
        else {
            panic!("step 1 finished early")
        };
        assert_eq!(a, h("7C12801095A3A016522EE98D01E76CB6B98B42C3"));

        let gam = h(
            "7C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D",
        );
        let Step::Continue(a) = general_authenticate(&mut state, &gam, &mut rng).unwrap() else {
            panic!("step 2 finished early")
        };
        assert_eq!(
            a,
            h(
                "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
            )
        );

        let ka = h(
            "7C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462",
        );
        let Step::Continue(a) = general_authenticate(&mut state, &ka, &mut rng).unwrap() else {
            panic!("step 3 finished early")
        };
        assert_eq!(
            a,
            h(
                "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
            )
        );

        let Step::Done(a, _) =
            general_authenticate(&mut state, &h("7C0A8508C2B0BD78D94BA866"), &mut rng).unwrap()
        else {
            panic!("step 4 did not finish")
        };
        assert_eq!(a, h("7C0A86083ABB9674BCE93C08"));
    }

    #[test]
    fn a_wrong_token_fails_authentication() {
        let mut rng = ChipRandom::from_seed(0, "test");
        rng.script(h("3F00C4D39D153F2B2A214A078D899B22"));
        rng.script(h(
            "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560",
        ));
        rng.script(h(
            "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A",
        ));
        let mut state = PaceState::Selected {
            k_pi: password_key(Password::Mrz, "T22000129364081251010318", ""),
        };
        general_authenticate(&mut state, &h("7C00"), &mut rng).unwrap();
        general_authenticate(&mut state, &h("7C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"), &mut rng).unwrap();
        general_authenticate(&mut state, &h("7C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"), &mut rng).unwrap();
        assert!(matches!(
            general_authenticate(&mut state, &h("7C0A8508C2B0BD78D94BA867"), &mut rng),
            Err(PaceError::AuthenticationFailed)
        ));
        // Off-curve point in step 2 is refused.
        let mut state = PaceState::Nonce {
            s: Zeroizing::new(vec![1; 16]),
        };
        let mut bad = h("7C43814104");
        bad.extend([0x11; 64]);
        assert!(matches!(
            general_authenticate(&mut state, &bad, &mut rng),
            Err(PaceError::WrongData)
        ));
    }
}
