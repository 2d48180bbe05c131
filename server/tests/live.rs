//! Live updates: a subscriber on one instance receives, in order and without gaps,
//! what is written through another instance on the same database; a reconnecting
//! subscriber gets exactly what it missed.

mod common;

use app::model::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use http_body_util::BodyExt;
use sqlx::PgPool;
use std::time::Duration;
use tower::ServiceExt;

/// Reads Server-Sent Events from a streaming response body.
struct EventReader {
    body: Body,
    buffer: String,
}

#[derive(Debug)]
struct Event {
    name: String,
    id: Option<String>,
    data: String,
}

impl EventReader {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event { name: "message".into(), id: None, data: String::new() };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.name = v.trim().to_owned();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.trim_start());
                        any = true;
                    }
                }
                if any {
                    return Some(event);
                }
                continue; // a keep-alive comment
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await.ok()??.ok()?;
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    /// The next `timeline` event's (seq, body), skipping other events.
    async fn next_entry(&mut self) -> (i64, String) {
        loop {
            let event = self.next().await.expect("stream ended or timed out");
            if event.name == "timeline" {
                let entry: serde_json::Value = serde_json::from_str(&event.data).unwrap();
                assert_eq!(event.id.as_deref(), Some(entry["seq"].to_string().as_str()), "the SSE id is the sequence");
                return (entry["seq"].as_i64().unwrap(), entry["body"].as_str().unwrap().to_owned());
            }
        }
    }
}

