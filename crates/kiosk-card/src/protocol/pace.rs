//! PACE (ICAO 9303-11 §4.4) with ECDH Generic Mapping on brainpoolP256r1 (parameter id 13, the
//! CCCD's) or NIST P-256 (12), 3DES or AES-128/192/256, password CAN or MRZ.
//!
//! Terminal: MSE:Set AT (`80` OID, `83` password reference, `84` parameter id), then four
//! chained GENERAL AUTHENTICATEs: encrypted nonce → mapping keys → ephemeral keys → tokens.
//! Chip: [`PaceChip`] answers the same five commands. A wrong password only shows at the token
//! step: the chip answers `6300` and the terminal reports [`Error::WrongPassword`].

use zeroize::Zeroizing;

use crate::apdu::{CommandApdu, ResponseApdu, StatusWord};
use crate::cccd::MrzKeyInfo;
use crate::crypto::ec::Curve;
use crate::crypto::{CipherAlg, KdfPurpose, RandomSource, SecretKey, ct_eq, kdf, pad};
use crate::error::{Error, Result};
use crate::protocol::{ChipStep, Password};
use crate::security_infos::{PaceInfo, PaceMapping};
use crate::sm::SmKeys;
use crate::tlv;
use crate::transport::CardTransport;

const PROTOCOL: &str = "PACE";

/// Terminal options.
#[derive(Debug, Clone, Copy)]
pub struct PaceOptions {
    /// Send `84 01 <parameter id>` in MSE:Set AT. Some chips answer 6A87 without it (facts);
    /// ICAO's worked example omits it.
    pub send_parameter_id: bool,
}

impl Default for PaceOptions {
    fn default() -> Self {
        Self {
            send_parameter_id: true,
        }
    }
}

/// What a successful PACE yields.
#[derive(Debug)]
pub struct PaceOutcome {
    pub keys: SmKeys,
    /// The chip's ephemeral public key (its hash identifies the session for Terminal Auth).
    pub chip_ephemeral_public: Vec<u8>,
}

/// The curve and cipher of a PACE offer this crate can run.
fn suite(info: &PaceInfo) -> Result<(Curve, CipherAlg)> {
    match (info.suite(), info.curve()) {
        (Some((PaceMapping::EcdhGeneric, cipher)), Some(curve)) => Ok((curve, cipher)),
        _ => Err(Error::Unsupported {
            what: "PACE variant (only ECDH Generic Mapping on P-256/brainpoolP256r1)",
        }),
    }
}

/// `K_π` from the password for `cipher`.
pub fn password_key(password: &Password, cipher: CipherAlg) -> Result<SecretKey> {
    kdf(cipher, &password.pace_secret()?, KdfPurpose::Password)
}

/// The authentication token: MAC over the peer's public key data object `7F49 { 06 OID, 86 P }`
/// (AES-CMAC unpadded; retail MAC over padded data for 3DES).
fn token(mac: &SecretKey, oid: &[u8], point: &[u8]) -> Result<[u8; 8]> {
    let body = tlv::encode_constructed(
        0x7F49,
        &[&tlv::encode(0x06, oid), &tlv::encode(0x86, point)],
    );
    match mac.alg() {
        CipherAlg::Tdes => mac.mac8(&pad(&body, 8)),
        _ => mac.mac8(&body),
    }
}

/// The MSE:Set AT that starts PACE.
pub fn mse_set_at(info: &PaceInfo, password: &Password, opts: PaceOptions) -> CommandApdu {
    let mut data = tlv::encode(0x80, &info.oid);
    tlv::encode_into(&mut data, 0x83, &[password.pace_reference()]);
    if opts.send_parameter_id
        && let Some(id) = info.parameter_id.and_then(|p| u8::try_from(p).ok())
    {
        tlv::encode_into(&mut data, 0x84, &[id]);
    }
    CommandApdu::new(0x00, 0x22, 0xC1, 0xA4).with_data(data)
}

