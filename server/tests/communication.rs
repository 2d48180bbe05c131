//! Communication: comms updates come from the person on comms and promise the next, and
//! the public status page derives each service's state from incidents, shows only the
//! words written for the public, and can be overridden only by point or comms.

mod common;

use app::model::Role;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

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
