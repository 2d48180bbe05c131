//! Webhooks: delivered to a real HTTP receiver on loopback, signed, retried on 5xx and
//! given up on; Slack messages show what people typed as text; internal addresses are
//! refused unless allowed, and redirects are not followed.

mod common;

use app::model::Role;
use axum::http::{StatusCode, header};
use common::TestApp;
use common::delivery::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};

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
    app.take_comms(&admin, number).await;
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
    app.take_comms(&admin, number).await;
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
