//! The HTTP API (v1). Every handler reads its body through [`read_json`] (size cap, content type,
//! strict JSON with the failing field named, UTF-8), validates before touching the store, and
//! answers errors as `{"error": code, "reason": sentence}` with a 4xx that says whose fault it is.
//! Reasons never echo submitted values, which may be personal data.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Limited};
use kiosk_api::v1::{
    ApiError, EnrolRequest, EnrolResponse, IdempotencyKey, InsuranceCheckRequest, KioskId,
    KioskInfo, KioskStatus, Registration, RegistrationKind, RenewRequest, SiteConfig, Ticket,
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use time::{Duration as TimeDuration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::server::{AppState, PeerIdentity};
use crate::store::{KioskRecord, NewRegistration, SubmitOutcome};

/// Time a client has to send its whole body.
const BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// The router with all v1 routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/enrol", post(enrol))
        .route("/v1/renew", post(renew))
        .route("/v1/registrations", post(submit_registration))
        .route("/v1/registrations/{key}", get(get_registration))
        .route("/v1/catalog", get(catalog))
        .route("/v1/insurance/check", post(insurance_check))
        .route("/v1/status", post(status))
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .with_state(state)
}

/// An error answer.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    code: &'static str,
    reason: String,
}

impl Problem {
    fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Self {
        Problem {
            status,
            code,
            reason: reason.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the gateway failed; try again later",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: self.code.to_string(),
            reason: self.reason,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// Reads and decodes a JSON body: at most `max_body_bytes`, `application/json`, within
/// [`BODY_TIMEOUT`]; decoding errors name the field path but not the value.
async fn read_json<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, Problem> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json_type {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    let limit = state.config.limits.max_body_bytes;
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body exceeds {limit} bytes"),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    let collected = tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, limit).collect())
        .await
        .map_err(|_| {
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "request body not received in time",
            )
        })?;
    let bytes = match collected {
        // Our copy is wiped on drop; it may hold personal data.
        Ok(c) => Zeroizing::new(c.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(_) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "body_unreadable",
                "request body could not be read",
            ));
        }
    };
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            "request body is not valid UTF-8",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("{path}: {}", scrub(&e.into_inner().to_string())),
        )
    })?;
    de.end().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "trailing characters after the JSON value",
        )
    })?;
    Ok(value)
}

/// Removes quoted or back-ticked values from a serde message, which may be personal data
/// (``invalid type: integer `1234`, expected a string`` → ``invalid type: integer …, expected a
/// string``). Field names serde puts in back-ticks are kept in the path instead.
pub fn scrub(message: &str) -> String {
    // A field name is ours, not the citizen's: keep it for unknown and missing fields.
    let keep_first = message.starts_with("unknown field") || message.starts_with("missing field");
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    let mut quoted = 0;
    for c in message.chars() {
        let keep = keep_first && quoted == 1;
        match quote {
            Some(q) if c == q => {
                quote = None;
                if keep {
                    out.push(c);
                }
            }
            Some(_) if keep => out.push(c),
            Some(_) => {}
            None if c == '`' || c == '"' => {
                quote = Some(c);
                quoted += 1;
                if keep_first && quoted == 1 {
                    out.push(c);
                } else {
                    out.push('…');
                }
            }
            None => out.push(c),
        }
    }
    out
}

fn invalid(e: kiosk_api::Error) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
}

/// A request from an enrolled, unrevoked kiosk.
#[derive(Debug)]
pub struct Kiosk(pub KioskRecord);

impl FromRequestParts<Arc<AppState>> for Kiosk {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<PeerIdentity>()
            .and_then(|p| p.0.clone())
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "client_certificate_required",
                    "this endpoint needs the kiosk's client certificate",
                )
            })?;
        let store = Arc::clone(&state.store);
        let serial = peer.serial.clone();
        let record = tokio::task::spawn_blocking(move || store.kiosk_by_serial(&serial))
            .await
            .map_err(Problem::internal)?
            .map_err(Problem::internal)?;
        let Some(record) = record else {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "unknown_certificate",
                "this certificate was not issued to an enrolled kiosk",
            ));
        };
        if record.revoked_at.is_some() {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "kiosk_revoked",
                format!("kiosk {} has been revoked; enrol it again", record.kiosk_id),
            ));
        }
        if record.kiosk_id != peer.common_name {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "certificate_mismatch",
                "certificate subject does not match the enrolled kiosk",
            ));
        }
        Ok(Kiosk(record))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::error::Result<T> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Problem::internal)?
        .map_err(Problem::internal)
}

