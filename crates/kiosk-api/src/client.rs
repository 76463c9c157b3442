//! The kiosk's HTTP client for the gateway: mutual TLS with the kiosk's certificate, the gateway
//! CA pinned as the only trusted root, a timeout on every call, and every failure classified as
//! [`Error::Retryable`], [`Error::Permanent`] or [`Error::Refused`].

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::pin;
use crate::v1::{
    ApiError, Catalog, EnrolRequest, EnrolResponse, IdempotencyKey, InsuranceCheckRequest,
    InsuranceCheckResponse, KioskInfo, KioskStatus, Registration, RenewRequest, Ticket,
};

/// Largest answer body the client reads; anything longer is a broken or hostile server.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Longest `Retry-After` honoured; a larger value is clamped so a kiosk never sleeps for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Deadlines for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus nothing else.
    pub connect: Duration,
    /// The whole request: connect, TLS, sending, waiting, reading the answer.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            request: Duration::from_secs(10),
        }
    }
}

/// Everything the client needs to talk to its gateway.
pub struct ClientSettings {
    /// `https://host:port`, without a trailing path.
    pub base_url: String,
    /// The gateway CA (PEM): the only root the client trusts.
    pub ca_pem: String,
    /// The kiosk's certificate (PEM, leaf first).
    pub cert_pem: String,
    /// The kiosk's private key (PEM); wiped from memory with the settings.
    pub key_pem: Zeroizing<String>,
    pub timeouts: Timeouts,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("base_url", &self.base_url)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// An mTLS client for one gateway. Cheap to clone (connections are pooled and shared).
#[derive(Clone, Debug)]
pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
}

impl GatewayClient {
    /// Builds the client. Fails with [`Error::Config`] on unusable PEM or URL.
    pub fn new(settings: &ClientSettings) -> Result<Self> {
        let roots = pin::pinned_roots(&settings.ca_pem)?;
        let chain = pin::certs_from_pem(&settings.cert_pem)?;
        let key = pin::key_from_pem(&settings.key_pem)?;
        let tls = rustls::ClientConfig::builder_with_provider(pin::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS versions: {e}")))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| Error::Config(format!("client certificate and key: {e}")))?;
        Self::with_tls(&settings.base_url, tls, settings.timeouts)
    }

    fn with_tls(base_url: &str, tls: rustls::ClientConfig, timeouts: Timeouts) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_string();
        if !base.starts_with("https://") {
            return Err(Error::Config(format!(
                "gateway URL must start with https://, got {base}"
            )));
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            // Below the gateway's idle limit, so a pooled connection is never reused just as the
            // server closes it.
            .pool_idle_timeout(Duration::from_secs(5))
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(GatewayClient { http, base })
    }

    /// Submits a registration and returns its ticket. Retrying with the same registration is
    /// always safe: the gateway answers a repeat with the stored ticket.
    pub async fn submit_registration(&self, registration: &Registration) -> Result<Ticket> {
        let body = serde_json::to_vec(registration)?;
        self.submit_registration_json(body).await
    }

    /// Submits a registration already serialised (e.g. as the outbox stored it), so the bytes
    /// sent on every retry are exactly the same.
    pub async fn submit_registration_json(&self, body: Vec<u8>) -> Result<Ticket> {
        self.send(
            self.http
                .post(format!("{}/v1/registrations", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
        )
        .await
    }

    /// The stored ticket of an earlier registration.
    pub async fn registration(&self, key: IdempotencyKey) -> Result<Ticket> {
        self.send(
            self.http
                .get(format!("{}/v1/registrations/{key}", self.base)),
        )
        .await
    }

    /// The site's catalog.
    pub async fn catalog(&self) -> Result<Catalog> {
        self.send(self.http.get(format!("{}/v1/catalog", self.base)))
            .await
    }

    /// Asks the gateway to check the citizen's health insurance.
    pub async fn check_insurance(
        &self,
        request: &InsuranceCheckRequest,
    ) -> Result<InsuranceCheckResponse> {
        self.post_json("/v1/insurance/check", request).await
    }

    /// Renews the kiosk's certificate before it expires: a CSR for a new key (made on the kiosk),
    /// answered like an enrolment. Switch to the new certificate only after storing it.
    pub async fn renew(&self, request: &RenewRequest) -> Result<EnrolResponse> {
        self.post_json("/v1/renew", request).await
    }

    /// Heartbeat; the answer says who the gateway thinks this kiosk is.
    pub async fn send_status(&self, status: &KioskStatus) -> Result<KioskInfo> {
        self.post_json("/v1/status", status).await
    }

    async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body)?;
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes),
        )
        .await
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let response = request.send().await.map_err(classify_transport)?;
        read_answer(response).await
    }
}

