//! Incidents: declaring, working, reading; every change is one transaction with its
//! timeline entry; permissions per role; bad input changes nothing.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::{Role, TIMELINE_PAGE};
use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn declaring_needs_only_a_title_and_severity_and_the_declarer_takes_point(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (me, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Checkout returns 500", "SEV2").await;

    let view = app.incident(&cookie, number).await;
    let incident = &view["incident"];
    assert_eq!(incident["title"], "Checkout returns 500");
    assert_eq!(incident["severity"], "SEV2");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["point"]["id"], me);
    assert!(incident["comms"].is_null());
    assert!(!incident["timestamps"]["acknowledged"].is_null(), "taking point acknowledges");
    let kinds: Vec<&str> = view["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["declared", "role_change"]);
    assert_eq!(view["timeline"][1]["body"], "Responder user took point");
}

#[sqlx::test(migrations = false)]
async fn concurrent_declares_get_distinct_numbers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let declares = (0..20).map(|i| {
        let app = &app;
        let cookie = cookie.clone();
        async move { app.declare(&cookie, &format!("Outage {i}"), "SEV3").await }
    });
    let mut numbers = futures::future::join_all(declares).await;
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 20, "{numbers:?}");
}

#[sqlx::test(migrations = false)]
async fn a_declarer_can_hand_point_to_someone_else(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let bob = app.create_user("bob@example.com", "Bob", Role::Responder).await;
    let response = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "DNS", "severity": "SEV1", "point_user_id": bob } }),
            Some(&cookie),
        )
        .await;
    let number = response.json().as_i64().unwrap();
    let view = app.incident(&cookie, number).await;
    assert_eq!(view["incident"]["point"]["display_name"], "Bob");
    assert_eq!(view["timeline"][1]["body"], "Responder user gave point to Bob");
}

/// Every change, as (endpoint, form, expected entry kind). `{n}` is the incident number.
fn changes(number: i64, other_user: i64) -> Vec<(&'static str, Vec<(&'static str, String)>, &'static str)> {
    let n = number.to_string();
    vec![
        (
            "change_status",
            vec![("number", n.clone()), ("status", "identified".into()), ("resolution", "".into())],
            "status_change",
        ),
        ("change_severity", vec![("number", n.clone()), ("severity", "SEV1".into())], "severity_change"),
        (
            "assign_role",
            vec![("number", n.clone()), ("role", "comms".into()), ("user_id", other_user.to_string())],
            "role_change",
        ),
        ("join_incident", vec![("number", n.clone())], "role_change"),
        (
            "correct_timestamp",
            vec![("number", n.clone()), ("milestone", "started".into()), ("value", "2026-01-02T03:04".into())],
            "timestamp_correction",
        ),
        ("post_note", vec![("number", n.clone()), ("body", "Rolled back deploy 1234".into())], "note"),
        (
            "change_status",
            vec![("number", n.clone()), ("status", "resolved".into()), ("resolution", "Rolled back".into())],
            "status_change",
        ),
        (
            "change_status",
            vec![("number", n), ("status", "investigating".into()), ("resolution", "".into())],
            "status_change",
        ),
    ]
}

