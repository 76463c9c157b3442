//! Encryption at rest: after records for a known citizen are written (pending, dead and
//! delivered), neither the ID number nor the name appears in any byte of any file under the
//! state directory.

use kiosk_outbox::Outbox;
use kiosk_tests::outbox_rig::{citizen, contains, files_under, offline_kiosk, registration_line};

#[test]
fn no_personal_data_in_any_file_under_the_state_dir() {
    let (id_number, name) = citizen();
    let kiosk = offline_kiosk().expect("kiosk id");
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let outbox = Outbox::open(dir.path()).expect("open");
        for _ in 0..50 {
            let (key, line) = registration_line(&kiosk);
            // The test is only meaningful if the plaintext really contains the data.
            assert!(
                line.contains(&id_number) && line.contains(&name),
                "{}",
                line.len()
            );
            outbox.enqueue(key, &line).expect("enqueue");
        }
        let head = outbox.head().expect("head").expect("a record");
        outbox.mark_delivered(&head, "NOI-0001").expect("deliver");
        let head = outbox.head().expect("head").expect("a record");
        outbox
            .mark_dead(&head, &format!("422 bad data for {id_number}"))
            .expect("dead");
        outbox.sync().expect("sync");
    }
    let files = files_under(dir.path());
    assert!(
        files.len() >= 2,
        "expected the store and key files, found {files:?}"
    );
    let mut total = 0;
    // serde_json keeps non-ASCII as UTF-8, so the name is searched exactly as it is written;
    // the name's ASCII-only given name is searched as well.
    let given = name.rsplit(' ').next().unwrap_or_default().to_owned();
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        total += bytes.len();
        for n in [id_number.as_bytes(), name.as_bytes(), given.as_bytes()] {
            assert!(!contains(&bytes, n), "personal data in {}", f.display());
        }
    }
    assert!(
        total > 50 * 100,
        "only {total} bytes on disk: were the records written?"
    );
}
