//! The committed screenshots (docs/screenshots) match a fresh render, within a small tolerance.
//! Regenerate them with `KIOSK_UI_UPDATE_SCREENSHOTS=1 cargo test -p kiosk-ui --test screenshots`.

use std::path::Path;

use kiosk_ui::screenshots::{compare_png, render_all};

/// Channel difference below which a pixel counts as equal (anti-aliasing noise).
const TOLERANCE: u8 = 24;
/// Share of pixels that may differ beyond the tolerance.
const MAX_FRACTION: f64 = 0.002;

#[test]
fn screenshots_match_the_committed_set() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    let fresh = tempfile::tempdir().expect("tempdir");
    let written = render_all(fresh.path()).expect("render");
    assert!(
        written.len() >= 2 * 11,
        "only {} screenshots",
        written.len()
    );
    if std::env::var_os("KIOSK_UI_UPDATE_SCREENSHOTS").is_some() {
        std::fs::create_dir_all(&committed).expect("dir");
        for p in &written {
            let name = p.file_name().expect("name");
            std::fs::copy(p, committed.join(name)).expect("copy");
        }
    }
    let mut problems = vec![];
    for p in &written {
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        let expected = committed.join(&name);
        if !expected.exists() {
            problems.push(format!("{name}: not committed"));
            continue;
        }
        match compare_png(&expected, p, TOLERANCE) {
            Ok(d) if d.differing_fraction > MAX_FRACTION => problems.push(format!(
                "{name}: {:.3} % of pixels differ (max channel delta {})",
                d.differing_fraction * 100.0,
                d.max_delta
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_changed_pixel_block_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = image::RgbImage::from_pixel(100, 100, image::Rgb([255, 255, 255]));
    let mut b = a.clone();
    for x in 0..10 {
        for y in 0..10 {
            b.put_pixel(x, y, image::Rgb([0, 0, 0]));
        }
    }
    let (pa, pb) = (dir.path().join("a.png"), dir.path().join("b.png"));
    a.save(&pa).expect("save");
    b.save(&pb).expect("save");
    let d = compare_png(&pa, &pb, TOLERANCE).expect("compare");
    assert_eq!(d.max_delta, 255);
    assert!((d.differing_fraction - 0.01).abs() < 1e-9);
    let same = compare_png(&pa, &pa, 0).expect("compare");
    assert_eq!(same.differing_fraction, 0.0);
}
