//! The card service (`kiosk_card::read`) against the virtual chip in-process: every sample
//! citizen read and verified by CAN, by MRZ and with BAC, and each injected fault ending in its
//! own error or failed check.

#![allow(clippy::unwrap_used)] // test helpers may panic: a panic is a failed test

use std::time::SystemTime;

use kiosk_card::cccd::MrzKeyInfo;
use kiosk_card::pa::trust::TrustStore;
use kiosk_card::protocol::Password;
use kiosk_card::read::{CardRead, CardReadResult, ReadOptions};
use kiosk_card::verification::Check;
use kiosk_card::{Error, access::AccessProtocol, lds::LdsFile};
use kiosk_tests::rig::sample_profile;
use kiosk_vcard::{Fault, Faults, InProcessCard, Options, Profile, personalise};

const PROFILES: [&str; 5] = [
    "an.toml",
    "binh.toml",
    "khanh.toml",
    "lan.toml",
    "thao.json",
];

struct Card {
    profile: Profile,
    card: InProcessCard,
    trust: TrustStore,
}

fn card(name: &str, faults: Faults) -> Card {
    let profile = Profile::load(&sample_profile(name)).expect("sample profile");
    let p = personalise(
        &profile,
        &Options {
            faults,
            ..Options::default()
        },
    )
    .expect("personalise");
    let mut trust = TrustStore::new();
    trust
        .add_bytes(p.pki.csca_pem().unwrap().as_bytes(), "test CSCA")
        .expect("trust the test CSCA");
    Card {
        profile,
        card: InProcessCard::new(p.chip),
        trust,
    }
}

fn can(profile: &Profile) -> Vec<Password> {
    vec![Password::can(&profile.can())]
}

fn mrz(profile: &Profile) -> Vec<Password> {
    let key = MrzKeyInfo::new(
        &profile.doc_no9(),
        &profile.date_of_birth.yymmdd(),
        &profile.mrz_expiry(),
    )
    .unwrap();
    vec![Password::Mrz(key)]
}

fn read(
    c: &mut Card,
    passwords: Vec<Password>,
    options: ReadOptions,
) -> Result<CardReadResult, Error> {
    let mut read = CardRead::new(passwords, &c.trust, options);
    read.run(&mut c.card, &mut |_| {})?;
    Ok(read.finish(SystemTime::now()))
}

fn assert_all_passed(r: &CardReadResult) {
    let v = &r.verification;
    for (name, check) in v.checks() {
        assert_eq!(check, &Check::Passed, "{name}: {check}");
    }
    assert!(v.trust_anchor.is_some());
}

fn assert_record_is(r: &CardReadResult, p: &Profile) {
    let dg13 = r.record.dg13.as_ref().expect("DG13 read");
    assert_eq!(dg13.id_number.as_deref(), Some(p.id.as_str()));
    assert_eq!(dg13.full_name.as_deref(), Some(p.full_name.as_str()));
    assert_eq!(
        dg13.date_of_birth.as_deref(),
        Some(p.date_of_birth.dd_mm_yyyy().as_str())
    );
    assert_eq!(r.record.mrz_matches_dg13(), Some(true));
    let photo = r.record.photo.as_ref().expect("photo read");
    assert!(photo.data.starts_with(&[0xFF, 0xD8]), "the photo is a JPEG");
}

#[test]
fn every_sample_citizen_reads_and_verifies_by_can() {
    for name in PROFILES {
        let mut c = card(name, Faults::none());
        let pw = can(&c.profile);
        let r = read(&mut c, pw, ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matches!(r.protocol, Some(AccessProtocol::Pace(_))),
            "{name}: PACE expected"
        );
        assert_all_passed(&r);
        assert_record_is(&r, &c.profile);
    }
}

#[test]
fn reads_by_mrz_with_pace_and_with_bac() {
    let mut c = card("an.toml", Faults::none());
    let pw = mrz(&c.profile);
    let r = read(&mut c, pw, ReadOptions::default()).unwrap();
    assert!(matches!(r.protocol, Some(AccessProtocol::Pace(_))));
    assert_all_passed(&r);

    let mut c = card("binh.toml", Faults::none());
    let mut options = ReadOptions::default();
    options.access.force_bac = true;
    let pw = mrz(&c.profile);
    let r = read(&mut c, pw, options).unwrap();
    assert_eq!(r.protocol, Some(AccessProtocol::Bac));
    assert_all_passed(&r);
    assert_record_is(&r, &c.profile);
}

