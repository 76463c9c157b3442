//! The site gateway as the runtime sees it: the mTLS client from the enrolment (replaced after
//! an enrolment from the technician screen), its reachability for the diagnostics, the catalog
//! at start and every few minutes, and the insurance check.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kiosk_api::GatewayClient;
use kiosk_api::v1::{InsuranceCheckRequest, InsuranceCheckResponse, InsuranceStatus};
use kiosk_core::Event;
use tokio::sync::Notify;

use super::RuntimeHandle;

/// Deadlines of every gateway call the runtime makes (the citizen is waiting).
pub const CALL_TIMEOUTS: kiosk_api::Timeouts = kiosk_api::Timeouts {
    connect: Duration::from_secs(2),
    request: Duration::from_secs(5),
};

/// What the diagnostics show about the gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStatus {
    pub url: Option<String>,
    /// `None` until the first call.
    pub reachable: Option<bool>,
    pub latency_ms: Option<u64>,
    pub last_error: Option<String>,
}

pub struct Gateway {
    client: RwLock<Option<GatewayClient>>,
    status: Mutex<GatewayStatus>,
    /// Wakes the catalog refresher (after an enrolment).
    pub(crate) refresh: Notify,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// The gateway of the enrolment under `state_dir`; not enrolled (or unusable files) is a
    /// gateway without a client, reported in the diagnostics, never a failure to start.
    pub fn from_state_dir(state_dir: &Path) -> Gateway {
        let g = Gateway {
            client: RwLock::new(None),
            status: Mutex::new(GatewayStatus::default()),
            refresh: Notify::new(),
        };
        if let Err(e) = g.reload(state_dir) {
            g.set_error(&format!("{e:#}"));
        }
        g
    }

    /// Builds the client again from the enrolment files.
    pub fn reload(&self, state_dir: &Path) -> anyhow::Result<()> {
        let (enrolment, mut settings) = crate::cmd::enrol::client_settings(state_dir)?;
        settings.timeouts = CALL_TIMEOUTS;
        let client = GatewayClient::new(&settings)?;
        if let Ok(mut c) = self.client.write() {
            *c = Some(client);
        }
        if let Ok(mut s) = self.status.lock() {
            *s = GatewayStatus {
                url: Some(enrolment.gateway_url),
                ..GatewayStatus::default()
            };
        }
        self.refresh.notify_one();
        Ok(())
    }

    pub fn client(&self) -> Option<GatewayClient> {
        self.client.read().ok().and_then(|c| c.clone())
    }

    pub fn status(&self) -> GatewayStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Records the outcome of a call that started at `started`.
    pub fn record<T>(&self, started: Instant, result: &Result<T, kiosk_api::Error>) {
        if let Ok(mut s) = self.status.lock() {
            match result {
                Ok(_) => {
                    s.reachable = Some(true);
                    s.latency_ms =
                        Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
                }
                Err(e) => {
                    s.reachable = Some(false);
                    s.latency_ms = None;
                    s.last_error = Some(e.to_string());
                }
            }
        }
    }

    fn set_error(&self, message: &str) {
        if let Ok(mut s) = self.status.lock() {
            s.reachable = Some(false);
            s.last_error = Some(message.to_owned());
        }
    }
}

/// Fetches the catalog now and every `every` (every `every / 5`, at least 10 s, while the
/// gateway does not answer), and right after an enrolment.
pub fn start_catalog_refresh(
    rt: &tokio::runtime::Handle,
    gateway: Arc<Gateway>,
    handle: RuntimeHandle,
    every: Duration,
) {
    let retry = (every / 5).max(Duration::from_secs(10)).min(every);
    rt.spawn(async move {
        loop {
            let wait = match gateway.client() {
                Some(client) => {
                    let started = Instant::now();
                    let result = client.catalog().await;
                    gateway.record(started, &result);
                    match result {
                        Ok(catalog) => {
                            if !handle.send(Event::Catalog(Box::new(catalog))) {
                                return;
                            }
                            every
                        }
                        Err(e) => {
                            super::log_line(&format!("catalog: {e}"));
                            retry
                        }
                    }
                }
                None => every,
            };
            tokio::select! {
                () = gateway.refresh.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// Asks the gateway for the insurance answer; no answer is "unavailable", so the screen never
/// waits for ever.
pub fn check_insurance(
    rt: &tokio::runtime::Handle,
    gateway: Arc<Gateway>,
    request: InsuranceCheckRequest,
    handle: RuntimeHandle,
) {
    rt.spawn(async move {
        let unavailable = InsuranceCheckResponse {
            status: InsuranceStatus::Unavailable,
            card_number: None,
            registered_facility: None,
            valid_from: None,
            valid_to: None,
        };
        let answer = match gateway.client() {
            Some(client) => {
                let started = Instant::now();
                let result = client.check_insurance(&request).await;
                gateway.record(started, &result);
                result.unwrap_or(unavailable)
            }
            None => unavailable,
        };
        handle.send(Event::Insurance(answer));
    });
}
