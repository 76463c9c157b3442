//! Chip Authentication v1 with ECDH (ICAO 9303-11 §6.2, BSI TR-03110): the terminal sends an
//! ephemeral public key on the curve of the chip's static DG14 key, both sides derive new
//! session keys from the shared secret (SSC reset to zero), and the chip proves it holds the
//! private key by answering correctly under the new keys. A cloned chip without the key fails.
//!
//! Key transport follows the cipher: 3DES uses MSE:Set KAT (`0022 41A6`, `91` = our key, `84` =
//! key id); AES uses MSE:Set AT (`0022 41A4`, `80` = CA OID, `84` = key id) and GENERAL
//! AUTHENTICATE (`7C { 80 key }`), falling back to Set KAT for chips that only know that.

use zeroize::Zeroizing;

use crate::apdu::{CommandApdu, ResponseApdu, StatusWord};
use crate::crypto::ec::Curve;
use crate::crypto::{CipherAlg, KdfPurpose, RandomSource, kdf};
use crate::error::{Error, Result};
use crate::lds::dg14::ChipAuthenticationKey;
use crate::lds::dg15::PublicKey;
use crate::protocol::ChipStep;
use crate::security_infos::ChipAuthenticationInfo;
use crate::sm::{SecureChannel, SmKeys};
use crate::tlv;
use crate::transport::CardTransport;

const PROTOCOL: &str = "Chip Authentication";

fn session_keys(cipher: CipherAlg, shared: &[u8]) -> Result<SmKeys> {
    SmKeys::new(
        kdf(cipher, shared, KdfPurpose::Enc)?,
        kdf(cipher, shared, KdfPurpose::Mac)?,
        &vec![0; cipher.block_len()],
    )
}

fn key_id_bytes(id: u64) -> Vec<u8> {
    let b = id.to_be_bytes();
    let skip = b.iter().take_while(|x| **x == 0).count().min(7);
    b[skip..].to_vec()
}

/// Terminal side: runs Chip Authentication over an established secure channel and switches it
/// to the new keys. Then reads one byte of EF.COM (by SFI, so EF.COM is the current file
/// afterwards) to confirm the chip answers under them; a chip that cannot gives
/// [`Error::AuthenticationFailed`] and the channel is lost (re-establish access to go on).
pub fn authenticate<T: CardTransport>(
    channel: &mut SecureChannel<T>,
    key: &ChipAuthenticationKey,
    rng: &mut dyn RandomSource,
) -> Result<()> {
    let PublicKey::Ec {
        curve: Some(curve),
        point,
    } = &key.public_key
    else {
        return Err(Error::Unsupported {
            what: "Chip Authentication key is not ECDH on brainpoolP256r1/P-256",
        });
    };
    let cipher = key.info.ecdh_cipher().ok_or(Error::Unsupported {
        what: "Chip Authentication variant (only ECDH)",
    })?;
    curve.validate_point(point)?;
    let sk = curve.random_scalar(rng)?;
    let pk = curve.mul(&sk, &curve.generator())?;
    let key_id = key.info.key_id.or(key.key.key_id);

    let via_at = cipher != CipherAlg::Tdes && {
        let mut data = tlv::encode(0x80, &key.info.oid);
        if let Some(id) = key_id {
            tlv::encode_into(&mut data, 0x84, &key_id_bytes(id));
        }
        let resp = channel.transmit(&CommandApdu::new(0x00, 0x22, 0x41, 0xA4).with_data(data))?;
        resp.sw.is_success()
    };
    if via_at {
        let ga = CommandApdu::new(0x00, 0x86, 0x00, 0x00)
            .with_data(tlv::encode(0x7C, &tlv::encode(0x80, &pk)))
            .with_le(256);
        channel.transmit(&ga)?.ok("GENERAL AUTHENTICATE")?;
    } else {
        let mut data = tlv::encode(0x91, &pk);
        if let Some(id) = key_id {
            tlv::encode_into(&mut data, 0x84, &key_id_bytes(id));
        }
        channel
            .transmit(&CommandApdu::new(0x00, 0x22, 0x41, 0xA6).with_data(data))?
            .ok("MSE:Set KAT")?;
    }
    let shared = curve.ecdh(&sk, point)?;
    channel.rekey(session_keys(cipher, &shared)?);

    // Any answer whose MAC verifies under the new keys proves the chip derived them, whatever
    // its status word (a card without EF.COM answers a protected 6A82).
    let confirm = CommandApdu::new(0x00, 0xB0, 0x9E, 0x00).with_le(1);
    match channel.transmit(&confirm) {
        Ok(_) => Ok(()),
        Err(Error::SecureMessaging { .. } | Error::SessionLost { .. }) => {
            Err(Error::AuthenticationFailed {
                protocol: PROTOCOL,
                what: "the chip does not answer under the new session keys",
            })
        }
        Err(e) => Err(e),
    }
}

