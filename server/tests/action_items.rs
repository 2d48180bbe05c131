//! Action items: created against an incident, every change recorded and told on the
//! timeline, scheduled-or-flagged rules, the team summary, the CSV export, permissions.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

async fn create(app: &TestApp, cookie: &str, item: Value) -> i64 {
    let response = app.call_json("create_action_item", json!({ "item": item }), Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "create: {}", response.body);
    response.json().as_i64().unwrap()
}

async fn tracker(app: &TestApp, cookie: &str, filter: Value) -> Value {
    let response = app.call_json("list_action_items", json!({ "filter": filter }), Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "tracker: {}", response.body);
    response.json()
}

fn ids(tracker: &Value) -> Vec<i64> {
    tracker["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

fn date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[sqlx::test(migrations = false)]
async fn status_moves_and_wont_do_needs_a_reason(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Disk alarms missed", "SEV2").await;
    let id = create(&app, &cookie, json!({ "incident_number": number, "title": "Page on disk > 90%" })).await;
    let set = |status: &'static str, reason: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            app.call(
                "set_item_status",
                &[("id", &id.to_string()), ("status", status), ("reason", reason)],
                Some(&cookie),
            )
            .await
        }
    };
    assert_eq!(set("in_progress", "").await.status, StatusCode::OK);
    let refused = set("wont_do", "  ").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["field"], "reason");
    assert_eq!(set("done", "").await.status, StatusCode::OK);
    let closed = set("in_progress", "").await;
    assert_eq!(closed.status, StatusCode::UNPROCESSABLE_ENTITY, "a closed item is reopened first");
    assert_eq!(set("open", "").await.status, StatusCode::OK);
    assert_eq!(set("wont_do", "Replaced by the new storage tier").await.status, StatusCode::OK);
    assert_eq!(set("finished", "").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let item = &tracker(&app, &cookie, json!({ "incident": number })).await["items"][0];
    assert_eq!(item["status"], "wont_do");
    assert_eq!(item["description_html"], "", "no description given");
    assert_eq!(item["wont_do_reason"], "Replaced by the new storage tier");
    assert!(!item["closed_at"].is_null());

    // Each change is in the history with who, and on the incident's timeline.
    let history = app.call("get_action_item_history", &[("id", &id.to_string())], Some(&cookie)).await.json();
    let moves: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["old_value"].as_str().unwrap().to_owned(), c["new_value"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [("open", "in_progress"), ("in_progress", "done"), ("done", "open"), ("open", "wont_do")];
    assert_eq!(moves, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert!(history.as_array().unwrap().iter().all(|c| c["by"]["display_name"] == "Responder user"));
    let timeline = app.incident(&cookie, number).await["timeline"].clone();
    let bodies: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "action_item")
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 5, "created + 4 moves: {bodies:?}");
    assert_eq!(bodies[0], format!("Responder user added action item #{id} (P2): Page on disk > 90%"));
    assert_eq!(bodies[2], format!("Responder user marked it done on action item #{id}: Page on disk > 90%"));
}

