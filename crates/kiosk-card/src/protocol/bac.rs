//! Basic Access Control (ICAO 9303-11 §4.3): 3DES keys from the MRZ information, GET CHALLENGE,
//! EXTERNAL AUTHENTICATE with mutual cryptograms, then session keys from `K.IFD ⊕ K.IC` and the
//! SSC from the two challenges.

use zeroize::Zeroizing;

use crate::apdu::{CommandApdu, StatusWord};
use crate::cccd::MrzKeyInfo;
use crate::crypto::{CipherAlg, KdfPurpose, RandomSource, SecretKey, ct_eq, kdf, pad, sha1};
use crate::error::{Error, Result};
use crate::protocol::ChipStep;
use crate::sm::SmKeys;
use crate::transport::CardTransport;

const PROTOCOL: &str = "BAC";

/// The document basic access keys `K_Enc`, `K_MAC` from the MRZ information.
pub fn basic_access_keys(mrz: &MrzKeyInfo) -> Result<(SecretKey, SecretKey)> {
    let info = mrz.mrz_information()?;
    let digest = sha1(info.as_bytes());
    let seed = &digest[..16];
    Ok((
        kdf(CipherAlg::Tdes, seed, KdfPurpose::Enc)?,
        kdf(CipherAlg::Tdes, seed, KdfPurpose::Mac)?,
    ))
}

fn session_keys(k_ifd: &[u8], k_ic: &[u8], rnd_ic: &[u8], rnd_ifd: &[u8]) -> Result<SmKeys> {
    let seed: Zeroizing<Vec<u8>> =
        Zeroizing::new(k_ifd.iter().zip(k_ic).map(|(a, b)| a ^ b).collect());
    let mut ssc = [0u8; 8];
    ssc[..4].copy_from_slice(&rnd_ic[4..8]);
    ssc[4..].copy_from_slice(&rnd_ifd[4..8]);
    SmKeys::new(
        kdf(CipherAlg::Tdes, &seed, KdfPurpose::Enc)?,
        kdf(CipherAlg::Tdes, &seed, KdfPurpose::Mac)?,
        &ssc,
    )
}

/// Terminal side: runs BAC and returns the session keys. A card that rejects the cryptogram
/// (`6300`, `6982`, …) gives [`Error::WrongPassword`]: the MRZ data (often the guessed expiry
/// date) is wrong.
pub fn establish<T: CardTransport + ?Sized>(
    t: &mut T,
    mrz: &MrzKeyInfo,
    rng: &mut dyn RandomSource,
) -> Result<SmKeys> {
    let (k_enc, k_mac) = basic_access_keys(mrz)?;
    let rnd_ic = t
        .transmit(&CommandApdu::new(0x00, 0x84, 0x00, 0x00).with_le(8))?
        .ok("GET CHALLENGE")?;
    if rnd_ic.len() != 8 {
        return Err(Error::Protocol {
            protocol: PROTOCOL,
            what: "GET CHALLENGE did not return 8 bytes",
        });
    }
    let mut rnd_ifd = [0u8; 8];
    rng.fill(&mut rnd_ifd)?;
    let mut k_ifd = Zeroizing::new([0u8; 16]);
    rng.fill(&mut k_ifd[..])?;
    let mut s = Zeroizing::new(Vec::with_capacity(32));
    s.extend_from_slice(&rnd_ifd);
    s.extend_from_slice(&rnd_ic);
    s.extend_from_slice(&k_ifd[..]);
    let e_ifd = k_enc.cbc_encrypt(&[0; 8], &s)?;
    let m_ifd = k_mac.mac8(&pad(&e_ifd, 8))?;
    let mut data = e_ifd;
    data.extend_from_slice(&m_ifd);
    let resp = t.transmit(
        &CommandApdu::new(0x00, 0x82, 0x00, 0x00)
            .with_data(data)
            .with_le(40),
    )?;
    if !resp.sw.is_success() {
        return Err(
            if resp.sw.sw1() == 0x63 || resp.sw == StatusWord::SECURITY_STATUS_NOT_SATISFIED {
                Error::WrongPassword { protocol: PROTOCOL }
            } else {
                Error::Status {
                    command: "EXTERNAL AUTHENTICATE",
                    sw: resp.sw,
                }
            },
        );
    }
    if resp.data.len() != 40 {
        return Err(Error::Protocol {
            protocol: PROTOCOL,
            what: "EXTERNAL AUTHENTICATE answer is not 40 bytes",
        });
    }
    let (e_ic, m_ic) = resp.data.split_at(32);
    if !ct_eq(&k_mac.mac8(&pad(e_ic, 8))?, m_ic) {
        return Err(Error::AuthenticationFailed {
            protocol: PROTOCOL,
            what: "chip cryptogram MAC does not verify",
        });
    }
    let r = Zeroizing::new(k_enc.cbc_decrypt(&[0; 8], e_ic)?);
    if r[..8] != rnd_ic[..] || r[8..16] != rnd_ifd {
        return Err(Error::AuthenticationFailed {
            protocol: PROTOCOL,
            what: "chip cryptogram does not contain our challenges",
        });
    }
    session_keys(&k_ifd[..], &r[16..32], &rnd_ic, &rnd_ifd)
}

