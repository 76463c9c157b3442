//! The virtual chip read in-process with the terminal side of `kiosk-card`: PACE (CAN, MRZ),
//! BAC, every file, passive authentication against the generated CSCA, Chip and Active
//! Authentication — and each injected fault giving its own failure.

// Helpers outside #[test] functions unwrap as well: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use common::card as new_card;
use common::{passive_authentication, read_file, select_applet};
use kiosk_card::apdu::{CommandApdu, StatusWord};
use kiosk_card::cccd::MrzKeyInfo;
use kiosk_card::crypto::OsRandom;
use kiosk_card::lds::dg1::Dg1;
use kiosk_card::lds::dg2::Dg2;
use kiosk_card::lds::dg13::Dg13;
use kiosk_card::lds::dg14::Dg14;
use kiosk_card::lds::dg15::Dg15;
use kiosk_card::protocol::pace::{self, PaceOptions};
use kiosk_card::protocol::{Password, aa, bac, ca};
use kiosk_card::security_infos::SecurityInfos;
use kiosk_card::sm::SecureChannel;
use kiosk_card::{CardTransport, Error};
use kiosk_vcard::fault::{Fault, Faults};
use kiosk_vcard::fs::Ef;
use kiosk_vcard::{InProcessCard, Profile};

/// EF.CardAccess (plain, by SFI) and the PACE offer in it.
fn pace_info(card: &mut InProcessCard) -> kiosk_card::security_infos::PaceInfo {
    let ca = read_file(card, 0x1C, 223).unwrap();
    SecurityInfos::decode(&ca)
        .unwrap()
        .pace()
        .next()
        .unwrap()
        .clone()
}

fn mrz_key(p: &Profile) -> MrzKeyInfo {
    MrzKeyInfo::new(&p.doc_no9(), &p.date_of_birth.yymmdd(), &p.mrz_expiry()).unwrap()
}

fn open_pace(
    mut card: InProcessCard,
    password: &Password,
) -> kiosk_card::Result<SecureChannel<InProcessCard>> {
    let info = pace_info(&mut card);
    let out = pace::establish(
        &mut card,
        &info,
        password,
        &mut OsRandom,
        PaceOptions::default(),
    )?;
    let mut channel = SecureChannel::new(card, out.keys);
    select_applet(&mut channel)?;
    Ok(channel)
}

#[test]
fn pace_by_can_reads_and_verifies_everything() {
    let (card, pki, profile) = new_card("an.toml", Faults::none());
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();

    let dg13 = read_file(&mut ch, 0x0D, 223).unwrap();
    let dg1 = read_file(&mut ch, 0x01, 223).unwrap();
    let sod = read_file(&mut ch, 0x1D, 223).unwrap();
    let dg14 = read_file(&mut ch, 0x0E, 223).unwrap();
    let dg15 = read_file(&mut ch, 0x0F, 223).unwrap();
    let dg2 = read_file(&mut ch, 0x02, 223).unwrap();
    let com = read_file(&mut ch, 0x1E, 223).unwrap();
    assert!(com.starts_with(&[0x60]));

    // The data is the profile's.
    let d13 = Dg13::decode(&dg13).unwrap();
    assert_eq!(d13.id_number.as_deref(), Some(profile.id.as_str()));
    assert_eq!(d13.full_name.as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(d13.old_id_number.as_deref(), Some("013456789"));
    let mrz = Dg1::decode(&dg1).unwrap().mrz;
    assert_eq!(mrz.document_number, "099012345");
    assert_eq!(mrz.cccd_id_number(), Some("001099012345"));
    let photo = std::fs::read(common::profile_path("an.jpg")).unwrap();
    assert_eq!(Dg2::decode(&dg2).unwrap().portrait().unwrap().data, photo);

    // Passive authentication passes against the generated CSCA.
    let files: [(u8, &[u8]); 5] = [(1, &dg1), (2, &dg2), (13, &dg13), (14, &dg14), (15, &dg15)];
    let report = passive_authentication(&sod, &files, &pki.csca_pem().unwrap());
    assert!(report.sod_hashes.is_passed(), "{}", report.sod_hashes);
    assert!(report.sod_signature.is_passed(), "{}", report.sod_signature);
    assert!(
        report.ds_certificate_chain.is_passed(),
        "{}",
        report.ds_certificate_chain
    );
    assert!(report.passive_authentication_passed());

    // Chip Authentication switches keys and the chip keeps answering; then Active Authentication.
    let dg14 = Dg14::decode(&dg14).unwrap();
    ca::authenticate(
        &mut ch,
        &dg14.chip_authentication_key().unwrap(),
        &mut OsRandom,
    )
    .unwrap();
    let again = read_file(&mut ch, 0x0D, 223).unwrap();
    assert_eq!(again, dg13);
    let dg15 = Dg15::decode(&dg15).unwrap();
    aa::authenticate(
        &mut ch,
        &dg15,
        dg14.active_authentication(),
        &mut OsRandom,
        None,
    )
    .unwrap();

    // DG3 stays closed (EAC) even after access.
    let err = ch
        .transmit(&CommandApdu::new(0, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x03]))
        .unwrap();
    assert_eq!(err.sw, StatusWord::SECURITY_STATUS_NOT_SATISFIED);
}