/// Enrols a kiosk: trusts the gateway only if its chain contains the CA with fingerprint
/// `ca_sha256` (from the enrolment QR), sends the token and CSR, returns certificate and config.
pub async fn enrol(
    base_url: &str,
    ca_sha256: &str,
    request: &EnrolRequest,
    timeouts: Timeouts,
) -> Result<EnrolResponse> {
    let pin = pin::parse_fingerprint(ca_sha256)?;
    let tls = rustls::ClientConfig::builder_with_provider(pin::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(pin::FingerprintVerifier::new(pin)))
        .with_no_client_auth();
    let client = GatewayClient::with_tls(base_url, tls, timeouts)?;
    let answer: EnrolResponse = client.post_json("/v1/enrol", request).await?;
    // The CA handed back must be the one we pinned, or later calls would trust another CA.
    let ca = pin::certs_from_pem(&answer.ca_certificate_pem)?;
    let matches = ca
        .first()
        .is_some_and(|c| pin::fingerprint(c.as_ref()) == hex::encode(pin));
    if !matches {
        return Err(Error::Refused {
            reason: "the gateway returned a CA other than the pinned one".into(),
        });
    }
    Ok(answer)
}

/// Reads a response: the decoded body on 2xx, a classified error otherwise.
async fn read_answer<T: DeserializeOwned>(mut response: reqwest::Response) -> Result<T> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(Error::Retryable {
                        retry_after,
                        reason: format!(
                            "answer longer than {MAX_RESPONSE_BYTES} bytes (HTTP {status})"
                        ),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(classify_transport(e)),
        }
    }
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| Error::Retryable {
            retry_after: None,
            reason: format!("gateway answer does not match the contract: {e}"),
        });
    }
    Err(classify_status(status, retry_after, &body))
}

