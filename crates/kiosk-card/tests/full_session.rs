//! One whole chip session through the public API only: access (PACE with the CAN from the ID
//! number), file reads under secure messaging, Chip Authentication with the DG14 key, then
//! Active Authentication with the DG15 key — against an in-process chip built from the
//! chip-side halves of the same protocols.

use std::collections::HashMap;

use kiosk_card::access::{self, AccessOptions, AccessProtocol};
use kiosk_card::cccd::CitizenId;
use kiosk_card::crypto::ec::Curve;
use kiosk_card::crypto::{CipherAlg, OsRandom};
use kiosk_card::files::{self, FileId, ReadProfile};
use kiosk_card::lds::dg14::Dg14;
use kiosk_card::lds::dg15::{Dg15, ec_spki_named};
use kiosk_card::protocol::aa::{self, AaChip, HashAlg};
use kiosk_card::protocol::ca::{self, CaChip};
use kiosk_card::protocol::pace::{ChipPasswords, PaceChip};
use kiosk_card::protocol::{ChipStep, Password};
use kiosk_card::security_infos::{
    ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, PaceInfo, PaceMapping, SecurityInfo,
    SecurityInfos,
};
use kiosk_card::sm::ChipSm;
use kiosk_card::{CardTransport, CommandApdu, Error, ResponseApdu, Result, StatusWord};
use zeroize::Zeroizing;

struct Chip {
    files: HashMap<u8, (u16, Vec<u8>)>,
    current: Option<u8>,
    pace: PaceChip,
    ca: CaChip,
    aa: AaChip,
    sm: Option<ChipSm>,
    apdus: usize,
    /// Fault: after this many protected commands, answer plain 6988 once and drop the session.
    drop_after: Option<usize>,
    /// A reader that cannot carry extended-length APDUs.
    short_only: bool,
}

impl Chip {
    fn read(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        let sw = |v| ResponseApdu::new(vec![], StatusWord(v));
        let offset = if cmd.p1 & 0x80 != 0 {
            self.current = Some(cmd.p1 & 0x1F);
            usize::from(cmd.p2)
        } else {
            usize::from(cmd.p1) << 8 | usize::from(cmd.p2)
        };
        let Some((_, data)) = self.current.and_then(|s| self.files.get(&s)) else {
            return sw(0x6A82);
        };
        let end = (offset + cmd.le.unwrap_or(0)).min(data.len());
        if offset > end {
            return sw(0x6B00);
        }
        ResponseApdu::new(data[offset..end].to_vec(), StatusWord::SUCCESS)
    }

    fn select(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        if cmd.p1 == 0x04 {
            return ResponseApdu::new(vec![], StatusWord::SUCCESS);
        }
        let fid = u16::from_be_bytes([cmd.data[0], cmd.data[1]]);
        match self.files.iter().find(|(_, (f, _))| *f == fid) {
            Some((sfi, _)) => {
                self.current = Some(*sfi);
                ResponseApdu::new(vec![], StatusWord::SUCCESS)
            }
            None => ResponseApdu::new(vec![], StatusWord::FILE_NOT_FOUND),
        }
    }
}

impl CardTransport for Chip {
    fn transmit_raw(&mut self, raw: &[u8]) -> Result<Vec<u8>> {
        self.apdus += 1;
        let cmd = CommandApdu::decode(raw)?;
        if self.short_only && cmd.is_extended() {
            return Err(Error::Transport("reader refuses extended APDUs".into()));
        }
        if cmd.cla & 0x0C == 0x0C {
            if let Some(n) = self.drop_after.as_mut() {
                if *n == 0 {
                    self.drop_after = None;
                    self.sm = None;
                    return Ok(vec![0x69, 0x88]);
                }
                *n -= 1;
            }
            let Some(sm) = self.sm.as_mut() else {
                return Ok(vec![0x69, 0x88]);
            };
            let Ok(inner) = sm.unwrap_command(raw) else {
                self.sm = None;
                return Ok(vec![0x69, 0x88]);
            };
            let step = match inner.ins {
                0xB0 => ChipStep {
                    response: self.read(&inner),
                    established: None,
                },
                0xA4 => ChipStep {
                    response: self.select(&inner),
                    established: None,
                },
                0x22 | 0x86 => self.ca.handle(&inner)?,
                0x88 => self.aa.handle(&inner, &mut OsRandom)?,
                _ => ChipStep {
                    response: ResponseApdu::new(vec![], StatusWord::INS_NOT_SUPPORTED),
                    established: None,
                },
            };
            let Some(sm) = self.sm.as_mut() else {
                return Ok(vec![0x69, 0x88]);
            };
            // The answer goes out under the old keys; CA's new keys apply afterwards.
            let out = sm.wrap_response(&step.response)?;
            if let Some(keys) = step.established {
                self.sm = Some(ChipSm::new(keys));
            }
            return Ok(out);
        }
        let step = match cmd.ins {
            0xB0 => return Ok(self.read(&cmd).encode()),
            0xA4 => return Ok(self.select(&cmd).encode()),
            _ => self.pace.handle(&cmd, &mut OsRandom)?,
        };
        if let Some(keys) = step.established {
            self.sm = Some(ChipSm::new(keys));
        }
        Ok(step.response.encode())
    }