async fn subscribe(app: &TestApp, cookie: &str, path: &str, last_event_id: Option<i64>) -> (StatusCode, EventReader) {
    let mut request = Request::get(path).header(header::COOKIE, cookie).header(header::ACCEPT, "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    (status, EventReader { body: response.into_body(), buffer: String::new() })
}

async fn post(app: &TestApp, cookie: &str, number: i64, body: &str) {
    let response = app.call("post_note", &[("number", &number.to_string()), ("body", body)], Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[sqlx::test(migrations = false)]
async fn writes_through_one_instance_reach_subscribers_of_another_in_order(pool: PgPool) {
    let first = TestApp::new(pool.clone()).await;
    let second = TestApp::new(pool).await;
    let (_, cookie) = first.user_with_role(Role::Responder).await;
    let (_, viewer) = first.user_with_role(Role::Viewer).await;
    let number = first.declare(&cookie, "Live test", "SEV2").await;
    let after = first.last_seq(number).await;

    let (status, mut events) =
        subscribe(&first, &viewer, &format!("/api/live?incident={number}&after={after}"), None).await;
    assert_eq!(status, StatusCode::OK);

    // Concurrent writers on the second instance.
    let writes = (0..10).map(|i| {
        let second = &second;
        let cookie = cookie.clone();
        async move { post(second, &cookie, number, &format!("note {i}")).await }
    });
    futures::future::join_all(writes).await;
    second
        .call(
            "change_status",
            &[("number", &number.to_string()), ("status", "identified"), ("resolution", "")],
            Some(&cookie),
        )
        .await;

    let mut seqs = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..11 {
        let (seq, body) = events.next_entry().await;
        seqs.push(seq);
        bodies.push(body);
    }
    assert_eq!(seqs, ((after + 1)..=(after + 11)).collect::<Vec<_>>(), "in order, no gaps, no repeats");
    let mut notes: Vec<_> = bodies[..10].to_vec();
    notes.sort();
    assert_eq!(notes, (0..10).map(|i| format!("note {i}")).collect::<Vec<_>>());
    assert!(bodies[10].contains("changed the status from investigating to identified"));
}

#[sqlx::test(migrations = false)]
async fn a_reconnecting_subscriber_gets_exactly_what_it_missed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Reconnect test", "SEV3").await;
    let after = app.last_seq(number).await;
    let path = format!("/api/live?incident={number}&after={after}");

    let (_, mut events) = subscribe(&app, &cookie, &path, None).await;
    post(&app, &cookie, number, "seen 1").await;
    post(&app, &cookie, number, "seen 2").await;
    assert_eq!(events.next_entry().await.1, "seen 1");
    let (last_seen, body) = events.next_entry().await;
    assert_eq!(body, "seen 2");
    drop(events); // the connection drops

    for i in 1..=3 {
        post(&app, &cookie, number, &format!("missed {i}")).await;
    }
    // The browser reconnects with the same URL and Last-Event-ID.
    let (_, mut events) = subscribe(&app, &cookie, &path, Some(last_seen)).await;
    for i in 1..=3 {
        let (seq, body) = events.next_entry().await;
        assert_eq!((seq, body), (last_seen + i, format!("missed {i}")));
    }
    post(&app, &cookie, number, "live again").await;
    assert_eq!(events.next_entry().await, (last_seen + 4, "live again".to_owned()), "no duplicates, then live");
}

#[sqlx::test(migrations = false)]
async fn dashboards_hear_about_any_incident(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let (_, mut events) = subscribe(&app, &cookie, "/api/live", None).await;
    app.declare(&cookie, "New one", "SEV1").await;
    let event = events.next().await.expect("an event");
    assert_eq!(event.name, "incidents");
}

#[sqlx::test(migrations = false)]
async fn streams_are_for_signed_in_people(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app.get("/api/live", None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn an_up_to_date_page_is_sent_nothing_until_something_happens(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Quiet", "SEV4").await;
    let after = app.last_seq(number).await;
    let (_, mut events) = subscribe(&app, &cookie, &format!("/api/live?incident={number}&after={after}"), None).await;
    post(&app, &cookie, number, "first news").await;
    // Anything sent before the note would make the page reload for nothing (or forever).
    let first = events.next().await.expect("an event");
    assert_eq!(first.name, "timeline");
    assert!(first.data.contains("first news"));
}

#[sqlx::test(migrations = false)]
async fn a_stream_ends_when_its_session_ends(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Viewer).await;
    let (status, mut events) = subscribe(&app, &cookie, "/api/live", None).await;
    assert_eq!(status, StatusCode::OK);
    app.call("sign_out", &[], Some(&cookie)).await;

    // The stream re-checks its session every 15 s; it must then end by itself.
    let ended = tokio::time::timeout(Duration::from_secs(25), async {
        loop {
            match events.body.frame().await {
                None => return true,
                Some(Err(_)) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true), "the stream of a signed-out session closes");
}

#[sqlx::test(migrations = false)]
async fn one_person_may_hold_at_most_20_open_streams(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let (_, other) = app.user_with_role(Role::Viewer).await;
    let mut open = Vec::new();
    for _ in 0..20 {
        let (status, events) = subscribe(&app, &cookie, "/api/live", None).await;
        assert_eq!(status, StatusCode::OK);
        open.push(events);
    }
    let (status, _) = subscribe(&app, &cookie, "/api/live", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the 21st stream of one person is refused");
    let (status, _) = subscribe(&app, &other, "/api/live", None).await;
    assert_eq!(status, StatusCode::OK, "someone else is not affected");
    // A closed stream frees its place.
    open.pop();
    let (status, _) = subscribe(&app, &cookie, "/api/live", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn a_catch_up_from_the_start_is_read_a_page_at_a_time(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "A long incident", "SEV2").await;
    let first_new = app.last_seq(number).await + 1;
    let total: i64 = 100_000;
    sqlx::query(
        "WITH i AS (UPDATE incidents SET last_seq = last_seq + $2 WHERE number = $1 RETURNING id, last_seq - $2 AS base)
         INSERT INTO timeline_entries (incident_id, seq, kind, body) SELECT i.id, i.base + g, 'note', 'entry ' || (i.base + g) FROM i, generate_series(1, $2) g",
    )
    .bind(number)
    .bind(total - first_new + 1)
    .execute(&app.pool)
    .await
    .unwrap();

    let (status, mut events) = subscribe(&app, &cookie, &format!("/api/live?incident={number}"), Some(0)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.next_entry().await.0, 1);
    // While the timeline cannot be read, the stream delivers what it holds and waits:
    // it never held more than a page.
    let mut blocker = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE timeline_entries IN ACCESS EXCLUSIVE MODE").execute(&mut *blocker).await.unwrap();
    let mut delivered = 1;
    while delivered < 5_000 {
        match tokio::time::timeout(Duration::from_secs(2), events.next_entry()).await {
            Ok((seq, _)) => {
                delivered += 1;
                assert_eq!(seq, delivered);
            }
            Err(_) => break,
        }
    }
    assert!(
        delivered < 5_000,
        "{delivered} entries were delivered without reading the database: all were held in memory"
    );
    blocker.commit().await.unwrap();
    // Then it goes on, in order, to the end, and live after that.
    while delivered < total {
        let (seq, _) = events.next_entry().await;
        delivered += 1;
        assert_eq!(seq, delivered);
    }
    post(&app, &cookie, number, "live again").await;
    assert_eq!(events.next_entry().await, (total + 1, "live again".to_owned()));
}

#[sqlx::test(migrations = false)]
async fn streams_beyond_the_instance_limit_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.hub.limit_streams(foghorn::live::StreamLimits { per_user: 20, overall: 3 });
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let mut open = Vec::new();
    for cookie in [&responder, &responder, &viewer] {
        let (status, events) = subscribe(&app, cookie, "/api/live", None).await;
        assert_eq!(status, StatusCode::OK);
        open.push(events);
    }
    let (status, _) = subscribe(&app, &viewer, "/api/live", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the instance is full, whoever asks");
    open.clear();
    let (status, _) = subscribe(&app, &viewer, "/api/live", None).await;
    assert_eq!(status, StatusCode::OK, "closed streams free their places");
}

#[sqlx::test(migrations = false)]
async fn an_incident_stream_ends_for_whoever_may_not_see_it_once_it_turns_private(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, point) = app.user_with_role(Role::Responder).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let number = app.declare(&point, "Credentials leaked", "SEV2").await;
    let after = app.last_seq(number).await;
    let path = format!("/api/live?incident={number}&after={after}");
    let (status, mut outsider) = subscribe(&app, &viewer, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, mut insider) = subscribe(&app, &point, &path, None).await;

    let form = [("number", number.to_string()), ("private", "true".into()), ("team_can_see", "false".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.call("set_incident_privacy", &form, Some(&point)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    post(&app, &point, number, "the secret part").await;

    assert!(insider.next_entry().await.1.contains("made the incident private"));
    assert_eq!(insider.next_entry().await.1, "the secret part");
    let mut seen = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match outsider.body.frame().await {
                Some(Ok(frame)) => seen.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap_or_default())),
                _ => return true,
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true), "the outsider's stream ends at once");
    assert!(!seen.contains("secret part") && !seen.contains("private"), "and carried nothing of it: {seen}");
    let (status, _) = subscribe(&app, &viewer, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "and cannot be opened again");
}
