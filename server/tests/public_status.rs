//! The public status surfaces under a crowd: served from this instance's snapshot, so a
//! flood of visitors costs at most one database read, and a change made anywhere (any
//! instance, any connection) shows once the database announces it.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::{TestApp, shows_within};
use serde_json::json;
use sqlx::PgPool;
use std::time::{Duration, Instant};

const SURFACES: [&str; 4] = ["/status", "/status.json", "/status/feed.atom", "/status/banner.js"];

async fn public_service(app: &TestApp, admin: &str, name: &str) -> i64 {
    let id = app
        .call("create_service", &[("name", name), ("description", ""), ("team_id", "")], Some(admin))
        .await
        .json()
        .as_i64()
        .unwrap();
    assert_eq!(
        app.call("set_service_public", &[("id", &id.to_string()), ("public", "true")], Some(admin)).await.status,
        StatusCode::OK
    );
    id
}

async fn say_publicly(app: &TestApp, cookie: &str, number: i64, text: &str) {
    let update = json!({ "update": { "number": number, "known": "internal", "internal": false, "public": true, "public_text": text } });
    let response = app.call_json("post_comms_update", update, Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

/// Queries of this test's database waiting for a lock on `table`.
async fn waiting_on(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE d.datname = current_database() AND NOT l.granted AND l.relation = $1::regclass",
    )
    .bind(table)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_crowd_of_visitors_costs_at_most_one_status_query(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let api = public_service(&app, &admin, "API").await;
    let number = app
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "t", "severity": "SEV2", "service_ids": [api] } }),
            Some(&admin),
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    let before = app.hub.public_generation();
    say_publicly(&app, &admin, number, "Errors on the API.").await;
    // That update's announcement has arrived before the crowd, however slow the machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.hub.public_generation() == before && Instant::now() < deadline {
        common::sleep(20).await;
    }
    common::sleep(300).await;

    // The status query reads the services' overrides: while another transaction holds
    // that table, any read of the public status waits where pg_locks shows it. (The
    // test's own connections, so the app's pool is all the app's.)
    let own = PgPool::connect_with(app.pool.connect_options().as_ref().clone()).await.unwrap();
    let mut blocker = own.begin().await.unwrap();
    sqlx::query("LOCK TABLE service_state_overrides IN ACCESS EXCLUSIVE MODE").execute(&mut *blocker).await.unwrap();
    let crowd = futures::future::join_all((0..40).map(|i| app.get(SURFACES[i % 4], None)));
    let watch = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while waiting_on(&own, "service_state_overrides").await == 0 && Instant::now() < deadline {
            common::sleep(20).await;
        }
        // Give every other request time to reach the database, if it were going to.
        common::sleep(500).await;
        let waiting = waiting_on(&own, "service_state_overrides").await;
        blocker.commit().await.unwrap();
        waiting
    };
    let (responses, waiting) = tokio::join!(crowd, watch);
    assert_eq!(waiting, 1, "40 concurrent public requests read the status once");
    assert!(responses.iter().all(|r| r.status == StatusCode::OK && r.body.contains("Errors on the API")));

    // Now the copy is current: the database is not asked at all.
    let mut blocker = own.begin().await.unwrap();
    sqlx::query("LOCK TABLE service_state_overrides IN ACCESS EXCLUSIVE MODE").execute(&mut *blocker).await.unwrap();
    let crowd = futures::future::join_all((0..200).map(|i| app.get(SURFACES[i % 4], None)));
    let responses = tokio::time::timeout(Duration::from_secs(30), crowd).await.expect("answered without the database");
    assert!(responses.iter().all(|r| r.status == StatusCode::OK));
    assert_eq!(waiting_on(&own, "service_state_overrides").await, 0);
    blocker.commit().await.unwrap();
}

#[sqlx::test(migrations = false)]
async fn a_change_made_through_another_instance_or_connection_shows(pool: PgPool) {
    let here = TestApp::new(pool.clone()).await;
    let there = TestApp::new(pool.clone()).await;
    let (_, admin) = here.user_with_role(Role::Admin).await;
    let api = public_service(&here, &admin, "API").await;
    for path in SURFACES {
        assert_eq!(here.get(path, None).await.status, StatusCode::OK, "{path}");
    }
    assert!(!here.get("/status.json", None).await.body.contains("Errors on the API"));

    // Declared and announced through the other instance.
    let number = there
        .call_json(
            "declare_incident",
            json!({ "declaration": { "title": "t", "severity": "SEV1", "service_ids": [api] } }),
            Some(&admin),
        )
        .await
        .json()
        .as_i64()
        .unwrap();
    say_publicly(&there, &admin, number, "Errors on the API.").await;
    // Well within the snapshot's maximum age: it is the notification that refreshes it.
    for path in SURFACES {
        assert!(
            shows_within(&here, path, "Errors on the API.", Duration::from_secs(30)).await,
            "{path} shows the update"
        );
    }

    // A change by hand, on a connection of its own, is announced as well.
    let own = PgPool::connect_with(pool.connect_options().as_ref().clone()).await.unwrap();
    sqlx::query("UPDATE services SET name = 'Public API' WHERE id = $1").bind(api).execute(&own).await.unwrap();
    assert!(shows_within(&here, "/status.json", "Public API", Duration::from_secs(30)).await);
}

#[sqlx::test(migrations = false)]
async fn public_requests_give_way_while_a_responder_is_served(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    assert_eq!(app.get("/status/banner.js", None).await.status, StatusCode::OK, "the snapshot is warm");

    // A responder's page held up in the database (their user row is locked)…
    let own = PgPool::connect_with(app.pool.connect_options().as_ref().clone()).await.unwrap();
    let mut blocker = own.begin().await.unwrap();
    sqlx::query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE").execute(&mut *blocker).await.unwrap();
    let request = axum::http::Request::get("/")
        .header(axum::http::header::COOKIE, &cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let responder = tokio::spawn(tower::ServiceExt::oneshot(app.router.clone(), request));
    while waiting_on(&own, "users").await == 0 {
        common::sleep(10).await;
    }
    // …and a public request waits for it, up to its limit, then is answered anyway.
    let started = Instant::now();
    assert_eq!(app.get("/status/banner.js", None).await.status, StatusCode::OK);
    assert!(
        started.elapsed() >= foghorn::priority::GIVE_WAY_MAX,
        "answered after {:?}, while a responder was being served",
        started.elapsed()
    );
    blocker.commit().await.unwrap();
    assert!(responder.await.unwrap().unwrap().status().is_success());
}
