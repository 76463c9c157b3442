//! Personalisation: from a citizen profile to a chip. Builds EF.COM, DG1 (TD1 MRZ), DG2 (face
//! JPEG), DG3 (present but EAC-protected), DG13 (CCCD layout), DG14 (Chip Authentication key,
//! brainpoolP256r1), DG15 (Active Authentication key, ECDSA brainpoolP256r1), EF.CardAccess (the
//! real card's bytes) and EF.SOD signed by the test Document Signer — all with the LDS encoders
//! of `kiosk_card::lds` — then applies the faults that change what is on the chip.

use kiosk_card::cccd::{CitizenId, MrzKeyInfo};
use kiosk_card::crypto::CipherAlg;
use kiosk_card::crypto::ec::Curve;
use kiosk_card::lds::com::Com;
use kiosk_card::lds::dg1::{Dg1, Mrz, MrzSex};
use kiosk_card::lds::dg2::{Dg2, ImageType};
use kiosk_card::lds::dg13::Dg13;
use kiosk_card::lds::dg14::Dg14;
use kiosk_card::lds::dg15::{Dg15, ec_spki_named, rsa_spki};
use kiosk_card::lds::{LdsFile, sod};
use kiosk_card::protocol::aa::{AaChip, HashAlg};
use kiosk_card::security_infos::{
    ActiveAuthenticationInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
    SecurityInfo, SecurityInfos,
};
use zeroize::Zeroizing;

use crate::auth::ChipKeys;
use crate::engine::Chip;
use crate::error::{Error, Result};
use crate::fault::Faults;
use crate::fs::{Ef, FileSystem};
use crate::pki::TestPki;
use crate::profile::{Profile, Sex};
use crate::random::ChipRandom;

/// EF.CardAccess exactly as read from a real CCCD (facts/cccd-chip.md): TA v1, CA
/// (ECDH-AES-CBC-CMAC-128, v1), PACE (ECDH-GM-AES-CBC-CMAC-128, v2, parameter 13).
pub const CARD_ACCESS: [u8; 54] = [
    0x31, 0x34, 0x30, 0x0d, 0x06, 0x08, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x01,
    0x01, 0x30, 0x0f, 0x06, 0x0a, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02, 0x02,
    0x01, 0x01, 0x30, 0x12, 0x06, 0x0a, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02,
    0x02, 0x01, 0x02, 0x02, 0x01, 0x0d,
];

/// `ecdsa-plain-SHA256` (BSI TR-03111, 0.4.0.127.0.7.1.1.4.1.3): the AA signature algorithm
/// DG14 announces.
const OID_ECDSA_PLAIN_SHA256: [u8; 10] =
    [0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x03];

/// DG3's stand-in content: the chip never lets it be read (6982), but EF.COM lists it and
/// EF.SOD hashes it like on a real card.
const DG3_PLACEHOLDER: [u8; 4] = [0x63, 0x02, 0x02, 0x00];

/// The Active Authentication key type (DG15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaAlgorithm {
    /// ECDSA on brainpoolP256r1 with SHA-256, plain signature (the default).
    EcdsaBrainpoolP256r1,
    /// RSA with ISO/IEC 9796-2 scheme 1 and SHA-1, modulus of this many bits (1024 or 2048).
    Rsa(usize),
}

impl AaAlgorithm {
    /// Parses `ecdsa`, `rsa1024` or `rsa2048`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "ecdsa" => Ok(Self::EcdsaBrainpoolP256r1),
            "rsa1024" => Ok(Self::Rsa(1024)),
            "rsa2048" => Ok(Self::Rsa(2048)),
            _ => Err(Error::Personalise(
                "the AA algorithm must be ecdsa, rsa1024 or rsa2048".into(),
            )),
        }
    }
}

/// How to personalise.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of every key and nonce: the same seed gives the same PKI and files.
    pub seed: u64,
    pub faults: Faults,
    pub aa: AaAlgorithm,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: 1,
            faults: Faults::none(),
            aa: AaAlgorithm::EcdsaBrainpoolP256r1,
        }
    }
}

/// An AA key: what DG15 publishes and what the chip signs with.
fn aa_key(alg: AaAlgorithm, rng: &mut ChipRandom) -> Result<(Vec<u8>, AaChip)> {
    match alg {
        AaAlgorithm::EcdsaBrainpoolP256r1 => {
            let curve = Curve::BrainpoolP256r1;
            let private = curve.random_scalar(rng).map_err(|e| lds("AA key", e))?;
            let public = curve
                .mul(&private, &curve.generator())
                .map_err(|e| lds("AA key", e))?;
            Ok((
                ec_spki_named(curve, &public),
                AaChip::Ecdsa {
                    curve,
                    private,
                    hash: HashAlg::Sha256,
                },
            ))
        }
        AaAlgorithm::Rsa(bits) => {
            use rsa::traits::{PrivateKeyParts, PublicKeyParts};
            let key = rsa::PrivateKey::new(rng, bits)
                .map_err(|e| Error::Personalise(format!("RSA AA key: {e}")))?;
            let n = key.n_bytes().to_vec();
            let d = Zeroizing::new(key.d().to_be_bytes().to_vec());
            Ok((
                rsa_spki(&n, &key.e_bytes()),
                AaChip::Rsa {
                    n,
                    d,
                    hash: HashAlg::Sha1,
                },
            ))
        }
    }
}