/// One GENERAL AUTHENTICATE: `7C { tag value }` (or empty), chained unless `last`; returns the
/// value of `answer_tag` inside the `7C` answer.
fn general_authenticate<T: CardTransport + ?Sized>(
    t: &mut T,
    data_object: Option<(u32, &[u8])>,
    answer_tag: u32,
    last: bool,
) -> Result<std::result::Result<Vec<u8>, StatusWord>> {
    let inner = data_object
        .map(|(tag, v)| tlv::encode(tag, v))
        .unwrap_or_default();
    let cmd = CommandApdu::new(if last { 0x00 } else { 0x10 }, 0x86, 0x00, 0x00)
        .with_data(tlv::encode(0x7C, &inner))
        .with_le(256);
    let resp = t.transmit(&cmd)?;
    if !resp.sw.is_success() {
        return Ok(Err(resp.sw));
    }
    let outer = tlv::parse_prefix(&resp.data, 0x7C)?;
    let value = outer.find(answer_tag)?.ok_or(Error::Protocol {
        protocol: PROTOCOL,
        what: "GENERAL AUTHENTICATE answer lacks the expected data object",
    })?;
    Ok(Ok(value.value.to_vec()))
}

fn step_failed(sw: StatusWord) -> Error {
    Error::Status {
        command: "GENERAL AUTHENTICATE",
        sw,
    }
}

/// Terminal side: runs PACE for `info` and returns the session keys (SSC zero).
pub fn establish<T: CardTransport + ?Sized>(
    t: &mut T,
    info: &PaceInfo,
    password: &Password,
    rng: &mut dyn RandomSource,
    opts: PaceOptions,
) -> Result<PaceOutcome> {
    let (curve, cipher) = suite(info)?;
    let k_pi = password_key(password, cipher)?;
    t.transmit(&mse_set_at(info, password, opts))?
        .ok("MSE:Set AT")?;

    // 1. Encrypted nonce.
    let z = general_authenticate(t, None, 0x80, false)?.map_err(step_failed)?;
    let bl = cipher.block_len();
    if z.is_empty() || z.len() % bl != 0 || z.len() > 32 {
        return Err(Error::Protocol {
            protocol: PROTOCOL,
            what: "encrypted nonce has a bad length",
        });
    }
    let s = Zeroizing::new(k_pi.cbc_decrypt(&vec![0; bl], &z)?);

    // 2. Mapping: G~ = s·G + SK_map·PK_map_PICC.
    let sk_map = curve.random_scalar(rng)?;
    let pk_map = curve.mul(&sk_map, &curve.generator())?;
    let pk_map_picc =
        general_authenticate(t, Some((0x81, &pk_map)), 0x82, false)?.map_err(step_failed)?;
    curve.validate_point(&pk_map_picc)?;
    if pk_map_picc == pk_map {
        return Err(Error::AuthenticationFailed {
            protocol: PROTOCOL,
            what: "chip echoed our mapping key",
        });
    }
    let h = Zeroizing::new(curve.mul(&sk_map, &pk_map_picc)?);
    let g_mapped = curve.map_generic(&s, &h)?;

    // 3. Key agreement on the mapped generator.
    let sk_eph = curve.random_scalar(rng)?;
    let pk_eph = curve.mul(&sk_eph, &g_mapped)?;
    let pk_eph_picc =
        general_authenticate(t, Some((0x83, &pk_eph)), 0x84, false)?.map_err(step_failed)?;
    curve.validate_point(&pk_eph_picc)?;
    if pk_eph_picc == pk_eph {
        return Err(Error::AuthenticationFailed {
            protocol: PROTOCOL,
            what: "chip echoed our ephemeral key",
        });
    }
    let shared = curve.ecdh(&sk_eph, &pk_eph_picc)?;
    let ks_enc = kdf(cipher, &shared, KdfPurpose::Enc)?;
    let ks_mac = kdf(cipher, &shared, KdfPurpose::Mac)?;

    // 4. Tokens: a wrong password surfaces here.
    let t_pcd = token(&ks_mac, &info.oid, &pk_eph_picc)?;
    let t_picc = match general_authenticate(t, Some((0x85, &t_pcd)), 0x86, true)? {
        Ok(v) => v,
        Err(sw)
            if sw.sw1() == 0x63
                || sw == StatusWord::SECURITY_STATUS_NOT_SATISFIED
                || sw == StatusWord::WRONG_DATA =>
        {
            return Err(Error::WrongPassword { protocol: PROTOCOL });
        }
        Err(sw) => return Err(step_failed(sw)),
    };
    if !ct_eq(&token(&ks_mac, &info.oid, &pk_eph)?, &t_picc) {
        return Err(Error::AuthenticationFailed {
            protocol: PROTOCOL,
            what: "chip token does not verify",
        });
    }
    Ok(PaceOutcome {
        keys: SmKeys::new(ks_enc, ks_mac, &vec![0; bl])?,
        chip_ephemeral_public: pk_eph_picc,
    })
}

