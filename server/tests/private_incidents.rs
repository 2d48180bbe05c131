//! Private incidents: for every read path, someone outside the incident (a responder, a
//! viewer, nobody signed in) learns nothing of it, while its participants and admins see
//! all of it; writes from outside are the same 404; notifications and public surfaces
//! leave it out; and every server function has a recorded visibility decision.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::Role;
use app::server::policy::SERVER_FUNCTIONS;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{PASSWORD, TestApp};
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

/// The word every trace of the private incident carries, and nothing else does.
const SECRET: &str = "ZEBRA";

/// One read: what it is, its status, its body.
struct Read {
    what: &'static str,
    status: StatusCode,
    body: String,
    /// Reads about the one incident: someone outside must get an error, not an empty answer.
    one_incident: bool,
    /// Whether an insider's answer necessarily carries [`SECRET`].
    reveals: bool,
}

fn form(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

async fn call(app: &TestApp, endpoint: &str, pairs: &[(&str, String)], cookie: Option<&str>) -> common::TestResponse {
    let owned = form(pairs);
    let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.call(endpoint, &borrowed, cookie).await
}

/// Every read path of Foghorn that can carry an incident, as `cookie` sees it.
async fn every_read(app: &TestApp, cookie: Option<&str>, number: i64, item: i64) -> Vec<Read> {
    let n = number.to_string();
    let reference = format!("INC-{number}");
    let mut reads = Vec::new();
    let mut push = |what, r: common::TestResponse, one_incident, reveals| {
        reads.push(Read { what, status: r.status, body: r.body, one_incident, reveals })
    };
    push("incident", call(app, "get_incident", &[("number", n.clone())], cookie).await, true, true);
    push("dashboard", call(app, "get_dashboard", &[], cookie).await, false, true);
    push("history", app.call_json("list_incidents", json!({ "filter": {} }), cookie).await, false, true);
    push("search", app.call_json("list_incidents", json!({ "filter": { "q": SECRET } }), cookie).await, false, true);
    push("comms updates", call(app, "list_comms_updates", &[("number", n.clone())], cookie).await, true, true);
    push("incident runbooks", call(app, "list_incident_runbooks", &[("number", n.clone())], cookie).await, true, false);
    push("postmortem", call(app, "get_postmortem", &[("number", n.clone())], cookie).await, true, true);
    push(
        "postmortem versions",
        call(app, "list_postmortem_versions", &[("number", n.clone())], cookie).await,
        true,
        false,
    );
    let version = [("number", n.clone()), ("version", "1".into())];
    push("postmortem version", call(app, "get_postmortem_version", &version, cookie).await, true, false);
    push("postmortems", app.call_json("list_postmortems", json!({ "filter": {} }), cookie).await, false, true);
    push("tracker", app.call_json("list_action_items", json!({ "filter": {} }), cookie).await, false, true);
    let by_incident = json!({ "filter": { "incident": number } });
    push("tracker by incident", app.call_json("list_action_items", by_incident, cookie).await, false, true);
    push("item history", call(app, "get_action_item_history", &[("id", item.to_string())], cookie).await, true, false);
    push(
        "team summaries",
        call(app, "list_team_summaries", &[("tz_offset_minutes", "0".into())], cookie).await,
        false,
        false,
    );
    push("major incidents", call(app, "list_major_incidents", &[], cookie).await, false, true);
    push("incident page", app.get(&format!("/incidents/{reference}"), cookie).await, true, true);
    push("postmortem page", app.get(&format!("/postmortems/{reference}"), cookie).await, true, true);
    push("dashboard page", app.get("/", cookie).await, false, true);
    push("history page", app.get("/incidents", cookie).await, false, true);
    push("tracker page", app.get("/actions", cookie).await, false, false);
    push("postmortems page", app.get("/postmortems", cookie).await, false, false);
    push("markdown", app.get(&format!("/api/postmortems/{reference}/markdown"), cookie).await, true, true);
    push("tracker CSV", app.get("/api/action_items.csv", cookie).await, false, true);
    push("calendar feed", app.get("/api/calendar/postmortems.ics", cookie).await, false, true);
    // The feed as calendar apps fetch it: by the person's secret address, without a session.
    let address = match cookie {
        Some(_) => call(app, "get_calendar_feed", &[], cookie).await.json().as_str().unwrap().to_owned(),
        None => "/api/calendar/postmortems.ics?key=guessed".to_owned(),
    };
    push("calendar feed by address", app.get(&address, None).await, false, cookie.is_some());
    let import = call(app, "get_postmortem_timeline_import", &[("number", n.clone())], cookie).await;
    push("timeline import", import, true, true);
    // A live stream never ends by itself: only its status is read.
    let mut request = Request::get(format!("/api/live?incident={number}")).header(header::ACCEPT, "text/event-stream");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let live = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    reads.push(Read {
        what: "live stream",
        status: live.status(),
        body: String::new(),
        one_incident: true,
        reveals: false,
    });
    reads
}

fn assert_sees_nothing(reads: &[Read], who: &str) {
    for r in reads {
        assert!(!r.body.contains(SECRET), "{who}: {} shows the private incident: {}", r.what, r.body);
        if r.one_incident {
            assert!(
                // 403: the role may not do this at all, whatever the number.
                matches!(
                    r.status,
                    StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
                ),
                "{who}: {} answered {} instead of 'no such incident'",
                r.what,
                r.status
            );
        }
    }
}

fn assert_sees_everything(reads: &[Read], who: &str) {
    for r in reads {
        assert_eq!(r.status, StatusCode::OK, "{who}: {}: {}", r.what, r.body);
        if r.reveals {
            assert!(r.body.contains(SECRET), "{who}: {} should show the incident: {}", r.what, r.body);
        }
    }
}

struct World {
    app: TestApp,
    admin: String,
    point: String,
    responder: String,
    viewer: String,
    owner: String,
    number: i64,
    item: i64,
}

/// A private SEV1 with everything that can hang off an incident: a note, a comms update,
/// a postmortem with a meeting, an action item owned by someone outside it; and a
/// public incident beside it.
async fn world(pool: PgPool) -> World {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let point_id = app.create_user("point@example.com", "Pat Point", Role::Responder).await;
    let point = app.sign_in("point@example.com", PASSWORD).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let owner_id = app.create_user("owner@example.com", "Olly Owner", Role::Responder).await;
    let owner = app.sign_in("owner@example.com", PASSWORD).await;
    let team = app.call("create_team", &[("name", "Security")], Some(&admin)).await.json().as_i64().unwrap();

    let declared = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": format!("{SECRET} payroll data exposed"), "severity": "SEV1",
                "team_id": team, "privacy": { "private": true } } }),
            Some(&point),
        )
        .await;
    assert_eq!(declared.status, StatusCode::OK, "{}", declared.body);
    let number = declared.json().as_i64().unwrap();
    let n = number.to_string();
    assert_eq!(
        call(&app, "post_note", &[("number", n.clone()), ("body", format!("{SECRET} note"))], Some(&point))
            .await
            .status,
        StatusCode::OK
    );
    let update = json!({ "update": { "number": number, "affected": format!("{SECRET} staff"), "known": "k", "doing": "d",
        "internal": true } });
    let r = app.call_json("post_comms_update", update, Some(&point)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(call(&app, "start_postmortem", &[("number", n.clone())], Some(&point)).await.status, StatusCode::OK);
    let at = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let meeting = [("number", n.clone()), ("at", at), ("place", "Room 1".into())];
    let r = call(&app, "schedule_postmortem_meeting", &meeting, Some(&point)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let item = json!({ "item": { "incident_number": number, "title": "Rotate the keys", "owner_id": owner_id,
        "team_id": team } });
    let r = app.call_json("create_action_item", item, Some(&point)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let item = r.json().as_i64().unwrap();
    assert_ne!(point_id, owner_id);
    app.declare(&responder, "Checkout is slow", "SEV2").await;
    World { app, admin, point, responder, viewer, owner, number, item }
}

#[sqlx::test(migrations = false)]
async fn nobody_outside_a_private_incident_can_tell_it_exists(pool: PgPool) {
    let w = world(pool).await;
    for (who, cookie) in
        [("a responder outside it", Some(&w.responder)), ("a viewer", Some(&w.viewer)), ("nobody", None)]
    {
        let reads = every_read(&w.app, cookie.map(String::as_str), w.number, w.item).await;
        assert_sees_nothing(&reads, who);
    }
    // The public incident beside it is there for them, so the empty answers are not an accident.
    let dashboard = call(&w.app, "get_dashboard", &[], Some(&w.viewer)).await;
    assert!(dashboard.body.contains("Checkout is slow"), "{}", dashboard.body);
    // Counts leave it out too: its item is the only one of the Security team.
    let offset = [("tz_offset_minutes", "0".to_owned())];
    assert!(!call(&w.app, "list_team_summaries", &offset, Some(&w.responder)).await.body.contains("Security"));
    assert!(call(&w.app, "list_team_summaries", &offset, Some(&w.point)).await.body.contains("Security"));
    for (who, cookie) in [("its point", &w.point), ("an admin", &w.admin)] {
        let reads = every_read(&w.app, Some(cookie), w.number, w.item).await;
        assert_sees_everything(&reads, who);
    }
}

#[sqlx::test(migrations = false)]
async fn an_item_owner_outside_it_sees_that_item_and_nothing_else(pool: PgPool) {
    let w = world(pool).await;
    let tracker = w.app.call_json("list_action_items", json!({ "filter": {} }), Some(&w.owner)).await.json();
    let items = tracker["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{tracker}");
    assert_eq!(items[0]["title"], "Rotate the keys");
    assert_eq!(items[0]["incident_title"], "Private incident");
    assert!(!tracker.to_string().contains(SECRET));
    let history = call(&w.app, "get_action_item_history", &[("id", w.item.to_string())], Some(&w.owner)).await;
    assert_eq!(history.status, StatusCode::OK);
    let status = [("id", w.item.to_string()), ("status", "in_progress".into()), ("reason", String::new())];
    assert_eq!(
        call(&w.app, "set_item_status", &status, Some(&w.owner)).await.status,
        StatusCode::OK,
        "the owner works it"
    );
    let incident = call(&w.app, "get_incident", &[("number", w.number.to_string())], Some(&w.owner)).await;
    assert_eq!(incident.status, StatusCode::NOT_FOUND);
    // Someone else outside it cannot reach the item either.
    assert_eq!(call(&w.app, "set_item_status", &status, Some(&w.responder)).await.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = false)]
async fn taking_its_data_out_is_in_the_audit_log(pool: PgPool) {
    let w = world(pool).await;
    let exported = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events WHERE kind = 'private_data_exported'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap()
    };
    let markdown = format!("/api/postmortems/INC-{}/markdown", w.number);
    assert_eq!(w.app.get(&markdown, Some(&w.point)).await.status, StatusCode::OK);
    assert_eq!(exported().await, 1, "the private postmortem's download");
    assert!(w.app.get("/api/action_items.csv", Some(&w.point)).await.body.contains(SECRET));
    assert_eq!(exported().await, 2, "an export with its action items");
    // Exports that hold nothing private are not: someone outside it, or a filter that leaves it out.
    assert!(!w.app.get("/api/action_items.csv", Some(&w.responder)).await.body.contains(SECRET));
    w.app.get("/api/action_items.csv?status=done", Some(&w.point)).await;
    assert_eq!(exported().await, 2);
}

#[sqlx::test(migrations = false)]
async fn writes_from_outside_are_the_same_404_and_change_nothing(pool: PgPool) {
    let w = world(pool).await;
    let n = w.number.to_string();
    let fingerprint = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT concat_ws('|', (SELECT last_seq FROM incidents WHERE number = $1),
                    (SELECT count(*) FROM action_items), (SELECT count(*) FROM incident_roles),
                    (SELECT status FROM incidents WHERE number = $1))",
        )
        .bind(w.number)
        .fetch_one(&w.app.pool)
        .await
        .unwrap()
    };
    let before = fingerprint().await;
    let writes: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("post_note", vec![("number", n.clone()), ("body", "hello".into())]),
        ("change_status", vec![("number", n.clone()), ("status", "identified".into()), ("resolution", String::new())]),
        ("change_severity", vec![("number", n.clone()), ("severity", "SEV3".into())]),
        ("join_incident", vec![("number", n.clone())]),
        ("assign_role", vec![("number", n.clone()), ("role", "comms".into()), ("user_id", "1".into())]),
        ("add_participant", vec![("number", n.clone()), ("user_id", "1".into())]),
        (
            "set_incident_privacy",
            vec![("number", n.clone()), ("private", "false".into()), ("team_can_see", "false".into())],
        ),
        ("start_postmortem", vec![("number", n.clone())]),
        ("attach_runbook", vec![("number", n.clone()), ("runbook_id", "1".into())]),
    ];
    for (endpoint, args) in &writes {
        let r = call(&w.app, endpoint, args, Some(&w.responder)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{endpoint}: {}", r.body);
        assert!(!r.body.contains(SECRET));
    }
    let item = json!({ "item": { "incident_number": w.number, "title": "x" } });
    assert_eq!(w.app.call_json("create_action_item", item, Some(&w.responder)).await.status, StatusCode::NOT_FOUND);
    // A number that was never used answers exactly the same.
    let unused =
        call(&w.app, "post_note", &[("number", "999999".into()), ("body", "x".into())], Some(&w.responder)).await;
    let used = call(&w.app, "post_note", &[("number", n.clone()), ("body", "x".into())], Some(&w.responder)).await;
    assert_eq!(unused.body.replace("INC-999999", "INC-N"), used.body.replace(&format!("INC-{n}"), "INC-N"));
    assert_eq!(fingerprint().await, before);
}

