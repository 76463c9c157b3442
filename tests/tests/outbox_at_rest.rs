//! Encryption at rest: after records for a known citizen are written (pending, dead and
//! delivered), neither the ID number nor the name appears in any byte of any file under the
//! state directory.

use kiosk_outbox::Outbox;
use kiosk_tests::outbox_rig::{CITIZEN_ID, CITIZEN_NAME, contains, files_under, registration_line};
use uuid::Uuid;

#[test]
fn no_personal_data_in_any_file_under_the_state_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    {
        let outbox = Outbox::open(dir.path()).expect("open");
        for k in &keys {
            let line = registration_line(*k);
            // The test is only meaningful if the plaintext really contains the data.
            assert!(line.contains(CITIZEN_ID) && line.contains(CITIZEN_NAME));
            outbox.enqueue(*k, &line).expect("enqueue");
        }
        let head = outbox.head().expect("head").expect("a record");
        outbox.mark_delivered(&head, "NOI-0001").expect("deliver");
        let head = outbox.head().expect("head").expect("a record");
        outbox
            .mark_dead(&head, &format!("422 bad data for {CITIZEN_ID}"))
            .expect("dead");
    }
    let files = files_under(dir.path());
    assert!(
        files.len() >= 2,
        "expected the store and key files, found {files:?}"
    );
    let mut total = 0;
    // serde_json keeps non-ASCII as UTF-8, so the name is searched exactly as it is written.
    let needles: [&[u8]; 2] = [CITIZEN_ID.as_bytes(), CITIZEN_NAME.as_bytes()];
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        total += bytes.len();
        for n in needles {
            assert!(!contains(&bytes, n), "personal data in {}", f.display());
        }
    }
    assert!(
        total > 50 * 100,
        "only {total} bytes on disk: were the records written?"
    );
}