#[sqlx::test(migrations = false)]
async fn each_change_writes_exactly_one_timeline_entry(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let other = app.create_user("cara@example.com", "Cara", Role::Responder).await;
    let number = app.declare(&cookie, "Queue backlog", "SEV3").await;

    for (endpoint, form, kind) in changes(number, other) {
        let before = app.last_seq(number).await;
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app.call(endpoint, &form, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{endpoint}: {}", response.body);
        assert_eq!(app.last_seq(number).await, before + 1, "{endpoint} appends exactly one entry");
        let view = app.incident(&cookie, number).await;
        let last = view["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["kind"], kind, "{endpoint}");
        assert_eq!(last["seq"], before + 1);
    }

    let edit = json!({ "edit": { "number": number, "version": app.incident(&cookie, number).await["incident"]["version"], "title": "Queue backlog in eu-west", "summary": "Consumers stalled" } });
    let before = app.last_seq(number).await;
    assert_eq!(app.call_json("edit_incident", edit, Some(&cookie)).await.status, StatusCode::OK);
    assert_eq!(app.last_seq(number).await, before + 1);

    // The sequence has no holes and no repeats.
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT seq FROM timeline_entries e JOIN incidents i ON i.id = e.incident_id WHERE i.number = $1 ORDER BY seq",
    )
    .bind(number)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

#[sqlx::test(migrations = false)]
async fn resolving_and_reopening_keep_the_timestamps_straight(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Payments slow", "SEV2").await;
    let n = number.to_string();

    app.call("change_status", &[("number", &n), ("status", "monitoring"), ("resolution", "")], Some(&cookie)).await;
    let view = app.incident(&cookie, number).await;
    assert!(!view["incident"]["timestamps"]["mitigated"].is_null(), "monitoring means mitigated");

    let resolved = app
        .call(
            "change_status",
            &[("number", &n), ("status", "resolved"), ("resolution", "Scaled the pool")],
            Some(&cookie),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK);
    let view = app.incident(&cookie, number).await;
    assert_eq!(view["incident"]["resolution"], "Scaled the pool");
    assert!(!view["incident"]["timestamps"]["resolved"].is_null());

    app.call("change_status", &[("number", &n), ("status", "investigating"), ("resolution", "")], Some(&cookie)).await;
    let view = app.incident(&cookie, number).await;
    assert!(view["incident"]["timestamps"]["resolved"].is_null(), "reopening clears resolved");
    assert_eq!(view["incident"]["status"], "investigating");
}

#[sqlx::test(migrations = false)]
async fn role_handoffs_keep_their_history(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ana, ana_cookie) = app.user_with_role(Role::Responder).await;
    let bob = app.create_user("bob@example.com", "Bob", Role::Responder).await;
    let bob_cookie = app.sign_in("bob@example.com", common::PASSWORD).await;
    let number = app.declare(&ana_cookie, "Search down", "SEV2").await;
    let n = number.to_string();

    let handoff = app
        .call("assign_role", &[("number", &n), ("role", "point"), ("user_id", &bob.to_string())], Some(&ana_cookie))
        .await;
    assert_eq!(handoff.status, StatusCode::OK, "{}", handoff.body);
    let again = app
        .call("assign_role", &[("number", &n), ("role", "point"), ("user_id", &bob.to_string())], Some(&ana_cookie))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "bob already has point");
    app.call("assign_role", &[("number", &n), ("role", "comms"), ("user_id", &ana.to_string())], Some(&ana_cookie))
        .await;
    app.call("assign_role", &[("number", &n), ("role", "point"), ("user_id", &ana.to_string())], Some(&ana_cookie))
        .await;
    app.call("assign_role", &[("number", &n), ("role", "comms"), ("user_id", &bob.to_string())], Some(&bob_cookie))
        .await;

    let view = app.incident(&ana_cookie, number).await;
    let history: Vec<(String, String, bool)> = view["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["person"]["display_name"].as_str().unwrap().to_owned(),
                r["ended_at"].is_null(),
            )
        })
        .collect();
    let responder = "Responder user".to_owned();
    assert_eq!(
        history,
        vec![
            ("point".into(), responder.clone(), false),
            ("point".into(), "Bob".into(), false),
            ("comms".into(), responder.clone(), false),
            ("point".into(), responder.clone(), true),
            ("comms".into(), "Bob".into(), true),
        ]
    );
    assert_eq!(view["incident"]["point"]["id"], ana);
    assert_eq!(view["incident"]["comms"]["id"], bob);
    let bodies: Vec<&str> = view["timeline"].as_array().unwrap().iter().map(|e| e["body"].as_str().unwrap()).collect();
    assert!(bodies.contains(&"Responder user handed point from Responder user to Bob"), "{bodies:?}");
    assert!(bodies.contains(&"Bob took comms from Responder user"), "{bodies:?}");
}