/// Chip side: holds the static key pair that DG14 advertises.
pub struct CaChip {
    curve: Curve,
    cipher: CipherAlg,
    oid: Vec<u8>,
    private: Zeroizing<Vec<u8>>,
    at_selected: bool,
}

impl std::fmt::Debug for CaChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaChip({:?}, {:?})", self.curve, self.cipher)
    }
}

impl CaChip {
    /// A chip with `private` (big-endian scalar) on `curve`, running CA with `cipher`.
    pub fn new(curve: Curve, cipher: CipherAlg, private: &[u8]) -> Result<Self> {
        // Validates the scalar.
        curve.mul(private, &curve.generator())?;
        Ok(Self {
            curve,
            cipher,
            oid: ChipAuthenticationInfo::ecdh_oid(cipher),
            private: Zeroizing::new(private.to_vec()),
            at_selected: false,
        })
    }

    /// The static public key (for DG14).
    pub fn public_key(&self) -> Result<Vec<u8>> {
        self.curve.mul(&self.private, &self.curve.generator())
    }

    /// Answers MSE:Set KAT, MSE:Set AT and GENERAL AUTHENTICATE (already unwrapped from SM).
    /// The answer must go out under the old keys; switch to `established` afterwards.
    pub fn handle(&mut self, cmd: &CommandApdu) -> Result<ChipStep> {
        match (cmd.ins, cmd.p1, cmd.p2) {
            (0x22, 0x41, 0xA6) => {
                self.at_selected = false;
                let Ok(Some(pk)) = tlv::find(&cmd.data, 0x91) else {
                    return Ok(ChipStep::status(StatusWord::WRONG_DATA));
                };
                self.agree(pk.value, StatusWord::SUCCESS, Vec::new())
            }
            (0x22, 0x41, 0xA4) => {
                let ok = matches!(tlv::find(&cmd.data, 0x80), Ok(Some(o)) if o.value == self.oid);
                self.at_selected = ok;
                Ok(ChipStep::status(if ok {
                    StatusWord::SUCCESS
                } else {
                    StatusWord::WRONG_DATA
                }))
            }
            (0x86, 0x00, 0x00) if self.at_selected => {
                self.at_selected = false;
                let pk = tlv::parse_exact(&cmd.data, 0x7C)
                    .ok()
                    .and_then(|o| o.find(0x80).ok().flatten());
                let Some(pk) = pk else {
                    return Ok(ChipStep::status(StatusWord::WRONG_DATA));
                };
                self.agree(pk.value, StatusWord::SUCCESS, tlv::encode(0x7C, &[]))
            }
            (0x86, ..) => Ok(ChipStep::status(StatusWord::CONDITIONS_NOT_SATISFIED)),
            _ => Ok(ChipStep::status(StatusWord::INS_NOT_SUPPORTED)),
        }
    }