#[test]
fn pace_by_mrz_and_bac_both_open_the_card() {
    let (card, _, profile) = new_card("lan.toml", Faults::none());
    let mut ch = open_pace(card, &Password::Mrz(mrz_key(&profile))).unwrap();
    let d13 = Dg13::decode(&read_file(&mut ch, 0x0D, 223).unwrap()).unwrap();
    assert_eq!(d13.spouse_name.as_deref(), Some("Hoàng Minh Tuấn"));
    assert_eq!(d13.old_id_number, None);

    let (mut card, _, profile) = new_card("lan.toml", Faults::none());
    select_applet(&mut card).unwrap();
    let keys = bac::establish(&mut card, &mrz_key(&profile), &mut OsRandom).unwrap();
    let mut ch = SecureChannel::new(card, keys);
    let d13 = Dg13::decode(&read_file(&mut ch, 0x0D, 100).unwrap()).unwrap();
    assert_eq!(d13.full_name.as_deref(), Some("Trần Thị Ngọc Lan"));
}

#[test]
fn no_expiry_card_opens_with_its_mrz_spelling() {
    let (card, _, profile) = new_card("binh.toml", Faults::none());
    assert_eq!(profile.mrz_expiry(), "991231");
    let mut ch = open_pace(card, &Password::Mrz(mrz_key(&profile))).unwrap();
    let d13 = Dg13::decode(&read_file(&mut ch, 0x0D, 223).unwrap()).unwrap();
    assert_eq!(d13.expiry_date.as_deref(), Some("Không thời hạn"));
}

#[test]
fn extended_length_and_offsets_above_32767() {
    let (card, _, profile) = new_card("khanh.toml", Faults::none());
    // A 40 000-byte DG2 stands in for a large photo.
    let big: Vec<u8> = (0..40_000u32).map(|i| (i % 253) as u8).collect();
    let dg2 = kiosk_card::tlv::encode(0x75, &big[..39_996]);
    assert_eq!(dg2.len(), 40_000);
    card.with_chip(|c| c.files_mut().put(Ef::Dg2, dg2.clone()));
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    // Extended READ BINARY of 30 000 bytes at a time.
    assert_eq!(read_file(&mut ch, 0x02, 30_000).unwrap(), dg2);
    // 4 000-byte chunks: the last ones start above offset 32767 and go through B1 + DO'54'.
    assert_eq!(read_file(&mut ch, 0x02, 4_000).unwrap(), dg2);
}

#[test]
fn fault_wrong_password_fails_pace_and_bac() {
    let (card, _, profile) = new_card("an.toml", Faults::none().with(Fault::WrongPassword));
    let err = open_pace(card, &Password::can(&profile.can())).unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err:?}");

    let (mut card, _, profile) = new_card("an.toml", Faults::none().with(Fault::WrongPassword));
    select_applet(&mut card).unwrap();
    let err = bac::establish(&mut card, &mrz_key(&profile), &mut OsRandom).unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err:?}");
}

#[test]
fn fault_corrupt_dg_fails_passive_authentication_of_dg13_only() {
    let (card, pki, profile) = new_card("an.toml", Faults::none().with(Fault::CorruptDg));
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    let dg13 = read_file(&mut ch, 0x0D, 223).unwrap();
    let dg1 = read_file(&mut ch, 0x01, 223).unwrap();
    let sod = read_file(&mut ch, 0x1D, 223).unwrap();
    // Still a well-formed DG13: only its hash is wrong.
    assert!(Dg13::decode(&dg13).is_ok());
    let report = passive_authentication(&sod, &[(1, &dg1), (13, &dg13)], &pki.csca_pem().unwrap());
    assert!(report.sod_hashes.is_failed(), "{}", report.sod_hashes);
    assert!(
        report
            .sod_hashes
            .reason()
            .unwrap_or_default()
            .contains("13"),
        "{}",
        report.sod_hashes
    );
    assert!(report.sod_signature.is_passed() && report.ds_certificate_chain.is_passed());
    // The same files without the corruption pass: only DG13 is at fault.
    let report = passive_authentication(&sod, &[(1, &dg1)], &pki.csca_pem().unwrap());
    assert!(report.passive_authentication_passed());
}

