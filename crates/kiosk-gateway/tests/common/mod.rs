//! Helpers shared by the gateway's integration tests: a gateway in a temporary directory on
//! port 0, kiosk clients, and a raw mTLS HTTP client for sending malformed requests.

#![allow(dead_code)]

use std::path::Path;

use kiosk_api::v1::{KioskId, SiteKind};
use kiosk_api::{ClientSettings, GatewayClient, Timeouts};
use kiosk_gateway::RunningGateway;
use kiosk_gateway::ops::{self, KioskCredentials};
use zeroize::Zeroizing;

pub struct TestGateway {
    pub dir: tempfile::TempDir,
    pub gateway: RunningGateway,
}

impl TestGateway {
    pub async fn start(kind: SiteKind) -> Self {
        Self::start_with(kind, "").await
    }

    /// Starts with `extra` TOML appended to the sample configuration.
    pub async fn start_with(kind: SiteKind, extra: &str) -> Self {
        let extra = extra.to_string();
        Self::start_edited(kind, move |text| {
            if extra.is_empty() {
                return text;
            }
            // Drop the sample's [insurance] table when `extra` replaces it.
            let text = if extra.contains("[insurance]") {
                text.replace("[insurance]\nadapter = \"table\"\n", "")
            } else {
                text
            };
            format!("{extra}\n{text}")
        })
        .await
    }

    /// Starts with the sample configuration rewritten by `edit`.
    pub async fn start_edited(kind: SiteKind, edit: impl FnOnce(String) -> String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        ops::init(
            dir.path(),
            &ops::InitOptions {
                site_id: "site1".into(),
                kind,
                public_url: "https://127.0.0.1:8443".into(),
                server_names: vec!["127.0.0.1".into(), "localhost".into()],
            },
        )
        .unwrap();
        let path = dir.path().join("gateway.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(text)).unwrap();
        let gateway = kiosk_gateway::start(dir.path(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        TestGateway { dir, gateway }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> String {
        self.gateway.url()
    }

    pub fn kiosk(&self) -> (GatewayClient, KioskId, KioskCredentials) {
        let creds = ops::issue_kiosk_credentials(self.path(), Some("test")).unwrap();
        let client = client_for(&self.url(), &creds);
        (client, KioskId::new(creds.kiosk_id.clone()).unwrap(), creds)
    }

    pub fn count(&self) -> u64 {
        self.gateway.state.store.registration_count().unwrap()
    }
}

pub fn client_for(url: &str, creds: &KioskCredentials) -> GatewayClient {
    GatewayClient::new(&ClientSettings {
        base_url: url.to_string(),
        ca_pem: creds.ca_pem.clone(),
        cert_pem: creds.cert_pem.clone(),
        key_pem: Zeroizing::new(creds.key_pem.clone()),
        timeouts: Timeouts::default(),
    })
    .unwrap()
}

/// A plain reqwest client with the kiosk's certificate (or none), for hand-made requests.
pub fn raw_client(creds: &KioskCredentials, with_cert: bool) -> reqwest::Client {
    let roots = kiosk_api::pin::pinned_roots(&creds.ca_pem).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(kiosk_api::pin::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let tls = if with_cert {
        builder
            .with_client_auth_cert(
                kiosk_api::pin::certs_from_pem(&creds.cert_pem).unwrap(),
                kiosk_api::pin::key_from_pem(&creds.key_pem).unwrap(),
            )
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}
