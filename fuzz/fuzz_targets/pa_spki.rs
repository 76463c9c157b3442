//! Passive authentication's key and signature parsers: any bytes as a SubjectPublicKeyInfo
//! (RSA, or ECDSA with named or explicit curve parameters) either fail cleanly or give a key;
//! a key then rejects the input's tail as a signature in every format without panicking.
#![no_main]

use kiosk_card::lds::sod::HashAlgorithm;
use kiosk_card::pa::ecdsa::SignatureFormat;
use kiosk_card::pa::signature::{PublicKey, SignatureAlgorithm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: where the SPKI ends (as a fraction of the rest), the remainder is a signature.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = rest.len() * usize::from(split) / 255;
    let (spki, sig) = rest.split_at(cut.min(rest.len()));
    let Ok(key) = PublicKey::from_spki_der(spki) else {
        return;
    };
    let algorithms = [
        SignatureAlgorithm::Ecdsa {
            hash: HashAlgorithm::Sha256,
            format: SignatureFormat::Der,
        },
        SignatureAlgorithm::Ecdsa {
            hash: HashAlgorithm::Sha512,
            format: SignatureFormat::Plain,
        },
        SignatureAlgorithm::RsaPkcs1v15 {
            hash: HashAlgorithm::Sha256,
        },
        SignatureAlgorithm::RsaPss {
            hash: HashAlgorithm::Sha256,
            salt_len: 32,
        },
    ];
    for alg in algorithms {
        // A fuzzed signature over a fixed message verifying would be a forgery.
        assert!(key.verify(&alg, b"kiosk-card fuzz message", sig).is_err());
    }
});
