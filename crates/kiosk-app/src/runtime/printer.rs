//! The ticket printer: ESC/POS to `/dev/usb/lpN` or `tcp://host:9100`, every write bounded by a
//! timeout; in the demo, the same bytes' text to a file in the state directory. The ticket
//! carries the number, the counter or room and the time, never personal data.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use kiosk_api::v1::DeviceHealth;
use kiosk_core::view::TicketView;

/// Where tickets go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    /// No printer: the screen is the ticket.
    None,
    /// A character device (`/dev/usb/lp0`).
    Device(PathBuf),
    /// A network printer (`host:9100`).
    Tcp(String),
    /// Text appended to a file (the demo).
    TextFile(PathBuf),
}

impl PrinterTarget {
    /// From the config's `devices.printer` (already validated as `/dev/…` or `tcp://…`).
    pub fn from_config(printer: Option<&str>) -> anyhow::Result<PrinterTarget> {
        Ok(match printer {
            None => PrinterTarget::None,
            Some(p) if p.starts_with("/dev/") => PrinterTarget::Device(PathBuf::from(p)),
            Some(p) => match p.strip_prefix("tcp://") {
                Some(addr) if !addr.is_empty() => PrinterTarget::Tcp(addr.to_owned()),
                _ => anyhow::bail!("devices.printer: `{p}` is neither /dev/… nor tcp://host:port"),
            },
        })
    }
}

pub struct Printer {
    target: PrinterTarget,
    timeout: Duration,
    site: String,
    status: Mutex<(DeviceHealth, String)>,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Printer {
    pub fn new(target: PrinterTarget, timeout: Duration, site: &str) -> Printer {
        let status = match &target {
            PrinterTarget::None => (DeviceHealth::Absent, "no printer configured".to_owned()),
            _ => (DeviceHealth::Ok, "not used yet".to_owned()),
        };
        Printer {
            target,
            timeout,
            site: site.to_owned(),
            status: Mutex::new(status),
        }
    }

    /// Health as last seen.
    pub fn health(&self) -> DeviceHealth {
        self.status().0
    }

    /// Health and a line of detail.
    pub fn status(&self) -> (DeviceHealth, String) {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or((DeviceHealth::Failed, "lock poisoned".into()))
    }

    pub fn describe(&self) -> String {
        match &self.target {
            PrinterTarget::None => "none".into(),
            PrinterTarget::Device(p) | PrinterTarget::TextFile(p) => p.display().to_string(),
            PrinterTarget::Tcp(a) => format!("tcp://{a}"),
        }
    }

    /// Checks a failed printer again without printing (opens the device, or connects): the
    /// core stops asking for prints while the printer is down, so this is how it comes back.
    /// Returns the health when it changed.
    pub fn probe(&self) -> Option<DeviceHealth> {
        if self.health() == DeviceHealth::Ok {
            return None;
        }
        let result = match &self.target {
            PrinterTarget::None => return None,
            PrinterTarget::Device(path) => write_device(path.clone(), Vec::new(), self.timeout),
            PrinterTarget::Tcp(addr) => write_tcp(addr, &[], self.timeout),
            PrinterTarget::TextFile(_) => Ok(()),
        };
        let Ok(()) = result else { return None };
        if let Ok(mut s) = self.status.lock() {
            *s = (DeviceHealth::Ok, "answers again".into());
        }
        Some(DeviceHealth::Ok)
    }

    /// Prints one ticket (blocking, at most the timeout); returns the printer's health.
    pub fn print(&self, ticket: &TicketView) -> DeviceHealth {
        let now = super::delivery::local_now();
        let result = match &self.target {
            PrinterTarget::None => Err("no printer configured".to_owned()),
            PrinterTarget::Device(path) => {
                let bytes = escpos(ticket, &self.site, now);
                write_device(path.clone(), bytes, self.timeout)
            }
            PrinterTarget::Tcp(addr) => {
                write_tcp(addr, &escpos(ticket, &self.site, now), self.timeout)
            }
            PrinterTarget::TextFile(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| {
                    f.write_all(ticket_text(ticket, &self.site, now).as_bytes())?;
                    f.write_all(b"----\n")
                })
                .map_err(|e| format!("{}: {e}", path.display())),
        };
        let status = match result {
            Ok(()) => (DeviceHealth::Ok, format!("printed {}", ticket.display)),
            Err(e) => {
                super::log_line(&format!("printer: {e}"));
                (DeviceHealth::Failed, e)
            }
        };
        let health = status.0;
        if let Ok(mut s) = self.status.lock() {
            *s = status;
        }
        health
    }
}

/// A device write on its own thread, waited for at most `timeout` (a stuck USB printer blocks
/// in the kernel; the thread is left to finish on its own).
fn write_device(path: PathBuf, bytes: Vec<u8>, timeout: Duration) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let shown = path.display().to_string();
    std::thread::Builder::new()
        .name("kiosk-printer".into())
        .spawn(move || {
            let r = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.flush()));
            let _ = tx.send(r);
        })
        .map_err(|e| format!("printer thread: {e}"))?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{shown}: {e}")),
        Err(_) => Err(format!("{shown}: no answer within {timeout:?}")),
    }
}

