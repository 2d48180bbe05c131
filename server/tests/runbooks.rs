//! Runbooks: versions and conflicts, the review rule, drills kept off public surfaces
//! and away from the company's inboxes, and the offline export.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::path::Path;

async fn create(app: &TestApp, cookie: &str, title: &str, body: &str, services: &[i64]) -> i64 {
    let response = app
        .call_json(
            "create_runbook",
            json!({ "runbook": { "title": title, "body": body, "service_ids": services } }),
            Some(cookie),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "create: {}", response.body);
    response.json().as_i64().unwrap()
}

async fn runbook(app: &TestApp, cookie: &str, id: i64) -> Value {
    let response = app.call("get_runbook", &[("id", &id.to_string())], Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json()
}

async fn save(app: &TestApp, cookie: &str, id: i64, base: i64, title: &str, body: &str) -> common::TestResponse {
    app.call_json("save_runbook", json!({ "id": id, "base_version": base, "title": title, "body": body }), Some(cookie))
        .await
}

#[sqlx::test(migrations = false)]
async fn versions_are_kept_and_a_stale_save_is_refused_with_the_current_text(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, alice) = app.user_with_role(Role::Responder).await;
    let (_, bob) = app.user_with_role(Role::Admin).await;
    let id = create(&app, &alice, "Database failover", "1. Promote the replica", &[]).await;
    assert_eq!(
        save(&app, &alice, id, 1, "Database failover", "1. Promote the replica\n2. Repoint the app").await.status,
        StatusCode::OK
    );
    let stale = save(&app, &bob, id, 1, "Database failover", "Bob's rewrite").await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let conflict = &stale.json();
    assert_eq!(conflict["version"], 2);
    let current: Value = serde_json::from_str(conflict["content"].as_str().unwrap()).unwrap();
    assert_eq!(current["body"], "1. Promote the replica\n2. Repoint the app");
    let r = runbook(&app, &alice, id).await;
    assert_eq!(r["version"], 2);
    assert!(r["body_html"].as_str().unwrap().contains("<ol>"));

    let versions = app.call("list_runbook_versions", &[("id", &id.to_string())], Some(&alice)).await.json();
    assert_eq!(versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 1]);
    let restored = app
        .call(
            "restore_runbook_version",
            &[("id", &id.to_string()), ("version", "1"), ("base_version", "2")],
            Some(&alice),
        )
        .await;
    assert_eq!(restored.json()["version"], 3);
    assert_eq!(runbook(&app, &alice, id).await["text"]["body"], "1. Promote the replica");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM runbook_versions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 3);
}

#[sqlx::test(migrations = false)]
async fn review_falls_due_after_the_interval_and_drills_are_listed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let fresh = create(&app, &cookie, "Fresh", "", &[]).await;
    let stale = create(&app, &cookie, "Stale", "", &[]).await;
    let reviewed = create(&app, &cookie, "Reviewed long ago", "", &[]).await;
    sqlx::query("UPDATE runbooks SET created_at = now() - interval '200 days' WHERE id = ANY($1)")
        .bind(vec![stale, reviewed])
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE runbooks SET last_reviewed_at = now() - interval '91 days' WHERE id = $1")
        .bind(reviewed)
        .execute(&app.pool)
        .await
        .unwrap();
    let overdue = |filter: Value| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            let list = app.call_json("list_runbooks", json!({ "filter": filter }), Some(&cookie)).await.json();
            let mut ids: Vec<i64> =
                list["runbooks"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(overdue(json!({ "review_overdue": true })).await, [stale, reviewed]);
    assert_eq!(
        app.call("mark_runbook_reviewed", &[("id", &stale.to_string())], Some(&cookie)).await.status,
        StatusCode::OK
    );
    assert_eq!(overdue(json!({ "review_overdue": true })).await, [reviewed]);
    // A shorter interval makes a fresh runbook due sooner.
    sqlx::query("UPDATE runbooks SET review_interval_days = 1, created_at = now() - interval '2 days' WHERE id = $1")
        .bind(fresh)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(overdue(json!({ "review_overdue": true })).await, [fresh, reviewed]);

    // Drill filters: never, and not in six months.
    let drilled =
        app.call("start_drill", &[("runbook_id", &fresh.to_string()), ("severity", "SEV3")], Some(&cookie)).await;
    assert_eq!(drilled.status, StatusCode::OK, "{}", drilled.body);
    sqlx::query("UPDATE runbook_drills SET started_at = now() - interval '200 days' WHERE runbook_id = $1")
        .bind(fresh)
        .execute(&app.pool)
        .await
        .unwrap();
    app.call("start_drill", &[("runbook_id", &stale.to_string()), ("severity", "SEV3")], Some(&cookie)).await;
    assert_eq!(overdue(json!({ "drilled": "never" })).await, [reviewed]);
    assert_eq!(overdue(json!({ "drilled": "stale" })).await, [fresh, reviewed]);
}

