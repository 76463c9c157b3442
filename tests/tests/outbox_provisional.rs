//! Offline tickets end to end (issue 4): a registration is enqueued, the gateway cannot be
//! reached, the kiosk gives the citizen a provisional number; once the gateway is back, the drain
//! delivers the record exactly once and the gateway holds its own ticket with the provisional
//! number beside it. Retries with and without the number get the same answer, never 422.

use std::time::Duration;

use kiosk_api::v1::Registration;
use kiosk_outbox::worker::{Deliver, drain};
use kiosk_outbox::{DrainMode, Outbox};
use kiosk_tests::outbox_rig::{
    GatewayRig, client, delivery, fast_worker as fast, registration_line, test_timeouts as timeouts,
};
use uuid::Uuid;

/// A URL where nothing listens: the gateway is down.
fn down() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://{}", closed.local_addr().expect("addr"));
    drop(closed);
    url
}

const UNTIL_EMPTY: DrainMode = DrainMode::UntilEmpty {
    deadline: Duration::from_secs(60),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisional_number_reaches_the_gateway_once_and_retries_agree() {
    let rig = GatewayRig::start().await.expect("gateway");
    let (kiosk, creds) = rig.enrol().expect("enrol");
    let state = tempfile::tempdir().expect("tempdir");
    let outbox = Outbox::open(state.path()).expect("outbox");
    let (offline_key, offline_line) = registration_line(&kiosk);
    let (online_key, online_line) = registration_line(&kiosk);
    outbox.enqueue(offline_key, &offline_line).expect("enqueue");
    outbox.enqueue(online_key, &online_line).expect("enqueue");

    // Gateway down: the first attempt fails and the record waits.
    let unreachable = delivery(&down(), &creds, timeouts()).expect("client");
    let report = drain(&outbox, &unreachable, &fast(), DrainMode::OnePass)
        .await
        .expect("drain");
    assert_eq!((report.delivered, report.retries_scheduled), (0, 1));
    // The kiosk gives the citizen a provisional number from its durable sequence.
    let today = time::OffsetDateTime::now_utc().date();
    let provisional = outbox
        .assign_provisional(offline_key, today)
        .expect("provisional");
    assert_eq!(provisional.number, 1);

    // Gateway up: drain everything.
    outbox.make_all_due().expect("due");
    let online = delivery(&rig.url(), &creds, timeouts()).expect("client");
    let report = drain(&outbox, &online, &fast(), UNTIL_EMPTY)
        .await
        .expect("drain");
    assert_eq!((report.delivered, report.remaining), (2, 0), "{report:?}");

    // The gateway holds each record exactly once (`registrations` fails on a repeated key).
    let stored = rig.registrations().expect("rows");
    assert_eq!(stored.len(), 2);
    let rows = rig.gateway.state.store.registrations(None).expect("rows");
    let row = rows
        .iter()
        .find(|r| r.key == offline_key.to_string())
        .expect("offline record stored");
    let p = row
        .ticket
        .provisional_ticket
        .clone()
        .expect("the gateway kept the provisional number");
    assert_eq!((p.queue.as_str(), p.number), ("NOI", 1));
    assert_eq!(row.provisional.as_deref(), Some("T-NOI-001"));
    assert_eq!(
        (row.ticket.queue.as_str(), row.ticket.number),
        ("NOI", 1),
        "the gateway's own number is its own sequence"
    );
    let other = rows
        .iter()
        .find(|r| r.key == online_key.to_string())
        .expect("online record stored");
    assert_eq!(other.ticket.provisional_ticket, None);
    assert_eq!(other.provisional, None);
    let receipt = outbox
        .receipt(offline_key)
        .expect("receipt")
        .expect("delivered");
    assert_eq!(receipt.ticket, row.ticket.display);
    assert_eq!(receipt.provisional.as_deref(), Some("P-0001"));

    // What operators see.
    let lines = kiosk_gateway::ops::list_registrations(rig.path(), None, false).expect("list");
    let line = lines
        .iter()
        .find(|l| l.key == offline_key.to_string())
        .expect("listed");
    assert_eq!(line.provisional.as_deref(), Some("T-NOI-001"));

    // Retries of the same registration, with and without the number: the same stored answer.
    let c = client(&rig.url(), &creds, timeouts()).expect("client");
    let plain: Registration = serde_json::from_str(&offline_line).expect("registration");
    assert_eq!(plain.provisional_ticket, None);
    let mut with = plain.clone();
    with.provisional_ticket = Some(p.clone());
    let a = c.submit_registration(&plain).await.expect("plain retry");
    let b = c
        .submit_registration(&with)
        .await
        .expect("retry with number");
    assert_eq!(a, row.ticket);
    assert_eq!(b, row.ticket);
    assert_eq!(
        c.registration(plain.idempotency_key).await.expect("get"),
        row.ticket
    );
    assert_eq!(rig.registrations().expect("rows").len(), 2, "no duplicate");
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_given_after_the_gateway_stored_the_record_is_added_to_it() {
    let rig = GatewayRig::start().await.expect("gateway");
    let (kiosk, creds) = rig.enrol().expect("enrol");
    let state = tempfile::tempdir().expect("tempdir");
    let outbox = Outbox::open(state.path()).expect("outbox");
    let (key, line): (Uuid, String) = registration_line(&kiosk);
    outbox.enqueue(key, &line).expect("enqueue");
    let online = delivery(&rig.url(), &creds, timeouts()).expect("client");

    // The body reached the gateway but its answer was lost: the kiosk waited in vain and gave
    // the citizen a provisional number.
    let head = outbox.head().expect("head").expect("record");
    let first = online.deliver(&head).await.expect("first delivery");
    drop(head);
    let today = time::OffsetDateTime::now_utc().date();
    outbox.assign_provisional(key, today).expect("provisional");

    let report = drain(&outbox, &online, &fast(), UNTIL_EMPTY)
        .await
        .expect("drain");
    assert_eq!((report.delivered, report.dead), (1, 0), "{report:?}");
    let rows = rig.gateway.state.store.registrations(None).expect("rows");
    assert_eq!(rows.len(), 1, "stored once");
    assert_eq!(rows[0].ticket.display, first.ticket, "same gateway ticket");
    assert_eq!(
        rows[0].ticket.provisional_ticket.as_ref().map(|p| p.number),
        Some(1)
    );
    assert_eq!(rows[0].provisional.as_deref(), Some("T-NOI-001"));
    let receipt = outbox.receipt(key).expect("receipt").expect("delivered");
    assert_eq!(receipt.ticket, first.ticket);
    rig.shutdown().await;
}