/// Classifies a non-2xx answer (the issue's rules, plus 409 = the same key is still in flight).
pub fn classify_status(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> Error {
    let reason = server_reason(status, body);
    match status.as_u16() {
        408 | 409 | 425 | 429 | 500..=599 => Error::Retryable {
            retry_after,
            reason,
        },
        401 | 403 => Error::Refused { reason },
        400..=499 => Error::Permanent {
            status: status.as_u16(),
            reason,
        },
        // 1xx/3xx are not part of the contract: a proxy in the way, most likely; keep the record.
        _ => Error::Retryable {
            retry_after,
            reason,
        },
    }
}

/// The server's own explanation: the `reason` of an [`ApiError`], else a bounded excerpt.
fn server_reason(status: StatusCode, body: &[u8]) -> String {
    if let Ok(api) = serde_json::from_slice::<ApiError>(body) {
        return format!("HTTP {}: {}: {}", status.as_u16(), api.error, api.reason);
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    format!("HTTP {}: {}", status.as_u16(), text.trim())
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), clamped.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = httpdate::parse_http_date(value).ok()?;
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// Classifies a failure before any status was read: TLS trust problems are `Refused`,
/// everything else (refused connection, reset, timeout) is `Retryable`.
fn classify_transport(e: reqwest::Error) -> Error {
    if let Some(reason) = tls_refusal(&e) {
        return Error::Refused { reason };
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    Error::Retryable {
        retry_after: None,
        reason: format!("{what}: {}", chain_text(&e)),
    }
}

fn chain_text(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Finds a rustls error in the chain that means "this peer is not who it should be".
fn tls_refusal(e: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return refusal_reason(tls);
        }
        // io::Error::source() skips the wrapped error itself, so look inside explicitly.
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return refusal_reason(tls);
        }
        // hyper-util boxes connector errors, which hides their type from `downcast_ref`; rustls'
        // own wording is stable, so recognise it as a last resort.
        if let Some(reason) = refusal_from_text(&err.to_string()) {
            return Some(reason);
        }
        current = err.source();
    }
    None
}

/// Recognises rustls' `Display` of a certificate failure or of a certificate-related alert.
fn refusal_from_text(text: &str) -> Option<String> {
    const ALERTS: [&str; 8] = [
        "BadCertificate",
        "CertificateRevoked",
        "CertificateExpired",
        "CertificateUnknown",
        "CertificateRequired",
        "UnknownCA",
        "AccessDenied",
        "UnsupportedCertificate",
    ];
    if let Some(at) = text.find("invalid peer certificate") {
        return Some(format!("gateway certificate not trusted: {}", &text[at..]));
    }
    if let Some(at) = text.find("received fatal alert: ") {
        let alert = &text[at + "received fatal alert: ".len()..];
        if ALERTS.iter().any(|a| alert.starts_with(a)) {
            return Some(format!(
                "gateway rejected this kiosk's certificate: {alert}"
            ));
        }
    }
    None
}

fn refusal_reason(tls: &rustls::Error) -> Option<String> {
    use rustls::AlertDescription as A;
    match tls {
        rustls::Error::InvalidCertificate(c) => {
            Some(format!("gateway certificate not trusted: {c:?}"))
        }
        rustls::Error::NoCertificatesPresented => Some("gateway sent no certificate".into()),
        rustls::Error::AlertReceived(
            alert @ (A::BadCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::CertificateRequired
            | A::UnknownCA
            | A::AccessDenied
            | A::UnsupportedCertificate),
        ) => Some(format!(
            "gateway rejected this kiosk's certificate: {alert:?}"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_contract_says() {
        let s = |n| StatusCode::from_u16(n).unwrap();
        for n in [408, 409, 429, 500, 502, 503, 504] {
            assert!(classify_status(s(n), None, b"").is_retryable(), "{n}");
        }
        for n in [400, 404, 413, 415, 422] {
            assert!(
                matches!(classify_status(s(n), None, b""), Error::Permanent { status, .. } if status == n),
                "{n}"
            );
        }
        for n in [401, 403] {
            assert!(matches!(
                classify_status(s(n), None, b""),
                Error::Refused { .. }
            ));
        }
    }

    #[test]
    fn permanent_errors_carry_the_servers_reason() {
        let body = br#"{"error":"idempotency_conflict","reason":"same key, different body"}"#;
        match classify_status(StatusCode::UNPROCESSABLE_ENTITY, None, body) {
            Error::Permanent { status, reason } => {
                assert_eq!(status, 422);
                assert!(reason.contains("same key, different body"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(120))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn rustls_wording_is_recognised() {
        assert!(
            refusal_from_text("client error (Connect): invalid peer certificate: UnknownIssuer")
                .is_some_and(|r| r.contains("not trusted"))
        );
        assert!(refusal_from_text("received fatal alert: CertificateRequired").is_some());
        assert!(refusal_from_text("received fatal alert: DecodeError").is_none());
        assert!(refusal_from_text("connection refused").is_none());
    }

    #[test]
    fn retry_after_is_passed_through_on_503() {
        let e = classify_status(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(Duration::from_secs(5)),
            b"",
        );
        assert!(matches!(
            e,
            Error::Retryable { retry_after: Some(d), .. } if d == Duration::from_secs(5)
        ));
    }
}