    fn describe(&self) -> String {
        "in-process CCCD".into()
    }

    fn extended_length(&self) -> Option<bool> {
        (!self.short_only).then_some(true).or(Some(false))
    }
}

fn personalise(id: &CitizenId, clone: bool) -> Result<Chip> {
    let curve = Curve::BrainpoolP256r1;
    let pace = PaceInfo {
        oid: PaceInfo::oid_for(PaceMapping::EcdhGeneric, CipherAlg::Aes128),
        version: 2,
        parameter_id: Some(13),
    };
    let ca_info = ChipAuthenticationInfo {
        oid: ChipAuthenticationInfo::ecdh_oid(CipherAlg::Aes128),
        version: 1,
        key_id: None,
    };
    let card_access = SecurityInfos {
        infos: vec![
            SecurityInfo::Pace(pace.clone()),
            SecurityInfo::ChipAuthentication(ca_info.clone()),
        ],
    };
    let ca_sk = curve.random_scalar(&mut OsRandom)?;
    let ca = CaChip::new(curve, CipherAlg::Aes128, &ca_sk)?;
    let dg14 = Dg14 {
        infos: SecurityInfos {
            infos: vec![
                SecurityInfo::ChipAuthentication(ca_info),
                SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                    oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(),
                    spki: ec_spki_named(curve, &ca.public_key()?),
                    key_id: None,
                }),
            ],
        },
    };
    let aa_sk = Curve::NistP256.random_scalar(&mut OsRandom)?;
    let dg15 = Dg15 {
        spki: ec_spki_named(
            Curve::NistP256,
            &Curve::NistP256.mul(&aa_sk, &Curve::NistP256.generator())?,
        ),
    };
    // A clone has the same files (copied), but other private keys.
    let (ca, aa_sk) = if clone {
        let other = curve.random_scalar(&mut OsRandom)?;
        (
            CaChip::new(curve, CipherAlg::Aes128, &other)?,
            Curve::NistP256.random_scalar(&mut OsRandom)?,
        )
    } else {
        (ca, aa_sk)
    };
    let mut files = HashMap::new();
    files.insert(0x1C, (0x011C, card_access.encode()));
    files.insert(0x0E, (0x010E, dg14.encode()));
    files.insert(0x0F, (0x010F, dg15.encode()));
    // A photo-sized file to read in many chunks.
    let photo: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    files.insert(0x02, (0x0102, kiosk_card::tlv::encode(0x75, &photo)));
    Ok(Chip {
        files,
        current: None,
        pace: PaceChip::new(
            ChipPasswords {
                can: Some(id.can()),
                mrz: None,
            },
            vec![pace],
        ),
        ca,
        aa: AaChip::Ecdsa {
            curve: Curve::NistP256,
            private: Zeroizing::new(aa_sk.to_vec()),
            hash: HashAlg::Sha256,
        },
        sm: None,
        apdus: 0,
        drop_after: None,
        short_only: false,
    })
}

