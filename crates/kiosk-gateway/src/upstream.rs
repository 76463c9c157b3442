//! HTTP clients for the services behind the gateway (insurance service, FHIR server): rustls on
//! ring trusting only a configured CA, a timeout on everything, answers read with a size cap.

use std::time::Duration;

use crate::error::{Error, Result};

/// Reads a response body, refusing more than `cap` bytes.
pub async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Error::Upstream {
        service: "upstream",
        reason: e.to_string(),
    })? {
        if body.len() + chunk.len() > cap {
            return Err(Error::Upstream {
                service: "upstream",
                reason: format!("answer longer than {cap} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An HTTPS client for services behind the gateway: rustls on ring, trusting only `ca_file`
/// (there is no system trust store on the appliance), with a timeout on everything.
pub fn client(ca_file: Option<&std::path::Path>, timeout_secs: u64) -> Result<reqwest::Client> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        let pem = std::fs::read_to_string(path).map_err(|e| Error::io_path("read", path, e))?;
        for cert in kiosk_api::pin::certs_from_pem(&pem)? {
            roots
                .add(cert)
                .map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(kiosk_api::pin::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .connect_timeout(Duration::from_secs(timeout_secs.min(10)))
        .timeout(Duration::from_secs(timeout_secs))
        .build()
        .map_err(|e| Error::Tls(e.to_string()))
}