/// The passwords a chip knows.
#[derive(Clone, Default)]
pub struct ChipPasswords {
    pub can: Option<Zeroizing<String>>,
    pub mrz: Option<MrzKeyInfo>,
}

impl std::fmt::Debug for ChipPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ChipPasswords(can: {}, mrz: {})",
            self.can.is_some(),
            self.mrz.is_some()
        )
    }
}

enum State {
    Idle,
    Selected {
        info: PaceInfo,
        k_pi: SecretKey,
    },
    NonceSent {
        info: PaceInfo,
        s: Zeroizing<Vec<u8>>,
    },
    Mapped {
        info: PaceInfo,
        g: Vec<u8>,
    },
    KeysAgreed {
        info: PaceInfo,
        ks_enc: SecretKey,
        ks_mac: SecretKey,
        pk_pcd: Vec<u8>,
        pk_picc: Vec<u8>,
    },
}

/// Chip side of PACE.
pub struct PaceChip {
    passwords: ChipPasswords,
    offers: Vec<PaceInfo>,
    state: State,
}

impl std::fmt::Debug for PaceChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PaceChip({} offers)", self.offers.len())
    }
}

impl PaceChip {
    /// A chip offering `offers` (as in its EF.CardAccess) and knowing `passwords`.
    pub fn new(passwords: ChipPasswords, offers: Vec<PaceInfo>) -> Self {
        Self {
            passwords,
            offers,
            state: State::Idle,
        }
    }

    /// Answers MSE:Set AT (`22 C1 A4`) and GENERAL AUTHENTICATE (`86`); other instructions get
    /// `6D00`. Faults reset the protocol.
    pub fn handle(&mut self, cmd: &CommandApdu, rng: &mut dyn RandomSource) -> Result<ChipStep> {
        let step = match (cmd.ins, cmd.p1, cmd.p2) {
            (0x22, 0xC1, 0xA4) => self.set_at(cmd),
            (0x86, 0x00, 0x00) => self.general_authenticate(cmd, rng),
            _ => return Ok(ChipStep::status(StatusWord::INS_NOT_SUPPORTED)),
        };
        match step {
            Ok(s) => {
                if !s.response.sw.is_success() {
                    self.state = State::Idle;
                }
                Ok(s)
            }
            Err(e) => {
                self.state = State::Idle;
                Err(e)
            }
        }
    }

    fn set_at(&mut self, cmd: &CommandApdu) -> Result<ChipStep> {
        self.state = State::Idle;
        let Ok(Some(oid)) = tlv::find(&cmd.data, 0x80) else {
            return Ok(ChipStep::status(StatusWord::WRONG_DATA));
        };
        let Ok(Some(reference)) = tlv::find(&cmd.data, 0x83) else {
            return Ok(ChipStep::status(StatusWord::WRONG_DATA));
        };
        let param = match tlv::find(&cmd.data, 0x84) {
            Ok(Some(p)) => match p.value {
                [id] => Some(u64::from(*id)),
                _ => return Ok(ChipStep::status(StatusWord::WRONG_DATA)),
            },
            Ok(None) => None,
            Err(_) => return Ok(ChipStep::status(StatusWord::WRONG_DATA)),
        };
        let Some(info) = self
            .offers
            .iter()
            .find(|i| i.oid == oid.value && (param.is_none() || param == i.parameter_id))
        else {
            return Ok(ChipStep::status(StatusWord::WRONG_DATA));
        };
        let Ok((_, cipher)) = suite(info) else {
            return Ok(ChipStep::status(StatusWord::FUNCTION_NOT_SUPPORTED));
        };
        let password = match reference.value {
            [0x01] => self.passwords.mrz.clone().map(Password::Mrz),
            [0x02] => self.passwords.can.clone().map(Password::Can),
            _ => None,
        };
        let Some(password) = password else {
            return Ok(ChipStep::status(StatusWord::REFERENCED_DATA_NOT_FOUND));
        };
        self.state = State::Selected {
            info: info.clone(),
            k_pi: password_key(&password, cipher)?,
        };
        Ok(ChipStep::status(StatusWord::SUCCESS))
    }

