//! Communication: comms updates, mail through a real SMTP server on loopback, webhooks
//! to a real HTTP receiver, the outbox surviving outages and restarts, and the public
//! status surfaces (which never show drills or internal updates).

mod common;

use app::model::Role;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use foghorn::delivery::{DeliverySettings, Worker};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---- a real SMTP server (mailin-embedded) ------------------------------------------

#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct Inbox {
    mails: Arc<Mutex<Vec<Mail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Inbox {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mail = Mail { to: self.to.clone(), data: String::from_utf8_lossy(&self.data).into_owned() };
        self.mails.lock().unwrap().push(mail);
        mailin_embedded::response::OK
    }
}

impl Inbox {
    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

/// Starts an SMTP server on `listener` (it runs until the test process ends).
fn smtp_server(listener: TcpListener) -> Inbox {
    let inbox = Inbox::default();
    let mut server = mailin_embedded::Server::new(inbox.clone());
    server.with_name("mail.test").with_ssl(mailin_embedded::SslConfig::None).unwrap().with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A worker that may deliver to internal addresses: the receivers here listen on
/// 127.0.0.1, as a company's own chat server on its network would.
fn worker(app: &TestApp, smtp_port: u16, max_attempts: i32) -> Worker {
    worker_with(app, smtp_port, max_attempts, true)
}

fn worker_with(app: &TestApp, smtp_port: u16, max_attempts: i32, allow_private_webhooks: bool) -> Worker {
    Worker::new(app.pool.clone(), delivery_settings(smtp_port, max_attempts, allow_private_webhooks)).unwrap()
}

fn delivery_settings(smtp_port: u16, max_attempts: i32, allow_private_webhooks: bool) -> DeliverySettings {
    DeliverySettings {
        smtp_url: Some(format!("smtp://127.0.0.1:{smtp_port}")),
        mail_from: "Foghorn <foghorn@example.com>".into(),
        base_url: "https://foghorn.example.com".into(),
        max_attempts,
        first_backoff: Duration::ZERO,
        poll: Duration::from_millis(50),
        allow_private_webhooks,
    }
}

async fn outbox_statuses(app: &TestApp) -> Vec<(String, String, i32)> {
    sqlx::query_as("SELECT recipient, status, attempts FROM outbox ORDER BY recipient, id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

async fn policy(app: &TestApp, admin: &str, body: Value) {
    let response = app.call_json("create_notification_policy", json!({ "policy": body }), Some(admin)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

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

// ---- webhooks --------------------------------------------------------------------

#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<Mutex<usize>>,
}

async fn receiver(state: Receiver) -> String {
    use axum::extract::State;
    async fn hook(State(r): State<Receiver>, headers: axum::http::HeaderMap, body: String) -> StatusCode {
        r.requests.lock().unwrap().push((headers, body));
        let mut fail = r.fail_first.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn verify(secret: &str, headers: &axum::http::HeaderMap, body: &str) -> bool {
    let timestamp = headers["x-foghorn-timestamp"].to_str().unwrap();
    let signature = headers["x-foghorn-signature"].to_str().unwrap().strip_prefix("sha256=").unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    expected == signature
}

#[sqlx::test(migrations = false)]
async fn webhooks_are_signed_retried_on_5xx_and_given_up_on(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let r = Receiver::default();
    *r.fail_first.lock().unwrap() = 1;
    let url = receiver(r.clone()).await;
    for (name, format) in [("chat", "slack"), ("tools", "json")] {
        let created = app
            .call_json("create_webhook", json!({ "webhook": { "name": name, "url": url, "format": format, "severities": ["SEV1", "SEV2"], "events": ["declared", "comms_update"] } }), Some(&admin))
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    }
    let worker = worker(&app, free_port(), 3);
    let number = app.declare(&admin, "Login broken", "SEV1").await;

    worker.deliver_due().await.unwrap();
    assert_eq!(r.requests.lock().unwrap().len(), 2, "one request per webhook");
    let statuses = outbox_statuses(&app).await;
    assert_eq!(
        statuses.iter().filter(|s| s.1 == "pending").count(),
        1,
        "the one answered 500 waits for a retry: {statuses:?}"
    );
    worker.deliver_due().await.unwrap();
    assert!(outbox_statuses(&app).await.iter().all(|s| s.1 == "sent"));

    let secrets: Vec<(String, String)> =
        sqlx::query_as("SELECT format, secret FROM webhooks").fetch_all(&app.pool).await.unwrap();
    let secret = |format: &str| secrets.iter().find(|s| s.0 == format).unwrap().1.clone();
    let requests = r.requests.lock().unwrap().clone();
    let mut seen_slack = false;
    let mut seen_json = false;
    for (headers, body) in &requests {
        let parsed: Value = serde_json::from_str(body).unwrap();
        assert!(!headers["x-foghorn-message-id"].is_empty());
        if parsed.get("blocks").is_some() {
            seen_slack = true;
            assert!(verify(&secret("slack"), headers, body), "signature verifies");
            assert!(!verify("not the secret", headers, body), "and only with the secret");
            assert!(parsed["text"].as_str().unwrap().contains(&format!("[SEV1] INC-{number} Login broken")));
            assert_eq!(parsed["blocks"][0]["type"], "section");
        } else {
            seen_json = true;
            assert!(verify(&secret("json"), headers, body));
            assert_eq!(parsed["event"], "declared");
            assert_eq!(parsed["incident"]["ref"], format!("INC-{number}"));
            assert_eq!(parsed["incident"]["severity"], "SEV1");
            assert_eq!(parsed["incident"]["url"], format!("https://foghorn.example.com/incidents/INC-{number}"));
            assert_eq!(parsed["message_id"], headers["x-foghorn-message-id"].to_str().unwrap());
        }
    }
    assert!(seen_slack && seen_json);
    // The retry of the failed request carried the same message id.
    let ids: Vec<&str> = requests.iter().map(|(h, _)| h["x-foghorn-message-id"].to_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids[2] == ids[0] || ids[2] == ids[1]);

    // A receiver that keeps failing: given up after 3 attempts, shown with its error.
    *r.fail_first.lock().unwrap() = 100;
    app.call("change_severity", &[("number", &number.to_string()), ("severity", "SEV2")], Some(&admin)).await; // not subscribed
    app.call(
        "assign_role",
        &[
            ("number", &number.to_string()),
            ("role", "comms"),
            ("user_id", &app.viewer(Some(&admin)).await["id"].to_string()),
        ],
        Some(&admin),
    )
    .await;
    let posted = app
        .call_json(
            "post_comms_update",
            json!({ "update": { "number": number, "known": "Sessions expire at once", "internal": true } }),
            Some(&admin),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    for _ in 0..3 {
        worker.deliver_due().await.unwrap();
    }
    let settings = app.call("get_notification_settings", &[], Some(&admin)).await.json();
    let failed: Vec<&Value> =
        settings["deliveries"].as_array().unwrap().iter().filter(|d| d["status"] == "failed").collect();
    assert_eq!(failed.len(), 2, "both webhooks gave up: {settings}");
    assert!(failed.iter().all(|d| d["attempts"] == 3 && d["last_error"].as_str().unwrap().contains("500")));
    // An admin retries one; it goes when the receiver is back.
    *r.fail_first.lock().unwrap() = 0;
    let id = failed[0]["id"].as_i64().unwrap();
    assert_eq!(app.call("retry_delivery", &[("id", &id.to_string())], Some(&admin)).await.status, StatusCode::OK);
    worker.deliver_due().await.unwrap();
    let status: String =
        sqlx::query_scalar("SELECT status FROM outbox WHERE id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(status, "sent");
}

// ---- comms updates ---------------------------------------------------------------

#[sqlx::test(migrations = false)]
async fn comms_updates_come_from_the_comms_person_and_promise_the_next(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (me, cookie) = app.user_with_role(Role::Responder).await;
    app.create_user("olga@example.com", "Olga", Role::Responder).await;
    let olga = app.sign_in("olga@example.com", common::PASSWORD).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let number = app.declare(&cookie, "API errors", "SEV2").await; // the declarer has point
    let update = |known: &str, minutes: &str| json!({ "update": { "number": number, "affected": "Public API", "known": known, "doing": "Rolling back", "next_update_minutes": minutes, "internal": true } });

    assert_eq!(app.call_json("post_comms_update", update("x", ""), Some(&viewer)).await.status, StatusCode::FORBIDDEN);
    let not_holder = app.call_json("post_comms_update", update("x", ""), Some(&olga)).await;
    assert_eq!(not_holder.status, StatusCode::FORBIDDEN, "only comms or point speaks: {}", not_holder.body);
    assert!(not_holder.body.contains("take comms first"), "the refusal says why: {}", not_holder.body);
    let bad = app.call_json("post_comms_update", update("x", "0"), Some(&cookie)).await;
    assert_eq!(bad.json()["field"], "next_update_minutes");
    let public_without_text = app
        .call_json(
            "post_comms_update",
            json!({ "update": { "number": number, "known": "x", "public": true } }),
            Some(&cookie),
        )
        .await;
    assert_eq!(public_without_text.json()["field"], "public_text");
    assert_eq!(
        app.call_json("post_comms_update", update("Error rate 30%", "30"), Some(&cookie)).await.status,
        StatusCode::OK
    );

    let view = app.incident(&cookie, number).await;
    let next = view["incident"]["next_update_at"].as_str().expect("a promised time");
    let next = time::OffsetDateTime::parse(next, &time::format_description::well_known::Rfc3339).unwrap();
    let in_30 = time::OffsetDateTime::now_utc() + time::Duration::minutes(30);
    assert!((next - in_30).abs() < time::Duration::minutes(1));
    let entry = view["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["kind"], "comms_update");
    assert!(entry["body"].as_str().unwrap().contains("**What we know:** Error rate 30%"));
    let updates = app.call("list_comms_updates", &[("number", &number.to_string())], Some(&viewer)).await.json();
    assert_eq!(updates[0]["known"], "Error rate 30%");
    assert_eq!(updates[0]["author"]["id"], me);

    // Once the promised time passes, the incident and the dashboard say so.
    sqlx::query("UPDATE incidents SET next_update_at = now() - interval '1 minute'").execute(&app.pool).await.unwrap();
    let dashboard = app.call("get_dashboard", &[], Some(&viewer)).await.json();
    let row = dashboard["active"].as_array().unwrap().iter().find(|i| i["number"] == number).unwrap().clone();
    let at = time::OffsetDateTime::parse(
        row["next_update_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(app::model::comms_overdue(true, Some(at), time::OffsetDateTime::now_utc()));
}

// ---- the public status page --------------------------------------------------------

async fn public_service(app: &TestApp, admin: &str, name: &str) -> i64 {
    app.call("create_service", &[("name", name), ("description", ""), ("team_id", "")], Some(admin))
        .await
        .json()
        .as_i64()
        .unwrap()
}

async fn declare_with(app: &TestApp, cookie: &str, title: &str, severity: &str, services: &[i64]) -> i64 {
    app.call_json(
        "declare_incident",
        json!({ "declaration": { "title": title, "severity": severity, "service_ids": services } }),
        Some(cookie),
    )
    .await
    .json()
    .as_i64()
    .unwrap()
}

async fn say(app: &TestApp, cookie: &str, number: i64, internal: bool, public: Option<&str>) {
    let response = app
        .call_json(
            "post_comms_update",
            json!({ "update": { "number": number, "known": "internal detail: replica 3 OOM", "internal": internal, "public": public.is_some(), "public_text": public.unwrap_or("") } }),
            Some(cookie),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[sqlx::test(migrations = false)]
async fn the_status_page_derives_states_and_shows_only_public_words(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let api = public_service(&app, &admin, "API").await;
    let web = public_service(&app, &admin, "Website").await;
    let billing = public_service(&app, &admin, "Billing").await;
    let internal_tool = public_service(&app, &admin, "Internal wiki").await;
    for id in [api, web, billing] {
        assert_eq!(
            app.call("set_service_public", &[("id", &id.to_string()), ("public", "true")], Some(&admin)).await.status,
            StatusCode::OK
        );
    }
    let outage = declare_with(&app, &admin, "SECRET-TITLE primary down", "SEV1", &[api, internal_tool]).await;
    say(&app, &admin, outage, true, Some("The API is unavailable. We are restoring service.")).await;
    let slow = declare_with(&app, &admin, "SECRET-TITLE slow pages", "SEV3", &[web]).await;
    say(&app, &admin, slow, false, Some("Pages load slowly.")).await;
    // Internal only: not public at all.
    let quiet = declare_with(&app, &admin, "SECRET-TITLE billing job", "SEV2", &[billing]).await;
    say(&app, &admin, quiet, true, None).await;
    // A drill with a public update: never public.
    sqlx::query("UPDATE incidents SET is_drill = true WHERE number = $1").bind(quiet).execute(&app.pool).await.unwrap();
    let drill = declare_with(&app, &admin, "SECRET-TITLE drill", "SEV1", &[billing]).await;
    sqlx::query("UPDATE incidents SET is_drill = true WHERE number = $1").bind(drill).execute(&app.pool).await.unwrap();
    say(&app, &admin, drill, false, Some("DRILL-PUBLIC-TEXT")).await;

    let json = app.get("/status.json", None).await;
    assert_eq!(json.status, StatusCode::OK);
    let status: Value = serde_json::from_str(&json.body).expect("valid JSON");
    assert_eq!(status["overall"], "major_outage");
    let state = |name: &str| {
        status["services"].as_array().unwrap().iter().find(|s| s["name"] == name).map(|s| s["state"].clone())
    };
    assert_eq!(state("API"), Some(json!("major_outage")));
    assert_eq!(state("Website"), Some(json!("degraded")));
    assert_eq!(state("Billing"), Some(json!("operational")), "internal-only and drill incidents do not count");
    assert_eq!(state("Internal wiki"), None, "only public services are listed");
    assert_eq!(status["active_incidents"].as_array().unwrap().len(), 2);
    assert_eq!(json.header("access-control-allow-origin"), Some("*"));

    // Comms overrides a derived state, and can hand it back.
    let (slow_n, web_n) = (slow.to_string(), web.to_string());
    let set = app
        .call(
            "override_service_state",
            &[("number", &slow_n), ("service_id", &web_n), ("state", "partial_outage")],
            Some(&admin),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    // The public surfaces see the change once the database announces it.
    assert_eq!(public_state_within(&app, "Website", "partial_outage", Duration::from_secs(10)).await, "partial_outage");
    app.call("override_service_state", &[("number", &slow_n), ("service_id", &web_n), ("state", "")], Some(&admin))
        .await;

    let page = app.get("/status", None).await;
    let feed = app.get("/status/feed.atom", None).await;
    let banner = app.get("/status/banner.js", None).await;
    for (name, response) in [("page", &page), ("feed", &feed), ("banner", &banner), ("json", &json)] {
        assert_eq!(response.status, StatusCode::OK, "{name}");
        for secret in ["SECRET-TITLE", "internal detail", "DRILL-PUBLIC-TEXT", "Internal wiki"] {
            assert!(!response.body.contains(secret), "{name} shows {secret:?}");
        }
    }
    assert!(
        page.body.contains("The API is unavailable. We are restoring service.")
            && page.body.contains("Pages load slowly.")
    );
    assert!(!page.body.contains("<script"), "the page needs no JavaScript");
    assert!(banner.body.contains("The API is unavailable") || banner.body.contains("Pages load slowly"));

    let parsed: atom_syndication::Feed = feed.body.parse().expect("a valid Atom feed");
    let texts: Vec<String> =
        parsed.entries().iter().map(|e| e.content().and_then(|c| c.value()).unwrap_or_default().to_owned()).collect();
    assert_eq!(texts, ["Pages load slowly.", "The API is unavailable. We are restoring service."]);
    assert!(parsed.entries().iter().all(|e| !e.id().is_empty()));
}

#[sqlx::test(migrations = false)]
async fn conditional_requests_get_304_until_something_changes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let api = public_service(&app, &admin, "API").await;
    app.call("set_service_public", &[("id", &api.to_string()), ("public", "true")], Some(&admin)).await;
    for path in ["/status", "/status.json", "/status/feed.atom", "/status/banner.js"] {
        let first = app.get(path, None).await;
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert!(first.header("cache-control").unwrap().contains("max-age"));
        let again = app
            .send(Request::get(path).header(header::IF_NONE_MATCH, &etag).body(axum::body::Body::empty()).unwrap())
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
    }
    let before = app.get("/status.json", None).await.header("etag").unwrap().to_owned();
    let number = declare_with(&app, &admin, "Outage", "SEV2", &[api]).await;
    say(&app, &admin, number, false, Some("Investigating errors.")).await;
    // The public surfaces see the change once the database announces it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let changed = loop {
        let response = app
            .send(
                Request::get("/status.json")
                    .header(header::IF_NONE_MATCH, &before)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        if response.status != StatusCode::NOT_MODIFIED || std::time::Instant::now() > deadline {
            break response;
        }
        common::sleep(20).await;
    };
    assert_eq!(changed.status, StatusCode::OK, "a public change invalidates the copy");
    assert!(changed.header("last-modified").unwrap().ends_with("GMT"));
}

// ---- the status page's override ----------------------------------------------------

/// A public service's state on `/status.json`, once it is `want` or `within` has passed:
/// the public snapshot follows a change when the database's announcement arrives.
async fn public_state_within(app: &TestApp, service: &str, want: &str, within: Duration) -> Value {
    let state = || async {
        let status: Value = serde_json::from_str(&app.get("/status.json", None).await.body).unwrap();
        status["services"].as_array().unwrap().iter().find(|s| s["name"] == service).unwrap()["state"].clone()
    };
    let deadline = std::time::Instant::now() + within;
    while state().await != want && std::time::Instant::now() < deadline {
        common::sleep(20).await;
    }
    state().await
}

#[sqlx::test(migrations = false)]
async fn only_point_or_comms_of_a_live_incident_overrides_the_status_page_and_it_is_recorded(pool: PgPool) {
    let (logs, _guard) = common::CapturedLogs::start();
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (_, point) = app.user_with_role(Role::Responder).await;
    let olga_id = app.create_user("olga@example.com", "Olga", Role::Responder).await;
    let olga = app.sign_in("olga@example.com", common::PASSWORD).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let api = public_service(&app, &admin, "API").await;
    let web = public_service(&app, &admin, "Website").await;
    for id in [api, web] {
        app.call("set_service_public", &[("id", &id.to_string()), ("public", "true")], Some(&admin)).await;
    }
    let number = declare_with(&app, &point, "API errors", "SEV2", &[api]).await; // the declarer has point
    let drill = declare_with(&app, &point, "Game day", "SEV2", &[web]).await;
    sqlx::query("UPDATE incidents SET is_drill = true WHERE number = $1").bind(drill).execute(&app.pool).await.unwrap();
    let set = |number: i64, service: i64, state: &'static str, cookie: Option<String>| {
        let app = &app;
        async move {
            app.call(
                "override_service_state",
                &[("number", &number.to_string()), ("service_id", &service.to_string()), ("state", state)],
                cookie.as_deref(),
            )
            .await
        }
    };
    let overrides = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM service_state_overrides").fetch_one(&app.pool).await.unwrap()
    };

    // Nobody outside the incident's point and comms sets it, and nothing changes.
    assert_eq!(set(number, api, "major_outage", None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(set(number, api, "major_outage", Some(viewer.clone())).await.status, StatusCode::FORBIDDEN);
    let stranger = set(number, api, "major_outage", Some(olga.clone())).await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN, "a responder with no role on the incident: {}", stranger.body);
    assert_eq!(overrides().await, 0);
    let refused = logs.text();
    let audited = |what: &str| refused.lines().filter(|l| l.contains("foghorn::audit") && l.contains(what)).count();
    assert_eq!(audited("refused: status page override without point or comms"), 1, "the stranger: {refused}");
    assert_eq!(audited("refused: role lacks permission user_id"), 1, "the viewer: {refused}");

    // Only through an incident that touches the service, and not a drill.
    let elsewhere = set(number, web, "major_outage", Some(point.clone())).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", elsewhere.body);
    assert_eq!(elsewhere.json()["field"], "service_id");
    let rehearsal = set(drill, web, "major_outage", Some(point.clone())).await;
    assert_eq!(rehearsal.status, StatusCode::UNPROCESSABLE_ENTITY, "a drill never speaks publicly: {}", rehearsal.body);
    assert_eq!(overrides().await, 0);

    // Point sets it: the public page shows it, and the timeline tells who and what.
    let before = app.last_seq(number).await;
    let done = set(number, api, "partial_outage", Some(point.clone())).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let status: Value = serde_json::from_str(&app.get("/status.json", None).await.body).unwrap();
    assert_eq!(
        status["services"].as_array().unwrap().iter().find(|s| s["name"] == "API").unwrap()["state"],
        "partial_outage"
    );
    assert_eq!(app.last_seq(number).await, before + 1);
    let entry = app.incident(&point, number).await["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["kind"], "status_page");
    let body = entry["body"].as_str().unwrap();
    assert!(body.contains("Responder user") && body.contains("API") && body.contains("Partial outage"), "{body}");
    let audit = logs.text();
    let line = audit
        .lines()
        .find(|l| l.contains("foghorn::audit") && l.contains("status page override") && !l.contains("refused"));
    let line = line.unwrap_or_else(|| panic!("the override is in the audit log: {audit}"));
    assert!(line.contains(&format!("incident={number}")) && line.contains("state=\"partial_outage\""), "{line}");

    // Comms, once given, may too; so may an admin.
    app.call(
        "assign_role",
        &[("number", &number.to_string()), ("role", "comms"), ("user_id", &olga_id.to_string())],
        Some(&point),
    )
    .await;
    assert_eq!(set(number, api, "major_outage", Some(olga.clone())).await.status, StatusCode::OK);
    assert_eq!(set(number, api, "degraded", Some(admin.clone())).await.status, StatusCode::OK);

    // Once resolved it cannot be set any more, but it can still be handed back.
    let resolved = app
        .call(
            "change_status",
            &[("number", &number.to_string()), ("status", "resolved"), ("resolution", "Rolled back")],
            Some(&point),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    // The override was for this incident: resolved, the page follows the incidents again
    // (nothing else touches the API), even before anyone hands it back.
    assert_eq!(
        public_state_within(&app, "API", "operational", Duration::from_secs(30)).await,
        "operational",
        "an override ends with its incident"
    );
    let late = set(number, api, "major_outage", Some(point.clone())).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.body);
    assert_eq!(set(number, api, "", Some(point.clone())).await.status, StatusCode::OK);
    assert_eq!(overrides().await, 0);
    let entry = app.incident(&point, number).await["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["kind"], "status_page");
    assert!(entry["body"].as_str().unwrap().contains("from incidents"), "{entry}");
}

// ---- Slack formatting ----------------------------------------------------------------

#[sqlx::test(migrations = false)]
async fn slack_messages_show_what_people_typed_as_text_not_as_formatting(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let r = Receiver::default();
    let url = receiver(r.clone()).await;
    let created = app
        .call_json("create_webhook", json!({ "webhook": { "name": "chat", "url": url, "format": "slack", "severities": ["SEV1"], "events": ["declared", "comms_update"] } }), Some(&admin))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let number = app.declare(&admin, "<!channel> DB & cache <https://evil.example|bank>", "SEV1").await;
    app.call(
        "assign_role",
        &[
            ("number", &number.to_string()),
            ("role", "comms"),
            ("user_id", &app.viewer(Some(&admin)).await["id"].to_string()),
        ],
        Some(&admin),
    )
    .await;
    let posted = app
        .call_json("post_comms_update", json!({ "update": { "number": number, "known": "<@U123> look at <https://evil.example|the bank>", "doing": "a > b & c", "internal": true } }), Some(&admin))
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    worker(&app, free_port(), 3).deliver_due().await.unwrap();

    let requests = r.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    for (_, body) in &requests {
        let parsed: Value = serde_json::from_str(body).unwrap();
        let mut texts = vec![parsed["text"].as_str().unwrap().to_owned()];
        texts.extend(
            parsed["blocks"].as_array().unwrap().iter().map(|b| b["text"]["text"].as_str().unwrap().to_owned()),
        );
        for text in &texts {
            for raw in ["<!channel>", "<https://evil.example|", "<@U123>", " & ", "a > b"] {
                assert!(!text.contains(raw), "{raw:?} reaches Slack unescaped: {text}");
            }
        }
        let all = texts.join("\n");
        assert!(all.contains("&lt;!channel&gt; DB &amp; cache &lt;https://evil.example|bank&gt;"), "{all}");
        // Foghorn's own link still works.
        assert!(
            parsed["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("<https://foghorn.example.com/incidents/INC-{number}|INC-{number}>"))
        );
    }
    let comms = requests.iter().map(|(_, b)| b.clone()).find(|b| b.contains("look at")).expect("the comms update");
    assert!(comms.contains("&lt;@U123&gt;") && comms.contains("a &gt; b &amp; c"), "{comms}");
}

// ---- where webhooks may go -------------------------------------------------------------

async fn webhook_to(app: &TestApp, admin: &str, url: &str) {
    let created = app
        .call_json("create_webhook", json!({ "webhook": { "name": "chat", "url": url, "format": "json", "severities": ["SEV1"], "events": ["declared"] } }), Some(admin))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
}

async fn deliveries(app: &TestApp) -> Vec<(String, i32, String)> {
    sqlx::query_as("SELECT status, attempts, last_error FROM outbox ORDER BY id").fetch_all(&app.pool).await.unwrap()
}

#[sqlx::test(migrations = false)]
async fn webhooks_to_internal_addresses_are_refused_unless_allowed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let r = Receiver::default();
    let url = receiver(r.clone()).await; // http://127.0.0.1:PORT/hook
    let by_name = url.replace("127.0.0.1", "localhost");
    webhook_to(&app, &admin, &url).await;
    webhook_to(&app, &admin, &by_name).await;
    webhook_to(&app, &admin, "http://169.254.169.254/latest/meta-data/").await;
    webhook_to(&app, &admin, "http://[::1]:9/hook").await;
    webhook_to(&app, &admin, "http://10.0.0.1:9/hook").await;
    app.declare(&admin, "Checkout down", "SEV1").await;

    // By default: nothing reaches the listener, and each refusal says why, once (no retries).
    worker_with(&app, free_port(), 3, false).deliver_due().await.unwrap();
    assert_eq!(r.requests.lock().unwrap().len(), 0, "a request reached 127.0.0.1");
    let refused = deliveries(&app).await;
    assert_eq!(refused.len(), 5);
    for (i, (status, attempts, error)) in refused.iter().enumerate() {
        assert_eq!((status.as_str(), *attempts), ("failed", 1), "{error}");
        assert!(error.starts_with("refused"), "{error}");
        if i != 2 {
            assert!(error.contains("FOGHORN_WEBHOOK_ALLOW_PRIVATE"), "the refusal names the setting: {error}");
        }
    }

    // With the setting on, the internal receiver gets it (retried by an admin here);
    // a cloud metadata address stays refused: no chat server lives there.
    let retried: Vec<i64> = sqlx::query_scalar(
        "SELECT o.id FROM outbox o WHERE o.webhook_id IN (SELECT id FROM webhooks ORDER BY id LIMIT 3)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for id in retried {
        assert_eq!(app.call("retry_delivery", &[("id", &id.to_string())], Some(&admin)).await.status, StatusCode::OK);
    }
    worker_with(&app, free_port(), 3, true).deliver_due().await.unwrap();
    assert_eq!(r.requests.lock().unwrap().len(), 2, "both the address and the name of the listener");
    let after = deliveries(&app).await;
    assert_eq!((after[0].0.as_str(), after[1].0.as_str()), ("sent", "sent"), "{after:?}");
    assert_eq!(after[2].0, "failed");
    assert!(after[2].2.contains("metadata"), "{}", after[2].2);
}

#[sqlx::test(migrations = false)]
async fn webhooks_do_not_follow_redirects(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let r = Receiver::default();
    let target = receiver(r.clone()).await;
    let redirector = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let target = target.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirector).await });
    webhook_to(&app, &admin, &url).await;
    app.declare(&admin, "Checkout down", "SEV1").await;

    worker(&app, free_port(), 3).deliver_due().await.unwrap();
    assert_eq!(r.requests.lock().unwrap().len(), 0, "the redirect was followed");
    let (status, _, error) = deliveries(&app).await.remove(0);
    assert_ne!(status, "sent");
    assert!(error.contains("307"), "{error}");
}