#[sqlx::test(migrations = false)]
async fn owner_date_and_priority_changes_are_recorded(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (me, cookie) = app.user_with_role(Role::Responder).await;
    let bob = app.create_user("bob@example.com", "Bob", Role::Responder).await;
    let number = app.declare(&cookie, "Cert expiry", "SEV1").await;
    let id = create(&app, &cookie, json!({ "incident_number": number, "title": "Automate renewals", "priority": "P1", "owner_id": me, "due_date": "2030-01-15", "description": "Use **ACME**. <script>alert(1)</script>" })).await;
    let item = tracker(&app, &cookie, json!({ "incident": number })).await["items"][0].clone();
    assert_eq!(item["description"], "Use **ACME**. <script>alert(1)</script>");
    let html = item["description_html"].as_str().unwrap();
    assert!(html.contains("<strong>ACME</strong>") && !html.contains("<script"), "markdown, sanitised: {html}");
    let i = id.to_string();
    for (endpoint, form) in [
        ("set_item_owner", vec![("id", i.as_str()), ("owner_id", &*bob.to_string())]),
        ("set_item_due_date", vec![("id", i.as_str()), ("due_date", "2030-02-01")]),
        ("set_item_priority", vec![("id", i.as_str()), ("priority", "P2")]),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, *v)).collect();
        let r = app.call(endpoint, &form, Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{endpoint}: {}", r.body);
    }
    let history = app.call("get_action_item_history", &[("id", &i)], Some(&cookie)).await.json();
    let changes: Vec<(&str, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), c["old_value"].as_str().unwrap(), c["new_value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        [("owner", "Responder user", "Bob"), ("due_date", "2030-01-15", "2030-02-01"), ("priority", "P1", "P2")]
    );
    // Bad values are named and change nothing.
    for (endpoint, form, field) in [
        ("set_item_due_date", vec![("id", i.as_str()), ("due_date", "next week")], "due_date"),
        ("set_item_priority", vec![("id", i.as_str()), ("priority", "P0")], "priority"),
        ("set_item_owner", vec![("id", i.as_str()), ("owner_id", "999999")], "owner_id"),
    ] {
        let r = app.call(endpoint, &form, Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}: {}", r.body);
        assert_eq!(r.json()["field"], field);
    }
    let blank = app
        .call_json("create_action_item", json!({ "item": { "incident_number": number, "title": "  " } }), Some(&cookie))
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(blank.json()["field"], "title");
    let history_after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM action_item_changes").fetch_one(&app.pool).await.unwrap();
    assert_eq!(history_after, 3);
}

