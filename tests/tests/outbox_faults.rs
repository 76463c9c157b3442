//! Faults between kiosk and gateway, injected by the fault proxy: each ends in the right state
//! (retry later, dead letter, or refused) with nothing lost, and once the path is healthy again
//! every record reaches the gateway exactly once.

use std::collections::HashSet;
use std::time::Duration;

use kiosk_gateway::ops::KioskCredentials;
use kiosk_outbox::gateway_delivery::GatewayDelivery;
use kiosk_outbox::outbox::now_ms;
use kiosk_outbox::worker::{Deliver, drain};
use kiosk_outbox::{DrainMode, DrainReport, Outbox};
use kiosk_tests::fault_proxy::{Fault, FaultProxy};
use kiosk_tests::outbox_rig::{
    GatewayRig, delivery, fast_worker as fast, registration_line, test_timeouts as timeouts,
};
use uuid::Uuid;

const UNTIL_EMPTY: DrainMode = DrainMode::UntilEmpty {
    deadline: Duration::from_secs(60),
};

struct Setup {
    rig: GatewayRig,
    proxy: FaultProxy,
    creds: KioskCredentials,
    outbox: Outbox,
    keys: Vec<Uuid>,
    _state: tempfile::TempDir,
}

async fn setup(records: usize) -> Setup {
    let rig = GatewayRig::start().await.expect("gateway");
    let (kiosk, creds) = rig.enrol().expect("enrol");
    let proxy = FaultProxy::start(rig.gateway.addr, rig.tls().expect("tls"))
        .await
        .expect("proxy");
    let state = tempfile::tempdir().expect("tempdir");
    let outbox = Outbox::open(state.path()).expect("outbox");
    let mut keys = Vec::new();
    for _ in 0..records {
        let (key, line) = registration_line(&kiosk);
        outbox.enqueue(key, &line).expect("enqueue");
        keys.push(key);
    }
    Setup {
        rig,
        proxy,
        creds,
        outbox,
        keys,
        _state: state,
    }
}

impl Setup {
    fn through_proxy(&self) -> GatewayDelivery {
        delivery(&self.proxy.url(), &self.creds, timeouts()).expect("client")
    }

    /// After the fault: the path is healthy, drain everything and prove exactly once.
    async fn heal_and_prove_exactly_once(&self) {
        let report = drain(&self.outbox, &self.through_proxy(), &fast(), UNTIL_EMPTY)
            .await
            .expect("drain");
        assert_eq!(report.remaining, 0, "{report:?}");
        self.assert_exactly_once();
    }

    fn assert_exactly_once(&self) {
        let stored = self.rig.registrations().expect("rows");
        let expected: HashSet<Uuid> = self.keys.iter().copied().collect();
        let got: HashSet<Uuid> = stored.keys().copied().collect();
        assert_eq!(
            got, expected,
            "gateway holds other keys than the outbox had"
        );
        for k in &self.keys {
            let receipt = self
                .outbox
                .receipt(*k)
                .expect("receipt")
                .expect("delivered");
            assert_eq!(Some(&receipt.ticket), stored.get(k));
        }
        let s = self.outbox.status().expect("status");
        assert_eq!((s.pending, s.dead, s.delivered), (0, 0, self.keys.len()));
        self.outbox.check().expect("consistent");
    }

    /// One pass under `fault`; returns the report and the head record's last error.
    async fn one_pass_under(&self, fault: Fault) -> (DrainReport, String) {
        self.proxy.script([fault.clone()]);
        let report = drain(
            &self.outbox,
            &self.through_proxy(),
            &fast(),
            DrainMode::OnePass,
        )
        .await
        .expect("drain");
        assert_eq!(
            self.proxy.pending_faults(),
            0,
            "fault {fault:?} was not used"
        );
        let head = self.outbox.pending().expect("pending");
        let err = head
            .first()
            .and_then(|r| r.last_error.clone())
            .unwrap_or_default();
        (report, err)
    }
}

