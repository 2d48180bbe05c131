//! Postmortems: started from the incident, saved under optimistic concurrency with every
//! version kept, published by the rules, readable by viewers only once published, and
//! their meetings in a calendar feed that real calendar software can read.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;

async fn start(app: &TestApp, cookie: &str, number: i64) {
    let response = app.call("start_postmortem", &[("number", &number.to_string())], Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "start: {}", response.body);
}

async fn postmortem(app: &TestApp, cookie: &str, number: i64) -> Value {
    let response = app.call("get_postmortem", &[("number", &number.to_string())], Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "postmortem: {}", response.body);
    response.json()
}

async fn save(app: &TestApp, cookie: &str, number: i64, base: i64, sections: &Value) -> common::TestResponse {
    app.call_json(
        "save_postmortem",
        json!({ "number": number, "base_version": base, "sections": sections }),
        Some(cookie),
    )
    .await
}

/// A postmortem whose sections all have text except those named in `blank`.
fn filled(blank: &[&str]) -> Value {
    let mut sections = serde_json::Map::new();
    for key in
        ["summary", "impact", "timeline", "contributing_factors", "went_well", "went_wrong", "got_lucky", "lessons"]
    {
        let text = if blank.contains(&key) { String::new() } else { format!("{key} text") };
        sections.insert(key.into(), Value::String(text));
    }
    Value::Object(sections)
}

#[sqlx::test(migrations = false)]
async fn starting_prefills_impact_and_timeline_from_the_incident_once_per_incident(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Payments time out", "SEV2").await;
    let n = number.to_string();
    app.call("change_severity", &[("number", &n), ("severity", "SEV1")], Some(&cookie)).await;
    app.call("post_note", &[("number", &n), ("body", "Rolled back the connection-pool change")], Some(&cookie)).await;
    app.call("post_note", &[("number", &n), ("body", "chatter that is not a key event")], Some(&cookie)).await;
    let key: i64 = sqlx::query_scalar("SELECT id FROM timeline_entries WHERE body LIKE 'Rolled back%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.call("set_key_event", &[("entry_id", &key.to_string()), ("key", "true")], Some(&cookie)).await;
    app.call(
        "change_status",
        &[("number", &n), ("status", "resolved"), ("resolution", "pool size restored")],
        Some(&cookie),
    )
    .await;

    start(&app, &cookie, number).await;
    let pm = postmortem(&app, &cookie, number).await;
    assert_eq!(pm["status"], "draft");
    assert_eq!(pm["version"], 1);
    let impact = pm["sections"]["impact"].as_str().unwrap();
    assert!(impact.contains("SEV1"), "{impact}");
    assert!(impact.contains("**Resolved:**") && !impact.contains("not yet"), "{impact}");
    let timeline = pm["sections"]["timeline"].as_str().unwrap();
    for expected in [
        "declared INC-",
        "raised the severity from SEV2 to SEV1",
        "Rolled back the connection-pool change",
        "resolved the incident",
    ] {
        assert!(timeline.contains(expected), "timeline lacks {expected:?}:\n{timeline}");
    }
    assert!(!timeline.contains("chatter"), "only key notes are imported:\n{timeline}");
    assert!(timeline.contains(" UTC**"), "entries carry their times:\n{timeline}");
    assert_eq!(pm["sections"]["summary"], "", "sections without facts start empty");

    // One per incident.
    let again = app.call("start_postmortem", &[("number", &n)], Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM postmortems").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1);
    // The incident knows, and its timeline says who started it.
    let view = app.incident(&cookie, number).await;
    assert_eq!(view["incident"]["postmortem"], "draft");
    let last = view["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "postmortem");
    assert_eq!(last["body"], "Responder user started the postmortem");
}

#[sqlx::test(migrations = false)]
async fn refreshing_the_timeline_brings_in_new_events(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Search is slow", "SEV3").await;
    start(&app, &cookie, number).await;
    app.call(
        "change_status",
        &[("number", &number.to_string()), ("status", "monitoring"), ("resolution", "")],
        Some(&cookie),
    )
    .await;
    let response = app.call("get_postmortem_timeline_import", &[("number", &number.to_string())], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::OK);
    let text = response.json();
    assert!(text.as_str().unwrap().contains("changed the status from investigating to monitoring"), "{text}");
}

#[sqlx::test(migrations = false)]
async fn two_saves_from_one_version_one_wins_and_the_other_gets_the_current_version(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, alice) = app.user_with_role(Role::Responder).await;
    let (_, bob) = app.user_with_role(Role::Admin).await;
    let number = app.declare(&alice, "Login loop", "SEV2").await;
    start(&app, &alice, number).await;
    let mut a = postmortem(&app, &alice, number).await["sections"].clone();
    let mut b = a.clone();
    a["summary"] = json!("Alice's summary");
    b["summary"] = json!("Bob's summary");

    let (ra, rb) = tokio::join!(save(&app, &alice, number, 1, &a), save(&app, &bob, number, 1, &b));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", ra.body, rb.body);
    let (winner, loser, winning_text) = if ra.status == StatusCode::OK { (&ra, &rb, &a) } else { (&rb, &ra, &b) };
    assert_eq!(winner.json()["version"], 2);
    let conflict = &loser.json();
    assert_eq!(conflict["version"], 2, "{}", loser.body);
    let current: Value = serde_json::from_str(conflict["content"].as_str().unwrap()).unwrap();
    assert_eq!(current["summary"], winning_text["summary"], "the conflict carries the winner's text");
    let stored = postmortem(&app, &alice, number).await;
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["sections"]["summary"], winning_text["summary"]);
}

#[sqlx::test(migrations = false)]
async fn twenty_concurrent_savers_lose_no_update(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Queue backlog", "SEV3").await;
    start(&app, &cookie, number).await;

    // Each saver adds its own line to Lessons, re-reading and retrying on conflict,
    // the way the editor merges.
    let savers = (0..20).map(|i| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let mut conflicts = 0;
            loop {
                let pm = postmortem(app, &cookie, number).await;
                let mut sections = pm["sections"].clone();
                let lessons = format!("{}\nsaver {i}", sections["lessons"].as_str().unwrap());
                sections["lessons"] = json!(lessons);
                let response = save(app, &cookie, number, pm["version"].as_i64().unwrap(), &sections).await;
                match response.status {
                    StatusCode::OK => return conflicts,
                    StatusCode::CONFLICT => conflicts += 1,
                    other => panic!("saver {i}: {other} {}", response.body),
                }
            }
        }
    });
    let conflicts: usize = futures::future::join_all(savers).await.into_iter().sum();
    let pm = postmortem(&app, &cookie, number).await;
    let lessons = pm["sections"]["lessons"].as_str().unwrap();
    for i in 0..20 {
        assert!(lessons.lines().any(|l| l == format!("saver {i}")), "saver {i}'s line was lost:\n{lessons}");
    }
    assert_eq!(pm["version"], 21, "one version per successful save");
    let versions: Vec<i32> = sqlx::query_scalar("SELECT version FROM postmortem_versions ORDER BY version")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(versions, (1..=21).collect::<Vec<_>>());
    // With 20 savers racing, some must have been refused (and retried) rather than overwriting.
    assert!(conflicts > 0, "no save was ever refused: the race did not happen");
}