#[test]
fn fault_cloned_chip_fails_chip_and_active_authentication() {
    let (card, _, profile) = new_card("an.toml", Faults::none().with(Fault::ClonedChip));
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    let dg14 = Dg14::decode(&read_file(&mut ch, 0x0E, 223).unwrap()).unwrap();
    let dg15 = Dg15::decode(&read_file(&mut ch, 0x0F, 223).unwrap()).unwrap();
    let err = aa::authenticate(
        &mut ch,
        &dg15,
        dg14.active_authentication(),
        &mut OsRandom,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err:?}");
    let err = ca::authenticate(
        &mut ch,
        &dg14.chip_authentication_key().unwrap(),
        &mut OsRandom,
    )
    .unwrap_err();
    assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err:?}");
}

#[test]
fn fault_removed_mid_read_reports_a_removed_card_during_dg2() {
    let (card, _, profile) = new_card(
        "an.toml",
        Faults::none().with(Fault::RemovedMidRead { after_apdus: 2 }),
    );
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    // Text data reads fine; the photo does not.
    assert!(read_file(&mut ch, 0x0D, 223).is_ok());
    let err = read_file(&mut ch, 0x02, 223).unwrap_err();
    assert!(matches!(err, Error::CardRemoved), "{err:?}");
    // And it stays gone until re-inserted, through a handle while the reader holds the card.
    let handle = ch.inner_mut().handle();
    assert!(matches!(
        ch.inner_mut().transmit_raw(&[0, 0xA4, 0, 0x0C]),
        Err(Error::CardRemoved)
    ));
    handle.reinsert();
    let card = ch.into_inner();
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    assert!(read_file(&mut ch, 0x02, 223).is_ok());
    assert!(handle.with_chip(|c| c.apdu_count()) > 0);

    // A reader that asks for the whole photo at once still never gets it.
    let (card, _, profile) = new_card(
        "an.toml",
        Faults::none().with(Fault::RemovedMidRead { after_apdus: 100 }),
    );
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    let err = read_file(&mut ch, 0x02, 60_000).unwrap_err();
    assert!(matches!(err, Error::CardRemoved), "{err:?}");
}

#[test]
fn fault_no_extended_length_refuses_large_le_but_short_reads_work() {
    let (card, _, profile) = new_card("an.toml", Faults::none().with(Fault::NoExtendedLength));
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    let dg13 = read_file(&mut ch, 0x0D, 223).unwrap();
    assert!(Dg13::decode(&dg13).is_ok());
    let err = read_file(&mut ch, 0x02, 1000).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                sw: StatusWord::WRONG_LENGTH,
                ..
            }
        ),
        "{err:?}"
    );
    // The session survives the refusal: short reads go on under the same keys.
    assert_eq!(read_file(&mut ch, 0x0D, 223).unwrap(), dg13);
}

#[test]
fn fault_slow_still_answers_correctly() {
    let (card, _, profile) = new_card(
        "an.toml",
        Faults::none().with(Fault::Slow {
            per_apdu: std::time::Duration::from_millis(1),
        }),
    );
    assert_eq!(
        card.with_chip(|c| c.delay_per_apdu()),
        Some(std::time::Duration::from_millis(1))
    );
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    assert!(Dg13::decode(&read_file(&mut ch, 0x0D, 223).unwrap()).is_ok());
}

#[test]
fn plain_read_before_access_is_6982() {
    let (mut card, _, _) = new_card("an.toml", Faults::none());
    select_applet(&mut card).unwrap();
    let r = card
        .transmit(&CommandApdu::new(0, 0xB0, 0x8D, 0).with_le(4))
        .unwrap();
    assert_eq!(r.sw, StatusWord::SECURITY_STATUS_NOT_SATISFIED);
}