async fn submit_registration(
    State(state): State<Arc<AppState>>,
    Kiosk(kiosk): Kiosk,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let mut registration: Registration = read_json(&state, &headers, body).await?;
    registration.validate().map_err(invalid)?;
    if registration.kiosk_id.as_str() != kiosk.kiosk_id {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "kiosk_mismatch",
            "kiosk_id differs from the kiosk named in the client certificate",
        ));
    }
    let queue = registration.queue_code().to_string();
    let Some(place) = state.config.place_of(&queue) else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_queue",
            format!("{queue} is not in this site's catalog"),
        ));
    };
    // Same key and body: canonical re-serialisation, so formatting differences do not matter.
    // The provisional number is left out of the comparison: a kiosk that went offline after
    // enqueueing sends it with a later retry of the same registration (see
    // `attach_provisional`).
    let canonical = Zeroizing::new(serde_json::to_vec(&registration).map_err(Problem::internal)?);
    let (body_sha256, full_sha256) = body_hashes(&mut registration, &canonical)?;
    let key = registration.idempotency_key.to_string();

    let Some(_guard) = state.in_flight.claim(&key) else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "in_flight",
            "a request with this idempotency key is being processed; retry shortly",
        ));
    };

    let offset = state.config.utc_offset().map_err(Problem::internal)?;
    let received_at = OffsetDateTime::now_utc();
    let service_day = received_at.to_offset(offset).date();
    let sealed = state
        .sealer
        .seal(key.as_bytes(), &canonical)
        .map_err(Problem::internal)?;
    let kind = match registration.kind {
        RegistrationKind::PublicService { .. } => "public_service",
        RegistrationKind::ClinicVisit { .. } => "clinic_visit",
    };
    let provisional = registration
        .provisional_ticket
        .as_ref()
        .map(crate::store::provisional_display);
    let minutes = state.config.site.minutes_per_ticket;
    let ticket_key = registration.idempotency_key;
    let ticket_queue = queue.clone();
    let provisional_ticket = registration.provisional_ticket.clone();
    let store = Arc::clone(&state.store);
    let site_id = state.config.site.id.clone();
    let kiosk_id = kiosk.kiosk_id.clone();
    let outcome = blocking(move || {
        let make_ticket = |number: u32| Ticket {
            idempotency_key: ticket_key,
            queue: ticket_queue.clone(),
            number,
            display: format!("{ticket_queue}-{number:03}"),
            counter_or_room: place.clone(),
            estimated_wait_minutes: number.saturating_sub(1).saturating_mul(minutes),
            service_day,
            issued_at: received_at,
            provisional_ticket: provisional_ticket.clone(),
        };
        store.submit(
            NewRegistration {
                key: ticket_key.to_string(),
                kiosk_id: &kiosk_id,
                site_id: &site_id,
                kind,
                queue: &queue,
                service_day,
                body_sha256,
                body_sealed: sealed,
                provisional,
                received_at,
            },
            &make_ticket,
        )
    })
    .await?;
    match outcome {
        SubmitOutcome::Created(ticket) => {
            forward_fhir(&state, &registration, &ticket);
            Ok((StatusCode::CREATED, axum::Json(ticket)).into_response())
        }
        SubmitOutcome::Existing {
            body_sha256: stored,
            ticket,
        } => {
            // Rows stored before the provisional number was left out of the hash hold the hash
            // of the whole body: a plain retry of those still matches `full_sha256`.
            if stored.as_slice() == body_sha256 || stored.as_slice() == full_sha256 {
                let ticket = match (&registration.provisional_ticket, &ticket.provisional_ticket) {
                    (Some(p), None) => {
                        let store = Arc::clone(&state.store);
                        let (key, p) = (key.clone(), p.clone());
                        blocking(move || store.attach_provisional(&key, &p))
                            .await?
                            .unwrap_or(ticket)
                    }
                    _ => ticket,
                };
                Ok((StatusCode::OK, axum::Json(ticket)).into_response())
            } else {
                Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_conflict",
                    "this idempotency key was used with a different body",
                ))
            }
        }
    }
}

