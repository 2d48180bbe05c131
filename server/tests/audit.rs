//! The audit trail: every security-relevant and administrative action writes its event
//! exactly once, in the transaction of the change; refusals write the refusal, not the
//! change; the table cannot be edited; admins read, filter, page and export it.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::{AuditKind, Role};
use app::server::db::audit::{self, Actor};
use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;

/// How many events of each kind the trail holds.
async fn counts(app: &TestApp) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, count(*) FROM audit_events GROUP BY kind").fetch_all(&app.pool).await.unwrap();
    rows.into_iter().collect()
}

/// The newest event: (actor_id, actor, kind, target, ip, details).
async fn newest(app: &TestApp) -> (Option<i64>, String, String, String, String, serde_json::Value) {
    sqlx::query_as("SELECT actor_id, actor, kind, target, ip, details FROM audit_events ORDER BY id DESC LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Runs `action` and checks that it wrote exactly one event, of `kind`, and nothing else.
async fn exactly_one<F: std::future::Future<Output = ()>>(app: &TestApp, kind: AuditKind, what: &str, action: F) {
    let before = counts(app).await;
    action.await;
    let after = counts(app).await;
    let mut expected = before.clone();
    *expected.entry(kind.as_str().to_owned()).or_default() += 1;
    assert_eq!(after, expected, "{what} should write exactly one {kind} event");
}

fn ok(response: &common::TestResponse, what: &str) {
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{what}: {} {}",
        response.status,
        response.body
    );
}

#[sqlx::test(migrations = false)]
async fn every_administrative_action_writes_its_event_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (admin_id, admin) = app.user_with_role(Role::Admin).await;
    let a = Some(admin.as_str());

    let mut user_id = 0;
    exactly_one(&app, AuditKind::UserCreated, "add_user", async {
        let r = app
            .call(
                "add_user",
                &[("email", "dana@example.com"), ("display_name", "Dana"), ("role", "viewer"), ("password", PASSWORD)],
                a,
            )
            .await;
        ok(&r, "add_user");
        user_id = r.json().as_i64().unwrap();
    })
    .await;
    let (actor_id, actor, _, target, ip, details) = newest(&app).await;
    assert_eq!(actor_id, Some(admin_id));
    assert_eq!(actor, "Admin user <admin@example.com>");
    assert_eq!(target, "user Dana <dana@example.com>");
    assert_eq!(ip, "192.0.2.1");
    assert_eq!(details["role"], "viewer");
    let user = user_id.to_string();

    exactly_one(&app, AuditKind::RoleChanged, "change_role", async {
        ok(&app.call("change_role", &[("user_id", &user), ("role", "responder")], a).await, "change_role");
    })
    .await;
    assert_eq!(newest(&app).await.5, json!({ "user_id": user_id, "from": "viewer", "to": "responder" }));
    exactly_one(&app, AuditKind::UserDeactivated, "deactivate", async {
        ok(&app.call("set_user_active", &[("user_id", &user), ("active", "false")], a).await, "deactivate");
    })
    .await;
    exactly_one(&app, AuditKind::UserReactivated, "reactivate", async {
        ok(&app.call("set_user_active", &[("user_id", &user), ("active", "true")], a).await, "reactivate");
    })
    .await;

    let mut team_id = 0;
    exactly_one(&app, AuditKind::TeamCreated, "create_team", async {
        let r = app.call("create_team", &[("name", "Payments")], a).await;
        ok(&r, "create_team");
        team_id = r.json().as_i64().unwrap();
    })
    .await;
    let team = team_id.to_string();
    exactly_one(&app, AuditKind::TeamMemberAdded, "add_team_member", async {
        ok(&app.call("add_team_member", &[("team_id", &team), ("user_id", &user)], a).await, "add member");
    })
    .await;
    assert_eq!(newest(&app).await.3, "team Payments");
    exactly_one(&app, AuditKind::TeamLeadChanged, "set_team_lead", async {
        ok(&app.call("set_team_lead", &[("team_id", &team), ("user_id", &user)], a).await, "set lead");
    })
    .await;
    exactly_one(&app, AuditKind::TeamMemberRemoved, "remove_team_member", async {
        ok(&app.call("remove_team_member", &[("team_id", &team), ("user_id", &user)], a).await, "remove member");
    })
    .await;

    let mut service_id = 0;
    exactly_one(&app, AuditKind::ServiceCreated, "create_service", async {
        let r = app.call("create_service", &[("name", "Checkout"), ("description", ""), ("team_id", &team)], a).await;
        ok(&r, "create_service");
        service_id = r.json().as_i64().unwrap();
    })
    .await;
    let service = service_id.to_string();
    exactly_one(&app, AuditKind::ServiceChanged, "update_service", async {
        let form = [("id", service.as_str()), ("name", "Payments API"), ("description", "x"), ("team_id", "")];
        ok(&app.call("update_service", &form, a).await, "update_service");
    })
    .await;
    assert_eq!(newest(&app).await.5["name"], json!({ "from": "Checkout", "to": "Payments API" }));
    exactly_one(&app, AuditKind::ServiceChanged, "set_service_public", async {
        ok(&app.call("set_service_public", &[("id", &service), ("public", "true")], a).await, "public");
    })
    .await;

    let mut policy_id = 0;
    exactly_one(&app, AuditKind::NotificationPolicyCreated, "create_notification_policy", async {
        let body = json!({ "policy": { "name": "Execs", "severities": ["SEV1"], "events": ["declared"],
            "recipients": "cto@example.com", "owning_team": false } });
        let r = app.call_json("create_notification_policy", body, a).await;
        ok(&r, "create policy");
        policy_id = r.json().as_i64().unwrap();
    })
    .await;
    exactly_one(&app, AuditKind::NotificationPolicyDeleted, "delete_notification_policy", async {
        ok(&app.call("delete_notification_policy", &[("id", &policy_id.to_string())], a).await, "delete policy");
    })
    .await;
    assert_eq!(newest(&app).await.3, "notification policy Execs");

    let mut webhook_id = 0;
    exactly_one(&app, AuditKind::WebhookCreated, "create_webhook", async {
        let body = json!({ "webhook": { "name": "chat", "url": "https://hooks.example.com/T000/secret",
            "format": "slack", "severities": ["SEV1"], "events": ["declared"] } });
        let r = app.call_json("create_webhook", body, a).await;
        ok(&r, "create webhook");
        webhook_id = r.json().as_i64().unwrap();
    })
    .await;
    assert!(!newest(&app).await.5.to_string().contains("secret"), "a webhook's address is a secret: not in the trail");
    exactly_one(&app, AuditKind::WebhookDeleted, "delete_webhook", async {
        ok(&app.call("delete_webhook", &[("id", &webhook_id.to_string())], a).await, "delete webhook");
    })
    .await;

    // Deleting what is already gone changes nothing, so records nothing.
    let before = counts(&app).await;
    ok(&app.call("delete_webhook", &[("id", &webhook_id.to_string())], a).await, "delete again");
    ok(&app.call("change_role", &[("user_id", &user), ("role", "responder")], a).await, "same role");
    assert_eq!(counts(&app).await, before);
}