#[sqlx::test(migrations = false)]
async fn viewers_read_everything_and_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (viewer_id, viewer) = app.user_with_role(Role::Viewer).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let number = app.declare(&responder, "Login broken", "SEV1").await;
    let entry_id: i64 =
        sqlx::query_scalar("SELECT id FROM timeline_entries ORDER BY id LIMIT 1").fetch_one(&app.pool).await.unwrap();

    // Reading works for viewers, and says they cannot respond.
    let view = app.incident(&viewer, number).await;
    assert_eq!(view["can_respond"], false);
    assert_eq!(app.incident(&responder, number).await["can_respond"], true);
    assert_eq!(app.call("get_dashboard", &[], Some(&viewer)).await.status, StatusCode::OK);
    assert_eq!(app.call_json("list_incidents", json!({ "filter": {} }), Some(&viewer)).await.status, StatusCode::OK);
    assert_eq!(
        app.call("get_incident", &[("number", &number.to_string())], None).await.status,
        StatusCode::UNAUTHORIZED
    );

    let n = number.to_string();
    let e = entry_id.to_string();
    let forms: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("change_status", vec![("number", n.clone()), ("status", "identified".into()), ("resolution", "".into())]),
        ("change_severity", vec![("number", n.clone()), ("severity", "SEV2".into())]),
        ("assign_role", vec![("number", n.clone()), ("role", "comms".into()), ("user_id", viewer_id.to_string())]),
        ("join_incident", vec![("number", n.clone())]),
        (
            "correct_timestamp",
            vec![("number", n.clone()), ("milestone", "started".into()), ("value", "2026-01-02T03:04".into())],
        ),
        ("post_note", vec![("number", n.clone()), ("body", "hello".into())]),
        ("edit_note", vec![("entry_id", e.clone()), ("body", "changed".into())]),
        ("set_key_event", vec![("entry_id", e.clone()), ("key", "true".into())]),
    ];
    let json_writes = vec![
        ("declare_incident", json!({ "declaration": { "title": "x", "severity": "SEV4" } })),
        ("edit_incident", json!({ "edit": { "number": number, "version": 1, "title": "changed" } })),
    ];
    let fingerprint = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT concat((SELECT string_agg(concat(number, title, status, severity, version, last_seq, started_at), ',') FROM incidents),
                           (SELECT string_agg(concat(id, body, is_key_event), ',' ORDER BY id) FROM timeline_entries),
                           (SELECT count(*) FROM incident_roles))",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    for (who, cookie, expected) in
        [("anonymous", None, StatusCode::UNAUTHORIZED), ("viewer", Some(viewer.as_str()), StatusCode::FORBIDDEN)]
    {
        for (endpoint, form) in &forms {
            let before = fingerprint().await;
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.call(endpoint, &form, cookie).await;
            assert_eq!(response.status, expected, "{who} {endpoint}: {}", response.body);
            assert_eq!(fingerprint().await, before, "{who} {endpoint} changed something");
        }
        for (endpoint, body) in &json_writes {
            let before = fingerprint().await;
            let response = app.call_json(endpoint, body.clone(), cookie).await;
            assert_eq!(response.status, expected, "{who} {endpoint}: {}", response.body);
            assert_eq!(fingerprint().await, before, "{who} {endpoint} changed something");
        }
    }
    // Responders and admins may.
    for cookie in [&responder, &admin] {
        let response = app.call("post_note", &[("number", &n), ("body", "on it")], Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            app.call_json(
                "declare_incident",
                json!({ "declaration": { "title": "y", "severity": "SEV4" } }),
                Some(cookie)
            )
            .await
            .status,
            StatusCode::OK
        );
    }
    // Only a note's author edits it, even among responders.
    let note: i64 = sqlx::query_scalar("SELECT id FROM timeline_entries WHERE kind = 'note' ORDER BY id LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let not_author =
        app.call("edit_note", &[("entry_id", &note.to_string()), ("body", "mine now")], Some(&admin)).await;
    assert_eq!(not_author.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = false)]
