//! PC/SC transport through pcsc-lite (`pcscd`).
//!
//! SCardTransmit has no timeout of its own and a reader driver (or a virtual card) that never
//! answers blocks it forever. So the `Card` lives on a worker thread and every exchange waits on
//! a channel with a deadline; after a timeout the transport is poisoned and every later call fails
//! at once, so a session never hangs on a dead reader.

use std::ffi::CString;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::CardTransport;
use crate::error::{Error, Result};

/// Default deadline for one APDU exchange. A real chip answers a large READ BINARY in well under
/// a second; anything slower is a broken reader.
pub const DEFAULT_APDU_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline for establishing a context and connecting to a card.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Maps pcsc-lite's errors onto the crate's: a removed card and a missing service are what the
/// kiosk reacts to, the rest is reported with pcsc-lite's words.
pub(crate) fn map_error(e: pcsc::Error) -> Error {
    use pcsc::Error as P;
    match e {
        // vpcd (and some USB readers) report a card pulled mid-APDU as a failed transaction.
        P::NoSmartcard | P::RemovedCard | P::UnpoweredCard | P::NotTransacted => Error::CardRemoved,
        P::ResetCard => {
            Error::Transport("card was reset by another application; session lost".into())
        }
        P::NoService | P::ServiceStopped | P::NoReadersAvailable => {
            Error::ReaderUnavailable(format!("pcscd: {e}"))
        }
        P::UnknownReader | P::ReaderUnavailable | P::ReaderUnsupported => {
            Error::ReaderUnavailable(e.to_string())
        }
        P::Timeout => Error::Timeout {
            what: "PC/SC",
            millis: 0,
        },
        other => Error::Transport(other.to_string()),
    }
}

/// Names of the readers pcscd knows. No reader is an empty list, not an error.
pub fn list_readers() -> Result<Vec<String>> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(map_error)?;
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map_error(e)),
    }
}

/// A reader and what is in it, read without connecting (a technician's look must not reset a
/// card the kiosk is reading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderStatus {
    pub reader: String,
    pub card_present: bool,
    /// The card's ATR when one is present.
    pub atr: Vec<u8>,
}

/// The state of every reader pcscd knows.
pub fn reader_status() -> Result<Vec<ReaderStatus>> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(map_error)?;
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(map_error(e)),
    };
    let mut states: Vec<_> = names
        .into_iter()
        .map(|n| pcsc::ReaderState::new(n, pcsc::State::UNAWARE))
        .collect();
    match ctx.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) | Err(pcsc::Error::Timeout) => {}
        Err(e) => return Err(map_error(e)),
    }
    Ok(states
        .iter()
        .map(|s| {
            let present = s.event_state().contains(pcsc::State::PRESENT);
            ReaderStatus {
                reader: s.name().to_string_lossy().into_owned(),
                card_present: present,
                atr: if present {
                    s.atr().to_vec()
                } else {
                    Vec::new()
                },
            }
        })
        .collect())
}

struct Exchange {
    command: Vec<u8>,
    answer: mpsc::Sender<Result<Vec<u8>>>,
}

/// One connected card. Dropping it disconnects with a reset, which ends any secure-messaging
/// session on the chip: keep one `PcscTransport` per reading session.
pub struct PcscTransport {
    reader: String,
    atr: Vec<u8>,
    requests: Option<mpsc::Sender<Exchange>>,
    worker: Option<thread::JoinHandle<()>>,
    apdu_timeout: Duration,
    poisoned: Option<String>,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscTransport {
    /// Connects to the card in `reader` (shared mode, T=0 or T=1).
    pub fn connect(reader: &str) -> Result<Self> {
        Self::connect_with_timeout(reader, DEFAULT_APDU_TIMEOUT)
    }

    /// Like [`connect`](Self::connect) with a chosen per-APDU deadline.
    pub fn connect_with_timeout(reader: &str, apdu_timeout: Duration) -> Result<Self> {
        let name = CString::new(reader)
            .map_err(|_| Error::ReaderUnavailable("reader name contains a NUL byte".into()))?;
        let (req_tx, req_rx) = mpsc::channel::<Exchange>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Vec<u8>>>();
        let worker = thread::Builder::new()
            .name("pcsc-card".into())
            .spawn(move || worker(name, req_rx, ready_tx))
            .map_err(|e| Error::Transport(format!("cannot start the card thread: {e}")))?;
        let atr = match ready_rx.recv_timeout(CONNECT_TIMEOUT) {
            Ok(Ok(atr)) => atr,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(Error::Timeout {
                    what: "PC/SC connect",
                    millis: CONNECT_TIMEOUT.as_millis() as u64,
                });
            }
        };
        Ok(Self {
            reader: reader.to_owned(),
            atr,
            requests: Some(req_tx),
            worker: Some(worker),
            apdu_timeout,
            poisoned: None,
        })
    }

    /// The card's answer to reset.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// The reader this transport talks to.
    pub fn reader(&self) -> &str {
        &self.reader
    }
}

fn worker(name: CString, requests: mpsc::Receiver<Exchange>, ready: mpsc::Sender<Result<Vec<u8>>>) {
    let connected = pcsc::Context::establish(pcsc::Scope::User)
        .and_then(|ctx| ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY))
        .map_err(map_error);
    let card = match connected {
        Ok(card) => card,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let atr = card
        .status2_owned()
        .map(|s| s.atr().to_vec())
        .unwrap_or_default();
    if ready.send(Ok(atr)).is_err() {
        return;
    }
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    // Ends when the transport is dropped (the sender goes away).
    for Exchange { command, answer } in requests {
        let result = match card.transmit(&command, &mut buf) {
            // An answer without a status word: the card went away during the exchange.
            Ok(answer) if answer.len() < 2 => Err(Error::CardRemoved),
            Ok(answer) => Ok(answer.to_vec()),
            Err(e) => Err(map_error(e)),
        };
        let _ = answer.send(result);
    }
}

impl CardTransport for PcscTransport {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        if let Some(why) = &self.poisoned {
            return Err(Error::Transport(format!(
                "reader unusable after an earlier failure: {why}"
            )));
        }
        let requests = self.requests.as_ref().ok_or(Error::CardRemoved)?;
        let (tx, rx) = mpsc::channel();
        requests
            .send(Exchange {
                command: command.to_vec(),
                answer: tx,
            })
            .map_err(|_| Error::Transport("card thread ended".into()))?;
        match rx.recv_timeout(self.apdu_timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.poisoned = Some("an APDU timed out".into());
                Err(Error::Timeout {
                    what: "APDU exchange",
                    millis: self.apdu_timeout.as_millis() as u64,
                })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(Error::Transport("card thread ended".into()))
            }
        }
    }

    fn describe(&self) -> String {
        self.reader.clone()
    }
}

impl Drop for PcscTransport {
    fn drop(&mut self) {
        // Closing the channel ends the worker, which drops the card (disconnect with reset). A
        // worker stuck in SCardTransmit is left behind rather than blocking the caller.
        self.requests = None;
        if self.poisoned.is_none()
            && let Some(w) = self.worker.take()
        {
            let _ = w.join();
        }
    }
}
