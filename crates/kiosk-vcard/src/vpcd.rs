//! Attachment to pcscd through vsmartcard's vpcd driver: the card is a TCP client of vpcd
//! (default `127.0.0.1:35963`). Every frame both ways is a big-endian `u16` length and a body;
//! a 1-byte body from vpcd is a control code (00 power off, 01 power on, 02 reset, 04 ATR
//! request — the only one answered), anything longer is an APDU answered with exactly one frame.
//!
//! Latency: `TCP_NODELAY` is set, and `TCP_QUICKACK` is re-armed before every read (Linux clears
//! it after each ACK), otherwise every APDU waits for a delayed ACK (~40 ms, facts/rig.md).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::engine::{Answer, Chip};
use crate::error::{Error, Result};

/// The vpcd port of the first virtual reader.
pub const DEFAULT_ADDR: &str = "127.0.0.1:35963";

/// How often a blocked read wakes up to look at the stop flag.
const POLL: Duration = Duration::from_millis(200);
/// Connect timeout per attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Control codes from vpcd.
const POWER_OFF: u8 = 0x00;
const POWER_ON: u8 = 0x01;
const RESET: u8 = 0x02;
const GET_ATR: u8 = 0x04;

/// How the attachment behaves.
#[derive(Debug, Clone)]
pub struct VpcdOptions {
    /// vpcd's address.
    pub addr: String,
    /// First and largest wait between connection attempts (doubles in between).
    pub backoff: (Duration, Duration),
    /// After a `removed-mid-read` removal, put the card back after this long; `None` ends.
    pub reinsert_after: Option<Duration>,
}

impl Default for VpcdOptions {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR.to_owned(),
            backoff: (Duration::from_millis(100), Duration::from_secs(2)),
            reinsert_after: Some(Duration::from_secs(1)),
        }
    }
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The stop flag was set (SIGTERM/SIGINT).
    Stopped,
    /// The card was removed by a fault and is not to be re-inserted.
    Removed,
}

/// Events for the caller's progress messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Attached,
    Detached,
    Waiting,
}

fn io<'a>(addr: &'a str, what: &'static str) -> impl Fn(std::io::Error) -> Error + 'a {
    move |source| Error::Vpcd {
        addr: addr.to_owned(),
        what,
        source,
    }
}

/// Connects (with backoff) and serves `chip` until `stop` is set. vpcd closing the connection
/// (pcscd restarted) is survived by reconnecting.
pub fn run(
    chip: &mut Chip,
    opts: &VpcdOptions,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event),
) -> Result<Exit> {
    let mut backoff = opts.backoff.0;
    let mut waiting_reported = false;
    while !stop.load(Ordering::Relaxed) {
        let stream = match connect(&opts.addr) {
            Ok(s) => s,
            Err(e) => {
                if !waiting_reported {
                    on_event(Event::Waiting);
                    waiting_reported = true;
                }
                if matches!(e, Error::Vpcd { .. }) {
                    sleep_unless_stopped(backoff, stop);
                    backoff = (backoff * 2).min(opts.backoff.1);
                    continue;
                }
                return Err(e);
            }
        };
        backoff = opts.backoff.0;
        waiting_reported = false;
        chip.reset();
        on_event(Event::Attached);
        let outcome = serve(chip, stream, &opts.addr, stop);
        on_event(Event::Detached);
        match outcome {
            Ok(Served::Stopped) => return Ok(Exit::Stopped),
            Ok(Served::Removed) => match opts.reinsert_after {
                Some(wait) => {
                    sleep_unless_stopped(wait, stop);
                    chip.reinsert();
                }
                None => return Ok(Exit::Removed),
            },
            // vpcd went away: try again.
            Ok(Served::Closed) => {}
            Err(Error::VpcdProtocol { .. } | Error::Vpcd { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Exit::Stopped)
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let mut left = total;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let step = left.min(POLL);
        std::thread::sleep(step);
        left -= step;
    }
}

fn connect(addr: &str) -> Result<TcpStream> {
    let target = addr
        .to_socket_addrs()
        .map_err(io(addr, "cannot resolve address"))?
        .next()
        .ok_or_else(|| Error::VpcdProtocol {
            addr: addr.to_owned(),
            what: "address resolves to nothing",
        })?;
    let stream =
        TcpStream::connect_timeout(&target, CONNECT_TIMEOUT).map_err(io(addr, "cannot connect"))?;
    stream
        .set_nodelay(true)
        .map_err(io(addr, "cannot set TCP_NODELAY"))?;
    stream
        .set_read_timeout(Some(POLL))
        .map_err(io(addr, "cannot set a read timeout"))?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(io(addr, "cannot set a write timeout"))?;
    Ok(stream)
}

enum Served {
    Stopped,
    Removed,
    Closed,
}

/// Re-arms TCP_QUICKACK (Linux resets it after each delayed-ACK decision).
fn quickack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        // Best effort: without it the card still works, only slower.
        let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// Reads exactly `buf.len()` bytes. `Ok(false)`: the peer closed before the first byte.
fn read_exact_polling(
    stream: &mut TcpStream,
    buf: &mut [u8],
    addr: &str,
    stop: &AtomicBool,
) -> Result<Option<bool>> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        quickack(stream);
        match stream.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(Some(false)),
            Ok(0) => {
                return Err(Error::VpcdProtocol {
                    addr: addr.to_owned(),
                    what: "connection closed inside a frame",
                });
            }
            Ok(n) => got += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io(addr, "read failed")(e)),
        }
    }
    Ok(Some(true))
}

fn send_frame(stream: &mut TcpStream, body: &[u8], addr: &str) -> Result<()> {
    let len = u16::try_from(body.len()).map_err(|_| Error::VpcdProtocol {
        addr: addr.to_owned(),
        what: "answer longer than 65535 bytes",
    })?;
    // One write for length and body: two small writes would meet Nagle/delayed-ACK.
    let mut frame = Vec::with_capacity(body.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(body);
    stream.write_all(&frame).map_err(io(addr, "write failed"))
}

fn serve(chip: &mut Chip, mut stream: TcpStream, addr: &str, stop: &AtomicBool) -> Result<Served> {
    loop {
        let mut len = [0u8; 2];
        match read_exact_polling(&mut stream, &mut len, addr, stop)? {
            None => return Ok(Served::Stopped),
            Some(false) => return Ok(Served::Closed),
            Some(true) => {}
        }
        let len = usize::from(u16::from_be_bytes(len));
        let mut body = vec![0u8; len];
        match read_exact_polling(&mut stream, &mut body, addr, stop)? {
            None => return Ok(Served::Stopped),
            Some(false) if len > 0 => return Ok(Served::Closed),
            _ => {}
        }
        match body.as_slice() {
            [] => {}
            [POWER_OFF] | [POWER_ON] | [RESET] => {
                chip.reset();
            }
            [GET_ATR] => send_frame(&mut stream, &crate::engine::ATR, addr)?,
            // Unknown control codes need no answer (vpcd waits for none).
            [_] => {}
            apdu => {
                if let Some(delay) = chip.delay_per_apdu() {
                    sleep_unless_stopped(delay, stop);
                }
                match chip.process(apdu) {
                    Answer::Response(answer) => send_frame(&mut stream, &answer, addr)?,
                    Answer::Removed => {
                        // Closing the socket is how vpcd learns the card is gone.
                        drop(stream);
                        return Ok(Served::Removed);
                    }
                }
            }
        }
    }
}