fn write_tcp(addr: &str, bytes: &[u8], timeout: Duration) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| format!("{addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr}: no address"))?;
    let mut s =
        std::net::TcpStream::connect_timeout(&sock, timeout).map_err(|e| format!("{addr}: {e}"))?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| format!("{addr}: {e}"))?;
    s.write_all(bytes)
        .and_then(|()| s.flush())
        .map_err(|e| format!("{addr}: {e}"))
}

/// Plain ASCII for the printer's built-in code page: Vietnamese letters lose their marks
/// (`Phòng khám` → `Phong kham`), which every ESC/POS printer can print.
pub fn ascii(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

/// The lines of a ticket.
fn lines(ticket: &TicketView, site: &str, now: time::OffsetDateTime) -> Vec<String> {
    let mut l = vec![ascii(site)];
    l.push(if ticket.provisional {
        "SO TAM THOI / PROVISIONAL".into()
    } else {
        "SO THU TU / QUEUE NUMBER".into()
    });
    l.push(ascii(&ticket.display));
    if !ticket.counter_or_room.is_empty() {
        l.push(format!("Quay/Phong: {}", ascii(&ticket.counter_or_room)));
    }
    if let Some(w) = ticket.estimated_wait_minutes {
        l.push(format!("Cho khoang / wait about {w} min"));
    }
    l.push(format!(
        "{:02}/{:02}/{:04} {:02}:{:02}",
        now.day(),
        u8::from(now.month()),
        now.year(),
        now.hour(),
        now.minute()
    ));
    l
}

/// The ticket as text (the demo's printer).
pub fn ticket_text(ticket: &TicketView, site: &str, now: time::OffsetDateTime) -> String {
    let mut s = String::new();
    for line in lines(ticket, site, now) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// The ticket as ESC/POS: initialise, centre, the number in double size, feed and cut.
pub fn escpos(ticket: &TicketView, site: &str, now: time::OffsetDateTime) -> Vec<u8> {
    const ESC: u8 = 0x1b;
    const GS: u8 = 0x1d;
    let l = lines(ticket, site, now);
    let mut b = vec![ESC, b'@', ESC, b'a', 1];
    for (i, line) in l.iter().enumerate() {
        // The number (third line) large.
        if i == 2 {
            b.extend_from_slice(&[GS, b'!', 0x11]);
        }
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
        if i == 2 {
            b.extend_from_slice(&[GS, b'!', 0x00]);
        }
    }
    // Feed 4 lines, partial cut.
    b.extend_from_slice(&[ESC, b'd', 4, GS, b'V', 66, 0]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> TicketView {
        TicketView {
            display: "NOI-007".into(),
            counter_or_room: "Phòng 101".into(),
            estimated_wait_minutes: Some(12),
            provisional: false,
        }
    }

    #[test]
    fn escpos_has_init_number_and_cut_in_ascii() {
        let now = time::macros::datetime!(2026-11-27 09:05 +7);
        let b = escpos(&ticket(), "Bệnh viện Đa khoa", now);
        assert_eq!(&b[..2], &[0x1b, b'@']);
        assert_eq!(&b[b.len() - 3..], &[b'V', 66, 0]);
        assert!(b.is_ascii());
        let text = String::from_utf8(b).unwrap();
        assert!(text.contains("NOI-007"), "{text}");
        assert!(text.contains("Phong 101"), "{text}");
        assert!(text.contains("Benh vien Da khoa"), "{text}");
        assert!(text.contains("27/11/2026 09:05"), "{text}");
    }

    #[test]
    fn a_tcp_printer_receives_the_bytes_and_a_dead_one_fails_in_time() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut s, &mut got).unwrap();
            got
        });
        let p = Printer::new(
            PrinterTarget::Tcp(addr.to_string()),
            Duration::from_secs(2),
            "UBND",
        );
        assert_eq!(p.print(&ticket()), DeviceHealth::Ok);
        let got = reader.join().unwrap();
        assert!(String::from_utf8_lossy(&got).contains("NOI-007"));

        // Nothing listens on the port any more.
        let p = Printer::new(
            PrinterTarget::Tcp(addr.to_string()),
            Duration::from_millis(500),
            "UBND",
        );
        assert_eq!(p.print(&ticket()), DeviceHealth::Failed);
        assert!(!p.status().1.is_empty());
        assert_eq!(p.probe(), None, "still down");

        // The printer is back on the same address: the probe finds it.
        let listener = std::net::TcpListener::bind(addr).unwrap();
        assert_eq!(p.probe(), Some(DeviceHealth::Ok));
        assert_eq!(p.health(), DeviceHealth::Ok);
        drop(listener);
    }

    #[test]
    fn config_targets_parse() {
        assert_eq!(
            PrinterTarget::from_config(None).unwrap(),
            PrinterTarget::None
        );
        assert_eq!(
            PrinterTarget::from_config(Some("/dev/usb/lp0")).unwrap(),
            PrinterTarget::Device("/dev/usb/lp0".into())
        );
        assert_eq!(
            PrinterTarget::from_config(Some("tcp://10.0.0.5:9100")).unwrap(),
            PrinterTarget::Tcp("10.0.0.5:9100".into())
        );
        assert!(PrinterTarget::from_config(Some("tcp://")).is_err());
    }
}
