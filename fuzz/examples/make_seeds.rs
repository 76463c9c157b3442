//! Writes the binary seeds of the card-side targets (dg14, dg15, card_access, apdu, sm_terminal,
//! sm_chip) with the crate's own encoders, and checks each decodes, so the fuzzer starts from
//! files the parsers accept. Run from `fuzz/`: `cargo run --example make_seeds`.
//! The text seeds (QR payloads, `docs/examples/` JSON, gateway TOML) are not written here but
//! checked: each must be accepted by its parser as the kind its name says.

use std::fs;
use std::path::Path;

use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use kiosk_card::crypto::ec::Curve;
use kiosk_card::crypto::{CipherAlg, SecretKey};
use kiosk_card::lds::dg14::Dg14;
use kiosk_card::lds::dg15::{Dg15, ec_spki_named, rsa_spki};
use kiosk_card::security_infos::{
    ActiveAuthenticationInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, PaceInfo,
    PaceMapping, SecurityInfo, SecurityInfos, TerminalAuthenticationInfo,
};
use kiosk_card::sm::{ChipSm, SmKeys};

// Only the keys are needed here, not the targets' input modes.
#[allow(dead_code)]
#[path = "../fuzz_targets/sm_session.rs"]
mod sm_session;

/// ecdsa-plain-SHA256 (BSI TR-03111), for the ECDSA Active Authentication info.
const ECDSA_PLAIN_SHA256: &[u8] = &[0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x03];

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("seeds").join(target);
    fs::create_dir_all(&dir).expect("seed directory");
    fs::write(dir.join(name), bytes).expect("seed file");
    println!("seeds/{target}/{name}: {} bytes", bytes.len());
}

fn ca_infos(curve: Curve, cipher: CipherAlg, key_id: Option<u64>) -> Vec<SecurityInfo> {
    vec![
        SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
            oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(),
            spki: ec_spki_named(curve, &curve.generator()),
            key_id,
        }),
        SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
            oid: ChipAuthenticationInfo::ecdh_oid(cipher),
            version: 1,
            key_id,
        }),
    ]
}

fn dg14() {
    let mut infos = ca_infos(Curve::BrainpoolP256r1, CipherAlg::Aes128, None);
    infos.push(SecurityInfo::ActiveAuthentication(
        ActiveAuthenticationInfo {
            version: 1,
            signature_algorithm: ECDSA_PLAIN_SHA256.to_vec(),
        },
    ));
    for (name, infos) in [
        ("ca-bp256-aes128-aa", infos),
        (
            "ca-p256-tdes-keyid",
            ca_infos(Curve::NistP256, CipherAlg::Tdes, Some(1)),
        ),
    ] {
        let dg = Dg14 {
            infos: SecurityInfos { infos },
        };
        let bytes = dg.encode();
        let back = Dg14::decode(&bytes).expect("DG14 seed decodes");
        back.chip_authentication_key()
            .expect("DG14 seed has a CA key");
        write("dg14", name, &bytes);
    }
}

fn dg15() {
    // A 2048-bit modulus shape (top bit set, odd); the value does not matter to the parser.
    let mut n = vec![0xC5; 256];
    n[255] = 0x01;
    for (name, spki) in [
        (
            "ec-p256",
            ec_spki_named(Curve::NistP256, &Curve::NistP256.generator()),
        ),
        ("rsa-2048", rsa_spki(&n, &[0x01, 0x00, 0x01])),
    ] {
        let bytes = Dg15 { spki }.encode();
        Dg15::decode(&bytes)
            .expect("DG15 seed decodes")
            .public_key()
            .expect("DG15 seed key parses");
        write("dg15", name, &bytes);
    }
}