/// The SHA-256 of the canonical body without its provisional number (what idempotency compares)
/// and of the whole canonical body `canonical` (what rows stored before that rule hold).
fn body_hashes(
    registration: &mut Registration,
    canonical: &[u8],
) -> Result<([u8; 32], [u8; 32]), Problem> {
    let full: [u8; 32] = Sha256::digest(canonical).into();
    let Some(provisional) = registration.provisional_ticket.take() else {
        return Ok((full, full));
    };
    let without = serde_json::to_vec(&*registration).map(Zeroizing::new);
    registration.provisional_ticket = Some(provisional);
    let without = without.map_err(Problem::internal)?;
    Ok((Sha256::digest(&without[..]).into(), full))
}

/// Sends a clinic visit to the configured FHIR server in the background; the Encounter's
/// conditional create makes a repeat harmless.
fn forward_fhir(state: &Arc<AppState>, registration: &Registration, ticket: &Ticket) {
    let (Some(client), Some(config)) = (state.fhir.clone(), state.config.fhir.clone()) else {
        return;
    };
    let Some(bundle) = crate::fhir::transaction_bundle(registration, ticket, &config) else {
        return;
    };
    let store = Arc::clone(&state.store);
    let key = registration.idempotency_key.to_string();
    tokio::spawn(async move {
        let outcome = crate::fhir::send(&client, &config, &bundle).await;
        let _ = tokio::task::spawn_blocking(move || store.set_forward_state(&key, &outcome)).await;
    });
}

async fn get_registration(
    State(state): State<Arc<AppState>>,
    Kiosk(_kiosk): Kiosk,
    Path(key): Path<String>,
) -> Result<Response, Problem> {
    let key: IdempotencyKey = key.parse().map_err(invalid)?;
    let store = Arc::clone(&state.store);
    let ticket = blocking(move || store.ticket(&key.to_string())).await?;
    match ticket {
        Some(t) => Ok(axum::Json(t).into_response()),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown_registration",
            "no registration with this idempotency key",
        )),
    }
}

async fn catalog(State(state): State<Arc<AppState>>, Kiosk(_kiosk): Kiosk) -> Response {
    axum::Json(state.config.catalog()).into_response()
}

async fn insurance_check(
    State(state): State<Arc<AppState>>,
    Kiosk(_kiosk): Kiosk,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let request: InsuranceCheckRequest = read_json(&state, &headers, body).await?;
    request.validate().map_err(invalid)?;
    let answer = state.insurance.check(&request).await;
    Ok(axum::Json(answer).into_response())
}

async fn status(
    State(state): State<Arc<AppState>>,
    Kiosk(kiosk): Kiosk,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let status: KioskStatus = read_json(&state, &headers, body).await?;
    if status.software_version.len() > 64
        || status
            .outbox
            .last_error
            .as_ref()
            .is_some_and(|e| e.len() > 512)
    {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "software_version or outbox.last_error too long",
        ));
    }
    let json = serde_json::to_string(&status).map_err(Problem::internal)?;
    let store = Arc::clone(&state.store);
    let id = kiosk.kiosk_id.clone();
    let now = OffsetDateTime::now_utc();
    blocking(move || store.record_status(&id, now, &json)).await?;
    let info = KioskInfo {
        kiosk_id: KioskId::new(kiosk.kiosk_id.clone()).map_err(Problem::internal)?,
        site_id: kiosk.site_id.clone(),
        site_kind: state.config.site.kind,
        certificate_serial: kiosk.serial.clone(),
        certificate_not_after: kiosk.not_after,
        server_time: now,
    };
    Ok(axum::Json(info).into_response())
}

