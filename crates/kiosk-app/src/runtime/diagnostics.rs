//! The technician's snapshot: reader, camera, printer, gateway (reachability measured now),
//! outbox and dead letters, version and uptime. Display-ready text, no personal data.

use std::time::{Duration, Instant};

use kiosk_api::v1::DeviceHealth;
use kiosk_core::view::{DeadLetterView, DiagnosticLine, Diagnostics};

use super::Shared;

/// `3 h 12 min`, `5 min`, `40 s`.
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

fn health_text(h: DeviceHealth) -> &'static str {
    match h {
        DeviceHealth::Ok => "ok",
        DeviceHealth::Degraded => "degraded",
        DeviceHealth::Failed => "failed",
        DeviceHealth::Absent => "absent",
    }
}

fn usable(h: DeviceHealth) -> bool {
    matches!(h, DeviceHealth::Ok | DeviceHealth::Degraded)
}

fn age_ms(ms: i64) -> String {
    duration_text(Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0)))
}

pub(crate) async fn snapshot(shared: &Shared) -> Diagnostics {
    let card = shared.card.info();
    let reader = DiagnosticLine {
        ok: usable(card.health) && card.reader.is_some(),
        summary: format!(
            "{} — {}{}",
            card.reader.as_deref().unwrap_or("no reader"),
            health_text(card.health),
            if card.card_present {
                ", card present"
            } else {
                ""
            }
        ),
        detail: card
            .last_atr
            .as_ref()
            .map(|a| format!("last ATR {}", hex::encode_upper(a)))
            .unwrap_or_else(|| "no ATR yet".into()),
    };

    let cam = shared.camera.snapshot();
    let camera = DiagnosticLine {
        ok: usable(cam.health),
        summary: format!(
            "{} — {}, {:.1} fps",
            cam.device,
            health_text(cam.health),
            cam.fps
        ),
        detail: format!(
            "{} frames, {} codes decoded, {} unreadable{}",
            cam.frames,
            cam.codes,
            cam.unreadable,
            if cam.reason.is_empty() {
                String::new()
            } else {
                format!("; {}", cam.reason)
            }
        ),
    };

    let (ph, pdetail) = shared.printer.status();
    let printer = DiagnosticLine {
        ok: usable(ph),
        summary: format!("{} — {}", shared.printer.describe(), health_text(ph)),
        detail: pdetail,
    };

    // Reachability measured now, with the same short deadlines as every call.
    if let Some(client) = shared.gateway.client() {
        let started = Instant::now();
        let r = client.catalog().await;
        shared.gateway.record(started, &r);
    }
    let g = shared.gateway.status();
    let gateway = DiagnosticLine {
        ok: g.reachable == Some(true),
        summary: match (&g.url, g.reachable, g.latency_ms) {
            (None, _, _) => "not enrolled".into(),
            // Loopback answers in well under a millisecond: "0 ms" would read as "not measured".
            (Some(u), Some(true), Some(0)) => format!("{u} — reachable, < 1 ms"),
            (Some(u), Some(true), Some(ms)) => format!("{u} — reachable, {ms} ms"),
            (Some(u), Some(false), _) => format!("{u} — unreachable"),
            (Some(u), _, _) => format!("{u} — not checked yet"),
        },
        detail: g.last_error.unwrap_or_default(),
    };

    let (outbox, dead_letters) = match (shared.outbox.status(), shared.outbox.dead()) {
        (Ok(s), Ok(dead)) => {
            let now = kiosk_outbox::outbox::now_ms();
            let mut dead: Vec<DeadLetterView> = dead
                .iter()
                .map(|r| DeadLetterView {
                    key: r.key.to_string(),
                    reason: r.dead_reason.clone().unwrap_or_default(),
                    age: format!("{} ago", age_ms(now.saturating_sub(r.created_ms))),
                })
                .collect();
            dead.reverse();
            let line = DiagnosticLine {
                ok: s.dead == 0 && s.oldest_pending_age_ms.is_none_or(|ms| ms < 10 * 60 * 1000),
                summary: format!(
                    "{} pending{}, {} dead, {} delivered",
                    s.pending,
                    s.oldest_pending_age_ms
                        .map(|ms| format!(" (oldest {})", age_ms(ms)))
                        .unwrap_or_default(),
                    s.dead,
                    s.delivered
                ),
                detail: s
                    .last_error
                    .map(|e| format!("last error: {}", e.reason))
                    .unwrap_or_default(),
            };
            (line, dead)
        }
        (Err(e), _) | (_, Err(e)) => (
            DiagnosticLine {
                ok: false,
                summary: "outbox unreadable".into(),
                detail: e.to_string(),
            },
            vec![],
        ),
    };

    Diagnostics {
        version: env!("CARGO_PKG_VERSION").into(),
        uptime: duration_text(shared.started.elapsed()),
        reader,
        camera,
        printer,
        gateway,
        outbox,
        dead_letters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(Duration::from_secs(40)), "40 s");
        assert_eq!(duration_text(Duration::from_secs(300)), "5 min");
        assert_eq!(
            duration_text(Duration::from_secs(3 * 3600 + 12 * 60 + 5)),
            "3 h 12 min"
        );
        assert_eq!(
            duration_text(Duration::from_secs(2 * 86400 + 3600)),
            "2 d 1 h"
        );
    }
}