/// A personalised chip and the PKI its EF.SOD chains to.
#[derive(Debug)]
pub struct Personalised {
    pub chip: Chip,
    pub pki: TestPki,
}

fn lds(what: &str, e: kiosk_card::Error) -> Error {
    Error::Personalise(format!("{what}: {e}"))
}

/// Personalises a chip for `profile`.
pub fn personalise(profile: &Profile, opts: &Options) -> Result<Personalised> {
    let mut key_rng = ChipRandom::from_seed(opts.seed, "keys");
    let pki = TestPki::generate(&mut key_rng)?;

    let id = CitizenId::parse(&profile.id).map_err(|e| lds("ID number", e))?;
    let dob = profile.date_of_birth.yymmdd();
    let doe = profile.mrz_expiry();
    let sex = match profile.sex {
        Sex::Male => MrzSex::Male,
        Sex::Female => MrzSex::Female,
    };

    let mrz = Mrz::for_cccd(&id, &dob, sex, &doe, &profile.full_name).map_err(|e| lds("MRZ", e))?;
    let dg1 = Dg1 { mrz }.encode().map_err(|e| lds("DG1", e))?;

    let jpeg = match &profile.photo {
        Some(bytes) => bytes.clone(),
        None => crate::photo::synthetic_portrait(opts.seed)?,
    };
    let (width, height) = crate::photo::jpeg_size(&jpeg).ok_or(Error::ProfileInvalid {
        key: "photo",
        reason: "has no JPEG frame header",
    })?;
    let dg2 = Dg2::with_face(ImageType::Jpeg, width, height, jpeg)
        .encode()
        .map_err(|e| lds("DG2", e))?;

    let dg13 = dg13_for(profile)?;

    // Chip Authentication and Active Authentication keys on brainpoolP256r1.
    let curve = Curve::BrainpoolP256r1;
    let ca_private = curve
        .random_scalar(&mut key_rng)
        .map_err(|e| lds("CA key", e))?;
    let ca_public = curve
        .mul(&ca_private, &curve.generator())
        .map_err(|e| lds("CA key", e))?;
    let (aa_spki, aa_chip) = aa_key(opts.aa, &mut key_rng)?;
    let mut dg14 = Dg14 {
        infos: SecurityInfos {
            infos: vec![
                SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                    oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(),
                    spki: ec_spki_named(curve, &ca_public),
                    key_id: None,
                }),
                SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    oid: ChipAuthenticationInfo::ecdh_oid(CipherAlg::Aes128),
                    version: 1,
                    key_id: None,
                }),
            ],
        },
    };
    if opts.aa == AaAlgorithm::EcdsaBrainpoolP256r1 {
        // ECDSA AA names its signature algorithm in DG14 (ICAO 9303-11 §6.1).
        dg14.infos.infos.push(SecurityInfo::ActiveAuthentication(
            ActiveAuthenticationInfo {
                version: 1,
                signature_algorithm: OID_ECDSA_PLAIN_SHA256.to_vec(),
            },
        ));
    }
    let dg14 = dg14.encode();
    let dg15 = Dg15 { spki: aa_spki }.encode();
    let com = Com::new(&[
        LdsFile::Dg1,
        LdsFile::Dg2,
        LdsFile::Dg3,
        LdsFile::Dg13,
        LdsFile::Dg14,
        LdsFile::Dg15,
    ])
    .encode()
    .map_err(|e| lds("EF.COM", e))?;

    let sod = {
        let dgs: [(u8, &[u8]); 6] = [
            (1, &dg1),
            (2, &dg2),
            (3, &DG3_PLACEHOLDER),
            (13, &dg13),
            (14, &dg14),
            (15, &dg15),
        ];
        sod::build(
            sod::HashAlgorithm::Sha256,
            &dgs,
            &pki.ds.cert_der,
            |attrs| {
                pki.ds_sign(attrs).map_err(|_| kiosk_card::Error::Crypto {
                    what: "Document Signer signature failed",
                })
            },
        )
        .map_err(|e| lds("EF.SOD", e))?
    };

    let mut fs = FileSystem::new();
    fs.put(Ef::CardAccess, CARD_ACCESS.to_vec());
    fs.put(Ef::Com, com);
    fs.put(Ef::Sod, sod);
    fs.put(Ef::Dg1, dg1);
    fs.put(Ef::Dg2, dg2);
    fs.put(Ef::Dg3, DG3_PLACEHOLDER.to_vec());
    fs.put(Ef::Dg13, dg13);
    fs.put(Ef::Dg14, dg14);
    fs.put(Ef::Dg15, dg15);

    // Faults that change the chip's content or secrets (after the SOD was signed).
    if opts.faults.has("corrupt-dg") {
        corrupt(&mut fs, profile)?;
    }
    let (mut ca_private, mut aa_chip) = (ca_private, aa_chip);
    if opts.faults.has("cloned-chip") {
        // A clone copies the files but not the private keys.
        ca_private = curve
            .random_scalar(&mut key_rng)
            .map_err(|e| lds("clone CA key", e))?;
        aa_chip = aa_key(opts.aa, &mut key_rng)?.1;
    }
    let (can, mrz_key) = if opts.faults.has("wrong-password") {
        wrong_passwords(profile)?
    } else {
        (
            Zeroizing::new(profile.can()),
            MrzKeyInfo::new(&profile.doc_no9(), &dob, &doe).map_err(|e| lds("MRZ key", e))?,
        )
    };

    let pace_offers = SecurityInfos::decode(&CARD_ACCESS)
        .map_err(|e| lds("EF.CardAccess", e))?
        .pace()
        .cloned()
        .collect();
    let keys = ChipKeys {
        mrz: mrz_key,
        can,
        pace_offers,
        ca_curve: curve,
        ca_cipher: CipherAlg::Aes128,
        ca_private,
        aa: aa_chip,
        random: ChipRandom::from_seed(opts.seed, "session"),
    };
    Ok(Personalised {
        chip: Chip::new(fs, keys, opts.faults.clone()),
        pki,
    })
}