async fn enrol(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let request: EnrolRequest = read_json(&state, &headers, body).await?;
    if request.token.len() > 128 || request.csr_pem.len() > 16 * 1024 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "token or csr_pem too long",
        ));
    }
    if let Some(label) = &request.label
        && (label.chars().count() > 128 || label.chars().any(char::is_control))
    {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "label must be at most 128 printable characters",
        ));
    }
    // Check the CSR before spending the token, so a bad request changes nothing.
    check_csr(&request.csr_pem)?;
    let token_hash = crate::ops::token_hash(&request.token);
    let store = Arc::clone(&state.store);
    let now = OffsetDateTime::now_utc();
    let token = blocking(move || store.consume_token(&token_hash, now)).await?;
    let Some(token) = token else {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "token_invalid",
            "enrolment token unknown, already used or expired",
        ));
    };
    let kiosk_id = crate::ops::new_kiosk_id(&token.site_id);
    let answer = issue(
        &state,
        KioskRecord {
            kiosk_id: kiosk_id.clone(),
            site_id: token.site_id.clone(),
            label: request.label.clone(),
            serial: String::new(),
            not_after: now,
            enrolled_at: now,
            revoked_at: None,
            last_seen: None,
            last_status: None,
        },
        request.csr_pem.clone(),
    )
    .await?;
    tracing::info!("enrolled kiosk {kiosk_id}");
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// A new certificate for an enrolled kiosk, authenticated by its current one.
async fn renew(
    State(state): State<Arc<AppState>>,
    Kiosk(kiosk): Kiosk,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let request: RenewRequest = read_json(&state, &headers, body).await?;
    if request.csr_pem.len() > 16 * 1024 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "csr_pem too long",
        ));
    }
    check_csr(&request.csr_pem)?;
    let id = kiosk.kiosk_id.clone();
    let answer = issue(&state, kiosk, request.csr_pem).await?;
    tracing::info!("renewed certificate of kiosk {id}");
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

fn check_csr(csr_pem: &str) -> Result<(), Problem> {
    rcgen::CertificateSigningRequestParams::from_pem(csr_pem)
        .map(|_| ())
        .map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_csr",
                format!("certificate request unusable: {e}"),
            )
        })
}

/// Signs the CSR for `kiosk`, records the certificate, and builds the answer.
async fn issue(
    state: &Arc<AppState>,
    mut kiosk: KioskRecord,
    csr_pem: String,
) -> Result<EnrolResponse, Problem> {
    let lifetime = TimeDuration::days(i64::from(state.config.enrolment.certificate_days));
    let dir = state.dir.clone();
    let id = kiosk.kiosk_id.clone();
    let issued =
        blocking(move || crate::pki::issue_from_csr(&dir, &csr_pem, &id, lifetime)).await?;
    kiosk.serial = issued.serial.clone();
    kiosk.not_after = issued.not_after;
    let store = Arc::clone(&state.store);
    let record = kiosk.clone();
    blocking(move || store.put_kiosk(&record)).await?;
    let dir = state.dir.clone();
    let ca = blocking(move || crate::pki::ca_pem(&dir)).await?;
    Ok(EnrolResponse {
        kiosk_id: KioskId::new(kiosk.kiosk_id).map_err(Problem::internal)?,
        certificate_pem: issued.pem,
        ca_certificate_pem: ca,
        certificate_not_after: issued.not_after,
        config: SiteConfig {
            site_id: state.config.site.id.clone(),
            site_kind: state.config.site.kind,
            gateway_url: state.config.site.public_url.clone(),
            display_name: state.config.site.display_name.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_values() {
        assert_eq!(
            scrub("invalid type: integer `1234`, expected a string"),
            "invalid type: integer …, expected a string"
        );
        assert_eq!(
            scrub(r#"unknown variant "x123", expected one of"#),
            "unknown variant …, expected one of"
        );
        assert_eq!(
            scrub("unknown field `nickname`, expected one of `a`, `b`"),
            "unknown field `nickname`, expected one of …, …"
        );
    }

    #[test]
    fn in_flight_claims_are_exclusive_until_dropped() {
        let set = crate::server::InFlight::default();
        let first = set.claim("k").unwrap();
        assert!(set.claim("k").is_none());
        assert!(set.claim("other").is_some());
        drop(first);
        assert!(set.claim("k").is_some());
    }
}
