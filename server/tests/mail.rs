//! Mail: the outbox sends what each notification policy names through a real SMTP
//! server on loopback, as soon as it is queued, and neither an SMTP outage nor a restart
//! mid-queue loses a message or sends one twice.

mod common;

use app::model::Role;
use common::TestApp;
use common::delivery::*;
use foghorn::delivery::{DeliverySettings, Worker};
use serde_json::json;
use sqlx::PgPool;
use std::net::TcpListener;
use std::time::Duration;

// ---- mail ------------------------------------------------------------------------

#[sqlx::test(migrations = false)]
async fn mail_reaches_the_recipients_each_policy_names(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let team = app.call("create_team", &[("name", "Payments")], Some(&admin)).await.json().as_i64().unwrap();
    let member = app.create_user("pat@example.com", "Pat", Role::Responder).await;
    app.call("add_team_member", &[("team_id", &team.to_string()), ("user_id", &member.to_string())], Some(&admin))
        .await;
    policy(&app, &admin, json!({ "name": "Executives", "severities": ["SEV1", "SEV2"], "events": ["declared", "resolved"], "recipients": "ceo@example.com, all@example.com" })).await;
    policy(&app, &admin, json!({ "name": "Owning team", "severities": ["SEV1", "SEV2", "SEV3", "SEV4"], "events": ["declared", "severity_changed", "status_changed", "comms_update", "resolved"], "owning_team": true })).await;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    let worker = worker(&app, port, 5);

    let major = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "Card payments fail", "severity": "SEV1", "team_id": team } }),
            Some(&admin),
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    let minor = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "Slow receipts", "severity": "SEV3", "team_id": team } }),
            Some(&admin),
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    assert_eq!(worker.deliver_due().await.unwrap(), 4);
    let mut got: Vec<(String, String)> = inbox.mails().iter().map(|m| (m.to.join(","), subject(&m.data))).collect();
    got.sort();
    let expected = [
        ("all@example.com", format!("[SEV1] INC-{major} Card payments fail: declared")),
        ("ceo@example.com", format!("[SEV1] INC-{major} Card payments fail: declared")),
        ("pat@example.com", format!("[SEV1] INC-{major} Card payments fail: declared")),
        ("pat@example.com", format!("[SEV3] INC-{minor} Slow receipts: declared")),
    ];
    assert_eq!(got, expected.map(|(a, b)| (a.to_owned(), b)), "a SEV3 does not reach the executives");

    let mail = &inbox.mails()[0].data;
    assert!(mail.contains("multipart/alternative"), "plain text and HTML:\n{mail}");
    assert!(mail.contains("text/plain") && mail.contains("text/html"));
    assert!(mail.contains(&format!("https://foghorn.example.com/incidents/INC-{major}")), "a link back:\n{mail}");
    let message_ids: Vec<String> =
        sqlx::query_scalar("SELECT message_id::text FROM outbox").fetch_all(&app.pool).await.unwrap();
    assert!(message_ids.iter().any(|id| mail.contains(id.as_str())), "Message-ID carries the outbox id");

    // Resolving the SEV1 tells both policies; nothing is sent twice.
    app.call(
        "change_status",
        &[("number", &major.to_string()), ("status", "resolved"), ("resolution", "rolled back")],
        Some(&admin),
    )
    .await;
    worker.deliver_due().await.unwrap();
    assert_eq!(inbox.mails().len(), 7);
    assert!(outbox_statuses(&app).await.iter().all(|(_, status, attempts)| status == "sent" && *attempts == 1));
}

#[sqlx::test(migrations = false)]
async fn a_running_worker_sends_as_soon_as_a_message_is_queued_not_at_its_next_poll(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    policy(&app, &admin, json!({ "name": "All", "severities": ["SEV1", "SEV2", "SEV3", "SEV4"], "events": ["declared"], "recipients": "oncall@example.com" })).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    // It polls once an hour: only the outbox's notification can wake it in time.
    let hourly = DeliverySettings { poll: Duration::from_secs(3600), ..delivery_settings(port, 5, true) };
    let worker = Worker::new(app.pool.clone(), hourly).unwrap().woken_by(app.hub.outbox_queued());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    common::sleep(200).await; // its first round (an empty outbox) is done; now it waits

    app.declare(&admin, "Queue stalls", "SEV2").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while inbox.mails().is_empty() && std::time::Instant::now() < deadline {
        common::sleep(20).await;
    }
    assert_eq!(inbox.mails().len(), 1, "the message went out without waiting for the hourly poll");
    stop.send(true).unwrap();
    running.await.unwrap();
}

/// The Subject header of a raw message.
fn subject(data: &str) -> String {
    data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().trim().to_owned()
}

#[sqlx::test(migrations = false)]
async fn a_down_smtp_server_leaves_mail_queued_and_a_later_retry_sends_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    policy(&app, &admin, json!({ "name": "All", "severities": ["SEV1", "SEV2", "SEV3", "SEV4"], "events": ["declared"], "recipients": "oncall@example.com" })).await;
    let port = free_port();
    let worker = worker(&app, port, 5);

    // The change itself succeeds while mail is down.
    let number = app.declare(&admin, "Queue stalls", "SEV2").await;
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let (status, attempts, error): (String, i32, String) =
        sqlx::query_as("SELECT status, attempts, last_error FROM outbox").fetch_one(&app.pool).await.unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.starts_with("SMTP"), "{error}");

    // The server comes back; the next round delivers.
    let inbox = smtp_server(TcpListener::bind(("127.0.0.1", port)).unwrap());
    worker.deliver_due().await.unwrap();
    assert_eq!(inbox.mails().len(), 1);
    assert_eq!(inbox.mails()[0].to, ["oncall@example.com"]);
    assert!(subject(&inbox.mails()[0].data).contains(&format!("INC-{number}")));
    assert_eq!(outbox_statuses(&app).await, [("oncall@example.com".to_owned(), "sent".to_owned(), 2)]);
}

#[sqlx::test(migrations = false)]
async fn a_restart_mid_queue_loses_nothing_and_sends_nothing_twice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let recipients: Vec<String> = (0..6).map(|i| format!("person{i}@example.com")).collect();
    policy(
        &app,
        &admin,
        json!({ "name": "All", "severities": ["SEV2"], "events": ["declared"], "recipients": recipients.join(",") }),
    )
    .await;
    app.declare(&admin, "Everything is slow", "SEV2").await;

    // A worker claims the queue and dies before recording anything (its transaction
    // never commits): every message is still there.
    {
        let mut tx = app.pool.begin().await.unwrap();
        let claimed = app::server::db::outbox::claim(&mut tx, 20).await.unwrap();
        assert_eq!(claimed.len(), 6);
        // Its locks end with it. (A dropped `Transaction` only queues the rollback until
        // the connection's next use, which left the rows locked under load.)
        tx.rollback().await.unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    // Two instances after the restart, racing for the same queue.
    let (a, b) = (worker(&app, port, 5), worker(&app, port, 5));
    let (ra, rb) = tokio::join!(a.deliver_due(), b.deliver_due());
    assert_eq!(ra.unwrap() + rb.unwrap(), 6, "each message claimed by exactly one worker");
    let mut to: Vec<String> = inbox.mails().iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, recipients, "everyone once, nobody twice");
}