fn dg13_for(p: &Profile) -> Result<Vec<u8>> {
    let mut d = Dg13::default();
    d.id_number = Some(p.id.clone());
    d.full_name = Some(p.full_name.clone());
    d.date_of_birth = Some(p.date_of_birth.dd_mm_yyyy());
    d.sex = Some(p.sex.dg13_text().to_owned());
    d.nationality = Some(p.nationality.clone());
    d.ethnicity = Some(p.ethnicity.clone());
    d.religion = Some(p.religion.clone());
    d.place_of_origin = Some(p.place_of_origin.clone());
    d.place_of_residence = Some(p.place_of_residence.clone());
    d.identifying_marks = Some(p.identifying_marks.clone());
    d.issue_date = Some(p.issue_date.dd_mm_yyyy());
    d.expiry_date = Some(match p.expiry {
        crate::profile::Expiry::Date(date) => date.dd_mm_yyyy(),
        crate::profile::Expiry::Never => crate::profile::NO_EXPIRY.to_owned(),
    });
    d.father_name = Some(p.father.clone());
    d.mother_name = Some(p.mother.clone());
    d.spouse_name = Some(p.spouse.clone());
    d.old_id_number = p.old_id.clone();
    d.field16 = p.field_16.clone();
    d.encode().map_err(|e| lds("DG13", e))
}

/// Changes one letter of the ethnicity inside DG13 (upper/lower case), so the file still parses
/// but its hash no longer matches EF.SOD.
fn corrupt(fs: &mut FileSystem, profile: &Profile) -> Result<()> {
    let needle = profile.ethnicity.as_bytes();
    let dg13 = fs
        .get_mut(Ef::Dg13)
        .ok_or_else(|| Error::Personalise("DG13 missing".into()))?;
    let at = dg13
        .windows(needle.len().max(1))
        .position(|w| w == needle)
        .and_then(|start| (start..start + needle.len()).find(|i| dg13[*i].is_ascii_alphabetic()))
        .ok_or_else(|| Error::Personalise("no ASCII letter in DG13 to corrupt".into()))?;
    dg13[at] ^= 0x20;
    Ok(())
}

/// Passwords that differ from the printed ones: the CAN's last digit and the document number's
/// last digit are changed.
fn wrong_passwords(profile: &Profile) -> Result<(Zeroizing<String>, MrzKeyInfo)> {
    let bump = |s: &str| -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if let Some(last) = chars.last_mut() {
            *last = if *last == '9' {
                '0'
            } else {
                char::from(*last as u8 + 1)
            };
        }
        chars.into_iter().collect()
    };
    let mrz = MrzKeyInfo::new(
        &bump(&profile.doc_no9()),
        &profile.date_of_birth.yymmdd(),
        &profile.mrz_expiry(),
    )
    .map_err(|e| lds("MRZ key", e))?;
    Ok((Zeroizing::new(bump(&profile.can())), mrz))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const CARD_ACCESS_HEX: &str = "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007020204020202010202010d";

    #[test]
    fn card_access_is_the_real_cards_bytes() {
        assert_eq!(hex::encode(CARD_ACCESS), CARD_ACCESS_HEX);
    }
}
