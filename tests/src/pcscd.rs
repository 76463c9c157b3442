//! A real `pcscd` with the `vsmartcard-vpcd` reader, for tests and the demo.
//!
//! Only one pcscd can run on a machine, so [`Pcscd::acquire`] first takes a machine-wide file
//! lock (tests in several processes queue up), then uses a pcscd that already serves the vpcd
//! reader (a developer's systemd one) or starts its own in the foreground. It stops only what it
//! started: a pcscd it did not start is never killed.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// The first of the two readers vpcd creates (its card side listens on TCP 35963).
pub const VPCD_READER: &str = "Virtual PCD 00 00";
/// The TCP port a virtual card connects to for [`VPCD_READER`].
pub const VPCD_PORT: u16 = 35963;

const SOCKET: &str = "/run/pcscd/pcscd.comm";
const LOCK: &str = "/tmp/kiosk-card-rig.lock";
const PID_FILE: &str = "/tmp/kiosk-card-rig.pcscd.pid";
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a rig waits for another to finish.
const LOCK_TIMEOUT: Duration = Duration::from_secs(300);

/// A pcscd serving the vpcd reader, held under the machine-wide rig lock.
pub struct Pcscd {
    child: Option<Child>,
    log: PathBuf,
    _lock: File,
}

impl std::fmt::Debug for Pcscd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pcscd")
            .field("started_here", &self.child.is_some())
            .finish()
    }
}

impl Pcscd {
    /// Takes the rig lock (waiting for other rigs), then makes sure a pcscd with the vpcd reader
    /// runs and its card port listens.
    pub fn acquire() -> Result<Self> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK)
            .with_context(|| format!("opening the rig lock {LOCK}"))?;
        // Bounded, so a rig held by a stuck test fails the next one instead of hanging it.
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    bail!("another card rig held {LOCK} for {LOCK_TIMEOUT:?}");
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {LOCK}"));
                }
            }
        }

        let log = std::env::temp_dir().join(format!("kiosk-rig-pcscd-{}.log", std::process::id()));
        stop_orphan();
        if let Some(readers) = running_readers() {
            if readers.iter().any(|r| r == VPCD_READER) {
                wait_for_vpcd_port()?;
                return Ok(Self {
                    child: None,
                    log,
                    _lock: lock,
                });
            }
            bail!(
                "a pcscd that this rig did not start is running without the vpcd reader \
                 (readers: {readers:?}); stop it (e.g. `systemctl stop pcscd.socket pcscd`) or \
                 install vsmartcard-vpcd and restart it"
            );
        }
        let pcscd = find_pcscd()?;
        if Path::new(SOCKET).exists() && !pcscd_process_running() {
            // Left behind by a pcscd that was killed; a new one refuses to start while it exists.
            std::fs::remove_file(SOCKET).with_context(|| format!("removing stale {SOCKET}"))?;
        }
        let child = spawn_pcscd(&pcscd, &log)?;
        // Remembered so that a rig whose process was killed leaves a pcscd the next rig may stop.
        let _ = std::fs::write(PID_FILE, child.id().to_string());
        let mut me = Self {
            child: Some(child),
            log,
            _lock: lock,
        };
        me.wait_ready()?;
        Ok(me)
    }

    /// Stops the pcscd this rig started, as a crash or an update would, and starts it again.
    pub fn restart(&mut self) -> Result<()> {
        if self.child.is_none() {
            bail!("this rig did not start pcscd, so it will not restart it");
        }
        self.stop_child();
        std::thread::sleep(Duration::from_millis(300));
        let child = spawn_pcscd(&find_pcscd()?, &self.log)?;
        let _ = std::fs::write(PID_FILE, child.id().to_string());
        self.child = Some(child);
        self.wait_ready()
    }

    fn stop_child(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM lets pcscd remove its socket; SIGKILL only if it does not stop.
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if !matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_file(SOCKET);
            }
        }
    }

    /// Whether this rig started pcscd itself.
    pub fn started_here(&self) -> bool {
        self.child.is_some()
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "pcscd exited at start ({status}); its log:\n{}",
                    self.log_tail()
                );
            }
            if running_readers().is_some_and(|r| r.iter().any(|n| n == VPCD_READER)) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "pcscd did not offer the reader {VPCD_READER:?} within {START_TIMEOUT:?} \
                     (is vsmartcard-vpcd installed? run deploy/dev-setup.sh); its log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        wait_for_vpcd_port()
    }

    fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let start = s.len().saturating_sub(2000);
        s.get(start..).unwrap_or_default().to_owned()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop_child();
            let _ = std::fs::remove_file(PID_FILE);
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn spawn_pcscd(pcscd: &Path, log: &Path) -> Result<Child> {
    let log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Command::new(pcscd)
        .args(["--foreground", "--info"])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("starting {}", pcscd.display()))
}

/// The readers of a running pcscd, or `None` when no pcscd answers.
fn running_readers() -> Option<Vec<String>> {
    if !Path::new(SOCKET).exists() {
        return None;
    }
    let ctx = pcsc::Context::establish(pcsc::Scope::User).ok()?;
    match ctx.list_readers_owned() {
        Ok(r) => Some(
            r.into_iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect(),
        ),
        Err(pcsc::Error::NoReadersAvailable) => Some(Vec::new()),
        Err(_) => None,
    }
}

/// Stops a pcscd that an earlier rig started and could not stop (its process was killed). Only
/// called under the rig lock, so no other rig is using it.
fn stop_orphan() {
    let Some(pid) = std::fs::read_to_string(PID_FILE)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    else {
        return;
    };
    let _ = std::fs::remove_file(PID_FILE);
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim_end() != "pcscd" {
        return;
    }
    let pid = nix::unistd::Pid::from_raw(pid);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
}

fn find_pcscd() -> Result<PathBuf> {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join("pcscd");
        if p.exists() {
            return Ok(p);
        }
    }
    bail!(
        "pcscd is not installed: run deploy/dev-setup.sh (Debian packages pcscd, vsmartcard-vpcd)"
    )
}

fn pcscd_process_running() -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim_end() == "pcscd")
    })
}

/// vpcd takes any TCP connection for a card, so readiness is read from the kernel's socket table
/// instead of by connecting.
fn wait_for_vpcd_port() -> Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    while !port_listening(VPCD_PORT) {
        if Instant::now() > deadline {
            bail!("vpcd does not listen on TCP {VPCD_PORT} within {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn port_listening(port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|t| {
            t.lines().skip(1).any(|line| {
                let mut cols = line.split_whitespace();
                let local = cols.nth(1).unwrap_or_default();
                let state = cols.nth(1).unwrap_or_default();
                local.ends_with(&wanted) && state == "0A"
            })
        })
    })
}

/// Waits until `reader` shows a card (`true`) or no card (`false`).
pub fn wait_for_card(reader: &str, present: bool, timeout: Duration) -> Result<()> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).context("connecting to pcscd")?;
    let name = std::ffi::CString::new(reader)?;
    let mut states = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ctx.get_status_change(left, &mut states) {
            Ok(()) => {
                // (State::UNAWARE is zero, so it cannot be tested with `contains`.)
                if states[0].event_state().contains(pcsc::State::PRESENT) == present {
                    return Ok(());
                }
            }
            Err(pcsc::Error::Timeout) => {}
            Err(e) => bail!("waiting for {reader}: {e}"),
        }
        if Instant::now() >= deadline {
            bail!(
                "{reader} did not report the card {} within {timeout:?}",
                if present { "present" } else { "absent" }
            );
        }
        states[0].sync_current_state();
    }
}