/// Chip side: answers GET CHALLENGE and EXTERNAL AUTHENTICATE for one MRZ.
pub struct BacChip {
    k_enc: SecretKey,
    k_mac: SecretKey,
    rnd_ic: Option<[u8; 8]>,
}

impl std::fmt::Debug for BacChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BacChip(challenge issued: {})", self.rnd_ic.is_some())
    }
}

impl BacChip {
    pub fn new(mrz: &MrzKeyInfo) -> Result<Self> {
        let (k_enc, k_mac) = basic_access_keys(mrz)?;
        Ok(Self {
            k_enc,
            k_mac,
            rnd_ic: None,
        })
    }

    /// Answers one plain command of the BAC exchange; other instructions get `6D00`.
    pub fn handle(&mut self, cmd: &CommandApdu, rng: &mut dyn RandomSource) -> Result<ChipStep> {
        match cmd.ins {
            0x84 => {
                if cmd.le != Some(8) {
                    return Ok(ChipStep::status(StatusWord::WRONG_LENGTH));
                }
                let mut rnd = [0u8; 8];
                rng.fill(&mut rnd)?;
                self.rnd_ic = Some(rnd);
                Ok(ChipStep::reply(rnd.to_vec(), StatusWord::SUCCESS))
            }
            0x82 => self.external_authenticate(cmd, rng),
            _ => Ok(ChipStep::status(StatusWord::INS_NOT_SUPPORTED)),
        }
    }