#[test]
fn reads_the_text_first_and_the_photo_last() {
    let mut c = card("an.toml", Faults::none());
    let trust = std::mem::take(&mut c.trust);
    let mut read = CardRead::new(can(&c.profile), &trust, ReadOptions::default());
    let mut order = Vec::new();
    read.run(&mut c.card, &mut |p| {
        if let kiosk_card::read::Progress::FileRead { file, .. } = p {
            order.push(file);
        }
    })
    .unwrap();
    assert_eq!(order.first(), Some(&LdsFile::Dg13));
    assert_eq!(order.last(), Some(&LdsFile::Dg2));
    assert!(
        !order.contains(&LdsFile::Dg3),
        "EAC-protected DG3 is never read"
    );
}

#[test]
fn wrong_password_is_its_own_error() {
    let mut c = card("an.toml", Faults::none().with(Fault::WrongPassword));
    let pw = can(&c.profile);
    let err = read(&mut c, pw, ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
}

#[test]
fn corrupted_data_group_fails_passive_authentication() {
    let mut c = card("an.toml", Faults::none().with(Fault::CorruptDg));
    let pw = can(&c.profile);
    let r = read(&mut c, pw, ReadOptions::default()).unwrap();
    assert!(r.verification.sod_hashes.is_failed(), "{}", r.verification);
    assert!(!r.verification.passive_authentication_passed());
    // The chip itself is genuine.
    assert!(r.verification.chip_authentication.is_passed());
}

#[test]
fn cloned_chip_fails_chip_and_active_authentication() {
    let mut c = card("an.toml", Faults::none().with(Fault::ClonedChip));
    let pw = can(&c.profile);
    let r = read(&mut c, pw, ReadOptions::default()).unwrap();
    assert!(
        r.verification.chip_authentication.is_failed(),
        "{}",
        r.verification
    );
    assert!(
        r.verification.active_authentication.is_failed(),
        "{}",
        r.verification
    );
    // The copied data still carries a valid signature: only CA/AA reveal the clone.
    assert!(r.verification.passive_authentication_passed());
    assert!(r.verification.any_failed());
    assert!(
        r.record.photo.is_some(),
        "the read goes on after the failed CA"
    );
}

#[test]
fn chip_without_extended_length_reads_in_short_chunks() {
    let mut c = card("an.toml", Faults::none().with(Fault::NoExtendedLength));
    let mut read = CardRead::new(can(&c.profile), &c.trust, ReadOptions::default());
    read.run(&mut c.card, &mut |_| {}).unwrap();
    assert!(!read.profile().uses_extended_length());
    let r = read.finish(SystemTime::now());
    assert_all_passed(&r);
}

#[test]
fn card_removed_mid_read_resumes_when_it_comes_back() {
    let mut c = card(
        "an.toml",
        Faults::none().with(Fault::RemovedMidRead { after_apdus: 2 }),
    );
    let mut read = CardRead::new(can(&c.profile), &c.trust, ReadOptions::default());
    let err = read.run(&mut c.card, &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::CardRemoved), "{err}");
    assert!(
        read.record().dg13.is_some(),
        "what was read before the removal is kept"
    );
    assert!(read.record().photo.is_none());

    // The citizen puts the card back: the read continues where it stopped.
    c.card.handle().reinsert();
    let mut reads = Vec::new();
    read.run(&mut c.card, &mut |p| {
        if let kiosk_card::read::Progress::FileRead { file, .. } = p {
            reads.push(file);
        }
    })
    .unwrap();
    assert_eq!(reads, vec![LdsFile::Dg2], "only the photo was left to read");
    let r = read.finish(SystemTime::now());
    assert_all_passed(&r);
    assert_record_is(&r, &c.profile);
}

#[test]
fn without_a_trust_anchor_the_chain_is_not_possible_not_passed() {
    let mut c = card("an.toml", Faults::none());
    c.trust = TrustStore::new();
    let pw = can(&c.profile);
    let r = read(&mut c, pw, ReadOptions::default()).unwrap();
    assert!(matches!(
        r.verification.ds_certificate_chain,
        Check::NotPossible { .. }
    ));
    assert!(!r.verification.passive_authentication_passed());
    assert!(!r.verification.any_failed());
}
