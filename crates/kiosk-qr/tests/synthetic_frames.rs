//! Success rate of the default engine on generated kiosk-like frames, per distortion class, and
//! zero wrong payloads. The frames come from `kiosk_qr::synth` (deterministic seeds).

use std::collections::BTreeMap;

use kiosk_qr::synth::{self, Class, SIZES};
use kiosk_qr::{Engine, Payload, ScanConfig, Scanner, classify};

/// Frames per class and size (two sizes): 8 × 9 classes × 2 + 16 no-code frames.
const PER_CLASS: usize = 8;

/// Minimum share of frames decoded, per class, for the default engine of this build.
fn minimum(engine: Engine, class: Class) -> f64 {
    match (engine, class) {
        (_, Class::NoCode) => 1.0,
        (
            Engine::Zxing,
            Class::SmallModules | Class::LowContrast | Class::UnevenLight | Class::Perspective,
        ) => 0.8,
        (Engine::Zxing, _) => 0.9,
        // rqrr needs ~4 px per module: the zoom fallback rescues only part of the small codes.
        (Engine::Rqrr, Class::SmallModules) => 0.3,
        (
            Engine::Rqrr,
            Class::Blur
            | Class::LowContrast
            | Class::UnevenLight
            | Class::Perspective
            | Class::Jpeg,
        ) => 0.6,
        (Engine::Rqrr, _) => 0.75,
    }
}

#[test]
fn default_engine_meets_the_minimum_per_class_with_no_wrong_payload() {
    let engine = Engine::default_for_build();
    let mut scanner = Scanner::with_engine(engine, ScanConfig::default()).unwrap();
    let mut per_class: BTreeMap<Class, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for size in SIZES {
        for class in Class::ALL {
            for i in 0..PER_CLASS {
                let f = synth::frame(class, size, 1000 + i as u64).unwrap();
                scanner.reset();
                let found = scanner.scan(&f.frame).codes;
                let entry = per_class.entry(class).or_default();
                entry.1 += 1;
                match &f.expected {
                    Some(expected) => {
                        if found.iter().any(|c| &c.bytes == expected) {
                            entry.0 += 1;
                        }
                        if found.iter().any(|c| &c.bytes != expected) {
                            wrong.push(format!("{class:?} {size:?} seed {i}"));
                        }
                    }
                    None => {
                        if found.is_empty() {
                            entry.0 += 1;
                        } else {
                            wrong.push(format!("no-code frame {size:?} seed {i} gave a payload"));
                        }
                    }
                }
            }
        }
    }
    let report: Vec<String> = per_class
        .iter()
        .map(|(c, (ok, n))| format!("{}: {ok}/{n}", c.as_str()))
        .collect();
    eprintln!("{engine}: {}", report.join(", "));
    assert!(wrong.is_empty(), "wrong payloads: {wrong:?}");
    for (class, (ok, n)) in per_class {
        let rate = ok as f64 / n as f64;
        assert!(
            rate >= minimum(engine, class),
            "{engine} decoded {ok}/{n} {} frames, below {:.0} %; all: {report:?}",
            class.as_str(),
            minimum(engine, class) * 100.0
        );
    }
}

#[test]
fn decoded_vietnamese_payload_parses_as_the_card_it_was_made_from() {
    let engine = Engine::default_for_build();
    let mut scanner = Scanner::with_engine(engine, ScanConfig::default()).unwrap();
    let f = synth::frame(Class::Clean, (1280, 720), 77).unwrap();
    let expected = f.expected.clone().unwrap();
    let codes = scanner.scan(&f.frame).codes;
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].bytes, expected);
    let text = String::from_utf8(expected).unwrap();
    let Payload::Card(card) = classify(&codes[0].bytes).unwrap() else {
        panic!("not classified as a card QR")
    };
    assert_eq!(card.id(), &text[..12]);
    assert_eq!(card.name(), text.split('|').nth(2).unwrap());
    assert!(
        !card.name().is_ascii(),
        "the sample names carry Vietnamese diacritics"
    );
}

#[test]
fn every_engine_of_the_build_reads_clean_frames() {
    for engine in Engine::available() {
        let mut scanner = Scanner::with_engine(*engine, ScanConfig::default()).unwrap();
        for seed in 0..3 {
            let f = synth::frame(Class::Clean, (640, 480), seed).unwrap();
            let codes = scanner.scan(&f.frame).codes;
            assert!(
                codes.iter().any(|c| Some(&c.bytes) == f.expected.as_ref()),
                "{engine} missed clean frame {seed}"
            );
        }
    }
}