#[sqlx::test(migrations = false)]
async fn every_version_is_kept_and_an_old_one_can_be_restored(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Disk full", "SEV3").await;
    start(&app, &cookie, number).await;
    let mut sections = postmortem(&app, &cookie, number).await["sections"].clone();
    sections["summary"] = json!("First summary\nsecond line");
    assert_eq!(save(&app, &cookie, number, 1, &sections).await.status, StatusCode::OK);
    sections["summary"] = json!("Rewritten summary\nsecond line");
    sections["lessons"] = json!("Alert on disk usage");
    assert_eq!(save(&app, &cookie, number, 2, &sections).await.status, StatusCode::OK);
    // Saving identical text makes no version.
    assert_eq!(save(&app, &cookie, number, 3, &sections).await.json()["version"], 3);

    let versions = app.call("list_postmortem_versions", &[("number", &number.to_string())], Some(&cookie)).await.json();
    let list = versions.as_array().unwrap();
    assert_eq!(list.iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>(), [3, 2, 1]);
    assert_eq!(list[0]["changed"], json!(["summary", "lessons"]));
    assert_eq!(list[1]["changed"], json!(["summary"]));
    assert_eq!(list[0]["author"]["display_name"], "Responder user");

    let detail = app
        .call("get_postmortem_version", &[("number", &number.to_string()), ("version", "3")], Some(&cookie))
        .await
        .json();
    let summary_diff = &detail["diffs"][0];
    assert_eq!(summary_diff[0], "summary");
    assert_eq!(
        summary_diff[1],
        json!([{ "Removed": "First summary" }, { "Added": "Rewritten summary" }, { "Same": "second line" }])
    );

    // Restoring from a stale base is refused like any stale save.
    let stale = app
        .call(
            "restore_postmortem_version",
            &[("number", &number.to_string()), ("version", "2"), ("base_version", "2")],
            Some(&cookie),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let restored = app
        .call(
            "restore_postmortem_version",
            &[("number", &number.to_string()), ("version", "2"), ("base_version", "3")],
            Some(&cookie),
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(restored.json()["version"], 4);
    let pm = postmortem(&app, &cookie, number).await;
    assert_eq!(pm["sections"]["summary"], "First summary\nsecond line");
    assert_eq!(pm["sections"]["lessons"], "");
    let note: String = sqlx::query_scalar("SELECT note FROM postmortem_versions WHERE version = 4")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(note, "restored version 2");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM postmortem_versions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(kept, 4, "restoring adds a version and deletes none");
}

#[sqlx::test(migrations = false)]
async fn publishing_needs_the_required_sections_and_action_items_or_a_reason(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "CDN purge failed", "SEV2").await;
    let n = number.to_string();
    start(&app, &cookie, number).await;
    let status = |s: &'static str| [("number", n.clone()), ("status", s.to_owned())];
    let move_to = |s: &'static str| {
        let form = status(s);
        let app = &app;
        let cookie = cookie.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call("move_postmortem", &form, Some(&cookie)).await
        }
    };

    let skip = move_to("published").await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY, "a draft goes through review first");
    assert_eq!(move_to("in_review").await.status, StatusCode::OK);

    // Required sections blank: refused, naming them, and nothing changes.
    save(&app, &cookie, number, 1, &filled(&["summary", "lessons"])).await;
    let refused = move_to("published").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = refused.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("Summary") && message.contains("Lessons") && !message.contains("Impact"), "{message}");
    assert_eq!(postmortem(&app, &cookie, number).await["status"], "in_review");

    // Sections complete but no action items and no reason: refused.
    save(&app, &cookie, number, 2, &filled(&["went_well"])).await;
    let refused = move_to("published").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("action item"), "{}", refused.body);

    // A linked action item is enough.
    let incident_id: i64 = sqlx::query_scalar("SELECT id FROM incidents WHERE number = $1")
        .bind(number)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO action_items (incident_id, title) VALUES ($1, 'Alert on purge failures')")
        .bind(incident_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let published = move_to("published").await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    let pm = postmortem(&app, &cookie, number).await;
    assert_eq!(pm["status"], "published");
    assert!(!pm["published_at"].is_null());
    assert!(pm["corrected_at"].is_null());
    let moves: Vec<(String, String)> = pm["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_str().unwrap().to_owned(), m["to"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(moves, [("draft".into(), "in_review".into()), ("in_review".into(), "published".into())]);
    assert!(pm["moves"].as_array().unwrap().iter().all(|m| m["by"]["display_name"] == "Responder user"));

    // Published is final, but can be corrected: a new version with an "updated" mark.
    assert_eq!(move_to("draft").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut corrected = pm["sections"].clone();
    corrected["summary"] = json!("Corrected summary");
    assert_eq!(save(&app, &cookie, number, pm["version"].as_i64().unwrap(), &corrected).await.status, StatusCode::OK);
    let pm = postmortem(&app, &cookie, number).await;
    assert!(!pm["corrected_at"].is_null(), "a correction after publishing is marked");
    assert_eq!(pm["status"], "published");
}

#[sqlx::test(migrations = false)]
async fn a_reason_for_no_action_items_allows_publishing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Typo on the status page", "SEV4").await;
    let n = number.to_string();
    start(&app, &cookie, number).await;
    save(&app, &cookie, number, 1, &filled(&[])).await;
    app.call("move_postmortem", &[("number", &n), ("status", "in_review")], Some(&cookie)).await;
    let reason = app
        .call(
            "set_no_action_items_reason",
            &[("number", &n), ("reason", "Fixed for good by the rollback itself")],
            Some(&cookie),
        )
        .await;
    assert_eq!(reason.status, StatusCode::OK);
    let published = app.call("move_postmortem", &[("number", &n), ("status", "published")], Some(&cookie)).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
}

#[sqlx::test(migrations = false)]
async fn viewers_read_published_postmortems_only_and_nobody_without_the_role_writes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let number = app.declare(&responder, "Webhooks delayed", "SEV3").await;
    let n = number.to_string();
    start(&app, &responder, number).await;
    app.call(
        "schedule_postmortem_meeting",
        &[("number", &n), ("at", "2030-01-02T15:00:00Z"), ("place", "Room 4")],
        Some(&responder),
    )
    .await;

    // A draft is invisible to a viewer: page, list, history, download.
    assert_eq!(app.call("get_postmortem", &[("number", &n)], Some(&viewer)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call("list_postmortem_versions", &[("number", &n)], Some(&viewer)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/postmortems/INC-{n}/markdown"), Some(&viewer)).await.status,
        StatusCode::NOT_FOUND
    );
    let list = app.call_json("list_postmortems", json!({ "filter": {} }), Some(&viewer)).await.json();
    assert_eq!(list["postmortems"].as_array().unwrap().len(), 0);
    assert!(!list["can_edit"].as_bool().unwrap());
    let list = app.call_json("list_postmortems", json!({ "filter": {} }), Some(&responder)).await.json();
    assert_eq!(list["postmortems"].as_array().unwrap().len(), 1);

    // Every write, refused for anonymous (401) and viewers (403), changing nothing.
    let fingerprint = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT concat((SELECT string_agg(concat(id, status, version, sections::text, team_id, no_action_items_reason,
                                                    meeting_at, meeting_place, meeting_sequence), ',') FROM postmortems),
                           (SELECT count(*) FROM postmortem_versions), (SELECT count(*) FROM postmortem_attendees),
                           (SELECT count(*) FROM postmortem_status_moves), (SELECT count(*) FROM timeline_entries))",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let other = app.declare(&responder, "Another", "SEV4").await.to_string();
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("start_postmortem", vec![("number", &other)]),
        ("move_postmortem", vec![("number", &n), ("status", "in_review")]),
        ("restore_postmortem_version", vec![("number", &n), ("version", "1"), ("base_version", "1")]),
        ("set_postmortem_team", vec![("number", &n), ("team_id", "")]),
        ("set_no_action_items_reason", vec![("number", &n), ("reason", "none")]),
        ("schedule_postmortem_meeting", vec![("number", &n), ("at", ""), ("place", "")]),
        ("attend_postmortem", vec![("number", &n), ("attending", "true")]),
        ("get_postmortem_timeline_import", vec![("number", &n)]),
    ];
    for (who, cookie, expected) in
        [("anonymous", None, StatusCode::UNAUTHORIZED), ("viewer", Some(viewer.as_str()), StatusCode::FORBIDDEN)]
    {
        for (endpoint, form) in &forms {
            let before = fingerprint().await;
            let response = app.call(endpoint, form, cookie).await;
            assert_eq!(response.status, expected, "{who} {endpoint}: {}", response.body);
            assert_eq!(fingerprint().await, before, "{who} {endpoint} changed something");
        }
        let before = fingerprint().await;
        let response = save(&app, cookie.unwrap_or(""), number, 1, &filled(&[])).await;
        assert_eq!(response.status, expected, "{who} save: {}", response.body);
        assert_eq!(fingerprint().await, before, "{who} save changed something");
    }
    // Viewers do see when meetings are (they are open to everyone).
    assert_eq!(list["meetings"][0]["place"], "Room 4");

    // Once published, a viewer reads it, its history and its Markdown.
    save(&app, &responder, number, 1, &filled(&[])).await;
    app.call("set_no_action_items_reason", &[("number", &n), ("reason", "config only")], Some(&responder)).await;
    app.call("move_postmortem", &[("number", &n), ("status", "in_review")], Some(&responder)).await;
    app.call("move_postmortem", &[("number", &n), ("status", "published")], Some(&responder)).await;
    let pm = postmortem(&app, &viewer, number).await;
    assert_eq!(pm["status"], "published");
    assert_eq!(pm["can_edit"], false);
    assert_eq!(app.call("list_postmortem_versions", &[("number", &n)], Some(&viewer)).await.status, StatusCode::OK);
    let list = app.call_json("list_postmortems", json!({ "filter": {} }), Some(&viewer)).await.json();
    assert_eq!(list["postmortems"].as_array().unwrap().len(), 1);
    let md = app.get(&format!("/api/postmortems/INC-{n}/markdown"), Some(&viewer)).await;
    assert_eq!(md.status, StatusCode::OK);
    assert_eq!(md.header("content-type"), Some("text/markdown; charset=utf-8"));
    assert!(md.header("content-disposition").unwrap().contains(&format!("INC-{n}-postmortem.md")));
    assert!(md.body.starts_with(&format!("# Postmortem: INC-{n} Webhooks delayed")), "{}", md.body);
    for heading in [
        "## Summary\n\nsummary text",
        "## Contributing factors",
        "## Action items\n\nNo action items: config only",
        "## Lessons\n\nlessons text",
    ] {
        assert!(md.body.contains(heading), "missing {heading:?}:\n{}", md.body);
    }
    // …but still cannot change it.
    let before = fingerprint().await;
    let mut sections = filled(&[]);
    sections["summary"] = json!("viewer was here");
    assert_eq!(
        save(&app, &viewer, number, pm["version"].as_i64().unwrap(), &sections).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(fingerprint().await, before);
}

#[sqlx::test(migrations = false)]
async fn bad_input_is_named_and_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Cron did not run", "SEV4").await;
    let n = number.to_string();
    start(&app, &cookie, number).await;
    let mut huge = filled(&[]);
    huge["impact"] = json!("x".repeat(50_001));
    let response = save(&app, &cookie, number, 1, &huge).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["field"], "impact");
    for (endpoint, form, field) in [
        ("schedule_postmortem_meeting", vec![("number", n.as_str()), ("at", "next tuesday"), ("place", "")], "at"),
        ("move_postmortem", vec![("number", n.as_str()), ("status", "finished")], "status"),
        ("set_postmortem_team", vec![("number", n.as_str()), ("team_id", "999999")], "team_id"),
    ] {
        let response = app.call(endpoint, &form, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}: {}", response.body);
        assert_eq!(response.json()["field"], field, "{endpoint}");
    }
    let pm = postmortem(&app, &cookie, number).await;
    assert_eq!(pm["version"], 1);
    assert!(pm["meeting_at"].is_null());
    assert_eq!(pm["status"], "draft");
    let missing = app.call("get_postmortem", &[("number", "999999")], Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = false)]