#[sqlx::test(migrations = false)]
async fn signing_in_and_out_and_ending_sessions_are_recorded(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let dana = app.create_user("dana@example.com", "Dana", Role::Responder).await;

    let mut session = String::new();
    exactly_one(&app, AuditKind::SignIn, "sign-in", async {
        session = app.sign_in("dana@example.com", PASSWORD).await;
    })
    .await;
    let (actor_id, _, _, _, ip, details) = newest(&app).await;
    assert_eq!((actor_id, ip.as_str(), &details), (Some(dana), "192.0.2.1", &json!({ "method": "password" })));

    exactly_one(&app, AuditKind::SignInFailed, "a wrong password", async {
        let r = app.call("sign_in", &[("email", "dana@example.com"), ("password", "wrong guess here")], None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
    let (actor_id, actor, _, target, _, _) = newest(&app).await;
    assert_eq!((actor_id, actor.as_str(), target.as_str()), (None, "dana@example.com", "dana@example.com"));
    exactly_one(&app, AuditKind::SignInFailed, "an unknown account", async {
        let r = app.call("sign_in", &[("email", "nobody@example.com"), ("password", PASSWORD)], None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;

    // A second session of Dana's, then her password changes in the first: the second ends.
    let other = app.sign_in("dana@example.com", PASSWORD).await;
    exactly_one(&app, AuditKind::PasswordChanged, "change_password", async {
        let form = [("current_password", PASSWORD), ("new_password", "an entirely new passphrase")];
        ok(&app.call("change_password", &form, Some(&session)).await, "change_password");
    })
    .await;
    exactly_one(&app, AuditKind::SessionEnded, "the other session's next request", async {
        assert!(app.viewer(Some(&other)).await.is_null());
    })
    .await;
    assert_eq!(newest(&app).await.5["reason"], "password changed");

    exactly_one(&app, AuditKind::SignOut, "sign_out", async {
        ok(&app.call("sign_out", &[], Some(&session)).await, "sign_out");
    })
    .await;

    // Deactivated: her open session ends at its next request, and the right password is refused.
    let session = app.sign_in("dana@example.com", "an entirely new passphrase").await;
    app.call("set_user_active", &[("user_id", &dana.to_string()), ("active", "false")], Some(&admin)).await;
    exactly_one(&app, AuditKind::SessionEnded, "a deactivated user's request", async {
        assert!(app.viewer(Some(&session)).await.is_null());
    })
    .await;
    assert_eq!(newest(&app).await.5["reason"], "user deactivated");
    exactly_one(&app, AuditKind::SignInRefused, "a deactivated account's sign-in", async {
        let form = [("email", "dana@example.com"), ("password", "an entirely new passphrase")];
        assert_eq!(app.call("sign_in", &form, None).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
    let (actor_id, _, _, _, _, details) = newest(&app).await;
    assert_eq!((actor_id, details["reason"].as_str()), (Some(dana), Some("account deactivated")));

    // Guessing: after five failures for one account from one address, refusals.
    for _ in 0..5 {
        app.call_from("198.51.100.7", "sign_in", &[("email", "admin@example.com"), ("password", "guess")], None).await;
    }
    exactly_one(&app, AuditKind::SignInRefused, "a throttled attempt", async {
        let form = [("email", "admin@example.com"), ("password", "guess")];
        assert_eq!(app.call_from("198.51.100.7", "sign_in", &form, None).await.status, StatusCode::TOO_MANY_REQUESTS);
    })
    .await;
    let (_, _, _, _, ip, details) = newest(&app).await;
    assert_eq!((ip.as_str(), details["reason"].as_str()), ("198.51.100.7", Some("too many failed attempts")));
}

#[sqlx::test(migrations = false)]
async fn the_first_administrator_is_recorded(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let code = app::server::db::users::issue_setup_code(&app.pool).await.unwrap().expect("a code while empty");
    exactly_one(&app, AuditKind::FirstAdminCreated, "create_first_admin", async {
        let form = [
            ("setup_code", code.as_str()),
            ("email", "root@example.com"),
            ("display_name", "Root"),
            ("password", PASSWORD),
        ];
        ok(&app.call("create_first_admin", &form, None).await, "create_first_admin");
    })
    .await;
    assert_eq!(newest(&app).await.3, "user Root <root@example.com>");
}

#[sqlx::test(migrations = false)]
async fn a_refused_or_failed_action_writes_the_refusal_not_the_change(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (admin_id, admin) = app.user_with_role(Role::Admin).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;

    exactly_one(&app, AuditKind::AccessRefused, "a responder changing a role", async {
        let r =
            app.call("change_role", &[("user_id", &admin_id.to_string()), ("role", "viewer")], Some(&responder)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    })
    .await;
    let (_, actor, _, target, _, details) = newest(&app).await;
    assert_eq!(actor, "Responder user <responder@example.com>");
    assert_eq!(target, "/api/change_role");
    assert_eq!(details["permission"], "ManageUsers");

    // Anonymous refusals stay in the log only: anyone could flood the trail with them.
    let before = counts(&app).await;
    assert_eq!(app.call("create_team", &[("name", "X")], None).await.status, StatusCode::UNAUTHORIZED);
    // Rolled back: the last admin cannot demote themselves; a duplicate team is refused.
    let r = app.call("change_role", &[("user_id", &admin_id.to_string()), ("role", "viewer")], Some(&admin)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    ok(&app.call("create_team", &[("name", "Payments")], Some(&admin)).await, "create_team");
    let before_duplicate = counts(&app).await;
    assert_eq!(
        app.call("create_team", &[("name", "payments")], Some(&admin)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(counts(&app).await, before_duplicate, "a refused duplicate records nothing");
    let mut expected = before;
    *expected.entry("team_created".into()).or_default() += 1;
    assert_eq!(counts(&app).await, expected, "only the team that was created is recorded");
}

#[sqlx::test(migrations = false)]
async fn the_trail_cannot_be_edited_and_is_pruned_only_by_age(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let actor = Actor::server("test");
    for _ in 0..3 {
        audit::record(&app.pool, &actor, AuditKind::TeamCreated, "team old", json!({})).await.unwrap();
    }
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET at = now() - interval '500 days'").execute(&app.pool).await.unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&app.pool)
        .await
        .unwrap();
    audit::record(&app.pool, &actor, AuditKind::TeamCreated, "team new", json!({})).await.unwrap();

    for statement in [
        "UPDATE audit_events SET target = 'forged'",
        "DELETE FROM audit_events WHERE target = 'team new'",
        "TRUNCATE audit_events",
    ] {
        let err = sqlx::query(statement).execute(&app.pool).await.expect_err(statement);
        assert!(err.to_string().contains("append-only"), "{statement}: {err}");
    }
    assert_eq!(counts(&app).await["team_created"], 4);

    // The application role the README sets up: everything but changing the trail.
    sqlx::query("DROP ROLE IF EXISTS foghorn_audit_probe").execute(&app.pool).await.unwrap();
    for statement in [
        "CREATE ROLE foghorn_audit_probe",
        "GRANT USAGE ON SCHEMA public, tower_sessions TO foghorn_audit_probe",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, tower_sessions TO foghorn_audit_probe",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO foghorn_audit_probe",
        "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM foghorn_audit_probe",
    ] {
        sqlx::query(statement).execute(&app.pool).await.unwrap();
    }
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE foghorn_audit_probe").execute(&mut *tx).await.unwrap();
    audit::record(&mut *tx, &actor, AuditKind::SignIn, "probe", json!({})).await.expect("the app role appends");
    for (statement, refusal) in [
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner"),
        ("UPDATE audit_events SET actor = 'x'", "permission denied"),
        ("DELETE FROM audit_events", "permission denied"),
        ("SET LOCAL foghorn.audit_prune = 'on'; DELETE FROM audit_events", "permission denied"),
    ] {
        sqlx::query("SAVEPOINT probe").execute(&mut *tx).await.unwrap();
        let err = sqlx::raw_sql(statement).execute(&mut *tx).await.expect_err(statement);
        assert!(err.to_string().contains(refusal), "{statement}: {err}");
        sqlx::query("ROLLBACK TO SAVEPOINT probe").execute(&mut *tx).await.unwrap();
    }
    tx.rollback().await.unwrap();
    sqlx::query("DROP OWNED BY foghorn_audit_probe").execute(&app.pool).await.unwrap();
    sqlx::query("DROP ROLE foghorn_audit_probe").execute(&app.pool).await.unwrap();

    assert_eq!(audit::prune(&app.pool, 400).await.unwrap(), 3, "the three old events go");
    let left: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, target FROM audit_events ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(left, [("team_created".into(), "team new".into()), ("audit_pruned".into(), "audit log".into())]);
    assert_eq!(newest(&app).await.5, json!({ "removed": 3, "keep_days": 400 }));
    assert_eq!(audit::prune(&app.pool, 400).await.unwrap(), 0);
    assert_eq!(counts(&app).await.get("audit_pruned"), Some(&1), "pruning nothing records nothing");
}

#[sqlx::test(migrations = false)]
async fn admins_read_filter_page_and_export_the_trail(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    // 240 events: a team change by Ana for every third, a service change by Ben otherwise.
    for i in 0..240 {
        let (actor, kind, target) = if i % 3 == 0 {
            ("Ana <ana@example.com>", AuditKind::TeamCreated, format!("team T{i}"))
        } else {
            ("Ben <ben@example.com>", AuditKind::ServiceChanged, format!("service S{i}"))
        };
        audit::record(&app.pool, &Actor::server(actor), kind, &target, json!({ "i": i })).await.unwrap();
    }
    let page =
        |filter: serde_json::Value| app.call_json("list_audit_events", json!({ "filter": filter }), Some(&admin));

    // Every Ben event, newest first, each once, across pages of 100.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = page(json!({ "actor": "ben@", "cursor": cursor })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let body = r.json();
        seen.extend(body["events"].as_array().unwrap().iter().map(|e| e["details"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let expected: Vec<String> = (0..240).rev().filter(|i| i % 3 != 0).map(|i| format!("{{\"i\": {i}}}")).collect();
    assert_eq!(seen, expected);

    let kind = page(json!({ "kind": "team_created" })).await.json();
    assert_eq!(kind["events"].as_array().unwrap().len(), 80);
    let target = page(json!({ "target": "t12" })).await.json();
    let targets: Vec<&str> =
        target["events"].as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["team T129", "team T126", "team T123", "team T120", "team T12"]);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let dated = page(json!({ "kind": "team_created", "from": today, "to": today })).await.json();
    assert_eq!(dated["events"].as_array().unwrap().len(), 80);
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap().to_string();
    assert!(page(json!({ "from": tomorrow })).await.json()["events"].as_array().unwrap().is_empty());
    let bad = page(json!({ "kind": "coffee_made" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("kind"), "{}", bad.body);

    // Exports: the whole filtered view, and the export itself recorded.
    let exported_before = counts(&app).await.get("audit_exported").copied().unwrap_or(0);
    let csv = app.get("/api/audit.csv?kind=team_created&target=T1", Some(&admin)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "id,at,actor_id,actor,kind,target,ip,details");
    // T12, T15, T18 and T102…T198 (every third): 3 + 33.
    assert_eq!(lines.len() - 1, 36, "{}", csv.body);
    assert!(lines[1].contains("team T198") && lines[1].contains("\"{\"\"i\"\": 198}\""), "{}", lines[1]);
    let jsonl = app.get("/api/audit.jsonl?actor=ana", Some(&admin)).await;
    assert_eq!(jsonl.status, StatusCode::OK);
    let events: Vec<serde_json::Value> = jsonl.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 80);
    assert_eq!(events[0]["details"], json!({ "i": 237 }));
    assert_eq!(counts(&app).await["audit_exported"], exported_before + 2);
    let (_, _, _, _, _, details) = newest(&app).await;
    assert_eq!((details["format"].as_str(), details["filter"]["actor"].as_str()), (Some("jsonl"), Some("ana")));

    // Nobody else reads it, in any form.
    assert_eq!(
        app.call_json("list_audit_events", json!({ "filter": {} }), Some(&responder)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call_json("list_audit_events", json!({ "filter": {} }), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/api/audit.csv", Some(&responder)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/audit.jsonl", None).await.status, StatusCode::UNAUTHORIZED);
    let refused = app.get("/admin/audit", Some(&responder)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("ben@example.com"));
    let shown = app.get("/admin/audit?kind=team_created", Some(&admin)).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.body.contains("team T237") && !shown.body.contains("service S238"),
        "the page shows the filtered trail"
    );
    assert!(!shown.body.contains("Older events"), "80 events fit on one page");
    let all = app.get("/admin/audit", Some(&admin)).await;
    assert!(all.body.contains("Older events"), "more than a page links to the next");
}