fn full_read(short_only: bool) -> Result<usize> {
    let id = CitizenId::parse("001099012345")?;
    let mut chip = personalise(&id, false)?;
    chip.short_only = short_only;
    let mut session = access::establish(
        chip,
        &[Password::Can(id.can())],
        &mut OsRandom,
        AccessOptions::default(),
    )
    .map_err(|f| f.error)?;
    assert!(matches!(session.protocol, AccessProtocol::Pace(_)));
    let mut profile = ReadProfile::for_transport(&session.channel);
    assert_eq!(profile.uses_extended_length(), !short_only);
    let dg14 = Dg14::decode(&files::read_file(
        &mut session.channel,
        FileId::data_group(14),
        &mut profile,
    )?)?;
    ca::authenticate(
        &mut session.channel,
        &dg14.chip_authentication_key()?,
        &mut OsRandom,
    )?;
    // After CA, reading continues under the new keys.
    let dg15 = Dg15::decode(&files::read_file(
        &mut session.channel,
        FileId::data_group(15),
        &mut profile,
    )?)?;
    aa::authenticate(
        &mut session.channel,
        &dg15,
        dg14.active_authentication(),
        &mut OsRandom,
        None,
    )?;
    let photo = files::read_file(&mut session.channel, FileId::data_group(2), &mut profile)?;
    assert_eq!(photo.len(), 20_004);
    Ok(session.channel.into_inner().apdus)
}

#[test]
fn genuine_chip_passes_pace_ca_and_aa() {
    // CardAccess 2 + PACE 5 + SELECT 1 + DG14 2 + CA 3 + DG15 2 + AA 1 + DG2 2.
    assert_eq!(full_read(false).unwrap(), 18);
}

#[test]
fn short_only_reader_reads_everything_in_short_apdus() {
    // DG2 (20004 bytes) in 223-byte chunks after the 8-byte header: 1 + 90.
    assert_eq!(
        full_read(true).unwrap(),
        16 + 1 + 20_004usize.saturating_sub(8).div_ceil(223)
    );
}

#[test]
fn cloned_chip_fails_ca_and_aa() {
    let id = CitizenId::parse("001099012345").unwrap();
    let chip = personalise(&id, true).unwrap();
    let mut session = access::establish(
        chip,
        &[Password::Can(id.can())],
        &mut OsRandom,
        AccessOptions::default(),
    )
    .unwrap();
    let mut profile = ReadProfile::for_transport(&session.channel);
    let dg14 = Dg14::decode(
        &files::read_file(&mut session.channel, FileId::data_group(14), &mut profile).unwrap(),
    )
    .unwrap();
    let dg15 = Dg15::decode(
        &files::read_file(&mut session.channel, FileId::data_group(15), &mut profile).unwrap(),
    )
    .unwrap();
    // AA first (CA failure ends the session).
    let err = aa::authenticate(&mut session.channel, &dg15, None, &mut OsRandom, None).unwrap_err();
    assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err:?}");
    let err = ca::authenticate(
        &mut session.channel,
        &dg14.chip_authentication_key().unwrap(),
        &mut OsRandom,
    )
    .unwrap_err();
    assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err:?}");
    assert!(session.channel.is_lost());
}

#[test]
fn session_dropped_mid_read_is_re_established_and_resumed() {
    let id = CitizenId::parse("001099012345").unwrap();
    let mut chip = personalise(&id, false).unwrap();
    let expected = chip.files[&0x02].1.clone();
    // SELECT applet is protected command 0; the chip drops SM in the middle of DG2.
    chip.drop_after = Some(6);
    let passwords = [Password::Can(id.can())];
    let session =
        access::establish(chip, &passwords, &mut OsRandom, AccessOptions::default()).unwrap();
    let mut channel = session.channel;
    // A reader without extended length: 223-byte chunks.
    let mut profile = ReadProfile::short();
    let mut read = files::FileRead::new(FileId::data_group(2));
    let err = read.run(&mut channel, &mut profile).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SessionLost {
                sw: StatusWord(0x6988),
                ..
            }
        ),
        "{err:?}"
    );
    let got = read.offset();
    assert!(got > 0 && !read.is_complete());
    // What the caller does next: open the chip again on the same transport and resume.
    let session = access::establish(
        channel.into_inner(),
        &passwords,
        &mut OsRandom,
        AccessOptions::default(),
    )
    .unwrap();
    let mut channel = session.channel;
    files::resume(&mut channel, &mut read, &mut profile).unwrap();
    assert_eq!(&read.finish().unwrap()[..], &expected[..]);
}