#[sqlx::test(migrations = false)]
async fn point_adds_people_and_decides_who_else_sees_it(pool: PgPool) {
    let w = world(pool).await;
    let n = w.number.to_string();
    let viewer_id: i64 = w.app.viewer(Some(&w.viewer)).await["id"].as_i64().unwrap();
    // Adding someone lets them in, and says so on the timeline and in the audit log.
    let r =
        call(&w.app, "add_participant", &[("number", n.clone()), ("user_id", viewer_id.to_string())], Some(&w.point))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_sees_everything_readable(&w, &w.viewer).await;
    let incident = call(&w.app, "get_incident", &[("number", n.clone())], Some(&w.point)).await.json();
    let last = incident["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["body"], "Pat Point added Viewer user to the response");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE kind = 'private_participant_added'")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // Only point or an admin decides: a participant who is neither is refused.
    let to_public = [("number", n.clone()), ("private", "false".into()), ("team_can_see", "false".into())];
    let r = call(&w.app, "set_incident_privacy", &to_public, Some(&w.owner)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the item owner is not in the incident");
    let outsider =
        call(&w.app, "add_participant", &[("number", n.clone()), ("user_id", "1".into())], Some(&w.admin)).await;
    assert_eq!(outsider.status, StatusCode::OK, "an admin may add people: {}", outsider.body);

    // Visible to the owning team, then public again: each an explicit, logged change.
    let security_member: i64 = w.app.viewer(Some(&w.responder)).await["id"].as_i64().unwrap();
    let team: i64 =
        sqlx::query_scalar("SELECT id FROM teams WHERE name = 'Security'").fetch_one(&w.app.pool).await.unwrap();
    call(
        &w.app,
        "add_team_member",
        &[("team_id", team.to_string()), ("user_id", security_member.to_string())],
        Some(&w.admin),
    )
    .await;
    assert_eq!(
        call(&w.app, "get_incident", &[("number", n.clone())], Some(&w.responder)).await.status,
        StatusCode::NOT_FOUND
    );
    let to_team = [("number", n.clone()), ("private", "true".into()), ("team_can_see", "true".into())];
    assert_eq!(call(&w.app, "set_incident_privacy", &to_team, Some(&w.point)).await.status, StatusCode::OK);
    assert_eq!(call(&w.app, "get_incident", &[("number", n.clone())], Some(&w.responder)).await.status, StatusCode::OK);
    assert_eq!(call(&w.app, "set_incident_privacy", &to_public, Some(&w.point)).await.status, StatusCode::OK);
    let outsider = w.app.create_user("someone@example.com", "Someone", Role::Viewer).await;
    assert!(outsider > 0);
    let someone = w.app.sign_in("someone@example.com", PASSWORD).await;
    assert_eq!(call(&w.app, "get_incident", &[("number", n.clone())], Some(&someone)).await.status, StatusCode::OK);
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM audit_events WHERE kind LIKE 'incident_made_%' ORDER BY id")
            .fetch_all(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(
        kinds,
        ["incident_made_private", "incident_made_private", "incident_made_public"],
        "declared, shown to the team, public"
    );
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT e.body FROM timeline_entries e JOIN incidents i ON i.id = e.incident_id
          WHERE i.number = $1 AND e.kind = 'access' ORDER BY e.seq",
    )
    .bind(w.number)
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    assert!(bodies[2].contains("its owning team") && bodies[3].contains("made the incident public"), "{bodies:?}");
}

/// The reads an added viewer needs: the incident and its live stream.
async fn assert_sees_everything_readable(w: &World, cookie: &str) {
    let r = call(&w.app, "get_incident", &[("number", w.number.to_string())], Some(cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(SECRET));
    let history = w.app.call_json("list_incidents", json!({ "filter": { "q": SECRET } }), Some(cookie)).await;
    assert!(history.body.contains(SECRET));
}

#[sqlx::test(migrations = false)]
async fn its_messages_go_only_to_its_people_and_never_to_the_public(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (_, point) = app.user_with_role(Role::Responder).await;
    let policy = json!({ "policy": { "name": "Everyone", "severities": ["SEV1"], "events": ["declared", "comms_update"],
        "recipients": "all-staff@example.com", "owning_team": false } });
    assert_eq!(app.call_json("create_notification_policy", policy, Some(&admin)).await.status, StatusCode::OK);
    for (name, private_incidents) in [("company chat", false), ("security chat", true)] {
        let hook = json!({ "webhook": { "name": name, "url": "https://hooks.example.com/x", "format": "json",
            "severities": ["SEV1"], "events": ["declared"], "private_incidents": private_incidents } });
        assert_eq!(app.call_json("create_webhook", hook, Some(&admin)).await.status, StatusCode::OK);
    }
    let declared = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": format!("{SECRET} insider"), "severity": "SEV1", "privacy": { "private": true } } }),
            Some(&point),
        )
        .await;
    let number = declared.json().as_i64().unwrap();
    let recipients: Vec<String> = sqlx::query_scalar(
        "SELECT o.recipient FROM outbox o JOIN incidents i ON i.id = o.incident_id WHERE i.number = $1 ORDER BY 1",
    )
    .bind(number)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(recipients, ["responder@example.com", "security chat"]);

    // Nothing public: a public update is refused, and the status page never shows it.
    let update = json!({ "update": { "number": number, "affected": "a", "known": "k", "doing": "d",
        "public": true, "public_text": format!("{SECRET} public words") } });
    let refused = app.call_json("post_comms_update", update, Some(&point)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    for path in ["/status", "/status.json", "/status/feed.atom"] {
        assert!(!app.get(path, None).await.body.contains(SECRET), "{path}");
    }
    let status = call(&app, "get_public_status", &[], Some(&admin)).await;
    assert!(!status.body.contains(SECRET));
}

#[sqlx::test(migrations = false)]
async fn private_to_its_team_needs_a_team(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, point) = app.user_with_role(Role::Responder).await;
    let team_less = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "x", "severity": "SEV3",
                "privacy": { "private": true, "team_can_see": true } } }),
            Some(&point),
        )
        .await;
    assert_eq!(team_less.status, StatusCode::UNPROCESSABLE_ENTITY, "visible to which team? {}", team_less.body);
    assert!(team_less.body.contains("team_can_see"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0, "nothing was declared");
}

/// Every server function must be in the policy's table with a visibility decision: a new
/// one added without a decision fails here.
#[test]
fn every_server_function_has_a_visibility_decision() {
    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    registered.sort();
    registered.dedup();
    let mut decided: Vec<String> = SERVER_FUNCTIONS.iter().map(|(name, _)| name.to_string()).collect();
    decided.sort();
    let undecided: Vec<&String> = registered.iter().filter(|r| !decided.contains(r)).collect();
    let stale: Vec<&String> = decided.iter().filter(|d| !registered.contains(d)).collect();
    assert!(undecided.is_empty(), "server functions without a visibility decision in policy.rs: {undecided:?}");
    assert!(stale.is_empty(), "policy.rs lists server functions that no longer exist: {stale:?}");
}