async fn search_and_filters_find_postmortems(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Admin).await;
    let team_id =
        app.call("create_team", &[("name", "Storage")], Some(&cookie)).await.json().as_i64().unwrap().to_string();
    let service = app
        .call("create_service", &[("name", "blob-store"), ("team_id", &team_id), ("description", "")], Some(&cookie))
        .await;
    assert_eq!(service.status, StatusCode::OK, "{}", service.body);
    let service_id: i64 =
        sqlx::query_scalar("SELECT id FROM services WHERE name = 'blob-store'").fetch_one(&app.pool).await.unwrap();

    let replication = app
        .call_json("declare_incident", json!({ "declaration": { "title": "Replica lag", "severity": "SEV2", "service_ids": [service_id], "team_id": team_id.parse::<i64>().unwrap() } }), Some(&cookie))
        .await
        .json()
        .as_i64()
        .unwrap();
    let certificate = app.declare(&cookie, "Expired certificate", "SEV1").await;
    start(&app, &cookie, replication).await;
    start(&app, &cookie, certificate).await;
    let mut text = filled(&[]);
    text["contributing_factors"] = json!("The replication slot filled the disk during vacuuming.");
    save(&app, &cookie, replication, 1, &text).await;

    let numbers = |filter: Value| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            let list = app.call_json("list_postmortems", json!({ "filter": filter }), Some(&cookie)).await;
            assert_eq!(list.status, StatusCode::OK, "{}", list.body);
            list.json()["postmortems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["incident_number"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(numbers(json!({})).await, [certificate, replication], "newest first");
    assert_eq!(numbers(json!({ "q": "vacuum" })).await, [replication], "stemmed search over the text");
    assert_eq!(numbers(json!({ "q": "certificate" })).await, [certificate], "and over the incident title");
    assert_eq!(numbers(json!({ "team_id": team_id.parse::<i64>().unwrap() })).await, [replication]);
    assert_eq!(numbers(json!({ "service_id": service_id })).await, [replication]);
    assert_eq!(numbers(json!({ "status": "draft" })).await.len(), 2);
    assert!(numbers(json!({ "status": "published" })).await.is_empty());
    let bad = app.call_json("list_postmortems", json!({ "filter": { "status": "done" } }), Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Parses an iCalendar document with the `ical` crate (independent of the generator).
fn parse_calendar(body: &str) -> ical::parser::ical::component::IcalCalendar {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(body.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("a valid iCalendar document");
    assert!(parser.next().is_none(), "exactly one calendar");
    calendar
}

fn property<'a>(event: &'a ical::parser::ical::component::IcalEvent, name: &str) -> Option<&'a str> {
    event.properties.iter().find(|p| p.name == name).and_then(|p| p.value.as_deref())
}

#[sqlx::test(migrations = false)]
async fn the_meetings_calendar_parses_and_keeps_uids_across_a_reschedule(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (alice_id, alice) = app.user_with_role(Role::Responder).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let number = app.declare(&alice, "Outage, with; punctuation", "SEV2").await;
    let n = number.to_string();
    start(&app, &alice, number).await;
    let scheduled = app
        .call(
            "schedule_postmortem_meeting",
            &[("number", &n), ("at", "2030-03-04T09:30:00+01:00"), ("place", "Room 2, 3rd floor")],
            Some(&alice),
        )
        .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.body);
    assert_eq!(
        app.call("attend_postmortem", &[("number", &n), ("attending", "true")], Some(&alice)).await.status,
        StatusCode::OK
    );
    let pm = postmortem(&app, &alice, number).await;
    assert_eq!(pm["attendees"][0]["id"], alice_id);

    // A calendar app has no session: the feed address carries the key.
    let address = app.call("get_calendar_feed", &[], Some(&viewer)).await.json();
    let address = address.as_str().unwrap().to_owned();
    assert!(address.starts_with("/api/calendar/postmortems.ics?key="));
    let feed = app.get(&address, None).await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
    assert_eq!(feed.header("content-type"), Some("text/calendar; charset=utf-8"));
    let calendar = parse_calendar(&feed.body);
    assert_eq!(calendar.events.len(), 1);
    let event = &calendar.events[0];
    let uid = property(event, "UID").unwrap().to_owned();
    assert_eq!(property(event, "DTSTART"), Some("20300304T083000Z"), "stored and served in UTC");
    assert_eq!(property(event, "DTEND"), Some("20300304T093000Z"));
    assert!(property(event, "SUMMARY").unwrap().contains(&format!("INC-{n}")));
    assert_eq!(property(event, "LOCATION"), Some("Room 2\\, 3rd floor"), "commas escaped as RFC 5545 says");
    let sequence: u32 = property(event, "SEQUENCE").unwrap().parse().unwrap();

    // Rescheduling keeps the UID and raises SEQUENCE, so calendars move the event.
    app.call(
        "schedule_postmortem_meeting",
        &[("number", &n), ("at", "2030-03-05T14:00:00Z"), ("place", "Room 2, 3rd floor")],
        Some(&alice),
    )
    .await;
    let calendar = parse_calendar(&app.get(&address, None).await.body);
    let event = &calendar.events[0];
    assert_eq!(property(event, "UID"), Some(uid.as_str()));
    assert_eq!(property(event, "DTSTART"), Some("20300305T140000Z"));
    assert!(property(event, "SEQUENCE").unwrap().parse::<u32>().unwrap() > sequence);
    // The same person gets the same address again.
    assert_eq!(app.call("get_calendar_feed", &[], Some(&viewer)).await.json().as_str(), Some(address.as_str()));

    // No key, or a wrong one: refused. A deactivated person's key stops working.
    assert_eq!(app.get("/api/calendar/postmortems.ics", None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/calendar/postmortems.ics?key=guess", None).await.status, StatusCode::UNAUTHORIZED);
    sqlx::query("UPDATE users SET active = false WHERE role = 'viewer'").execute(&app.pool).await.unwrap();
    assert_eq!(app.get(&address, None).await.status, StatusCode::UNAUTHORIZED);

    // Cancelling the meeting removes the event.
    app.call("schedule_postmortem_meeting", &[("number", &n), ("at", ""), ("place", "")], Some(&alice)).await;
    let calendar = parse_calendar(&app.get("/api/calendar/postmortems.ics", Some(&alice)).await.body);
    assert!(calendar.events.is_empty());
}

/// Viewers read the published text and the corrections published after it; the drafts
/// before it (and who wrote them) are the responders' working history.
#[sqlx::test(migrations = false)]
async fn viewers_read_the_published_text_and_its_corrections_never_the_drafts(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let number = app.declare(&responder, "Queue stalled", "SEV2").await;
    let n = number.to_string();
    start(&app, &responder, number).await; // version 1
    let mut draft = filled(&[]);
    draft["summary"] = json!("SECRET-DRAFT: we think Bob broke it");
    assert_eq!(save(&app, &responder, number, 1, &draft).await.status, StatusCode::OK); // 2
    let mut final_text = filled(&[]);
    final_text["summary"] = json!("A full disk stalled the queue.");
    assert_eq!(save(&app, &responder, number, 2, &final_text).await.status, StatusCode::OK); // 3
    app.call("set_no_action_items_reason", &[("number", &n), ("reason", "disk alert exists")], Some(&responder)).await;
    app.call("move_postmortem", &[("number", &n), ("status", "in_review")], Some(&responder)).await;
    assert_eq!(
        app.call("move_postmortem", &[("number", &n), ("status", "published")], Some(&responder)).await.status,
        StatusCode::OK
    );
    let mut corrected = final_text.clone();
    corrected["summary"] = json!("A full disk on the broker stalled the queue.");
    assert_eq!(save(&app, &responder, number, 3, &corrected).await.status, StatusCode::OK); // 4, a correction

    let versions = |cookie: String| {
        let app = &app;
        let n = n.clone();
        async move {
            let response = app.call("list_postmortem_versions", &[("number", &n)], Some(&cookie)).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.body);
            response.json().as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    let version = |cookie: String, v: i32| {
        let app = &app;
        let n = n.clone();
        async move {
            app.call("get_postmortem_version", &[("number", &n), ("version", &v.to_string())], Some(&cookie)).await
        }
    };

    // A viewer: the published version and the correction, nothing before.
    assert_eq!(versions(viewer.clone()).await, [4, 3]);
    for draft in [1, 2] {
        let response = version(viewer.clone(), draft).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "draft version {draft}: {}", response.body);
    }
    let published = version(viewer.clone(), 3).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert!(
        !published.body.contains("SECRET-DRAFT"),
        "the published version's diff shows the draft: {}",
        published.body
    );
    assert_eq!(published.json()["sections"]["summary"], "A full disk stalled the queue.");
    let correction = version(viewer.clone(), 4).await.json();
    let diff = correction["diffs"].to_string();
    assert!(
        diff.contains("A full disk stalled the queue.")
            && diff.contains("A full disk on the broker stalled the queue."),
        "{diff}"
    );

    // Responders and admins keep the whole history.
    for cookie in [responder.clone(), admin.clone()] {
        assert_eq!(versions(cookie.clone()).await, [4, 3, 2, 1]);
        let response = version(cookie, 2).await;
        assert_eq!(response.status, StatusCode::OK);
        assert!(response.body.contains("SECRET-DRAFT"));
    }
}

#[sqlx::test(migrations = false)]
async fn a_new_password_or_a_reset_gives_a_new_calendar_address_and_ends_the_old(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let address = |cookie: String| {
        let app = &app;
        async move { app.call("get_calendar_feed", &[], Some(&cookie)).await.json().as_str().unwrap().to_owned() }
    };
    let first = address(viewer.clone()).await;
    assert_eq!(app.get(&first, None).await.status, StatusCode::OK);

    let changed = app
        .call(
            "change_password",
            &[("current_password", common::PASSWORD), ("new_password", "a brand new long passphrase")],
            Some(&viewer),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        app.get(&first, None).await.status,
        StatusCode::UNAUTHORIZED,
        "the old address stops with the old password"
    );
    let second = address(viewer.clone()).await;
    assert_ne!(second, first);
    assert_eq!(app.get(&second, None).await.status, StatusCode::OK);

    // "Reset calendar address" on the account page.
    assert_eq!(app.call("reset_calendar_address", &[], None).await.status, StatusCode::UNAUTHORIZED);
    let reset = app.call("reset_calendar_address", &[], Some(&viewer)).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let third = reset.json().as_str().unwrap().to_owned();
    assert!(third.starts_with("/api/calendar/postmortems.ics?key="));
    assert_ne!(third, second);
    assert_eq!(app.get(&second, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&third, None).await.status, StatusCode::OK);
    assert_eq!(address(viewer.clone()).await, third, "the address stays until the next reset");
}
