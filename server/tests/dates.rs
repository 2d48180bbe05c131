//! Dates people type are kept between 1970 and 2200: anything else is a named field
//! error that changes nothing, and arithmetic on stored times never overflows.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;
use sqlx::PgPool;

fn assert_field_error(response: &common::TestResponse, field: &str, what: &str) {
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", response.body);
    assert_eq!(response.json()["field"], field, "{what}");
    assert!(
        response.body.contains("1970") && response.body.contains("2200"),
        "{what}: the message names the range: {}",
        response.body
    );
}

#[sqlx::test(migrations = false)]
async fn meeting_times_outside_the_range_are_refused_and_the_feed_survives_far_ones(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Disk full", "SEV3").await;
    let n = number.to_string();
    assert_eq!(app.call("start_postmortem", &[("number", &n)], Some(&cookie)).await.status, StatusCode::OK);
    for at in ["9999-12-31T23:30:00Z", "1969-12-31T23:00:00Z", "2201-01-01T00:00:00Z"] {
        let response =
            app.call("schedule_postmortem_meeting", &[("number", &n), ("at", at), ("place", "")], Some(&cookie)).await;
        assert_field_error(&response, "at", at);
    }
    let meeting: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT meeting_at FROM postmortems").fetch_one(&app.pool).await.unwrap();
    assert_eq!(meeting, None, "nothing was scheduled");
    let last = app
        .call(
            "schedule_postmortem_meeting",
            &[("number", &n), ("at", "2200-12-31T22:00:00Z"), ("place", "")],
            Some(&cookie),
        )
        .await;
    assert_eq!(last.status, StatusCode::OK, "the range's last year is in it: {}", last.body);

    // A meeting stored at the edge of time (before this check existed) must not take the
    // calendar feed down for everyone.
    sqlx::query("UPDATE postmortems SET meeting_at = '9999-12-31T23:30:00Z'").execute(&app.pool).await.unwrap();
    let feed = app.get("/api/calendar/postmortems.ics", Some(&cookie)).await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
    assert!(feed.body.contains("BEGIN:VEVENT"));
}

#[sqlx::test(migrations = false)]
async fn due_dates_key_times_and_history_filters_outside_the_range_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Backups failing", "SEV3").await;
    let n = number.to_string();

    for due in ["9999-12-31", "1900-01-01"] {
        let response = app
            .call_json(
                "create_action_item",
                json!({ "item": { "incident_number": number, "title": "Fix backups", "due_date": due } }),
                Some(&cookie),
            )
            .await;
        assert_field_error(&response, "due_date", due);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM action_items").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
    let created = app
        .call_json(
            "create_action_item",
            json!({ "item": { "incident_number": number, "title": "Fix backups", "due_date": "2027-01-15" } }),
            Some(&cookie),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_i64().unwrap().to_string();
    let response = app.call("set_item_due_date", &[("id", &id), ("due_date", "2999-01-01")], Some(&cookie)).await;
    assert_field_error(&response, "due_date", "a later due date");
    let due: Option<time::Date> =
        sqlx::query_scalar("SELECT due_date FROM action_items").fetch_one(&app.pool).await.unwrap();
    assert_eq!(due, Some(time::macros::date!(2027 - 01 - 15)));

    let before = app.last_seq(number).await;
    for value in ["0001-01-01T00:00", "1969-12-31T23:59"] {
        let response = app
            .call("correct_timestamp", &[("number", &n), ("milestone", "started"), ("value", value)], Some(&cookie))
            .await;
        assert_field_error(&response, "value", value);
    }
    assert_eq!(app.last_seq(number).await, before, "no correction was recorded");

    for (field, value) in [("from", "1492-10-12"), ("to", "9999-12-31")] {
        let response = app.call_json("list_incidents", json!({ "filter": { field: value } }), Some(&cookie)).await;
        assert_field_error(&response, field, value);
    }
    let fine = app
        .call_json("list_incidents", json!({ "filter": { "from": "1970-01-01", "to": "2200-12-31" } }), Some(&cookie))
        .await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.body);
}
