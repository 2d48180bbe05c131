//! The REST API v1: tokens, the same rules and effects as the pages, problem details,
//! optimistic concurrency, rate limits, and the `foghorn token` command line.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::*;
use serde_json::json;
use sqlx::PgPool;

/// The timeline (kind, body) and outbox events of an incident: what a change leaves behind.
async fn traces(pool: &PgPool, number: i64) -> (Vec<(String, String)>, Vec<String>) {
    let timeline: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.kind, e.body FROM timeline_entries e JOIN incidents i ON i.id = e.incident_id
          WHERE i.number = $1 ORDER BY e.seq",
    )
    .bind(number)
    .fetch_all(pool)
    .await
    .unwrap();
    let outbox: Vec<String> = sqlx::query_scalar(
        "SELECT o.event || ':' || o.channel FROM outbox o JOIN incidents i ON i.id = o.incident_id
          WHERE i.number = $1 ORDER BY o.id",
    )
    .bind(number)
    .fetch_all(pool)
    .await
    .unwrap();
    (timeline, outbox)
}

#[sqlx::test]
async fn a_token_reads_and_writes_without_a_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (id, _) = app.user_with_role(Role::Responder).await;
    let token = app.token("laptop", Some(id), false).await;

    let declared = app
        .api("POST", "/api/v1/incidents", Some(&token), Some(json!({ "title": "Checkout down", "severity": "SEV2" })))
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let number = declared.json()["number"].as_i64().unwrap();
    assert_eq!(declared.header("location"), Some(format!("/api/v1/incidents/{number}").as_str()));
    assert_eq!(declared.json()["point"]["id"], json!(id), "the declarer takes point, as on the page");
    assert!(declared.session_cookie().is_none(), "a token request never creates a session");
    assert!(declared.header("set-cookie").is_none());

    let read = app.api("GET", &format!("/api/v1/incidents/INC-{number}"), Some(&token), None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json()["title"], "Checkout down");
    assert_eq!(read.header("etag"), Some("\"1\"").or(read.header("etag")));

    let listed = app.api("GET", "/api/v1/incidents?status=active", Some(&token), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["items"][0]["number"], json!(number));
    assert_eq!(listed.json()["next"], serde_json::Value::Null);

    let used: (Option<time::OffsetDateTime>, Option<String>) =
        sqlx::query_as("SELECT last_used_at, last_used_ip FROM api_tokens WHERE name = 'laptop'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(used.0.is_some());
    assert_eq!(used.1.as_deref(), Some("198.51.100.7"));
    let (hashed, plain): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE secret_sha256 = sha256(convert_to($1, 'UTF8'))),
                count(*) FILTER (WHERE strpos(t::text, $1) > 0)
           FROM api_tokens t",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(hashed, 1, "stored as its SHA-256");
    assert_eq!(plain, 0, "the secret itself is not stored");
}

