//! The incident history: keyset pagination, filters and full-text search.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;

/// 120 incidents, one per hour going back; every 3rd is a SEV1 about the database,
/// every 4th belongs to the Payments team and affects Checkout, every 5th is resolved.
async fn seed(app: &TestApp) -> (i64, i64) {
    let team = app::server::db::teams::create(&app.pool, &app::server::db::audit::Actor::server("test"), "Payments")
        .await
        .unwrap();
    let input = app::server::db::services::ServiceInput::parse("Checkout", "", "").unwrap();
    let service = app::server::db::services::create(&app.pool, &app::server::db::audit::Actor::server("test"), &input)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO incidents (title, summary, severity, status, team_id, declared_at)
         SELECT CASE WHEN g % 3 = 0 THEN 'Database failover ' || g ELSE 'Latency spike ' || g END,
                CASE WHEN g % 3 = 0 THEN 'primary lost quorum' ELSE 'p99 above target' END,
                CASE WHEN g % 3 = 0 THEN 1 ELSE 3 END,
                CASE WHEN g % 5 = 0 THEN 'resolved' ELSE 'investigating' END,
                CASE WHEN g % 4 = 0 THEN $1::bigint END,
                timestamptz '2026-06-01 00:00:00+00' - make_interval(hours => g)
           FROM generate_series(1, 120) g",
    )
    .bind(team)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO incident_services (incident_id, service_id) SELECT id, $1 FROM incidents WHERE team_id IS NOT NULL")
        .bind(service)
        .execute(&app.pool)
        .await
        .unwrap();
    (team, service)
}

async fn all_pages(app: &TestApp, cookie: &str, mut filter: Value) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..20 {
        let response = app.call_json("list_incidents", json!({ "filter": filter.clone() }), Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let page = response.json();
        let page_items = page["items"].as_array().unwrap().clone();
        assert!(page_items.len() <= 50);
        items.extend(page_items);
        match page["next_cursor"].as_str() {
            Some(cursor) => filter["cursor"] = json!(cursor),
            None => return items,
        }
    }
    panic!("pagination did not end");
}

fn titles(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect()
}

#[sqlx::test(migrations = false)]
async fn pages_walk_every_incident_once_newest_first(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Viewer).await;
    seed(&app).await;
    let items = all_pages(&app, &cookie, json!({})).await;
    assert_eq!(items.len(), 120);
    // Hour g is g hours before the epoch above: newest first means g = 1, 2, 3…
    let expected: Vec<String> = (1..=120)
        .map(|g| if g % 3 == 0 { format!("Database failover {g}") } else { format!("Latency spike {g}") })
        .collect();
    assert_eq!(titles(&items), expected);
}

#[sqlx::test(migrations = false)]
async fn filters_combine(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Viewer).await;
    let (team, service) = seed(&app).await;

    let sev1 = all_pages(&app, &cookie, json!({ "severity": "SEV1" })).await;
    assert_eq!(sev1.len(), 40);
    assert!(sev1.iter().all(|i| i["severity"] == "SEV1"));

    let resolved = all_pages(&app, &cookie, json!({ "status": "resolved" })).await;
    assert_eq!(resolved.len(), 24);
    let active = all_pages(&app, &cookie, json!({ "status": "active" })).await;
    assert_eq!(active.len(), 96);

    let by_team = all_pages(&app, &cookie, json!({ "team_id": team.to_string() })).await;
    assert_eq!(by_team.len(), 30);
    let by_service = all_pages(&app, &cookie, json!({ "service_id": service.to_string() })).await;
    assert_eq!(titles(&by_service), titles(&by_team));

    let sev1_team = all_pages(&app, &cookie, json!({ "severity": "SEV1", "team_id": team.to_string() })).await;
    assert_eq!(sev1_team.len(), 10, "multiples of 12");

    // 2026-05-31 holds hours 1..=24 before midnight June 1st.
    let one_day = all_pages(&app, &cookie, json!({ "from": "2026-05-31", "to": "2026-05-31" })).await;
    assert_eq!(one_day.len(), 24);
}

#[sqlx::test(migrations = false)]
async fn full_text_search_finds_title_and_summary_words(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Viewer).await;
    seed(&app).await;
    let by_title = all_pages(&app, &cookie, json!({ "q": "databases" })).await;
    assert_eq!(by_title.len(), 40, "stemmed: databases matches database");
    let by_summary = all_pages(&app, &cookie, json!({ "q": "quorum" })).await;
    assert_eq!(titles(&by_summary), titles(&by_title));
    let both = all_pages(&app, &cookie, json!({ "q": "latency -database" })).await;
    assert_eq!(both.len(), 80);
    assert!(all_pages(&app, &cookie, json!({ "q": "nonexistentword" })).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn bad_filters_are_named(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Viewer).await;
    for (filter, field) in [
        (json!({ "severity": "SEV7" }), "severity"),
        (json!({ "status": "sleeping" }), "status"),
        (json!({ "from": "last tuesday" }), "from"),
        (json!({ "cursor": "garbage" }), "cursor"),
        (json!({ "team_id": "abc" }), "team_id"),
    ] {
        let response = app.call_json("list_incidents", json!({ "filter": filter }), Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json()["field"], field);
    }
}