#[sqlx::test(migrations = false)]
async fn a_drill_stays_off_public_surfaces_and_only_its_people_are_mailed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let service = app
        .call("create_service", &[("name", "Checkout"), ("description", ""), ("team_id", "")], Some(&admin))
        .await
        .json()
        .as_i64()
        .unwrap();
    app.call("set_service_public", &[("id", &service.to_string()), ("public", "true")], Some(&admin)).await;
    app.call_json(
        "create_notification_policy",
        json!({ "policy": { "name": "Everyone", "severities": ["SEV1", "SEV2", "SEV3", "SEV4"], "events": ["declared", "comms_update", "resolved"], "recipients": "all@example.com" } }),
        Some(&admin),
    )
    .await;
    app.call_json("create_webhook", json!({ "webhook": { "name": "chat", "url": "http://127.0.0.1:9/hook", "format": "slack", "severities": ["SEV1"], "events": ["declared"] } }), Some(&admin)).await;
    let id = create(&app, &admin, "Checkout down", "Fail over the payment provider.", &[service]).await;
    let number = app
        .call("start_drill", &[("runbook_id", &id.to_string()), ("severity", "SEV1")], Some(&admin))
        .await
        .json()
        .as_i64()
        .unwrap();

    let view = app.incident(&admin, number).await;
    assert_eq!(view["incident"]["is_drill"], true);
    assert_eq!(view["incident"]["services"][0]["name"], "Checkout");
    assert_eq!(view["incident"]["point"]["display_name"], "Admin user");
    let linked = app.call("list_incident_runbooks", &[("number", &number.to_string())], Some(&admin)).await.json();
    assert_eq!(linked[0]["id"], id);
    let r = runbook(&app, &admin, id).await;
    assert_eq!(r["drills"][0]["incident_number"], number);

    // It behaves like a real incident: comms can post a public update…
    app.take_comms(&admin, number).await;
    let posted = app
        .call_json("post_comms_update", json!({ "update": { "number": number, "known": "rehearsing", "internal": true, "public": true, "public_text": "DRILL-WORDING" } }), Some(&admin))
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    // …which no public surface shows, nor the major-incident banner.
    for path in ["/status", "/status.json", "/status/feed.atom", "/status/banner.js"] {
        let body = app.get(path, None).await.body;
        assert!(!body.contains("DRILL-WORDING") && !body.contains("Checkout down"), "{path}: {body}");
    }
    let status: Value = serde_json::from_str(&app.get("/status.json", None).await.body).unwrap();
    assert_eq!(status["overall"], "operational");
    assert_eq!(app.call("list_major_incidents", &[], Some(&admin)).await.json(), json!([]));

    // Messages go to the drill's participants only, marked, and no webhook fires.
    let outbox: Vec<(String, String, String)> =
        sqlx::query_as("SELECT channel, recipient, subject FROM outbox ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(!outbox.is_empty());
    for (channel, recipient, subject) in &outbox {
        assert_eq!(channel, "email");
        assert_eq!(recipient, "admin@example.com", "not the company list");
        assert!(subject.starts_with("[DRILL] "), "{subject}");
    }
}