#[sqlx::test]
async fn without_a_live_token_the_api_answers_401_with_a_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (id, cookie) = app.user_with_role(Role::Responder).await;

    let none = app.api("GET", "/api/v1/incidents", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.header("content-type"), Some("application/problem+json"));
    assert_eq!(none.header("www-authenticate"), Some("Bearer realm=\"foghorn\""));
    assert_eq!(none.json()["status"], 401);
    assert!(none.json()["detail"].as_str().unwrap().contains("Bearer"));

    // A session cookie is not a token.
    let mut request = axum::http::Request::get("/api/v1/incidents").header("cookie", &cookie);
    request = request.header("x-forwarded-for", "192.0.2.1");
    let with_cookie = app.send(request.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(with_cookie.status, StatusCode::UNAUTHORIZED);

    let wrong = app.api("GET", "/api/v1/incidents", Some("fhn_0000"), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // Revoked: stops at once.
    let token = app.token("script", Some(id), false).await;
    assert_eq!(app.api("GET", "/api/v1/teams", Some(&token), None).await.status, StatusCode::OK);
    let token_id = db_id(&app, "script").await;
    app::server::db::api_tokens::revoke(
        &app.pool,
        &app::server::db::audit::Actor::server("test"),
        token_id,
        Some(app::model::UserId(id)),
    )
    .await
    .unwrap();
    assert_eq!(app.api("GET", "/api/v1/teams", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);

    // Expired.
    let expiring = app.token("old", Some(id), false).await;
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'old'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.api("GET", "/api/v1/teams", Some(&expiring), None).await.status, StatusCode::UNAUTHORIZED);

    // A deactivated user's tokens stop working.
    let other = app.token("other", Some(id), false).await;
    sqlx::query("UPDATE users SET active = false WHERE id = $1").bind(id).execute(&app.pool).await.unwrap();
    assert_eq!(app.api("GET", "/api/v1/teams", Some(&other), None).await.status, StatusCode::UNAUTHORIZED);

    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM audit_events ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert!(kinds.contains(&"token_created".to_owned()) && kinds.contains(&"token_revoked".to_owned()), "{kinds:?}");
}

async fn db_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = $1").bind(name).fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test]
async fn the_policy_decides_for_tokens_as_for_pages(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (responder, cookie) = app.user_with_role(Role::Responder).await;
    let (viewer, _) = app.user_with_role(Role::Viewer).await;
    let number = app.declare(&cookie, "Disk full", "SEV3").await;

    // A viewer's token reads, and is refused writes like the viewer's pages.
    let viewer_token = app.token("viewer's", Some(viewer), false).await;
    let read = app.api("GET", &format!("/api/v1/incidents/{number}"), Some(&viewer_token), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let note = json!({ "body": "hello" });
    let refused =
        app.api("POST", &format!("/api/v1/incidents/{number}/timeline"), Some(&viewer_token), Some(note.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.json()["code"], "forbidden");

    // A read-only token of a responder reads, and writes nothing.
    let read_only = app.token("dashboard", Some(responder), true).await;
    assert_eq!(app.api("GET", "/api/v1/incidents", Some(&read_only), None).await.status, StatusCode::OK);
    let refused = app.api("POST", &format!("/api/v1/incidents/{number}/timeline"), Some(&read_only), Some(note)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.json()["detail"].as_str().unwrap().contains("read-only"));
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM timeline_entries WHERE kind = 'note'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(notes, 0);
    let refusals: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE kind = 'access_refused'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(refusals, 2, "each refusal is audited, as the pages' are");

    // Admin-only: the alert routing rules.
    let responder_token = app.token("mine", Some(responder), false).await;
    assert_eq!(
        app.api("GET", "/api/v1/alert-routes", Some(&responder_token), None).await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test]
async fn a_private_incident_is_404_to_a_token_that_may_not_see_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let other = app.create_user("other@example.com", "Other", Role::Responder).await;
    let response = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "Credential leak", "severity": "SEV1", "privacy": { "private": true } } }),
            Some(&cookie),
        )
        .await;
    let number = response.json().as_i64().unwrap();
    let token = app.token("other's", Some(other), false).await;
    for (method, path, body) in [
        ("GET", format!("/api/v1/incidents/{number}"), None),
        ("GET", format!("/api/v1/incidents/{number}/timeline"), None),
        ("GET", format!("/api/v1/incidents/{number}/comms"), None),
        ("POST", format!("/api/v1/incidents/{number}/timeline"), Some(json!({ "body": "x" }))),
        ("POST", format!("/api/v1/incidents/{number}/join"), None),
    ] {
        let r = app.api(method, &path, Some(&token), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.body);
    }
    let listed = app.api("GET", "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(listed.json()["items"], json!([]));
}