/// A retryable fault: nothing delivered, nothing dead, the head waits with the reason.
fn assert_retry_later(s: &Setup, report: &DrainReport, err: &str, expect_in_reason: &str) {
    assert_eq!(
        (report.delivered, report.dead, report.retries_scheduled),
        (0, 0, 1),
        "{report:?}"
    );
    assert!(report.refused.is_none(), "{report:?}");
    assert_eq!(report.remaining, s.keys.len());
    assert!(
        err.to_lowercase().contains(expect_in_reason),
        "reason {err:?} should mention {expect_in_reason:?}"
    );
    assert_eq!(s.rig.registrations().expect("rows").len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_is_retried_later() {
    let s = setup(3).await;
    // A port nobody listens on: bind, note it, close it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let d = delivery(&url, &s.creds, timeouts()).expect("client");
    let report = drain(&s.outbox, &d, &fast(), DrainMode::OnePass)
        .await
        .expect("drain");
    let err = s.outbox.pending().expect("pending")[0]
        .last_error
        .clone()
        .unwrap_or_default();
    assert_retry_later(&s, &report, &err, "connect");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_request_is_retried_later() {
    let s = setup(3).await;
    let (report, err) = s.one_pass_under(Fault::ResetMidRequest).await;
    assert_retry_later(&s, &report, &err, "connection");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_past_the_timeout_is_retried_later() {
    let s = setup(3).await;
    let (report, err) = s.one_pass_under(Fault::Stall(Duration::from_secs(6))).await;
    assert_retry_later(&s, &report, &err, "timed out");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_500_is_retried_later() {
    let s = setup(3).await;
    let (report, err) = s
        .one_pass_under(Fault::Status {
            code: 500,
            retry_after: None,
        })
        .await;
    assert_retry_later(&s, &report, &err, "500");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_503_with_retry_after_is_honoured() {
    let s = setup(3).await;
    let (report, err) = s
        .one_pass_under(Fault::Status {
            code: 503,
            retry_after: Some(2),
        })
        .await;
    assert_retry_later(&s, &report, &err, "503");
    // The backoff alone would be at most 100 ms; Retry-After: 2 holds the head back ~2 s.
    let wait = s
        .outbox
        .head()
        .expect("head")
        .expect("record")
        .not_before_ms()
        - now_ms();
    assert!(wait > 1000, "not_before only {wait} ms ahead");
    let again = drain(&s.outbox, &s.through_proxy(), &fast(), DrainMode::OnePass)
        .await
        .expect("drain");
    assert_eq!(again.delivered, 0, "delivered before Retry-After passed");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_is_retried_later() {
    let s = setup(3).await;
    let (report, err) = s
        .one_pass_under(Fault::Status {
            code: 429,
            retry_after: Some(1),
        })
        .await;
    assert_retry_later(&s, &report, &err, "429");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_rejection_goes_to_dead_letters_and_technician_retry_delivers() {
    let s = setup(3).await;
    let (report, _) = s
        .one_pass_under(Fault::Status {
            code: 422,
            retry_after: None,
        })
        .await;
    // The rejected head is dead-lettered with the server's reason; the rest went through.
    assert_eq!((report.dead, report.delivered, report.remaining), (1, 2, 0));
    let dead = s.outbox.dead().expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].key, s.keys[0]);
    let reason = dead[0].dead_reason.clone().unwrap_or_default();
    assert!(reason.contains("422"), "{reason}");
    s.outbox.retry(s.keys[0]).expect("technician retry");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_server_certificate_is_refused_and_nothing_is_sent() {
    let s = setup(3).await;
    let (report, err) = s.one_pass_under(Fault::WrongCertificate).await;
    assert!(report.refused.is_some(), "{report:?}");
    assert_eq!((report.delivered, report.dead), (0, 0));
    assert_eq!(report.remaining, 3);
    assert!(err.starts_with("refused"), "{err}");
    // Refusal stops even an until-empty drain at its first attempt: no hammering, no delivery.
    s.proxy.script([Fault::WrongCertificate]);
    let r = drain(&s.outbox, &s.through_proxy(), &fast(), UNTIL_EMPTY)
        .await
        .expect("drain");
    assert!(r.refused.is_some(), "{r:?}");
    assert_eq!((r.delivered, r.dead, r.remaining), (0, 0, 3));
    assert_eq!(s.proxy.connections(), 2);
    assert_eq!(s.rig.registrations().expect("rows").len(), 0);
    s.outbox.make_all_due().expect("due");
    s.heal_and_prove_exactly_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_client_certificate_is_refused_and_records_are_kept() {
    let s = setup(3).await;
    let kiosk = kiosk_api::v1::KioskId::new(s.creds.kiosk_id.clone()).expect("id");
    assert!(s.rig.revoke(&kiosk).expect("revoke"));
    let report = drain(&s.outbox, &s.through_proxy(), &fast(), UNTIL_EMPTY)
        .await
        .expect("drain");
    let reason = report.refused.clone().unwrap_or_default();
    assert!(reason.contains("revoked"), "{report:?}");
    assert_eq!((report.delivered, report.dead, report.remaining), (0, 0, 3));
    assert_eq!(s.rig.registrations().expect("rows").len(), 0);
    assert_eq!(s.outbox.check().expect("check").pending, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_lost_after_the_gateway_stored_it_is_not_duplicated() {
    let s = setup(3).await;
    // The gateway receives and stores the head, but the kiosk never learns (as if the answer was
    // lost on the way back): the record stays pending.
    let head = s.outbox.head().expect("head").expect("record");
    let first = s
        .through_proxy()
        .deliver(&head)
        .await
        .expect("first delivery");
    assert_eq!(s.rig.registrations().expect("rows").len(), 1);
    assert_eq!(s.outbox.status().expect("status").pending, 3);
    // The drain sends it again under the same key; the gateway replays the same ticket.
    s.heal_and_prove_exactly_once().await;
    let receipt = s.outbox.receipt(s.keys[0]).expect("receipt").expect("some");
    assert_eq!(receipt.ticket, first.ticket);
}
