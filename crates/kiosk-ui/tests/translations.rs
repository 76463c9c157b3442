//! Every `@tr` string of the `.slint` sources has a Vietnamese translation, with the same
//! placeholders, and the translation file holds nothing stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui")
}

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("ui dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            slint_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "slint") {
            out.push(p);
        }
    }
}

/// The string literals given to `@tr(` (the first argument), unescaped.
fn tr_strings(source: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = source;
    while let Some(i) = rest.find("@tr(\"") {
        rest = &rest[i + 5..];
        let mut s = String::new();
        let mut chars = rest.char_indices();
        let mut end = rest.len();
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        s.push(n);
                    }
                }
                '"' => {
                    end = j + 1;
                    break;
                }
                c => s.push(c),
            }
        }
        out.push(s);
        rest = &rest[end..];
    }
    out
}

/// msgid → msgstr of a .po file (single-line entries, as this project writes them).
fn po_entries(po: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut id: Option<String> = None;
    let unquote = |s: &str| {
        s.trim()
            .trim_start_matches('"')
            .trim_end_matches('"')
            .replace("\\\"", "\"")
    };
    for line in po.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            id = Some(unquote(rest));
        } else if let Some(rest) = line.strip_prefix("msgstr ")
            && let Some(k) = id.take()
            && !k.is_empty()
        {
            map.insert(k, unquote(rest));
        }
    }
    map
}

#[test]
fn every_tr_string_has_a_vietnamese_translation() {
    let mut files = vec![];
    slint_files(&ui_dir(), &mut files);
    assert!(files.len() > 10, "the .slint sources were not found");
    let mut used = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        for s in tr_strings(&text) {
            used.insert(s, f.clone());
        }
    }
    assert!(used.len() > 30, "too few @tr strings found: {}", used.len());
    let po = std::fs::read_to_string(ui_dir().join("translations/vi/LC_MESSAGES/kiosk-ui.po"))
        .expect("vi.po");
    let vi = po_entries(&po);
    let mut problems = vec![];
    for (s, file) in &used {
        match vi.get(s) {
            None => problems.push(format!("missing: {s:?} ({})", file.display())),
            Some(t) if t.is_empty() => problems.push(format!("empty: {s:?}")),
            Some(t) if t.matches("{}").count() != s.matches("{}").count() => {
                problems.push(format!("placeholders differ: {s:?} → {t:?}"))
            }
            Some(_) => {}
        }
    }
    for s in vi.keys() {
        if !used.contains_key(s) {
            problems.push(format!("stale: {s:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_extractor_reads_escapes_and_several_strings() {
    let found = tr_strings(r#"a: @tr("One {}", x); b: @tr("Say \"hi\""); c: @tr("Two");"#);
    assert_eq!(found, ["One {}", "Say \"hi\"", "Two"]);
}