    fn external_authenticate(
        &mut self,
        cmd: &CommandApdu,
        rng: &mut dyn RandomSource,
    ) -> Result<ChipStep> {
        // A challenge is good for one attempt.
        let Some(rnd_ic) = self.rnd_ic.take() else {
            return Ok(ChipStep::status(StatusWord::CONDITIONS_NOT_SATISFIED));
        };
        if cmd.data.len() != 40 {
            return Ok(ChipStep::status(StatusWord::WRONG_LENGTH));
        }
        let (e_ifd, m_ifd) = cmd.data.split_at(32);
        if !ct_eq(&self.k_mac.mac8(&pad(e_ifd, 8))?, m_ifd) {
            return Ok(ChipStep::status(StatusWord(0x6300)));
        }
        let s = Zeroizing::new(self.k_enc.cbc_decrypt(&[0; 8], e_ifd)?);
        if s[8..16] != rnd_ic {
            return Ok(ChipStep::status(StatusWord(0x6300)));
        }
        let rnd_ifd = &s[..8];
        let mut k_ic = Zeroizing::new([0u8; 16]);
        rng.fill(&mut k_ic[..])?;
        let mut r = Zeroizing::new(Vec::with_capacity(32));
        r.extend_from_slice(&rnd_ic);
        r.extend_from_slice(rnd_ifd);
        r.extend_from_slice(&k_ic[..]);
        let e_ic = self.k_enc.cbc_encrypt(&[0; 8], &r)?;
        let m_ic = self.k_mac.mac8(&pad(&e_ic, 8))?;
        let keys = session_keys(&s[16..32], &k_ic[..], &rnd_ic, rnd_ifd)?;
        let mut data = e_ic;
        data.extend_from_slice(&m_ic);
        Ok(ChipStep {
            response: crate::apdu::ResponseApdu::new(data, StatusWord::SUCCESS),
            established: Some(keys),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::ResponseApdu;
    use crate::crypto::{OsRandom, ScriptedRandom};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn icao_mrz() -> MrzKeyInfo {
        MrzKeyInfo::new("L898902C", "690806", "940623").unwrap()
    }

    /// The ICAO chip: answers from the Appendix D transcript and records commands.
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

    #[test]
    fn terminal_matches_appendix_d() {
        let mut t = Scripted(
            vec![
                h("4608F91988702212 9000"),
                h(
                    "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7449 9000",
                ),
            ],
            vec![],
        );
        let mut rng =
            ScriptedRandom::new([h("781723860C06C226"), h("0B795240CB7049B01C19B33E32804F0B")]);
        let keys = establish(&mut t, &icao_mrz(), &mut rng).unwrap();
        assert_eq!(t.1[0], h("0084000008"));
        assert_eq!(
            t.1[1],
            h(
                "0082000028 72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7 28"
            )
        );
        assert_eq!(
            keys.enc_key().bytes(),
            h("979EC13B1CBFE9DCD01AB0FED307EAE5")
        );
        assert_eq!(
            keys.mac_key().bytes(),
            h("F1CB1F1FB5ADF208806B89DC579DC1F8")
        );
        assert_eq!(keys.ssc(), h("887022120C06C226"));
    }

    #[test]
    fn chip_matches_appendix_d() {
        let mut chip = BacChip::new(&icao_mrz()).unwrap();
        let mut rng =
            ScriptedRandom::new([h("4608F91988702212"), h("0B4F80323EB3191CB04970CB4052790B")]);
        let step = chip
            .handle(&CommandApdu::decode(&h("0084000008")).unwrap(), &mut rng)
            .unwrap();
        assert_eq!(step.response.data, h("4608F91988702212"));
        let cmd = CommandApdu::decode(&h("0082000028 72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7 28")).unwrap();
        let step = chip.handle(&cmd, &mut rng).unwrap();
        assert_eq!(
            step.response.encode(),
            h(
                "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7449 9000"
            )
        );
        let keys = step.established.unwrap();
        assert_eq!(
            keys.enc_key().bytes(),
            h("979EC13B1CBFE9DCD01AB0FED307EAE5")
        );
        assert_eq!(keys.ssc(), h("887022120C06C226"));
    }

    /// An in-process chip driven by the terminal.
    struct Chip(BacChip);

    impl CardTransport for Chip {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            let cmd = CommandApdu::decode(c)?;
            Ok(self.0.handle(&cmd, &mut OsRandom)?.response.encode())
        }
        fn describe(&self) -> String {
            "bac chip".into()
        }
    }

    #[test]
    fn synthetic_cccd_keys() {
        let id = crate::cccd::CitizenId::parse("001099012345").unwrap();
        let dob = crate::cccd::Date::new(1999, 1, 15).unwrap();
        let mrz = MrzKeyInfo::for_citizen(&id, dob, "240115").unwrap();
        let (enc, mac) = basic_access_keys(&mrz).unwrap();
        assert_eq!(enc.bytes(), h("F176BF6485D564BC2AB99E4F15E043E0"));
        assert_eq!(mac.bytes(), h("61BA0E91E33EF18C40CBC49D4591AE4F"));
    }

    #[test]
    fn round_trip_and_wrong_password() {
        let id = crate::cccd::CitizenId::parse("001099012345").unwrap();
        let dob = crate::cccd::Date::new(1999, 1, 15).unwrap();
        let mrz = MrzKeyInfo::for_citizen(&id, dob, "240115").unwrap();
        let mut chip = Chip(BacChip::new(&mrz).unwrap());
        let keys = establish(&mut chip, &mrz, &mut OsRandom).unwrap();
        assert_eq!(keys.alg(), CipherAlg::Tdes);

        let wrong = MrzKeyInfo::for_citizen(&id, dob, "390115").unwrap();
        let err = establish(&mut chip, &wrong, &mut OsRandom).unwrap_err();
        assert!(
            matches!(err, Error::WrongPassword { protocol: "BAC" }),
            "{err:?}"
        );
        // The chip refuses EXTERNAL AUTHENTICATE without a fresh challenge.
        let step = chip
            .0
            .handle(
                &CommandApdu::new(0, 0x82, 0, 0).with_data(vec![0; 40]),
                &mut OsRandom,
            )
            .unwrap();
        assert_eq!(step.response, ResponseApdu::new(vec![], StatusWord(0x6985)));
    }
}
