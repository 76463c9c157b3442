//! A small TCP proxy between the kiosk's client and the gateway that misbehaves on command.
//!
//! Each accepted connection takes the next [`Fault`] from the script (then [`Fault::Pass`]
//! forever). `Pass` forwards bytes untouched, so mutual TLS runs end to end with the gateway.
//! The HTTP-level faults terminate TLS in the proxy with the gateway's own server configuration
//! (so the client sees a trusted server), read the request and answer with a canned status and
//! `Connection: close`. `WrongCertificate` terminates TLS with a self-signed certificate no CA
//! vouches for.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// What the proxy does to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways, untouched.
    Pass,
    /// Complete TLS, read the start of the request, then reset the TCP connection (RST).
    ResetMidRequest,
    /// Accept and say nothing for this long (past the client's timeout).
    Stall(Duration),
    /// Complete TLS, read the request, answer with this status (and `Retry-After` seconds).
    Status { code: u16, retry_after: Option<u64> },
    /// Complete TLS with a certificate from no trusted CA.
    WrongCertificate,
}

struct Shared {
    script: Mutex<VecDeque<Fault>>,
    connections: AtomicUsize,
    /// Faults actually applied, in order (to prove the script ran).
    applied: Mutex<Vec<Fault>>,
}

/// A running fault proxy.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .finish()
    }
}

/// A TLS server configuration with a fresh self-signed certificate for `127.0.0.1`.
pub fn self_signed_tls() -> Result<Arc<rustls::ServerConfig>, Box<dyn std::error::Error>> {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])?;
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`. `gateway_tls` is the
    /// gateway's own server configuration, used by the HTTP-level faults.
    pub async fn start(
        upstream: SocketAddr,
        gateway_tls: Arc<rustls::ServerConfig>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let wrong_tls = self_signed_tls()?;
        let shared = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            connections: AtomicUsize::new(0),
            applied: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                s.connections.fetch_add(1, Ordering::SeqCst);
                let fault = s
                    .script
                    .lock()
                    .ok()
                    .and_then(|mut q| q.pop_front())
                    .unwrap_or(Fault::Pass);
                if let Ok(mut a) = s.applied.lock() {
                    a.push(fault.clone());
                }
                let good = Arc::clone(&gateway_tls);
                let wrong = Arc::clone(&wrong_tls);
                tokio::spawn(async move {
                    let _ = handle(client, upstream, fault, good, wrong).await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Queues faults for the next connections (in order); afterwards connections pass.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut q) = self.shared.script.lock() {
            q.extend(faults);
        }
    }

    /// Faults still waiting for a connection.
    pub fn pending_faults(&self) -> usize {
        self.shared.script.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// Faults applied so far, in connection order.
    pub fn applied(&self) -> Vec<Fault> {
        self.shared
            .applied
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn shutdown(self) {
        self.task.abort();
    }
}

/// Reads from a TLS stream until the end of the HTTP headers and the announced body (bounded).
async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < 4 * 1024 * 1024 {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    Ok(buf)
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    good: Arc<rustls::ServerConfig>,
    wrong: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    match fault {
        Fault::Pass => {
            let mut server = TcpStream::connect(upstream).await?;
            client.set_nodelay(true)?;
            server.set_nodelay(true)?;
            tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        }
        Fault::Stall(d) => {
            tokio::time::sleep(d).await;
        }
        Fault::ResetMidRequest => {
            let mut tls = TlsAcceptor::from(good).accept(client).await?;
            // Take the first bytes of the request, then drop the connection with an RST.
            let mut first = [0u8; 64];
            let _ = tls.read(&mut first).await?;
            let (tcp, _) = tls.into_inner();
            tcp.set_zero_linger()?;
            drop(tcp);
        }
        Fault::Status { code, retry_after } => {
            let mut tls = TlsAcceptor::from(good).accept(client).await?;
            let _ = read_request(&mut tls).await?;
            let body = format!(r#"{{"error":"fault_proxy","reason":"injected HTTP {code}"}}"#);
            let mut head = format!(
                "HTTP/1.1 {code} Injected\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            if let Some(s) = retry_after {
                head.push_str(&format!("retry-after: {s}\r\n"));
            }
            head.push_str("\r\n");
            tls.write_all(head.as_bytes()).await?;
            tls.write_all(body.as_bytes()).await?;
            tls.shutdown().await?;
        }
        Fault::WrongCertificate => {
            // The client must abort the handshake; whatever happens next is its business.
            if let Ok(mut tls) = TlsAcceptor::from(wrong).accept(client).await {
                let _ = read_request(&mut tls).await;
            }
        }
    }
    Ok(())
}