async fn bad_input_gets_a_field_message_and_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Cache misses", "SEV3").await;
    let n = number.to_string();
    let incidents_before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM incidents").fetch_one(&app.pool).await.unwrap();

    let cases: Vec<(&str, Value, &str)> = vec![
        ("declare_incident", json!({ "declaration": { "title": "   ", "severity": "SEV1" } }), "title"),
        ("declare_incident", json!({ "declaration": { "title": "x".repeat(10_000), "severity": "SEV1" } }), "title"),
        ("declare_incident", json!({ "declaration": { "title": "Real", "severity": "SEV9" } }), "severity"),
        (
            "declare_incident",
            json!({ "declaration": { "title": "Real", "severity": "SEV1", "service_ids": [424242] } }),
            "service_ids",
        ),
        (
            "declare_incident",
            json!({ "declaration": { "title": "Real", "severity": "SEV1", "team_id": 424242 } }),
            "team_id",
        ),
    ];
    for (endpoint, body, field) in cases {
        let response = app.call_json(endpoint, body, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
        assert_eq!(response.json()["field"], field, "{}", response.body);
    }
    let nul = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "Nul\u{0}", "severity": "SEV1" } }),
            Some(&cookie),
        )
        .await;
    assert_eq!(nul.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nul.body);
    assert!(nul.body.contains("NUL characters"), "{}", nul.body);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, incidents_before);

    let seq = app.last_seq(number).await;
    let form_cases: Vec<(&str, Vec<(&str, &str)>, StatusCode, &str)> = vec![
        (
            "change_status",
            vec![("number", &n), ("status", "investigating"), ("resolution", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "already",
        ),
        (
            "change_status",
            vec![("number", &n), ("status", "resolved"), ("resolution", "  ")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "how it was resolved",
        ),
        (
            "change_status",
            vec![("number", &n), ("status", "exploded"), ("resolution", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unknown status",
        ),
        ("change_severity", vec![("number", &n), ("severity", "SEV3")], StatusCode::UNPROCESSABLE_ENTITY, "already"),
        ("post_note", vec![("number", &n), ("body", "   \n  ")], StatusCode::UNPROCESSABLE_ENTITY, "Write something"),
        (
            "correct_timestamp",
            vec![("number", &n), ("milestone", "detected"), ("value", "yesterday")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "UTC time",
        ),
        (
            "correct_timestamp",
            vec![("number", &n), ("milestone", "declared"), ("value", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "always has",
        ),
        (
            "correct_timestamp",
            vec![("number", &n), ("milestone", "detected"), ("value", "2199-01-01T00:00")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "future",
        ),
        ("post_note", vec![("number", "999999"), ("body", "hello")], StatusCode::NOT_FOUND, "INC-999999"),
        (
            "post_note",
            vec![("number", &n), ("body", "pasted\0binary")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "NUL characters",
        ),
    ];
    for (endpoint, form, status, message) in form_cases {
        let response = app.call(endpoint, &form, Some(&cookie)).await;
        assert_eq!(response.status, status, "{endpoint}: {}", response.body);
        assert!(response.body.contains(message), "{endpoint}: {}", response.body);
    }
    let too_long = "x".repeat(20_001);
    let response = app.call("post_note", &[("number", &n), ("body", &too_long)], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.last_seq(number).await, seq, "no refused change reached the timeline");
}

#[sqlx::test(migrations = false)]
async fn a_stale_edit_is_refused_and_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Original title", "SEV3").await;
    let version = app.incident(&cookie, number).await["incident"]["version"].as_i64().unwrap();

    let first = app
        .call_json(
            "edit_incident",
            json!({ "edit": { "number": number, "version": version, "title": "First editor" } }),
            Some(&cookie),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let second = app
        .call_json(
            "edit_incident",
            json!({ "edit": { "number": number, "version": version, "title": "Second editor" } }),
            Some(&cookie),
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
    assert!(second.body.contains("changed this incident while you were editing"));
    assert_eq!(app.incident(&cookie, number).await["incident"]["title"], "First editor");
}

#[sqlx::test(migrations = false)]
async fn markdown_in_notes_renders_harmless(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "XSS attempt", "SEV4").await;
    let body = "**Rolled back** <script>alert('x')</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)>";
    let response = app.call("post_note", &[("number", &number.to_string()), ("body", body)], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::OK);
    let html = response.json()["body_html"].as_str().unwrap().to_owned();
    assert!(html.contains("<strong>Rolled back</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    // The source is kept as written.
    assert_eq!(response.json()["body"], body);
}

#[sqlx::test(migrations = false)]
async fn editing_a_note_keeps_its_history(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Typo", "SEV4").await;
    let note = app
        .call("post_note", &[("number", &number.to_string()), ("body", "Restartd the pods")], Some(&cookie))
        .await
        .json();
    let id = note["id"].as_i64().unwrap().to_string();
    let seq = app.last_seq(number).await;

    assert_eq!(
        app.call("edit_note", &[("entry_id", &id), ("body", "Restarted the pods")], Some(&cookie)).await.status,
        StatusCode::OK
    );
    let view = app.incident(&cookie, number).await;
    let entry = view["timeline"].as_array().unwrap().iter().find(|e| e["id"].to_string() == id).unwrap().clone();
    assert_eq!(entry["body"], "Restarted the pods");
    assert!(!entry["edited_at"].is_null(), "shown as edited");
    let revisions = app::server::db::timeline::revisions(&app.pool, id.parse().unwrap()).await.unwrap();
    assert_eq!(revisions, ["Restartd the pods"]);
    assert_eq!(app.last_seq(number).await, seq, "an edit is not a new entry");

    // Only notes are editable; changes are history.
    let declared_id: i64 = sqlx::query_scalar("SELECT id FROM timeline_entries WHERE kind = 'declared'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let response =
        app.call("edit_note", &[("entry_id", &declared_id.to_string()), ("body", "rewritten")], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(
        app.call("set_key_event", &[("entry_id", &id), ("key", "true")], Some(&cookie)).await.status,
        StatusCode::OK
    );
    let view = app.incident(&cookie, number).await;
    assert!(
        view["timeline"].as_array().unwrap().iter().any(|e| e["id"].to_string() == id && e["is_key_event"] == true)
    );
}

#[sqlx::test(migrations = false)]
async fn the_dashboard_orders_active_by_severity_then_age(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let (_, other) = app.user_with_role(Role::Admin).await;
    let old_sev2 = app.declare(&other, "Old SEV2", "SEV2").await;
    let sev3 = app.declare(&cookie, "SEV3", "SEV3").await;
    let new_sev2 = app.declare(&cookie, "New SEV2", "SEV2").await;
    let sev1 = app.declare(&other, "SEV1", "SEV1").await;
    let done = app.declare(&cookie, "Done", "SEV1").await;
    app.call(
        "change_status",
        &[("number", &done.to_string()), ("status", "resolved"), ("resolution", "fixed")],
        Some(&cookie),
    )
    .await;

    let dashboard = app.call("get_dashboard", &[], Some(&cookie)).await.json();
    let numbers =
        |list: &Value| list.as_array().unwrap().iter().map(|i| i["number"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(numbers(&dashboard["active"]), [sev1, old_sev2, new_sev2, sev3]);
    assert_eq!(numbers(&dashboard["mine"]), [new_sev2, sev3], "where I hold point");
    assert_eq!(numbers(&dashboard["recently_resolved"]), [done]);
}

#[sqlx::test(migrations = false)]
async fn a_very_long_timeline_loads_its_latest_entries_and_more_on_request(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Chatty bot", "SEV4").await;
    let seq = app.last_seq(number).await;
    sqlx::query(
        "WITH i AS (UPDATE incidents SET last_seq = last_seq + 1200 WHERE number = $1 RETURNING id)
         INSERT INTO timeline_entries (incident_id, seq, kind, body)
         SELECT i.id, $2 + g, 'note', 'bot line ' || g FROM i, generate_series(1, 1200) g",
    )
    .bind(number)
    .bind(seq)
    .execute(&app.pool)
    .await
    .unwrap();
    let total = seq + 1200;
    let view = app.incident(&cookie, number).await;
    let timeline = view["timeline"].as_array().unwrap();
    assert_eq!(timeline.len() as i64, TIMELINE_PAGE);
    assert_eq!(view["timeline_total"], total);
    assert_eq!(timeline.last().unwrap()["body"], "bot line 1200", "the newest are kept");
    assert_eq!(timeline.first().unwrap()["seq"], total - TIMELINE_PAGE + 1, "oldest first, contiguous");

    // "Show earlier" asks for every entry from an earlier one on; a viewer may too.
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let from = |seq: i64| {
        let (app, viewer) = (&app, &viewer);
        async move {
            let response = app
                .call("get_incident", &[("number", &number.to_string()), ("from", &seq.to_string())], Some(viewer))
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.body);
            let view = response.json();
            view["timeline"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        from(total - 449).await,
        ((total - 449)..=total).collect::<Vec<_>>(),
        "from there on, oldest first, no gaps"
    );
    assert_eq!(from(1).await, (1..=total).collect::<Vec<_>>(), "the whole timeline from the declaration on");
    // Numbers outside the timeline are held to it, never an error.
    assert_eq!(from(-5).await.len() as i64, total);
    assert_eq!(from(total + 10).await, Vec::<i64>::new());
}

#[sqlx::test(migrations = false)]
async fn malformed_arguments_are_bad_input_not_server_errors(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let response = app.call("post_note", &[("number", "abc"), ("body", "hello")], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    assert!(response.body.contains("malformed"), "{}", response.body);
    let response = app.call_json("declare_incident", json!({ "declaration": 5 }), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM timeline_entries").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
}
