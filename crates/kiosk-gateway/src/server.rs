//! Serving: rustls (ring) in front of hyper's HTTP/1.1 and the axum router. The TLS layer asks for
//! a client certificate but does not require one ([`WebPkiClientVerifier`] with the gateway CA,
//! unauthenticated allowed); the verified peer certificate is handed to every request as a
//! [`PeerIdentity`] extension, and routes decide: `/v1/enrol` accepts anyone, everything else
//! needs a known, unrevoked kiosk certificate.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::server::WebPkiClientVerifier;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::insurance::InsuranceAdapter;
use crate::pki;
use crate::seal::Sealer;
use crate::store::{self, SqliteStore, Store};

/// What the TLS layer proved about the client, if it sent a certificate.
#[derive(Clone, Debug)]
pub struct PeerIdentity(pub Option<PeerCert>);

/// A verified client certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCert {
    /// Serial, lower-case hex.
    pub serial: String,
    /// Subject common name: the kiosk id the gateway issued.
    pub common_name: String,
    pub not_after: OffsetDateTime,
}

impl PeerCert {
    /// Reads serial, CN and expiry from a DER certificate (already verified by rustls).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Error::Tls(format!("peer certificate: {e}")))?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .ok_or_else(|| Error::Tls("peer certificate has no common name".into()))?
            .to_string();
        Ok(PeerCert {
            serial: hex::encode(cert.tbs_certificate.raw_serial()),
            common_name,
            not_after: cert.validity().not_after.to_datetime(),
        })
    }
}

/// Shared by all handlers.
pub struct AppState {
    pub dir: PathBuf,
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub sealer: Arc<Sealer>,
    pub insurance: InsuranceAdapter,
    pub fhir: Option<reqwest::Client>,
    /// Idempotency keys whose first request is still being processed.
    pub in_flight: InFlight,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Loads configuration, keys and the database from a state directory made by `init`.
    pub fn open(dir: &Path) -> Result<Self> {
        let config = Config::load(&dir.join(config::FILE))?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join(store::DB_FILE))?);
        let sealer = Arc::new(Sealer::load(dir)?);
        let insurance = InsuranceAdapter::from_config(
            &config.insurance,
            Arc::clone(&store),
            Arc::clone(&sealer),
        )?;
        let fhir = config
            .fhir
            .as_ref()
            .map(|f| crate::upstream::client(f.ca_file.as_deref(), f.timeout_secs))
            .transpose()?;
        Ok(AppState {
            dir: dir.to_path_buf(),
            config,
            store,
            sealer,
            insurance,
            fhir,
            in_flight: InFlight::default(),
        })
    }
}

/// The set of idempotency keys being processed right now.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<String>>);

/// Holds a key in the [`InFlight`] set until dropped.
#[derive(Debug)]
pub struct InFlightGuard<'a> {
    set: &'a InFlight,
    key: String,
}

impl InFlight {
    /// Claims `key`; `None` when another request holds it.
    pub fn claim(&self, key: &str) -> Option<InFlightGuard<'_>> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if set.insert(key.to_string()) {
            Some(InFlightGuard {
                set: self,
                key: key.to_string(),
            })
        } else {
            None
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.key);
    }
}

/// The rustls server configuration: the server chain from `init`, and client certificates
/// verified against the gateway CA but optional at the TLS level.
pub fn tls_config(dir: &Path) -> Result<rustls::ServerConfig> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| Error::io_path("read", &path, e))
    };
    let roots = kiosk_api::pin::pinned_roots(&read(pki::CA_CERT)?)?;
    let provider = kiosk_api::pin::provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .allow_unauthenticated()
            .build()
            .map_err(|e| Error::Tls(format!("client verifier: {e}")))?;
    let chain = kiosk_api::pin::certs_from_pem(&read(pki::SERVER_CERT)?)?;
    let key = kiosk_api::pin::key_from_pem(&read(pki::SERVER_KEY)?)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| Error::Tls(format!("server certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A gateway running in this process.
#[derive(Debug)]
pub struct RunningGateway {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// Shared state, for tests that look inside.
    pub state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningGateway {
    /// `https://127.0.0.1:PORT` (or the bound address).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts the gateway from state directory `dir` on `listen` (port 0 picks a free port) and
/// returns once it accepts connections.
pub async fn start(dir: &Path, listen: SocketAddr) -> Result<RunningGateway> {
    let state = Arc::new(AppState::open(dir)?);
    let tls = Arc::new(tls_config(dir)?);
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| Error::io(&format!("listen on {listen}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("read bound address", e))?;
    let (tx, rx) = watch::channel(false);
    let router = crate::routes::router(Arc::clone(&state));
    let limits = state.config.limits.clone();
    let task = tokio::spawn(serve(listener, TlsAcceptor::from(tls), router, rx, limits));
    Ok(RunningGateway {
        addr,
        state,
        shutdown: tx,
        task,
    })
}

async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
    mut shutdown: watch::Receiver<bool>,
    limits: config::Limits,
) {
    let mut connections = JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let (tcp, _peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little instead of spinning.
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    tracing::warn!("connection limit reached; closing a new connection");
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, router, limits) = (acceptor.clone(), router.clone(), limits.clone());
                connections.spawn(async move {
                    connection(tcp, acceptor, router, limits).await;
                    drop(slot);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    router: axum::Router,
    limits: config::Limits,
) {
    let handshake = Duration::from_secs(limits.handshake_timeout_secs);
    let tls = match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return;
        }
    };
    let peer = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|der| PeerCert::from_der(der.as_ref()));
    let peer = match peer {
        Some(Ok(cert)) => Some(cert),
        Some(Err(e)) => {
            tracing::warn!("unusable client certificate: {e}");
            return;
        }
        None => None,
    };
    let identity = PeerIdentity(peer);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(identity.clone());
        let mut router = router.clone();
        async move { router.call(request).await }
    });
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout_secs))
        .serve_connection(TokioIo::new(tls), service)
        .await;
    if let Err(e) = result {
        tracing::debug!("connection: {e}");
    }
}