#[test]
fn rsa_active_authentication_option_works_and_a_clone_fails_it() {
    use kiosk_vcard::personalise::AaAlgorithm;
    for (faults, genuine) in [
        (Faults::none(), true),
        (Faults::none().with(Fault::ClonedChip), false),
    ] {
        let profile = common::load("thao.json");
        let opts = kiosk_vcard::Options {
            seed: 4,
            faults,
            aa: AaAlgorithm::Rsa(1024),
        };
        let chip = kiosk_vcard::personalise(&profile, &opts).unwrap().chip;
        let mut ch = open_pace(InProcessCard::new(chip), &Password::can(&profile.can())).unwrap();
        let dg14 = Dg14::decode(&read_file(&mut ch, 0x0E, 223).unwrap()).unwrap();
        let dg15 = Dg15::decode(&read_file(&mut ch, 0x0F, 223).unwrap()).unwrap();
        assert!(matches!(
            dg15.public_key().unwrap(),
            kiosk_card::lds::dg15::PublicKey::Rsa { .. }
        ));
        assert!(dg14.active_authentication().is_none());
        let result = aa::authenticate(
            &mut ch,
            &dg15,
            dg14.active_authentication(),
            &mut OsRandom,
            None,
        );
        assert_eq!(result.is_ok(), genuine, "{result:?}");
    }
}

/// The reader's own access and file code (`kiosk_card::access`, `kiosk_card::files`) against the
/// chip: PACE chosen from EF.CardAccess, extended length probed; with the
/// `no-extended-length` fault the reader falls back to short reads and still gets every byte.
#[test]
fn kiosk_card_reader_reads_with_and_without_extended_length() {
    use kiosk_card::access::{AccessOptions, AccessProtocol, establish};
    use kiosk_card::files::{FileId, ReadProfile, read_file as reader_read};
    for faults in [Faults::none(), Faults::none().with(Fault::NoExtendedLength)] {
        let refuses = faults.has("no-extended-length");
        let (card, pki, profile) = new_card("khanh.toml", faults);
        let expected_dg2 = card.with_chip(|c| c.files().get(Ef::Dg2).unwrap().to_vec());
        let mut access = establish(
            card,
            &[Password::can(&profile.can())],
            &mut OsRandom,
            AccessOptions::default(),
        )
        .unwrap();
        assert!(matches!(access.protocol, AccessProtocol::Pace(_)));
        let mut rp = ReadProfile::for_transport(&access.channel);
        let dg13 = reader_read(&mut access.channel, FileId::data_group(13), &mut rp).unwrap();
        let dg2 = reader_read(&mut access.channel, FileId::data_group(2), &mut rp).unwrap();
        let sod = reader_read(&mut access.channel, kiosk_card::files::EF_SOD, &mut rp).unwrap();
        assert_eq!(*dg2, expected_dg2);
        assert_eq!(
            rp.uses_extended_length(),
            !refuses,
            "refuses extended: {refuses}"
        );
        let report =
            passive_authentication(&sod, &[(2, &dg2), (13, &dg13)], &pki.csca_pem().unwrap());
        assert!(report.passive_authentication_passed(), "{report:?}");
    }
}

/// Chip Authentication by MSE:Set KAT (the 3DES-style key transport some terminals use for
/// every cipher): the chip answers under the old keys, then only under the new ones.
#[test]
fn chip_authentication_by_mse_set_kat() {
    use kiosk_card::crypto::ec::Curve;
    use kiosk_card::crypto::{CipherAlg, KdfPurpose, kdf};
    use kiosk_card::lds::dg15::PublicKey;
    use kiosk_card::sm::SmKeys;
    let (card, _, profile) = new_card("an.toml", Faults::none());
    let mut ch = open_pace(card, &Password::can(&profile.can())).unwrap();
    let dg14 = Dg14::decode(&read_file(&mut ch, 0x0E, 223).unwrap()).unwrap();
    let PublicKey::Ec {
        point: chip_key, ..
    } = dg14.chip_authentication_key().unwrap().public_key
    else {
        panic!("DG14 holds an EC key")
    };
    let curve = Curve::BrainpoolP256r1;
    let sk = curve.random_scalar(&mut OsRandom).unwrap();
    let pk = curve.mul(&sk, &curve.generator()).unwrap();
    let kat = CommandApdu::new(0, 0x22, 0x41, 0xA6).with_data(kiosk_card::tlv::encode(0x91, &pk));
    assert!(ch.transmit(&kat).unwrap().sw.is_success());
    let shared = curve.ecdh(&sk, &chip_key).unwrap();
    let keys = SmKeys::new(
        kdf(CipherAlg::Aes128, &shared, KdfPurpose::Enc).unwrap(),
        kdf(CipherAlg::Aes128, &shared, KdfPurpose::Mac).unwrap(),
        &[0; 16],
    )
    .unwrap();
    ch.rekey(keys);
    let d13 = Dg13::decode(&read_file(&mut ch, 0x0D, 223).unwrap()).unwrap();
    assert_eq!(d13.full_name.as_deref(), Some("Nguyễn Văn An"));
}