    fn general_authenticate(
        &mut self,
        cmd: &CommandApdu,
        rng: &mut dyn RandomSource,
    ) -> Result<ChipStep> {
        let Ok(outer) = tlv::parse_exact(&cmd.data, 0x7C) else {
            return Ok(ChipStep::status(StatusWord::WRONG_DATA));
        };
        let get =
            |tag| -> Option<Vec<u8>> { outer.find(tag).ok().flatten().map(|t| t.value.to_vec()) };
        let answer = |tag, value: &[u8]| {
            ChipStep::reply(
                tlv::encode(0x7C, &tlv::encode(tag, value)),
                StatusWord::SUCCESS,
            )
        };
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Selected { info, k_pi } if outer.value.is_empty() => {
                let (curve, cipher) = suite(&info)?;
                let bl = cipher.block_len();
                // The nonce must be a valid non-zero scalar: draw until it is.
                let mut s = Zeroizing::new(vec![0u8; bl]);
                loop {
                    rng.fill(&mut s)?;
                    if curve.map_generic(&s, &curve.generator()).is_ok() {
                        break;
                    }
                }
                let z = k_pi.cbc_encrypt(&vec![0; bl], &s)?;
                self.state = State::NonceSent { info, s };
                Ok(answer(0x80, &z))
            }
            State::NonceSent { info, s } => {
                let (curve, _) = suite(&info)?;
                let Some(pk_pcd) = get(0x81).filter(|p| curve.validate_point(p).is_ok()) else {
                    return Ok(ChipStep::status(StatusWord::WRONG_DATA));
                };
                let sk = curve.random_scalar(rng)?;
                let pk = curve.mul(&sk, &curve.generator())?;
                let h = Zeroizing::new(curve.mul(&sk, &pk_pcd)?);
                let g = curve.map_generic(&s, &h)?;
                self.state = State::Mapped { info, g };
                Ok(answer(0x82, &pk))
            }
            State::Mapped { info, g } => {
                let (curve, cipher) = suite(&info)?;
                let Some(pk_pcd) = get(0x83).filter(|p| curve.validate_point(p).is_ok()) else {
                    return Ok(ChipStep::status(StatusWord::WRONG_DATA));
                };
                let sk = curve.random_scalar(rng)?;
                let pk_picc = curve.mul(&sk, &g)?;
                if pk_picc == pk_pcd {
                    return Ok(ChipStep::status(StatusWord::WRONG_DATA));
                }
                let shared = curve.ecdh(&sk, &pk_pcd)?;
                self.state = State::KeysAgreed {
                    info,
                    ks_enc: kdf(cipher, &shared, KdfPurpose::Enc)?,
                    ks_mac: kdf(cipher, &shared, KdfPurpose::Mac)?,
                    pk_pcd,
                    pk_picc: pk_picc.clone(),
                };
                Ok(answer(0x84, &pk_picc))
            }
            State::KeysAgreed {
                info,
                ks_enc,
                ks_mac,
                pk_pcd,
                pk_picc,
            } => {
                let Some(t_pcd) = get(0x85) else {
                    return Ok(ChipStep::status(StatusWord::WRONG_DATA));
                };
                if !ct_eq(&token(&ks_mac, &info.oid, &pk_picc)?, &t_pcd) {
                    // Wrong password: the terminal derived other keys.
                    return Ok(ChipStep::status(StatusWord(0x6300)));
                }
                let t_picc = token(&ks_mac, &info.oid, &pk_pcd)?;
                let bl = ks_enc.alg().block_len();
                Ok(ChipStep {
                    response: ResponseApdu::new(
                        tlv::encode(0x7C, &tlv::encode(0x86, &t_picc)),
                        StatusWord::SUCCESS,
                    ),
                    established: Some(SmKeys::new(ks_enc, ks_mac, &vec![0; bl])?),
                })
            }
            _ => Ok(ChipStep::status(StatusWord::CONDITIONS_NOT_SATISFIED)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{OsRandom, ScriptedRandom};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn g1_info() -> PaceInfo {
        PaceInfo {
            oid: PaceInfo::oid_for(PaceMapping::EcdhGeneric, CipherAlg::Aes128),
            version: 2,
            parameter_id: Some(13),
        }
    }

    fn g1_password() -> Password {
        Password::Mrz(MrzKeyInfo::new("T22000129", "640812", "101031").unwrap())
    }

    struct Scripted(Vec<Vec<u8>>, Vec<Vec<u8>>);

    impl CardTransport for Scripted {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            self.1.push(c.to_vec());
            if self.0.is_empty() {
                return Err(Error::Transport("script exhausted".into()));
            }
            Ok(self.0.remove(0))
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    const PK_PICC: &str = "04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57
        30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54";
    const PK2_PICC: &str = "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB
        7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094";
    const SK_PCD: &str = "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99";
    const SK2_PCD: &str = "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595";

    #[test]
    fn terminal_matches_appendix_g1() {
        let c = Curve::BrainpoolP256r1;
        let mut card = Scripted(
            vec![
                h("9000"),
                h("7C12801095A3A016522EE98D01E76CB6B98B42C3 9000"),
                [h("7C438241"), h(PK_PICC), h("9000")].concat(),
                [h("7C438441"), h(PK2_PICC), h("9000")].concat(),
                h("7C0A86083ABB9674BCE93C08 9000"),
            ],
            vec![],
        );
        let mut rng = ScriptedRandom::new([h(SK_PCD), h(SK2_PCD)]);
        let out = establish(
            &mut card,
            &g1_info(),
            &g1_password(),
            &mut rng,
            PaceOptions {
                send_parameter_id: false,
            },
        )
        .unwrap();
        let sent = &card.1;
        assert_eq!(sent[0], h("0022C1A40F800A04007F00070202040202830101"));
        assert_eq!(sent[1], h("10860000027C0000"));
        let pk_pcd = c.mul(&h(SK_PCD), &c.generator()).unwrap();
        assert_eq!(sent[2], [h("10860000457C438141"), pk_pcd, h("00")].concat());
        assert_eq!(&sent[3][..9], &h("10860000457C438341")[..]);
        assert_eq!(sent[4], h("008600000C7C0A8508C2B0BD78D94BA86600"));
        assert_eq!(
            out.keys.enc_key().bytes(),
            h("F5F0E35C0D7161EE6724EE513A0D9A7F")
        );
        assert_eq!(
            out.keys.mac_key().bytes(),
            h("FE251C7858B356B24514B3BD5F4297D1")
        );
        assert_eq!(out.keys.ssc(), &[0u8; 16][..]);
        assert_eq!(out.chip_ephemeral_public, h(PK2_PICC));
    }

    /// The chip with the ICAO example's random values, recording its answers.
    struct G1Chip(PaceChip, ScriptedRandom, Vec<Vec<u8>>);

    impl CardTransport for G1Chip {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            let cmd = CommandApdu::decode(c)?;
            let r = self.0.handle(&cmd, &mut self.1)?.response.encode();
            self.2.push(r.clone());
            Ok(r)
        }
        fn describe(&self) -> String {
            "g1 chip".into()
        }
    }

    #[test]
    fn chip_matches_appendix_g1() {
        let Password::Mrz(mrz) = g1_password() else {
            unreachable!()
        };
        let mut chip = G1Chip(
            PaceChip::new(
                ChipPasswords {
                    can: None,
                    mrz: Some(mrz),
                },
                vec![g1_info()],
            ),
            ScriptedRandom::new([
                h("3F00C4D39D153F2B2A214A078D899B22"),
                h("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"),
                h("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"),
            ]),
            vec![],
        );
        let mut rng = ScriptedRandom::new([h(SK_PCD), h(SK2_PCD)]);
        establish(
            &mut chip,
            &g1_info(),
            &g1_password(),
            &mut rng,
            PaceOptions::default(),
        )
        .unwrap();
        let answers = &chip.2;
        assert_eq!(answers[0], h("9000"));
        assert_eq!(
            answers[1],
            h("7C12801095A3A016522EE98D01E76CB6B98B42C39000")
        );
        assert_eq!(answers[2], [h("7C438241"), h(PK_PICC), h("9000")].concat());
        assert_eq!(answers[3], [h("7C438441"), h(PK2_PICC), h("9000")].concat());
        assert_eq!(answers[4], h("7C0A86083ABB9674BCE93C089000"));
    }

    #[test]
    fn synthetic_cccd_vectors() {
        let k = password_key(&Password::can("012345"), CipherAlg::Aes128).unwrap();
        assert_eq!(k.bytes(), h("5E5CD537047973C8F8BFDEA168324EC0"));
        let mse = mse_set_at(&g1_info(), &Password::can("012345"), PaceOptions::default());
        assert_eq!(
            mse.encode().unwrap(),
            h("0022C1A412800A04007F0007020204020283010284010D")
        );
    }

    /// A terminal talking to an in-process [`PaceChip`].
    struct Chip(PaceChip);

    impl CardTransport for Chip {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            let cmd = CommandApdu::decode(c)?;
            Ok(self.0.handle(&cmd, &mut OsRandom)?.response.encode())
        }
        fn describe(&self) -> String {
            "pace chip".into()
        }
    }

    #[test]
    fn round_trips_can_and_mrz_brainpool_and_p256_aes128_and_256() {
        let mrz = MrzKeyInfo::new("099012345", "990115", "240115").unwrap();
        for (curve, cipher) in [
            (Curve::BrainpoolP256r1, CipherAlg::Aes128),
            (Curve::NistP256, CipherAlg::Aes128),
            (Curve::BrainpoolP256r1, CipherAlg::Aes256),
            (Curve::NistP256, CipherAlg::Aes192),
            (Curve::BrainpoolP256r1, CipherAlg::Tdes),
        ] {
            let info = PaceInfo {
                oid: PaceInfo::oid_for(PaceMapping::EcdhGeneric, cipher),
                version: 2,
                parameter_id: Some(u64::from(curve.pace_param_id())),
            };
            let passwords = ChipPasswords {
                can: Some(Zeroizing::new("012345".into())),
                mrz: Some(mrz.clone()),
            };
            for pw in [Password::can("012345"), Password::Mrz(mrz.clone())] {
                let mut chip = Chip(PaceChip::new(passwords.clone(), vec![info.clone()]));
                let out = establish(&mut chip, &info, &pw, &mut OsRandom, PaceOptions::default())
                    .unwrap();
                assert_eq!(out.keys.alg(), cipher);
            }
            // A chip that lacks the password answers 6A88 to MSE:Set AT.
            let mut chip = Chip(PaceChip::new(
                ChipPasswords {
                    can: None,
                    mrz: Some(mrz.clone()),
                },
                vec![info.clone()],
            ));
            let err = establish(
                &mut chip,
                &info,
                &Password::can("012345"),
                &mut OsRandom,
                PaceOptions::default(),
            )
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Status {
                        command: "MSE:Set AT",
                        sw: StatusWord(0x6A88)
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn keys_agree_on_both_sides() {
        use std::sync::{Arc, Mutex};
        struct Shared(Arc<Mutex<Option<SmKeys>>>, PaceChip);
        impl CardTransport for Shared {
            fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
                let step = self.1.handle(&CommandApdu::decode(c)?, &mut OsRandom)?;
                if let Some(k) = step.established {
                    *self.0.lock().unwrap() = Some(k);
                }
                Ok(step.response.encode())
            }
            fn describe(&self) -> String {
                "shared".into()
            }
        }
        let slot = Arc::new(Mutex::new(None));
        let info = g1_info();
        let mut t = Shared(
            slot.clone(),
            PaceChip::new(
                ChipPasswords {
                    can: Some(Zeroizing::new("654321".into())),
                    mrz: None,
                },
                vec![info.clone()],
            ),
        );
        let out = establish(
            &mut t,
            &info,
            &Password::can("654321"),
            &mut OsRandom,
            PaceOptions::default(),
        )
        .unwrap();
        let chip_keys = slot.lock().unwrap().take().unwrap();
        assert_eq!(chip_keys.enc_key().bytes(), out.keys.enc_key().bytes());
        assert_eq!(chip_keys.mac_key().bytes(), out.keys.mac_key().bytes());
    }

    #[test]
    fn wrong_password_fails_cleanly_on_both_sides() {
        let info = g1_info();
        let mut chip = Chip(PaceChip::new(
            ChipPasswords {
                can: Some(Zeroizing::new("012345".into())),
                mrz: None,
            },
            vec![info.clone()],
        ));
        let err = establish(
            &mut chip,
            &info,
            &Password::can("999999"),
            &mut OsRandom,
            PaceOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::WrongPassword { protocol: "PACE" }),
            "{err:?}"
        );
        // The chip is back at the start: a GENERAL AUTHENTICATE now is out of order.
        let step = chip
            .0
            .handle(
                &CommandApdu::new(0x10, 0x86, 0, 0).with_data(h("7C00")),
                &mut OsRandom,
            )
            .unwrap();
        assert_eq!(step.response.sw, StatusWord::CONDITIONS_NOT_SATISFIED);
        // And the right password still works afterwards.
        establish(
            &mut chip,
            &info,
            &Password::can("012345"),
            &mut OsRandom,
            PaceOptions::default(),
        )
        .unwrap();
    }

    #[test]
    fn unsupported_suite_is_reported() {
        let info = PaceInfo {
            oid: PaceInfo::oid_for(PaceMapping::DhGeneric, CipherAlg::Aes128),
            version: 2,
            parameter_id: Some(0),
        };
        let mut card = Scripted(vec![], vec![]);
        let err = establish(
            &mut card,
            &info,
            &Password::can("1"),
            &mut OsRandom,
            PaceOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }));
        assert!(card.1.is_empty());
    }
}