#[sqlx::test]
async fn a_write_through_the_api_leaves_what_the_page_leaves(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (id, cookie) = app.user_with_role(Role::Responder).await;
    let token = app.token("bot", Some(id), false).await;
    sqlx::query(
        "INSERT INTO notification_policies (name, severities, events, recipients)
         VALUES ('everything', '{1,2,3,4}', $1, '{oncall@example.com}')",
    )
    .bind(app::model::NotifyEvent::ALL.iter().map(|e| e.as_str().to_owned()).collect::<Vec<_>>())
    .execute(&app.pool)
    .await
    .unwrap();

    let by_page = app.declare(&cookie, "Queue backlog", "SEV2").await;
    app.call("post_note", &[("number", &by_page.to_string()), ("body", "Scaling workers")], Some(&cookie)).await;
    app.call("change_severity", &[("number", &by_page.to_string()), ("severity", "SEV1")], Some(&cookie)).await;
    app.call(
        "change_status",
        &[("number", &by_page.to_string()), ("status", "identified"), ("resolution", "")],
        Some(&cookie),
    )
    .await;

    let by_api = app
        .api("POST", "/api/v1/incidents", Some(&token), Some(json!({ "title": "Queue backlog", "severity": "SEV2" })))
        .await
        .json()["number"]
        .as_i64()
        .unwrap();
    let path = |tail: &str| format!("/api/v1/incidents/{by_api}{tail}");
    let r = app.api("POST", &path("/timeline"), Some(&token), Some(json!({ "body": "Scaling workers" }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["author"]["id"], json!(id));
    let r = app.api("POST", &path("/severity"), Some(&token), Some(json!({ "severity": "SEV1" }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.api("POST", &path("/status"), Some(&token), Some(json!({ "status": "identified" }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let (page_timeline, page_outbox) = traces(&app.pool, by_page).await;
    let (api_timeline, api_outbox) = traces(&app.pool, by_api).await;
    let strip = |t: Vec<(String, String)>, n: i64| {
        t.into_iter().map(|(k, b)| (k, b.replace(&format!("INC-{n}"), "INC-?"))).collect::<Vec<_>>()
    };
    assert_eq!(strip(api_timeline, by_api), strip(page_timeline, by_page));
    assert!(page_outbox.len() >= 3, "{page_outbox:?}");
    assert_eq!(api_outbox, page_outbox);
}

#[sqlx::test]
async fn updates_need_the_version_they_were_read_at(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (id, cookie) = app.user_with_role(Role::Responder).await;
    let token = app.token("editor", Some(id), false).await;
    let number = app.declare(&cookie, "Slow search", "SEV3").await;
    let path = format!("/api/v1/incidents/{number}");

    let read = app.api("GET", &path, Some(&token), None).await;
    let etag = read.header("etag").unwrap().to_owned();

    let without = app.api("PATCH", &path, Some(&token), Some(json!({ "title": "Search slow" }))).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED, "{}", without.body);

    let patched = app
        .api_with("PATCH", &path, Some(&token), Some(json!({ "title": "Search slow in EU" })), &[("if-match", &etag)])
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.json()["title"], "Search slow in EU");
    assert_ne!(patched.header("etag"), Some(etag.as_str()));

    // The old version again: someone (the request above) changed it since.
    let stale =
        app.api_with("PATCH", &path, Some(&token), Some(json!({ "summary": "x" })), &[("if-match", &etag)]).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.json()["code"], "stale_version");
    let summary: String = sqlx::query_scalar("SELECT summary FROM incidents WHERE number = $1")
        .bind(number)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(summary, "", "a stale update changes nothing");
}

#[sqlx::test]
async fn bad_input_is_a_problem_that_names_the_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (id, _) = app.user_with_role(Role::Responder).await;
    let token = app.token("t", Some(id), false).await;

    let r = app.api("POST", "/api/v1/incidents", Some(&token), Some(json!({ "title": "", "severity": "SEV2" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.json()["errors"][0]["field"], "title");

    let r = app.api("POST", "/api/v1/incidents", Some(&token), Some(json!({ "title": "x" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.json()["detail"].as_str().unwrap().contains("severity"));

    let mut request = axum::http::Request::post("/api/v1/incidents")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    request = request.header("x-forwarded-for", "192.0.2.1");
    let r = app.send(request.body(axum::body::Body::from("{\"title\": ")).unwrap()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["code"], "bad_request");

    let r = app.api("GET", "/api/v1/incidents/INC-abc", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.api("GET", "/api/v1/nothing-here", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    let incidents: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents").fetch_one(&app.pool).await.unwrap();
    assert_eq!(incidents, 0);
}

#[sqlx::test]
async fn each_token_has_its_own_rate_limit(pool: PgPool) {
    let web = foghorn::WebSettings {
        api: foghorn::rest::ApiSettings { rate_per_minute: 3, ..Default::default() },
        ..Default::default()
    };
    let app = TestApp::with(pool, test_auth(), web).await;
    let (id, _) = app.user_with_role(Role::Responder).await;
    let busy = app.token("busy", Some(id), false).await;
    let calm = app.token("calm", Some(id), false).await;
    for _ in 0..3 {
        assert_eq!(app.api("GET", "/api/v1/teams", Some(&busy), None).await.status, StatusCode::OK);
    }
    let limited = app.api("GET", "/api/v1/teams", Some(&busy), None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(app.api("GET", "/api/v1/teams", Some(&calm), None).await.status, StatusCode::OK);

    // A new minute, a new window.
    sqlx::query("UPDATE api_tokens SET window_start = now() - interval '61 seconds' WHERE name = 'busy'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.api("GET", "/api/v1/teams", Some(&busy), None).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_service_token_writes_as_its_bot(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Deploy failed", "SEV3").await;
    let token = app.token("deploys", None, false).await;
    let r = app
        .api(
            "POST",
            &format!("/api/v1/incidents/{number}/timeline"),
            Some(&token),
            Some(json!({ "body": "Rolled back v42" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["author"]["display_name"], "bot: deploys");

    // The bot is nobody a person picks from a list, and never an administrator to count.
    let people = app.call("list_responders", &[], Some(&cookie)).await.json();
    assert!(!people.to_string().contains("bot: deploys"), "{people}");
}

#[sqlx::test]
async fn the_public_status_needs_no_token(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let r = app.api("GET", "/api/v1/status", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json().is_object());
}

/// `foghorn token create` prints the token alone; `revoke` ends it.
#[sqlx::test]
async fn the_command_line_creates_and_revokes_tokens(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ops@example.com", "Ops", Role::Admin).await;
    let url = app.database_url();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_foghorn"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "error")
            .output()
            .expect("foghorn runs")
    };
    let out = run(&["token", "create", "--name", "ci", "--service", "responder"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    let token = stdout.trim();
    assert!(token.starts_with("fhn_") && token.len() == 68, "{token}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE name = 'ci' AND prefix = $1")
        .bind(&token[..12])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the command line wrote to this test's database ({url})");
    let teams = app.api("GET", "/api/v1/teams", Some(token), None).await;
    assert_eq!(teams.status, StatusCode::OK, "{}", teams.body);

    let out =
        run(&["token", "create", "--name", "mine", "--user", "ops@example.com", "--read-only", "--expires-days", "30"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = run(&["token", "revoke", "--name", "ci"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.api("GET", "/api/v1/teams", Some(token), None).await.status, StatusCode::UNAUTHORIZED);

    let out = run(&["token", "revoke", "--name", "ci"]);
    assert!(!out.status.success(), "a name no live token has is an error");
}

#[sqlx::test]
async fn the_openapi_document_describes_every_route(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let doc = app.api("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/incidents",
        "/incidents/{number}",
        "/incidents/{number}/status",
        "/incidents/{number}/severity",
        "/incidents/{number}/roles/{role}",
        "/incidents/{number}/join",
        "/incidents/{number}/timeline",
        "/incidents/{number}/timeline/{entry_id}/key",
        "/incidents/{number}/comms",
        "/services",
        "/teams",
        "/status",
        "/alerts/alertmanager",
        "/alerts/grafana",
        "/alert-routes",
        "/chat/slack/command",
        "/action-items",
        "/action-items/{id}",
        "/action-items/{id}/status",
        "/postmortems/{number}",
        "/postmortems/{number}/markdown",
        "/services/{id}",
    ] {
        assert!(paths.contains_key(path), "{path} is not in the document");
    }
    assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["IncidentDetail"].is_object());
    assert_eq!(doc["components"]["schemas"]["Severity"]["enum"], json!(["SEV1", "SEV2", "SEV3", "SEV4"]));

    let page = app.api("GET", "/api/v1/docs", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<code>/incidents/{number}/timeline</code>"));
    assert!(page.body.contains("id=\"problem-stale_version\""));
    assert!(!page.body.contains("<script"), "no scripts, nothing from elsewhere");
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"), "{csp}");
}

#[sqlx::test]
async fn action_items_and_postmortems_through_the_api(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (id, cookie) = app.user_with_role(Role::Responder).await;
    let (viewer, _) = app.user_with_role(Role::Viewer).await;
    let token = app.token("tracker", Some(id), false).await;
    let number = app.declare(&cookie, "Queue backlog", "SEV2").await;

    let body = json!({ "incident_number": number, "title": "Alert on queue depth", "priority": "P1", "due_date": "2026-12-20" });
    let created = app.api("POST", "/api/v1/action-items", Some(&token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let item = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("/api/v1/action-items/{item}").as_str()));
    assert_eq!(created.json()["priority"], "P1");

    let listed = app.api("GET", &format!("/api/v1/action-items?incident={number}"), Some(&token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.json()["counts"]["total"], 1);

    let path = format!("/api/v1/action-items/{item}");
    let patched = app.api("PATCH", &path, Some(&token), Some(json!({ "owner_id": id, "due_date": null }))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.json()["owner"]["id"], json!(id));
    assert_eq!(patched.json()["due_date"], serde_json::Value::Null);

    let done = app.api("POST", &format!("{path}/status"), Some(&token), Some(json!({ "status": "done" }))).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(app.api("GET", &path, Some(&token), None).await.json()["status"], "done");
    let history = app.call("get_action_item_history", &[("id", &item.to_string())], Some(&cookie)).await.json();
    assert!(history.as_array().unwrap().len() >= 3, "each change is in the item's history: {history}");

    // A viewer (who leads no team) may not reassign, through the API either.
    let viewer_token = app.token("viewer's", Some(viewer), false).await;
    let refused = app.api("PATCH", &path, Some(&viewer_token), Some(json!({ "owner_id": null }))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let r = app.call("start_postmortem", &[("number", &number.to_string())], Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pm = app.api("GET", &format!("/api/v1/postmortems/INC-{number}"), Some(&token), None).await;
    assert_eq!(pm.status, StatusCode::OK, "{}", pm.body);
    assert_eq!(pm.json()["incident_title"], "Queue backlog");
    let md = app.api("GET", &format!("/api/v1/postmortems/{number}/markdown"), Some(&token), None).await;
    assert_eq!(md.header("content-type"), Some("text/markdown; charset=utf-8"));
    assert!(md.body.contains("Queue backlog"), "{}", md.body);
}

#[sqlx::test]
async fn admins_write_services_and_teams(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.create_user("admin@example.com", "Admin", Role::Admin).await;
    let (responder, _) = app.user_with_role(Role::Responder).await;
    let token = app.token("directory", Some(admin), false).await;
    let team = app.api("POST", "/api/v1/teams", Some(&token), Some(json!({ "name": "Payments" }))).await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.body);
    let team_id = team.json()["id"].as_i64().unwrap();
    let body = json!({ "name": "Checkout", "description": "Paying", "team_id": team_id });
    let service = app.api("POST", "/api/v1/services", Some(&token), Some(body)).await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.body);
    assert_eq!(service.json()["team_name"], "Payments");
    let id = service.json()["id"].as_i64().unwrap();
    let renamed =
        app.api("PUT", &format!("/api/v1/services/{id}"), Some(&token), Some(json!({ "name": "Checkout API" }))).await;
    assert_eq!(renamed.json()["name"], "Checkout API");
    assert_eq!(renamed.json()["team_id"], serde_json::Value::Null);
    let joined = app.api("PUT", &format!("/api/v1/teams/{team_id}/members/{responder}"), Some(&token), None).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    assert_eq!(joined.json()["members"][0]["user_id"], json!(responder));
    let led = app
        .api("PUT", &format!("/api/v1/teams/{team_id}/lead"), Some(&token), Some(json!({ "user_id": responder })))
        .await;
    assert_eq!(led.json()["lead"]["user_id"], json!(responder));
    let left = app.api("DELETE", &format!("/api/v1/teams/{team_id}/members/{responder}"), Some(&token), None).await;
    assert_eq!(left.json()["members"], json!([]));
    assert_eq!(left.json()["lead"], serde_json::Value::Null, "the lead left with their membership");
    let duplicate = app.api("POST", "/api/v1/teams", Some(&token), Some(json!({ "name": "payments" }))).await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", duplicate.body);

    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM audit_events WHERE actor LIKE '%(token directory)' ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        kinds,
        [
            "team_created",
            "service_created",
            "service_changed",
            "team_member_added",
            "team_lead_changed",
            "team_member_removed"
        ]
    );

    let theirs = app.token("theirs", Some(responder), false).await;
    let refused = app.api("POST", "/api/v1/teams", Some(&theirs), Some(json!({ "name": "Rogue" }))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// Every REST operation has a decision about private incidents in the policy module,
/// as every server function has (see `private_incidents.rs`).
#[sqlx::test]
async fn every_rest_operation_has_a_visibility_decision(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let doc = app.api("GET", "/api/v1/openapi.json", None, None).await.json();
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut decided: Vec<String> = app::server::policy::REST_OPERATIONS.iter().map(|(op, _)| op.to_string()).collect();
    decided.sort();
    assert_eq!(documented, decided, "the OpenAPI document and policy::REST_OPERATIONS disagree");
}
