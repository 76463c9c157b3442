//! The insurance-check adapter boundary. The kiosk never talks to the insurer: it asks the
//! gateway, and the gateway asks either its local table (demo and tests) or the hospital's
//! insurance service over HTTPS, which holds the facility's credentials.

use std::sync::Arc;

use kiosk_api::v1::{InsuranceCheckRequest, InsuranceCheckResponse, InsuranceStatus};
use sha2::{Digest, Sha256};

use crate::config::InsuranceConfig;
use crate::error::{Error, Result};
use crate::seal::Sealer;
use crate::store::Store;

/// Largest answer accepted from the insurance service.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Where insurance answers come from.
pub enum InsuranceAdapter {
    /// The `insurance_cards` table, rows sealed and keyed by a hash of the ID number.
    Table {
        store: Arc<dyn Store>,
        sealer: Arc<Sealer>,
    },
    /// The hospital's service: the request JSON is POSTed to `url`, the answer is an
    /// `InsuranceCheckResponse`.
    Http {
        client: reqwest::Client,
        url: String,
    },
}

impl std::fmt::Debug for InsuranceAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InsuranceAdapter::Table { .. } => f.write_str("InsuranceAdapter::Table"),
            InsuranceAdapter::Http { url, .. } => write!(f, "InsuranceAdapter::Http({url})"),
        }
    }
}

/// The table's key for an ID number: a hash, so the table holds no readable ID.
pub fn id_hash(id_number: &str) -> String {
    hex::encode(Sha256::digest(
        format!("kiosk-insurance:{id_number}").as_bytes(),
    ))
}

impl InsuranceAdapter {
    /// Builds the adapter the configuration names.
    pub fn from_config(
        config: &InsuranceConfig,
        store: Arc<dyn Store>,
        sealer: Arc<Sealer>,
    ) -> Result<Self> {
        match config {
            InsuranceConfig::Table => Ok(InsuranceAdapter::Table { store, sealer }),
            InsuranceConfig::Http {
                url,
                timeout_secs,
                ca_file,
            } => {
                let client = crate::upstream::client(ca_file.as_deref(), *timeout_secs)?;
                Ok(InsuranceAdapter::Http {
                    client,
                    url: url.clone(),
                })
            }
        }
    }

    /// Answers a check. An unreachable or confused insurer is `Unavailable`, never an error the
    /// kiosk has to handle: the visit goes on without insurance.
    pub async fn check(&self, request: &InsuranceCheckRequest) -> InsuranceCheckResponse {
        let unavailable = InsuranceCheckResponse {
            status: InsuranceStatus::Unavailable,
            card_number: None,
            registered_facility: None,
            valid_from: None,
            valid_to: None,
        };
        match self {
            InsuranceAdapter::Table { store, sealer } => {
                let hash = id_hash(&request.id_number);
                let store = Arc::clone(store);
                let sealer = Arc::clone(sealer);
                let found = tokio::task::spawn_blocking(move || {
                    let sealed = store.insurance_card(&hash)?;
                    sealed
                        .map(|s| {
                            let plain = sealer.open(hash.as_bytes(), &s)?;
                            serde_json::from_slice::<InsuranceCheckResponse>(&plain)
                                .map_err(|e| Error::Store(e.to_string()))
                        })
                        .transpose()
                })
                .await;
                match found {
                    Ok(Ok(Some(answer))) => answer,
                    Ok(Ok(None)) => InsuranceCheckResponse {
                        status: InsuranceStatus::NotFound,
                        ..unavailable
                    },
                    Ok(Err(e)) => {
                        tracing::warn!("insurance table: {e}");
                        unavailable
                    }
                    Err(e) => {
                        tracing::warn!("insurance table task: {e}");
                        unavailable
                    }
                }
            }
            InsuranceAdapter::Http { client, url } => match ask_http(client, url, request).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::warn!("insurance service: {e}");
                    unavailable
                }
            },
        }
    }
}

async fn ask_http(
    client: &reqwest::Client,
    url: &str,
    request: &InsuranceCheckRequest,
) -> Result<InsuranceCheckResponse> {
    let upstream = |reason: String| Error::Upstream {
        service: "insurance",
        reason,
    };
    let response = client
        .post(url)
        .json(request)
        .send()
        .await
        .map_err(|e| upstream(e.to_string()))?;
    if !response.status().is_success() {
        return Err(upstream(format!("HTTP {}", response.status())));
    }
    let body = crate::upstream::read_capped(response, MAX_ANSWER_BYTES).await?;
    serde_json::from_slice(&body).map_err(|e| upstream(format!("answer: {e}")))
}