fn card_access() {
    let pace = |mapping, cipher, parameter_id| {
        SecurityInfo::Pace(PaceInfo {
            oid: PaceInfo::oid_for(mapping, cipher),
            version: 2,
            parameter_id: Some(parameter_id),
        })
    };
    let cccd = SecurityInfos {
        infos: vec![pace(PaceMapping::EcdhGeneric, CipherAlg::Aes128, 13)],
    };
    let mut rich = vec![
        pace(PaceMapping::EcdhGeneric, CipherAlg::Aes256, 12),
        pace(PaceMapping::EcdhChipAuthentication, CipherAlg::Aes128, 13),
        SecurityInfo::TerminalAuthentication(TerminalAuthenticationInfo {
            version: 1,
            ef_cvca: None,
        }),
    ];
    rich.extend(ca_infos(Curve::BrainpoolP256r1, CipherAlg::Aes128, Some(1)));
    for (name, infos) in [
        ("pace-gm-aes128-bp256", cccd),
        ("pace-cam-ta-ca", SecurityInfos { infos: rich }),
    ] {
        let bytes = infos.encode();
        assert!(
            SecurityInfos::decode(&bytes)
                .expect("EF.CardAccess seed decodes")
                .pace()
                .any(PaceInfo::is_supported)
        );
        write("card_access", name, &bytes);
    }
}

fn select_ef_com() -> CommandApdu {
    CommandApdu::new(0x00, 0xA4, 0x02, 0x0C).with_data([0x01, 0x1E])
}

fn apdu() {
    let commands = [
        ("select-case3", select_ef_com()),
        (
            "read-binary-case2",
            CommandApdu::new(0x00, 0xB0, 0x00, 0x00).with_le(0xDF),
        ),
        (
            "read-binary-odd-case4e",
            CommandApdu::new(0x00, 0xB1, 0x00, 0x00)
                .with_data([0x54, 0x02, 0x12, 0x34])
                .with_le(0x1000),
        ),
    ];
    for (name, cmd) in commands {
        let bytes = cmd.encode().expect("command seed encodes");
        assert_eq!(CommandApdu::decode(&bytes).expect("decodes"), cmd);
        write("apdu", name, &bytes);
    }
    let not_found = ResponseApdu::new(Vec::new(), StatusWord(0x6A82)).encode();
    write("apdu", "response-6a82", &not_found);
}

fn keys(aes: bool) -> SmKeys {
    sm_session::keys(aes)
}

