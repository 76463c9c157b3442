//! The theme keeps its promises: WCAG AA contrast (4.5:1) for every text/background pair the
//! screens use, text of at least 24 px and touch targets of at least 56 px.

use std::collections::BTreeMap;
use std::path::Path;

fn theme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/theme.slint"))
        .expect("theme.slint")
}

/// `out property <TYPE> name: value;` lines of the theme.
fn properties(kind: &str) -> BTreeMap<String, String> {
    let prefix = format!("out property <{kind}> ");
    theme()
        .lines()
        .filter_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .filter_map(|rest| {
            let (name, value) = rest.split_once(':')?;
            let value = value.split(';').next()?.trim().to_owned();
            Some((name.trim().to_owned(), value))
        })
        .collect()
}

fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    assert_eq!(hex.len(), 6, "colour {hex} is not #rrggbb");
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn contrast_formula_matches_known_values() {
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 0.01);
    assert!((contrast("#777777", "#ffffff") - 4.48).abs() < 0.01);
}

#[test]
fn every_text_pair_meets_wcag_aa() {
    let colours = properties("color");
    let pairs = [
        ("text", "surface"),
        ("text", "background"),
        ("text", "secondary"),
        ("text", "secondary-pressed"),
        ("text", "provisional"),
        ("text-muted", "surface"),
        ("text-muted", "background"),
        ("text-muted", "secondary"),
        ("on-primary", "primary"),
        ("on-primary", "primary-pressed"),
        ("on-primary", "danger"),
        ("on-primary", "ok"),
        ("on-primary", "warning"),
        ("on-primary", "demo"),
        ("on-primary", "text"),
        ("on-header", "header"),
        ("warning", "provisional"),
        ("warning", "background"),
        ("danger", "surface"),
        ("danger", "background"),
        ("primary", "surface"),
        ("primary", "background"),
    ];
    let mut bad = vec![];
    for (fg, bg) in pairs {
        let (f, b) = (&colours[fg], &colours[bg]);
        let c = contrast(f, b);
        if c < 4.5 {
            bad.push(format!("{fg} on {bg}: {c:.2}:1"));
        }
    }
    assert!(bad.is_empty(), "below 4.5:1: {bad:?}");
}

#[test]
fn text_and_touch_sizes_are_large_enough() {
    let lengths = properties("length");
    let px = |name: &str| -> f64 {
        lengths[name]
            .trim_end_matches("px")
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not in px"))
    };
    for font in [
        "font-body",
        "font-small",
        "font-button",
        "font-title",
        "font-key",
    ] {
        assert!(px(font) >= 24.0, "{font} is below 24 px");
    }
    assert!(px("font-title") > px("font-body"));
    for target in ["touch-min", "key-size", "letter-key"] {
        assert!(px(target) >= 56.0, "{target} is below 56 px");
    }
}
