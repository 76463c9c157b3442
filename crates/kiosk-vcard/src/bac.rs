//! Chip side of Basic Access Control (ICAO 9303-11 §4.3): checks the terminal's
//! EXTERNAL AUTHENTICATE cryptogram against the MRZ key and answers with its own, deriving the
//! 3DES session keys.
//!
//! Swap point: card-proto's chip-side BAC replaces this when it lands.

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::random::ChipRandom;
use crate::sm::{SmCipher, SmSession, kdf, pad, retail_mac, tdes_cbc};

/// The BAC key seed from `MRZ_information` (document number, DOB, DOE with check digits).
pub fn key_seed(mrz_information: &str) -> Zeroizing<[u8; 16]> {
    let digest = Sha1::digest(mrz_information.as_bytes());
    let mut seed = Zeroizing::new([0u8; 16]);
    seed.copy_from_slice(&digest[..16]);
    seed
}

/// Processes the EXTERNAL AUTHENTICATE data (`E_IFD ‖ M_IFD`). On success returns the chip's
/// answer (`E_IC ‖ M_IC`) and the secure-messaging session; `None` when the terminal does not
/// know the key (wrong MAC or wrong RND.IC).
pub fn external_authenticate(
    mrz_information: &str,
    rnd_ic: &[u8; 8],
    data: &[u8],
    rng: &mut ChipRandom,
) -> Option<(Vec<u8>, SmSession)> {
    if data.len() != 40 {
        return None;
    }
    let (e_ifd, m_ifd) = data.split_at(32);
    let seed = key_seed(mrz_information);
    let k_enc = kdf(&*seed, 1, SmCipher::Tdes);
    let k_mac = kdf(&*seed, 2, SmCipher::Tdes);
    if retail_mac(&k_mac, &pad(e_ifd, 8)) != m_ifd {
        return None;
    }
    let s = Zeroizing::new(tdes_cbc(&k_enc, e_ifd, false));
    let (rnd_ifd, rest) = s.split_at(8);
    let (rnd_ic_echo, k_ifd) = rest.split_at(8);
    if rnd_ic_echo != rnd_ic {
        return None;
    }
    let k_ic = rng.bytes(16);
    let mut r = Zeroizing::new(Vec::with_capacity(32));
    r.extend_from_slice(rnd_ic);
    r.extend_from_slice(rnd_ifd);
    r.extend_from_slice(&k_ic);
    let e_ic = tdes_cbc(&k_enc, &r, true);
    let m_ic = retail_mac(&k_mac, &pad(&e_ic, 8));
    let mut answer = e_ic;
    answer.extend_from_slice(&m_ic);

    let mut session_seed = Zeroizing::new([0u8; 16]);
    for (i, b) in session_seed.iter_mut().enumerate() {
        *b = k_ifd[i] ^ k_ic[i];
    }
    let ks_enc = kdf(&*session_seed, 1, SmCipher::Tdes);
    let ks_mac = kdf(&*session_seed, 2, SmCipher::Tdes);
    let mut ssc = [0u8; 8];
    ssc[..4].copy_from_slice(&rnd_ic[4..]);
    ssc[4..].copy_from_slice(&rnd_ifd[4..]);
    Some((
        answer,
        SmSession::new(SmCipher::Tdes, *ks_enc, *ks_mac, &ssc),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SecureChannel;
    use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// ICAO 9303-11 Appendix D.3 from the chip's side, then the first SM exchange of D.4.
    #[test]
    fn icao_appendix_d_chip_side() {
        let mut rng = ChipRandom::from_seed(0, "test");
        rng.script(h("0B4F80323EB3191CB04970CB4052790B"));
        let rnd_ic: [u8; 8] = h("4608F91988702212").try_into().unwrap();
        let cmd =
            h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7");
        let (answer, mut sm) =
            external_authenticate("L898902C<369080619406236", &rnd_ic, &cmd, &mut rng).unwrap();
        assert_eq!(
            answer,
            h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7449")
        );
        let select =
            CommandApdu::decode(&h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"))
                .unwrap();
        let inner = sm.unwrap_command(&select).unwrap();
        assert_eq!(inner.data, h("011E"));
        let out = sm.wrap_response(&inner, &ResponseApdu::new(vec![], StatusWord::SUCCESS));
        assert_eq!(out, h("990290008E08FA855A5D4C50A8ED9000"));
    }

    #[test]
    fn wrong_key_or_challenge_is_refused() {
        let mut rng = ChipRandom::from_seed(0, "test");
        let rnd_ic: [u8; 8] = h("4608F91988702212").try_into().unwrap();
        let cmd =
            h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7");
        assert!(
            external_authenticate("L898902C<369080619406237", &rnd_ic, &cmd, &mut rng).is_none()
        );
        let other_ic = [0u8; 8];
        assert!(
            external_authenticate("L898902C<369080619406236", &other_ic, &cmd, &mut rng).is_none()
        );
        assert!(
            external_authenticate("L898902C<369080619406236", &rnd_ic, &cmd[..39], &mut rng)
                .is_none()
        );
    }
}
