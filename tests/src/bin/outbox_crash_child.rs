//! Child process for the outbox crash test: enqueues sample registrations into the outbox under
//! the state directory given as the only argument, forever, printing each idempotency key on its
//! own line only after `enqueue` returned (the record is durable) — exactly the contract of
//! `kiosk outbox enqueue`. The test kills it with SIGKILL at random moments.

use std::io::Write;

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: outbox_crash_child STATE_DIR");
        return std::process::ExitCode::from(2);
    };
    let outbox = match kiosk_outbox::Outbox::open(std::path::Path::new(&dir)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    loop {
        let key = uuid::Uuid::now_v7();
        let line = kiosk_tests::outbox_rig::registration_line(key);
        if let Err(e) = outbox.enqueue(key, &line) {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
        if writeln!(out, "{key}").and_then(|()| out.flush()).is_err() {
            return std::process::ExitCode::from(1);
        }
    }
}
