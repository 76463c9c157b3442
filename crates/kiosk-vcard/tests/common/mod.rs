//! Shared helpers of the integration tests: a personalised chip for a sample profile, and a
//! minimal file reader on top of `kiosk-card`'s terminal side.

// Test helpers: a failure here is a test failure, so unwrap is the point.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use kiosk_card::apdu::CommandApdu;
use kiosk_card::lds::sod::Sod;
use kiosk_card::{CardTransport, tlv};
use kiosk_vcard::fault::Faults;
use kiosk_vcard::pki::TestPki;
use kiosk_vcard::{InProcessCard, Options, Personalised, Profile, personalise};

pub fn profile_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("profiles")
        .join(name)
}

pub fn load(name: &str) -> Profile {
    Profile::load(&profile_path(name)).unwrap()
}

pub fn card(name: &str, faults: Faults) -> (InProcessCard, TestPki, Profile) {
    let profile = load(name);
    let Personalised { chip, pki } = personalise(
        &profile,
        &Options {
            seed: 11,
            faults,
            ..Default::default()
        },
    )
    .unwrap();
    (InProcessCard::new(chip), pki, profile)
}

pub fn select_applet<T: CardTransport + ?Sized>(t: &mut T) -> kiosk_card::Result<()> {
    t.transmit(
        &CommandApdu::new(0x00, 0xA4, 0x04, 0x0C)
            .with_data(vec![0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01]),
    )?
    .ok("SELECT")?;
    Ok(())
}

/// Reads a whole file by SFI: 4 bytes to learn the length, then chunks of `chunk` bytes (B1
/// with DO'54' above offset 32767).
pub fn read_file<T: CardTransport + ?Sized>(
    t: &mut T,
    sfi: u8,
    chunk: usize,
) -> kiosk_card::Result<Vec<u8>> {
    let mut out = t
        .transmit(&CommandApdu::new(0x00, 0xB0, 0x80 | sfi, 0x00).with_le(4))?
        .ok("READ BINARY")?;
    let total = tlv::read_header(&out)?.total_len();
    while out.len() < total {
        let off = out.len();
        let n = chunk.min(total - off);
        if off > 0x7FFF {
            let offset = tlv::encode(0x54, &(off as u32).to_be_bytes()[1..]);
            let r = t
                .transmit(
                    &CommandApdu::new(0x00, 0xB1, 0x00, 0x00)
                        .with_data(offset)
                        .with_le(n + 4),
                )?
                .ok("READ BINARY")?;
            out.extend_from_slice(tlv::parse_exact(&r, 0x53)?.value);
        } else {
            let r = t
                .transmit(&CommandApdu::new(0x00, 0xB0, (off >> 8) as u8, off as u8).with_le(n))?
                .ok("READ BINARY")?;
            if r.is_empty() {
                break;
            }
            out.extend_from_slice(&r);
        }
    }
    Ok(out)
}

/// Passive authentication with `kiosk-card`'s PA against a trust store holding the CSCA.
pub fn passive_authentication(
    sod: &[u8],
    files: &[(u8, &[u8])],
    csca_pem: &str,
) -> kiosk_card::verification::Verification {
    let sod = Sod::decode(sod).unwrap();
    let mut trust = kiosk_card::pa::trust::TrustStore::new();
    trust.add_bytes(csca_pem.as_bytes(), "test CSCA").unwrap();
    // 2030-01-01: inside both certificates' validity.
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_893_456_000);
    kiosk_card::pa::passive_authentication(&sod, files, &trust, now)
}