#[sqlx::test(migrations = false)]
async fn overdue_and_unscheduled_follow_the_readers_date(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (me, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Backups failed", "SEV2").await;
    let now = OffsetDateTime::now_utc();
    let today_utc = now.date();
    let due_today = create(
        &app,
        &cookie,
        json!({ "incident_number": number, "title": "today", "owner_id": me, "due_date": date(today_utc) }),
    )
    .await;
    let due_yesterday = create(&app, &cookie, json!({ "incident_number": number, "title": "yesterday", "owner_id": me, "due_date": date(today_utc - Duration::days(1)) })).await;
    let no_owner = create(
        &app,
        &cookie,
        json!({ "incident_number": number, "title": "no owner", "due_date": date(today_utc + Duration::days(9)) }),
    )
    .await;
    let no_date = create(&app, &cookie, json!({ "incident_number": number, "title": "no date", "owner_id": me })).await;
    let done_late = create(&app, &cookie, json!({ "incident_number": number, "title": "done", "owner_id": me, "due_date": date(today_utc - Duration::days(5)) })).await;
    app.call("set_item_status", &[("id", &done_late.to_string()), ("status", "done"), ("reason", "")], Some(&cookie))
        .await;

    // In UTC, only yesterday's is overdue.
    let utc = tracker(&app, &cookie, json!({ "overdue": true })).await;
    assert_eq!(ids(&utc), [due_yesterday]);
    assert_eq!(utc["counts"]["overdue"], 1);
    let unscheduled = tracker(&app, &cookie, json!({ "unscheduled": true })).await;
    let mut got = ids(&unscheduled);
    got.sort();
    assert_eq!(got, [no_owner, no_date]);

    // For a reader whose date is already tomorrow, today's item is overdue too; for one
    // whose date is still yesterday, yesterday's is not. (Computed here from the offset.)
    for offset_minutes in [14 * 60, -12 * 60, 9 * 60, -5 * 60] {
        let local = now.to_offset(time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap()).date();
        let mut expected: Vec<i64> = [(due_today, today_utc), (due_yesterday, today_utc - Duration::days(1))]
            .into_iter()
            .filter(|(_, due)| *due < local)
            .map(|(id, _)| id)
            .collect();
        expected.sort();
        let mut got =
            ids(&tracker(&app, &cookie, json!({ "overdue": true, "tz_offset_minutes": offset_minutes })).await);
        got.sort();
        assert_eq!(got, expected, "offset {offset_minutes} min (local date {local})");
    }
}

#[sqlx::test(migrations = false)]
async fn a_p1_left_unscheduled_too_long_is_flagged(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (me, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Replica lag", "SEV1").await;
    let old = create(&app, &cookie, json!({ "incident_number": number, "title": "old P1", "priority": "P1" })).await;
    let fresh =
        create(&app, &cookie, json!({ "incident_number": number, "title": "fresh P1", "priority": "P1" })).await;
    let scheduled = create(&app, &cookie, json!({ "incident_number": number, "title": "scheduled P1", "priority": "P1", "owner_id": me, "due_date": "2030-01-01" })).await;
    let p2 = create(&app, &cookie, json!({ "incident_number": number, "title": "old P2", "priority": "P2" })).await;
    sqlx::query("UPDATE action_items SET created_at = now() - interval '3 days' WHERE id = ANY($1)")
        .bind(vec![old, scheduled, p2])
        .execute(&app.pool)
        .await
        .unwrap();
    let t = tracker(&app, &cookie, json!({})).await;
    let late: Vec<i64> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["late_to_schedule"] == true)
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(late, [old], "default: a P1 gets 2 days to be scheduled");
    let _ = fresh;
}

#[sqlx::test(migrations = false)]
async fn the_team_summary_matches_figures_computed_from_the_seed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (me, admin) = app.user_with_role(Role::Admin).await;
    let red = app.call("create_team", &[("name", "Red")], Some(&admin)).await.json().as_i64().unwrap();
    let blue = app.call("create_team", &[("name", "Blue")], Some(&admin)).await.json().as_i64().unwrap();
    let number = app.declare(&admin, "Seed", "SEV3").await;
    let now = OffsetDateTime::now_utc();
    // (team, created days ago, done days ago or None, due in days or None, owner)
    let seed: Vec<(i64, i64, Option<i64>, Option<i64>, bool)> = vec![
        (red, 40, Some(35), Some(-38), true), // done 35 days ago, took 5 days
        (red, 20, Some(10), Some(-15), true), // done 10 days ago, took 10 days
        (red, 10, Some(1), None, true),       // done yesterday, took 9 days
        (red, 5, None, Some(-2), true),       // open, overdue
        (red, 3, None, None, false),          // open, unscheduled
        (blue, 60, Some(2), Some(-70), true), // done 2 days ago, took 58 days
        (blue, 14, None, Some(30), true),     // open, on time
    ];
    for (i, (team, created, done, due, owner)) in seed.iter().enumerate() {
        let mut item = json!({ "incident_number": number, "title": format!("item {i}"), "team_id": team });
        if *owner {
            item["owner_id"] = json!(me);
        }
        if let Some(d) = due {
            item["due_date"] = json!(date(now.date() + Duration::days(*d)));
        }
        let id = create(&app, &admin, item).await;
        sqlx::query("UPDATE action_items SET created_at = $2, status = CASE WHEN $3::timestamptz IS NULL THEN 'open' ELSE 'done' END, closed_at = $3 WHERE id = $1")
            .bind(id)
            .bind(now - Duration::days(*created))
            .bind(done.map(|d| now - Duration::days(d)))
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let summary = app.call("list_team_summaries", &[("tz_offset_minutes", "0")], Some(&admin)).await.json();
    let team = |name: &str| summary.as_array().unwrap().iter().find(|t| t["team_name"] == name).unwrap().clone();

    // Computed from the seed rows above, independently of the server's code.
    let expect = |team_id: i64| {
        let rows: Vec<_> = seed.iter().filter(|r| r.0 == team_id).collect();
        let open = rows.iter().filter(|r| r.2.is_none()).count() as i64;
        let overdue = rows.iter().filter(|r| r.2.is_none() && r.3.is_some_and(|d| d < 0)).count() as i64;
        let unscheduled = rows.iter().filter(|r| r.2.is_none() && (!r.4 || r.3.is_none())).count() as i64;
        let done_30 = rows.iter().filter(|r| r.2.is_some_and(|d| d < 30)).count() as i64;
        let mut took: Vec<f64> = rows.iter().filter_map(|r| r.2.map(|d| (r.1 - d) as f64)).collect();
        took.sort_by(f64::total_cmp);
        let median = if took.len() % 2 == 1 {
            took[took.len() / 2]
        } else {
            (took[took.len() / 2 - 1] + took[took.len() / 2]) / 2.0
        };
        (open, overdue, unscheduled, done_30, median)
    };
    for (name, id) in [("Red", red), ("Blue", blue)] {
        let t = team(name);
        let (open, overdue, unscheduled, done_30, median) = expect(id);
        assert_eq!(t["open"], open, "{name} open");
        assert_eq!(t["overdue"], overdue, "{name} overdue");
        assert_eq!(t["unscheduled"], unscheduled, "{name} unscheduled");
        assert_eq!(t["done_30_days"], done_30, "{name} done in 30 days");
        assert!(
            (t["median_days_to_done"].as_f64().unwrap() - median).abs() < 0.01,
            "{name} median {} vs {median}",
            t["median_days_to_done"]
        );
        // The chart's last week: open now, and done within the last 7 days.
        let weeks = t["weeks"].as_array().unwrap();
        assert_eq!(weeks.len(), 12);
        let done_last_week = seed.iter().filter(|r| r.0 == id && r.2.is_some_and(|d| d < 7)).count() as i64;
        assert_eq!(weeks[11], json!([open, done_last_week]), "{name} last week");
    }
}

#[sqlx::test(migrations = false)]
async fn csv_export_escapes_and_defuses_formulas(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "CSV, \"quoted\"", "SEV4").await;
    create(&app, &cookie, json!({ "incident_number": number, "title": "=HYPERLINK(\"http://evil\")", "description": "line one\nline two, with comma" })).await;
    create(&app, &cookie, json!({ "incident_number": number, "title": "@SUM(A1)", "due_date": "2030-01-01" })).await;
    create(&app, &cookie, json!({ "incident_number": number, "title": "-1+1" })).await;
    let response = app.get("/api/action_items.csv?sort=age", Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("text/csv; charset=utf-8"));
    let body = response.body;
    let mut lines = body.split("\r\n");
    assert_eq!(
        lines.next(),
        Some(
            "id,incident,incident_title,title,status,priority,owner,team,due_date,overdue,unscheduled,created_at,closed_at,wont_do_reason,description"
        )
    );
    assert!(body.contains(",\"CSV, \"\"quoted\"\"\",\"'=HYPERLINK(\"\"http://evil\"\")\",open,P2,"), "{body}");
    assert!(body.contains(",\"line one\nline two, with comma\"\r\n"), "{body}");
    assert!(body.contains(",'@SUM(A1),open,P2,,,2030-01-01,"), "{body}");
    assert!(body.contains(",'-1+1,open,"), "{body}");
    // Filters apply to the export as to the tracker.
    let filtered = app.get("/api/action_items.csv?priority=P1", Some(&cookie)).await.body;
    assert_eq!(filtered.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "header only");
    assert_eq!(app.get("/api/action_items.csv", None).await.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn permissions_per_role_and_the_team_leads_reassignment(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (viewer_id, viewer) = app.user_with_role(Role::Viewer).await;
    let member = app.create_user("mia@example.com", "Mia", Role::Responder).await;
    let outsider = app.create_user("oz@example.com", "Oz", Role::Responder).await;
    let team = app.call("create_team", &[("name", "Platform")], Some(&admin)).await.json().as_i64().unwrap();
    app.call("add_team_member", &[("team_id", &team.to_string()), ("user_id", &member.to_string())], Some(&admin))
        .await;
    // The viewer leads the team: an engineering manager who does not respond to incidents.
    let lead = app
        .call("set_team_lead", &[("team_id", &team.to_string()), ("user_id", &viewer_id.to_string())], Some(&admin))
        .await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let number = app.declare(&responder, "Deploys stuck", "SEV3").await;
    let id = create(
        &app,
        &responder,
        json!({ "incident_number": number, "title": "Timeout the deploy lock", "team_id": team }),
    )
    .await
    .to_string();
    let other_team_item =
        create(&app, &responder, json!({ "incident_number": number, "title": "No team" })).await.to_string();

    let fingerprint = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT concat((SELECT string_agg(concat(id, title, description, owner_id, team_id, priority, due_date, status, wont_do_reason), ',' ORDER BY id) FROM action_items),
                           (SELECT count(*) FROM action_item_changes), (SELECT count(*) FROM timeline_entries))",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let (member_s, outsider_s) = (member.to_string(), outsider.to_string());
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("set_item_status", vec![("id", &id), ("status", "done"), ("reason", "")]),
        ("set_item_due_date", vec![("id", &id), ("due_date", "2030-01-01")]),
        ("set_item_priority", vec![("id", &id), ("priority", "P1")]),
        ("set_item_team", vec![("id", &id), ("team_id", "")]),
        ("edit_action_item", vec![("id", &id), ("title", "x"), ("description", "")]),
        ("set_item_owner", vec![("id", &other_team_item), ("owner_id", &member_s)]),
        ("set_item_owner", vec![("id", &id), ("owner_id", &outsider_s)]),
    ];
    for (who, cookie, expected) in
        [("anonymous", None, StatusCode::UNAUTHORIZED), ("viewer", Some(viewer.as_str()), StatusCode::FORBIDDEN)]
    {
        for (endpoint, form) in &forms {
            let before = fingerprint().await;
            let response = app.call(endpoint, form, cookie).await;
            assert_eq!(response.status, expected, "{who} {endpoint} {form:?}: {}", response.body);
            assert_eq!(fingerprint().await, before, "{who} {endpoint} changed something");
        }
        let before = fingerprint().await;
        let response = app
            .call_json(
                "create_action_item",
                json!({ "item": { "incident_number": number, "title": "sneaky" } }),
                cookie,
            )
            .await;
        assert_eq!(response.status, expected, "{who} create");
        assert_eq!(fingerprint().await, before);
    }
    // The viewer who leads the team may reassign that team's item to a member…
    let reassigned = app.call("set_item_owner", &[("id", &id), ("owner_id", &member.to_string())], Some(&viewer)).await;
    assert_eq!(reassigned.status, StatusCode::OK, "{}", reassigned.body);
    // …and responders and admins may do everything.
    for cookie in [&responder, &admin] {
        assert_eq!(
            app.call("set_item_owner", &[("id", &id), ("owner_id", &outsider.to_string())], Some(cookie)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.call("set_item_due_date", &[("id", &id), ("due_date", "2031-01-01")], Some(cookie)).await.status,
            StatusCode::OK
        );
        app.call("set_item_due_date", &[("id", &id), ("due_date", "")], Some(cookie)).await;
    }
    // Everyone signed in reads the tracker; only the lead is told they lead.
    let t = tracker(&app, &viewer, json!({})).await;
    assert_eq!(t["items"].as_array().unwrap().len(), 2);
    assert_eq!(t["can_edit"], false);
    assert_eq!(t["leads"], json!([team]));
    assert_eq!(tracker(&app, &responder, json!({})).await["can_edit"], true);
}

/// Every page of the tracker for `filter`, following its cursor: (ids in order, totals seen).
async fn all_pages(app: &TestApp, cookie: &str, filter: Value) -> (Vec<Value>, Vec<i64>) {
    let mut items = Vec::new();
    let mut totals = Vec::new();
    let mut filter = filter;
    loop {
        let page = tracker(app, cookie, filter.clone()).await;
        let page_items = page["items"].as_array().unwrap();
        assert!(page_items.len() <= 50, "a page holds at most 50 items, not {}", page_items.len());
        items.extend(page_items.iter().cloned());
        totals.push(page["counts"]["total"].as_i64().unwrap());
        match page["next_cursor"].as_str() {
            Some(cursor) => filter["cursor"] = json!(cursor),
            None => return (items, totals),
        }
    }
}

#[sqlx::test(migrations = false)]
async fn the_tracker_is_read_a_page_at_a_time_in_every_order(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Many items", "SEV3").await;
    // Sort keys repeat (seven due dates, three priorities, one creation time), so pages
    // must break ties by id to neither skip nor repeat an item.
    sqlx::query(
        "INSERT INTO action_items (incident_id, title, priority, due_date, status, closed_at)
         SELECT i.id, 'item ' || g, 1 + g % 3, CASE WHEN g % 4 = 0 THEN NULL ELSE current_date + (g % 7) - 3 END,
                CASE WHEN g % 5 = 0 THEN 'done' ELSE 'open' END, CASE WHEN g % 5 = 0 THEN now() END
           FROM incidents i, generate_series(1, 130) g WHERE i.number = $1",
    )
    .bind(number)
    .execute(&app.pool)
    .await
    .unwrap();

    let first = tracker(&app, &cookie, json!({})).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 50, "the first page");
    assert_eq!(first["counts"]["total"], 130, "counts cover every match, not the page");
    assert!(first["next_cursor"].is_string());

    let due = |i: &Value| (i["due_date"].is_null(), i["due_date"].as_str().unwrap_or_default().to_owned());
    let key_due = |i: &Value| (due(i), i["priority"].as_str().unwrap().to_owned(), i["id"].as_i64().unwrap());
    let key_priority = |i: &Value| (i["priority"].as_str().unwrap().to_owned(), due(i), i["id"].as_i64().unwrap());
    for sort in ["due", "priority", "age"] {
        let (items, totals) = all_pages(&app, &cookie, json!({ "sort": sort })).await;
        assert!(totals.iter().all(|t| *t == 130));
        let got: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
        let mut expected = items.clone();
        match sort {
            "due" => expected.sort_by_key(key_due),
            "priority" => expected.sort_by_key(key_priority),
            _ => expected.sort_by_key(|i| i["id"].as_i64().unwrap()),
        }
        let expected: Vec<i64> = expected.iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(got.len(), 130, "{sort}: every item once");
        assert_eq!(got, expected, "{sort}: in order across pages");
    }
    // Filters computed from the reader's date page the same way.
    let (overdue, totals) = all_pages(&app, &cookie, json!({ "overdue": true, "sort": "priority" })).await;
    assert!(overdue.iter().all(|i| i["overdue"] == true));
    assert_eq!(totals[0], overdue.len() as i64);
    let expected = (1..=130).filter(|g| g % 5 != 0 && g % 4 != 0 && g % 7 < 3).count();
    assert_eq!(overdue.len(), expected);

    let bad = app.call_json("list_action_items", json!({ "filter": { "cursor": "nonsense" } }), Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["field"], "cursor");
}

#[sqlx::test(migrations = false)]
async fn the_csv_export_is_streamed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Many items", "SEV3").await;
    sqlx::query("INSERT INTO action_items (incident_id, title) SELECT i.id, 'item ' || g FROM incidents i, generate_series(1, 1200) g WHERE i.number = $1")
        .bind(number)
        .execute(&app.pool)
        .await
        .unwrap();
    let request = axum::http::Request::get("/api/action_items.csv?sort=age")
        .header(axum::http::header::COOKIE, &cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("content-length").is_none(), "sent as it is read, not built whole first");
    let mut body = response.into_body();
    let mut frames = 0;
    let mut text = String::new();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        if let Ok(data) = frame.unwrap().into_data() {
            frames += 1;
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(frames > 1, "one frame per batch of rows");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1201, "the header and every item");
    assert!(lines[1].contains(",item 1,") && lines[1200].contains(",item 1200,"));
}