#[sqlx::test(migrations = false)]
async fn the_export_is_a_complete_site_whose_links_resolve(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let service = app
        .call("create_service", &[("name", "Search"), ("description", ""), ("team_id", "")], Some(&admin))
        .await
        .json()
        .as_i64()
        .unwrap();
    let a =
        create(&app, &admin, "Reindex search", "Run `reindex --all`.\n\n<script>alert(1)</script>", &[service]).await;
    let b = create(&app, &admin, "Rotate credentials / keys", "1. Rotate\n2. Deploy", &[]).await;
    save(&app, &admin, b, 1, "Rotate credentials / keys", "1. Rotate\n2. Deploy\n3. Verify").await;

    let out = std::env::temp_dir().join(format!("foghorn-export-{}", std::process::id() as u64 * 1000 + a as u64));
    let files = foghorn::runbook_export::current_bundle(&app.pool).await.unwrap();
    foghorn::runbook_export::write_dir(&out, &files).unwrap();
    check_export(&out, &[(a, "Reindex search", 1, vec!["Search"]), (b, "Rotate credentials / keys", 2, vec![])]);
    // Writing again replaces the copy as a whole.
    foghorn::runbook_export::write_dir(&out, &files).unwrap();
    check_export(&out, &[(a, "Reindex search", 1, vec!["Search"]), (b, "Rotate credentials / keys", 2, vec![])]);
    std::fs::remove_dir_all(&out).unwrap();

    // Admins download the same bundle as a zip; others may not.
    let zip = app.get("/api/runbooks/export.zip", Some(&admin)).await;
    assert_eq!(zip.status, StatusCode::OK);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    assert_eq!(app.get("/api/runbooks/export.zip", Some(&responder)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/runbooks/export.zip", None).await.status, StatusCode::UNAUTHORIZED);
}

/// Every runbook has a page and a source; every relative link in the HTML resolves;
/// the manifest matches; nothing needs JavaScript or the network.
fn check_export(out: &Path, expected: &[(i64, &str, i64, Vec<&str>)]) {
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["count"], expected.len());
    let entries = manifest["runbooks"].as_array().unwrap();
    for (id, title, version, services) in expected {
        let entry = entries.iter().find(|e| e["id"] == *id).unwrap_or_else(|| panic!("runbook {id} in the manifest"));
        assert_eq!(entry["title"], *title);
        assert_eq!(entry["version"], *version);
        assert_eq!(entry["services"], json!(services));
        let html = std::fs::read_to_string(out.join(entry["html"].as_str().unwrap())).unwrap();
        assert!(html.contains(&title.replace('/', "/")), "page has the title");
        assert!(!html.contains("<script"), "no JavaScript, and markdown's raw HTML stays text");
        let md = std::fs::read_to_string(out.join(entry["markdown"].as_str().unwrap())).unwrap();
        assert!(md.starts_with(&format!("# {title}")));
    }
    let mut pages = vec![out.join("index.html")];
    pages.extend(entries.iter().map(|e| out.join(e["html"].as_str().unwrap())));
    let index = std::fs::read_to_string(&pages[0]).unwrap();
    for (_, title, _, _) in expected {
        assert!(index.contains(&title.replace('/', "/")), "index lists {title}");
    }
    for page in pages {
        let html = std::fs::read_to_string(&page).unwrap();
        for href in html.split("href=\"").skip(1).map(|rest| rest.split('"').next().unwrap()) {
            assert!(!href.starts_with('/') && !href.contains("://"), "{href} must be relative in {}", page.display());
            let target = page.parent().unwrap().join(href);
            assert!(target.exists(), "{href} in {} resolves", page.display());
        }
    }
}

#[sqlx::test(migrations = false)]
async fn viewers_read_runbooks_and_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let id = create(&app, &responder, "Cache flush", "Flush it.", &[]).await;
    let number = app.declare(&responder, "Cache stale", "SEV3").await;
    assert_eq!(runbook(&app, &viewer, id).await["can_edit"], false);
    let fingerprint = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT concat((SELECT string_agg(concat(id, title, body, version, last_reviewed_at), ',') FROM runbooks),
                           (SELECT count(*) FROM runbook_versions), (SELECT count(*) FROM runbook_drills),
                           (SELECT count(*) FROM incident_runbooks), (SELECT count(*) FROM incidents))",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let (i, n) = (id.to_string(), number.to_string());
    for (who, cookie, expected) in
        [("anonymous", None, StatusCode::UNAUTHORIZED), ("viewer", Some(viewer.as_str()), StatusCode::FORBIDDEN)]
    {
        for (endpoint, form) in [
            ("mark_runbook_reviewed", vec![("id", i.as_str())]),
            ("start_drill", vec![("runbook_id", i.as_str()), ("severity", "SEV3")]),
            ("attach_runbook", vec![("number", n.as_str()), ("runbook_id", i.as_str())]),
            ("restore_runbook_version", vec![("id", i.as_str()), ("version", "1"), ("base_version", "1")]),
        ] {
            let before = fingerprint().await;
            assert_eq!(app.call(endpoint, &form, cookie).await.status, expected, "{who} {endpoint}");
            assert_eq!(fingerprint().await, before, "{who} {endpoint} changed something");
        }
        let before = fingerprint().await;
        assert_eq!(save(&app, cookie.unwrap_or(""), id, 1, "x", "y").await.status, expected, "{who} save");
        assert_eq!(
            app.call_json("create_runbook", json!({ "runbook": { "title": "x" } }), cookie).await.status,
            expected,
            "{who} create"
        );
        assert_eq!(fingerprint().await, before);
    }
    // Responders attach one to an incident; the incident page lists it.
    assert_eq!(
        app.call("attach_runbook", &[("number", &n), ("runbook_id", &i)], Some(&responder)).await.status,
        StatusCode::OK
    );
    let linked = app.call("list_incident_runbooks", &[("number", &n)], Some(&viewer)).await.json();
    assert_eq!(linked, json!([{ "id": id, "title": "Cache flush", "attached": true }]));
}

