//! Child process for the outbox crash test: enqueues sample registrations from kiosk `KIOSK_ID`
//! into the outbox under `STATE_DIR`, forever, printing each idempotency key on its own line only
//! after `enqueue` returned (the record is durable) — the contract of `kiosk outbox enqueue`.
//! The test kills it with SIGKILL at random moments.

use std::io::Write;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(kiosk)) = (args.next(), args.next()) else {
        eprintln!("usage: outbox_crash_child STATE_DIR KIOSK_ID");
        return std::process::ExitCode::from(2);
    };
    let kiosk = match kiosk_api::v1::KioskId::new(kiosk) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let outbox = match kiosk_outbox::Outbox::open(std::path::Path::new(&dir)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("failed: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    loop {
        let (key, line) = kiosk_tests::outbox_rig::registration_line(&kiosk);
        if let Err(e) = outbox.enqueue(key, &line) {
            eprintln!("failed: {e}");
            return std::process::ExitCode::from(1);
        }
        if writeln!(out, "{key}").and_then(|()| out.flush()).is_err() {
            return std::process::ExitCode::from(1);
        }
    }
}