    fn agree(&self, pk: &[u8], sw: StatusWord, data: Vec<u8>) -> Result<ChipStep> {
        if self.curve.validate_point(pk).is_err() {
            return Ok(ChipStep::status(StatusWord::WRONG_DATA));
        }
        let shared = self.curve.ecdh(&self.private, pk)?;
        Ok(ChipStep {
            response: ResponseApdu::new(data, sw),
            established: Some(session_keys(self.cipher, &shared)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{OsRandom, SecretKey};
    use crate::lds::dg15::ec_spki_named;
    use crate::security_infos::ChipAuthenticationPublicKeyInfo;
    use crate::sm::ChipSm;

    /// A chip speaking SM with a CA handler and a one-file EF.COM.
    struct Chip {
        sm: Option<ChipSm>,
        ca: CaChip,
    }

    impl CardTransport for Chip {
        fn transmit_raw(&mut self, c: &[u8]) -> Result<Vec<u8>> {
            let Some(sm) = self.sm.as_mut() else {
                return Ok(vec![0x69, 0x82]);
            };
            let cmd = match sm.unwrap_command(c) {
                Ok(c) => c,
                Err(_) => {
                    self.sm = None;
                    return Ok(vec![0x69, 0x88]);
                }
            };
            let (resp, new_keys) = match cmd.ins {
                0xB0 => (ResponseApdu::new(vec![0x60], StatusWord::SUCCESS), None),
                _ => {
                    let step = self.ca.handle(&cmd)?;
                    (step.response, step.established)
                }
            };
            let out = sm.wrap_response(&resp)?;
            if let Some(k) = new_keys {
                self.sm = Some(ChipSm::new(k));
            }
            Ok(out)
        }
        fn describe(&self) -> String {
            "ca chip".into()
        }
    }

    fn keys() -> SmKeys {
        SmKeys::new(
            SecretKey::new(CipherAlg::Aes128, &[7; 16]).unwrap(),
            SecretKey::new(CipherAlg::Aes128, &[8; 16]).unwrap(),
            &[0; 16],
        )
        .unwrap()
    }

    fn dg14_key(curve: Curve, cipher: CipherAlg, public: &[u8]) -> ChipAuthenticationKey {
        ChipAuthenticationKey {
            info: crate::security_infos::ChipAuthenticationInfo {
                oid: ChipAuthenticationInfo::ecdh_oid(cipher),
                version: 1,
                key_id: None,
            },
            key: ChipAuthenticationPublicKeyInfo {
                oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(),
                spki: ec_spki_named(curve, public),
                key_id: None,
            },
            public_key: PublicKey::Ec {
                curve: Some(curve),
                point: public.to_vec(),
            },
        }
    }

    #[test]
    fn round_trip_at_and_kat_on_both_curves() {
        for (curve, cipher) in [
            (Curve::BrainpoolP256r1, CipherAlg::Aes128),
            (Curve::NistP256, CipherAlg::Aes256),
            (Curve::BrainpoolP256r1, CipherAlg::Tdes),
        ] {
            let sk = curve.random_scalar(&mut OsRandom).unwrap();
            let ca = CaChip::new(curve, cipher, &sk).unwrap();
            let public = ca.public_key().unwrap();
            let chip = Chip {
                sm: Some(ChipSm::new(keys())),
                ca,
            };
            let mut ch = SecureChannel::new(chip, keys());
            authenticate(&mut ch, &dg14_key(curve, cipher, &public), &mut OsRandom).unwrap();
            assert_eq!(ch.keys().alg(), cipher);
            // Still talking under the new keys.
            let r = ch
                .transmit(&CommandApdu::new(0, 0xB0, 0, 0).with_le(1))
                .unwrap();
            assert_eq!(r.data, vec![0x60]);
        }
    }

    #[test]
    fn cloned_chip_without_the_key_fails() {
        let curve = Curve::BrainpoolP256r1;
        let real = curve.random_scalar(&mut OsRandom).unwrap();
        let public = curve.mul(&real, &curve.generator()).unwrap();
        let clone_key = curve.random_scalar(&mut OsRandom).unwrap();
        let chip = Chip {
            sm: Some(ChipSm::new(keys())),
            ca: CaChip::new(curve, CipherAlg::Aes128, &clone_key).unwrap(),
        };
        let mut ch = SecureChannel::new(chip, keys());
        let err = authenticate(
            &mut ch,
            &dg14_key(curve, CipherAlg::Aes128, &public),
            &mut OsRandom,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AuthenticationFailed {
                    protocol: PROTOCOL,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn unsupported_keys_are_reported() {
        let chip = Chip {
            sm: Some(ChipSm::new(keys())),
            ca: CaChip::new(
                Curve::NistP256,
                CipherAlg::Aes128,
                &Curve::NistP256.random_scalar(&mut OsRandom).unwrap(),
            )
            .unwrap(),
        };
        let mut ch = SecureChannel::new(chip, keys());
        let mut key = dg14_key(Curve::NistP256, CipherAlg::Aes128, &[4; 65]);
        key.public_key = PublicKey::Ec {
            curve: None,
            point: vec![4; 65],
        };
        assert!(matches!(
            authenticate(&mut ch, &key, &mut OsRandom),
            Err(Error::Unsupported { .. })
        ));
    }
}