#[sqlx::test(migrations = false)]
async fn the_scheduled_export_keeps_a_copy_fresh(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    create(&app, &cookie, "First", "one", &[]).await;
    let out = std::env::temp_dir().join(format!("foghorn-scheduled-{}", std::process::id()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(foghorn::runbook_export::schedule(
        app.pool.clone(),
        out.clone(),
        std::time::Duration::from_millis(200),
        stopped,
    ));
    // Polled up to 30 s: a busy machine may take a while, a fast one ends the wait early.
    let count = || {
        std::fs::read(out.join("manifest.json"))
            .ok()
            .and_then(|m| serde_json::from_slice::<Value>(&m).ok())
            .map(|m| m["count"].as_i64().unwrap())
    };
    for _ in 0..300 {
        if count() == Some(1) {
            break;
        }
        common::sleep(100).await;
    }
    assert_eq!(count(), Some(1), "the first export is written at start-up");
    create(&app, &cookie, "Second", "two", &[]).await;
    for _ in 0..300 {
        if count() == Some(2) {
            break;
        }
        common::sleep(100).await;
    }
    assert_eq!(count(), Some(2), "a later run picks up the new runbook");
    stop.send(true).unwrap();
    task.await.unwrap();
    std::fs::remove_dir_all(&out).unwrap();
}

/// `--out` names a directory the export replaces as a whole: only an empty one, or one
/// holding an earlier export, is ever replaced. `--out ~` must not delete a home.
#[sqlx::test(migrations = false)]
async fn the_export_replaces_only_an_empty_directory_or_an_earlier_export(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let id = create(&app, &admin, "Restart the queue", "Run `systemctl restart queue`.", &[]).await;
    let files = foghorn::runbook_export::current_bundle(&app.pool).await.unwrap();
    let root = std::env::temp_dir().join(format!("foghorn-export-guard-{}-{id}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();

    // Someone's files: refused, untouched, nothing left beside them.
    let home = root.join("home");
    std::fs::create_dir_all(home.join("projects")).unwrap();
    std::fs::write(home.join("notes.txt"), "keep me").unwrap();
    let refused = foghorn::runbook_export::write_dir(&home, &files).expect_err("a directory of other files is refused");
    assert!(refused.to_string().contains("manifest.json"), "the refusal says why: {refused}");
    assert_eq!(std::fs::read_to_string(home.join("notes.txt")).unwrap(), "keep me");
    assert!(home.join("projects").is_dir());
    let mut beside: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    beside.sort();
    assert_eq!(beside, ["home"], "no staging copy is left behind");

    // A manifest.json that is not an export's (a web project's, say) is not enough.
    let project = root.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("manifest.json"), r#"{"name": "my app", "icons": []}"#).unwrap();
    assert!(foghorn::runbook_export::write_dir(&project, &files).is_err());
    assert!(project.join("manifest.json").exists());

    // A file where the directory should be: refused, kept.
    let file = root.join("a-file");
    std::fs::write(&file, "data").unwrap();
    assert!(foghorn::runbook_export::write_dir(&file, &files).is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");

    // An empty directory, then that earlier export: replaced.
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    foghorn::runbook_export::write_dir(&empty, &files).unwrap();
    check_export(&empty, &[(id, "Restart the queue", 1, vec![])]);
    foghorn::runbook_export::write_dir(&empty, &files).unwrap();
    check_export(&empty, &[(id, "Restart the queue", 1, vec![])]);
    std::fs::remove_dir_all(&root).unwrap();
}