fn sm() {
    // Terminal side. Forged (control 0x00/0x01): a real wrapped answer, which parses, but made
    // with the chip's SSC one step ahead (the answer's MAC covers the SSC, not the command), so
    // a fresh terminal cannot verify it. Honest (0x02/0x03) and tampered (0x04/0x05):
    // `flip(2) ‖ SW(2) ‖ data`.
    let mut chip = ChipSm::new(keys(true));
    let mut terminal = keys(true);
    let protected = terminal
        .protect_command(&CommandApdu::new(0x00, 0xB0, 0x00, 0x00).with_le(4))
        .expect("protects");
    chip.unwrap_command(&protected.encode().expect("encodes"))
        .expect("the chip accepts it");
    let answer = ResponseApdu::new(vec![0x60, 0x14, 0x5F, 0x01], StatusWord::SUCCESS);
    let in_step = chip.wrap_response(&answer).expect("wraps");
    let ahead = chip.wrap_response(&answer).expect("wraps");
    // The in-step answer verifies; the one ahead must not, or the seed would not be forged.
    assert!(
        terminal
            .clone()
            .unprotect_response(&ResponseApdu::decode(&in_step).expect("decodes"))
            .is_ok()
    );
    assert!(
        terminal
            .unprotect_response(&ResponseApdu::decode(&ahead).expect("decodes"))
            .is_err()
    );
    let wrapped = ahead;
    let mut forged = vec![0x01];
    forged.extend_from_slice(&wrapped);
    write("sm_terminal", "forged-aes-ssc-ahead", &forged);
    let ef_com_head = [0x60, 0x14, 0x5F, 0x01, 0x04, 0x30, 0x31, 0x30, 0x37];
    for (name, ctrl) in [
        ("honest-tdes", 0x02),
        ("honest-aes-odd", 0x0B),
        ("tampered-aes", 0x05),
    ] {
        let mut seed = vec![ctrl, 0x00, 0x07, 0x90, 0x00];
        seed.extend_from_slice(&ef_com_head);
        write("sm_terminal", name, &seed);
    }

    // Chip side. Forged: a protected SELECT (right format, wrong SSC for a fresh chip).
    let mut terminal = keys(false);
    terminal
        .protect_command(&CommandApdu::new(0x00, 0x84, 0x00, 0x00).with_le(8))
        .expect("protects");
    let stale = terminal
        .protect_command(&select_ef_com())
        .expect("protects")
        .encode()
        .expect("encodes");
    assert!(ChipSm::new(keys(false)).unwrap_command(&stale).is_err());
    let mut forged = vec![0x00];
    forged.extend_from_slice(&stale);
    write("sm_chip", "forged-tdes-stale-ssc", &forged);
    let select = select_ef_com().encode().expect("encodes");
    let read = CommandApdu::new(0x00, 0xB0, 0x00, 0x00)
        .with_le(0x100)
        .encode()
        .expect("encodes");
    for (name, ctrl, plain) in [
        ("honest-tdes-select", 0x02, &select),
        ("honest-aes-read", 0x03, &read),
        ("tampered-aes-select", 0x05, &select),
    ] {
        let mut seed = vec![ctrl, 0x00, 0x09];
        seed.extend_from_slice(plain);
        write("sm_chip", name, &seed);
    }
    // The keys really are what the targets use: a wrong key must not unwrap an honest command.
    let other = SmKeys::new(
        SecretKey::new(CipherAlg::Aes128, &[7; 16]).expect("key"),
        SecretKey::new(CipherAlg::Aes128, &[7; 16]).expect("key"),
        &[0; 16],
    )
    .expect("keys");
    let honest = keys(true)
        .protect_command(&select_ef_com())
        .expect("protects")
        .encode()
        .expect("encodes");
    assert!(ChipSm::new(other).unwrap_command(&honest).is_err());
    assert!(ChipSm::new(keys(true)).unwrap_command(&honest).is_ok());
}

fn read(target: &str, name: &str) -> Vec<u8> {
    fs::read(Path::new("seeds").join(target).join(name)).expect("text seed present")
}

fn check_text_seeds() {
    use kiosk_qr::payload::{Payload, classify};
    for (name, kind) in [
        ("card-7-fields", "card"),
        ("card-extras", "card"),
        ("enrolment", "enrolment"),
        ("dossier", "dossier"),
        ("appointment", "appointment"),
        ("opaque", "opaque"),
    ] {
        let payload: Payload = classify(&read("qr_payload", name)).expect("QR seed parses");
        assert_eq!(payload.kind(), kind, "seeds/qr_payload/{name}");
    }
    for name in [
        "registration-clinic.json",
        "registration-public-service.json",
    ] {
        let reg: kiosk_api::v1::Registration =
            serde_json::from_slice(&read("api_request", name)).expect("registration seed");
        reg.validate().expect("registration seed is valid");
    }
    let check: kiosk_api::v1::InsuranceCheckRequest =
        serde_json::from_slice(&read("api_request", "insurance-check-request.json"))
            .expect("insurance check seed");
    check.validate().expect("insurance check seed is valid");
    let _: kiosk_api::v1::Ticket =
        serde_json::from_slice(&read("api_answer", "ticket.json")).expect("ticket seed");
    let _: kiosk_api::v1::Catalog =
        serde_json::from_slice(&read("api_answer", "catalog.json")).expect("catalog seed");
    for name in ["sample-clinic.toml", "sample-one-stop.toml"] {
        let text = String::from_utf8(read("gateway_config", name)).expect("UTF-8");
        kiosk_gateway::config::Config::parse(&text, name).expect("gateway config seed parses");
    }
    println!("text seeds: all accepted");
}

fn main() {
    check_text_seeds();
    dg14();
    dg15();
    card_access();
    apdu();
    sm();
}
