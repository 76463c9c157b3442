//! Both sides of every protocol fed arbitrary bytes by the other side: each call must return
//! (an error is fine) — no panic, no endless loop.

use kiosk_card::access::{self, AccessOptions};
use kiosk_card::cccd::MrzKeyInfo;
use kiosk_card::crypto::ec::Curve;
use kiosk_card::crypto::{CipherAlg, OsRandom, SecretKey};
use kiosk_card::files::{self, FileId, ReadProfile};
use kiosk_card::lds::dg14::ChipAuthenticationKey;
use kiosk_card::lds::dg15::{Dg15, PublicKey, ec_spki_named, rsa_spki};
use kiosk_card::protocol::Password;
use kiosk_card::protocol::aa::{self, AaChip, HashAlg};
use kiosk_card::protocol::bac::{self, BacChip};
use kiosk_card::protocol::ca::{self, CaChip};
use kiosk_card::protocol::pace::{self, ChipPasswords, PaceChip, PaceOptions};
use kiosk_card::security_infos::{
    ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, PaceInfo, PaceMapping,
};
use kiosk_card::sm::{SecureChannel, SmKeys};
use kiosk_card::{CardTransport, CommandApdu, Error, Result};
use proptest::prelude::*;
use zeroize::Zeroizing;

/// Answers with the given byte strings in turn, then reports the card gone.
struct Hostile {
    answers: Vec<Vec<u8>>,
    extended: Option<bool>,
}

impl CardTransport for Hostile {
    fn transmit_raw(&mut self, _command: &[u8]) -> Result<Vec<u8>> {
        if self.answers.is_empty() {
            return Err(Error::CardRemoved);
        }
        Ok(self.answers.remove(0))
    }
    fn describe(&self) -> String {
        "hostile".into()
    }
    fn extended_length(&self) -> Option<bool> {
        self.extended
    }
}

fn sm_keys() -> Option<SmKeys> {
    SmKeys::new(
        SecretKey::new(CipherAlg::Aes128, &[1; 16]).ok()?,
        SecretKey::new(CipherAlg::Aes128, &[2; 16]).ok()?,
        &[0; 16],
    )
    .ok()
}

fn pace_info() -> PaceInfo {
    PaceInfo {
        oid: PaceInfo::oid_for(PaceMapping::EcdhGeneric, CipherAlg::Aes128),
        version: 2,
        parameter_id: Some(13),
    }
}

/// Answers: either arbitrary bytes, or a plausible status word with arbitrary data.
fn answers() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let one = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        (
            proptest::collection::vec(any::<u8>(), 0..300),
            prop_oneof![
                Just(0x9000u16),
                Just(0x6282),
                Just(0x6700),
                Just(0x6C10),
                Just(0x6982),
                Just(0x6988),
                any::<u16>()
            ]
        )
            .prop_map(|(mut d, sw)| {
                d.extend_from_slice(&sw.to_be_bytes());
                d
            }),
    ];
    proptest::collection::vec(one, 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn terminal_protocols_survive_any_chip(answers in answers(), extended in any::<Option<bool>>()) {
        let mrz = MrzKeyInfo::new("099012345", "990115", "240115").unwrap();
        let mk = || Hostile { answers: answers.clone(), extended };

        let _ = bac::establish(&mut mk(), &mrz, &mut OsRandom);
        let _ = pace::establish(&mut mk(), &pace_info(), &Password::can("012345"), &mut OsRandom, PaceOptions::default());
        let _ = access::establish(mk(), &[Password::can("012345"), Password::Mrz(mrz.clone())], &mut OsRandom, AccessOptions::default());

        let mut profile = ReadProfile::default();
        let _ = files::read_file(&mut mk(), FileId::data_group(2), &mut profile);
        let mut profile = ReadProfile::default();
        let _ = files::read_file(&mut SecureChannel::new(mk(), sm_keys().unwrap()), FileId::new(0x0102, None), &mut profile);

        let curve = Curve::BrainpoolP256r1;
        let g = curve.generator();
        let key = ChipAuthenticationKey {
            info: ChipAuthenticationInfo { oid: ChipAuthenticationInfo::ecdh_oid(CipherAlg::Aes128), version: 1, key_id: Some(1) },
            key: ChipAuthenticationPublicKeyInfo { oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(), spki: ec_spki_named(curve, &g), key_id: Some(1) },
            public_key: PublicKey::Ec { curve: Some(curve), point: g.clone() },
        };
        let _ = ca::authenticate(&mut SecureChannel::new(mk(), sm_keys().unwrap()), &key, &mut OsRandom);

        let ec = Dg15 { spki: ec_spki_named(Curve::NistP256, &Curve::NistP256.generator()) };
        let _ = aa::authenticate(&mut mk(), &ec, None, &mut OsRandom, None);
        let rsa = Dg15 { spki: rsa_spki(&[0xC5; 128], &[1, 0, 1]) };
        let _ = aa::authenticate(&mut mk(), &rsa, None, &mut OsRandom, None);
    }

    #[test]
    fn chip_handlers_survive_any_command(
        commands in proptest::collection::vec(
            (any::<u8>(), prop_oneof![Just(0x22u8), Just(0x86), Just(0x82), Just(0x84), Just(0x88), any::<u8>()],
             prop_oneof![Just(0xC1u8), Just(0x41), Just(0), any::<u8>()],
             prop_oneof![Just(0xA4u8), Just(0xA6), Just(0), any::<u8>()],
             proptest::collection::vec(any::<u8>(), 0..120),
             proptest::option::of(1usize..=65_536)),
            1..12)
    ) {
        let mrz = MrzKeyInfo::new("099012345", "990115", "240115").unwrap();
        let mut bac = BacChip::new(&mrz).unwrap();
        let mut pace = PaceChip::new(
            ChipPasswords { can: Some(Zeroizing::new("012345".into())), mrz: Some(mrz) },
            vec![pace_info()],
        );
        let curve = Curve::BrainpoolP256r1;
        let mut ca = CaChip::new(curve, CipherAlg::Aes128, &curve.random_scalar(&mut OsRandom).unwrap()).unwrap();
        let aa = AaChip::Ecdsa {
            curve,
            private: curve.random_scalar(&mut OsRandom).unwrap(),
            hash: HashAlg::Sha256,
        };
        for (cla, ins, p1, p2, data, le) in commands {
            let cmd = CommandApdu { cla, ins, p1, p2, data, le };
            let _ = bac.handle(&cmd, &mut OsRandom);
            let _ = pace.handle(&cmd, &mut OsRandom);
            let _ = ca.handle(&cmd);
            let _ = aa.handle(&cmd, &mut OsRandom);
        }
    }
}
