//! Alerts open incidents: Alertmanager's and Grafana's webhooks, bodies as those send
//! them (`tests/fixtures/alerts/`), routing rules, and idempotence per alert group.

mod common;

use app::model::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{Value, json};
use sqlx::PgPool;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/alerts/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture exists")
}

async fn post(app: &TestApp, source: &str, token: &str, body: &str) -> TestResponse {
    let request = Request::post(format!("/api/v1/alerts/{source}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", "203.0.113.9");
    app.send(request.body(Body::from(body.to_owned())).unwrap()).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

async fn alert_entries(app: &TestApp, number: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT e.body FROM timeline_entries e JOIN incidents i ON i.id = e.incident_id
          WHERE i.number = $1 AND e.kind = 'alert' ORDER BY e.seq",
    )
    .bind(number)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn number(received: &Value) -> i64 {
    received["incident"]
        .as_str()
        .and_then(|r| r.strip_prefix("INC-"))
        .and_then(|n| n.parse().ok())
        .expect("an incident")
}

#[sqlx::test]
async fn a_firing_group_declares_once_and_replays_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("alertmanager", None, false).await;

    let first = post(&app, "alertmanager", &token, &fixture("alertmanager_firing")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["declared"], true);
    let n = number(&first.json());
    let (title, severity, summary, declared_by): (String, i16, String, String) = sqlx::query_as(
        "SELECT i.title, i.severity, i.summary, u.display_name FROM incidents i JOIN users u ON u.id = i.declared_by
          WHERE i.number = $1",
    )
    .bind(n)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(title, "Checkout error rate above 5%", "the summary annotation");
    assert_eq!(severity, 1, "severity=critical is SEV1");
    assert!(summary.contains("12.4%"), "the description annotation: {summary}");
    assert_eq!(declared_by, "bot: alertmanager");
    let entries = alert_entries(&app, n).await;
    assert_eq!(entries.len(), 1);
    assert!(entries[0].contains("**1 alert firing**") && entries[0].contains("CheckoutErrorRate"), "{}", entries[0]);
    assert!(entries[0].contains("([source](http://prometheus.example.com:9090/graph?"), "{}", entries[0]);

    // Alertmanager repeats a group's notification (and retries it): nothing new.
    let seq = app.last_seq(n).await;
    let again = post(&app, "alertmanager", &token, &fixture("alertmanager_firing")).await;
    assert_eq!(again.json(), json!({ "incident": format!("INC-{n}"), "declared": false, "changes": 0 }));
    assert_eq!(app.last_seq(n).await, seq);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
}

#[sqlx::test]
async fn concurrent_retries_of_one_notification_declare_one_incident(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("alertmanager", None, false).await;
    let body = fixture("alertmanager_firing");
    let answers = futures::future::join_all((0..8).map(|_| post(&app, "alertmanager", &token, &body))).await;
    assert!(
        answers.iter().all(|a| a.status == StatusCode::OK),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    assert_eq!(answers.iter().filter(|a| a.json()["declared"] == true).count(), 1);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM timeline_entries WHERE kind = 'alert'").await, 1);
}

#[sqlx::test]
async fn later_notifications_add_only_what_changed_and_never_resolve(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("alertmanager", None, false).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let n = number(&post(&app, "alertmanager", &token, &fixture("alertmanager_firing")).await.json());

    let second = post(&app, "alertmanager", &token, &fixture("alertmanager_second_instance")).await;
    assert_eq!(second.json()["changes"], 1, "{}", second.body);
    let entries = alert_entries(&app, n).await;
    assert_eq!(entries.len(), 2);
    assert!(
        entries[1].contains("**1 alert firing**") && entries[1].contains("on checkout-2b81d:9102"),
        "{}",
        entries[1]
    );

    let resolved = post(&app, "alertmanager", &token, &fixture("alertmanager_resolved")).await;
    assert_eq!(resolved.json()["changes"], 2);
    let entries = alert_entries(&app, n).await;
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert!(entries[2].contains("**2 alerts resolved**"));
    assert!(entries[3].contains("Every alert of this group has resolved") && entries[3].contains("monitoring"));
    let status: String = sqlx::query_scalar("SELECT status FROM incidents WHERE number = $1")
        .bind(n)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "investigating", "a person resolves incidents, never Foghorn");

    // The page shows where it came from, and suggests monitoring.
    let page = app.incident(&cookie, n).await;
    let alert = &page["incident"]["alert"];
    assert_eq!(alert["source"], "alertmanager");
    assert_eq!(alert["all_resolved"], true);
    assert!(alert["labels"].to_string().contains("[\"service\",\"checkout\"]"), "{alert}");
    assert!(alert["annotations"].to_string().contains("runbook_url"), "{alert}");

    // Replaying the resolution changes nothing more.
    post(&app, "alertmanager", &token, &fixture("alertmanager_resolved")).await;
    assert_eq!(alert_entries(&app, n).await.len(), 4);

    // Once a person resolved it, the group firing again is a new incident.
    let r = app
        .call(
            "change_status",
            &[("number", &n.to_string()), ("status", "resolved"), ("resolution", "Rolled back")],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let again = post(&app, "alertmanager", &token, &fixture("alertmanager_firing")).await;
    assert_eq!(again.json()["declared"], true, "{}", again.body);
    assert_ne!(number(&again.json()), n);
}

#[sqlx::test]
async fn grafana_sends_the_same_shape_with_more_fields(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("grafana", None, false).await;
    let r = post(&app, "grafana", &token, &fixture("grafana_firing")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let n = number(&r.json());
    let (title, severity): (String, i16) = sqlx::query_as("SELECT title, severity FROM incidents WHERE number = $1")
        .bind(n)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((title.as_str(), severity), ("Disk on db-3 is 91% full", 3));
    assert!(
        alert_entries(&app, n).await[0]
            .contains("https://grafana.example.com/alerting/grafana/bdzr7ngq2ru9sa/view?orgId=1")
    );
}

#[sqlx::test]
async fn a_truncated_group_says_how_many_alerts_were_left_out(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("alertmanager", None, false).await;
    let r = post(&app, "alertmanager", &token, &fixture("alertmanager_truncated")).await;
    let n = number(&r.json());
    let entry = &alert_entries(&app, n).await[0];
    assert!(entry.contains("**2 alerts firing**"), "{entry}");
    assert!(entry.contains("3 alerts more left out of this notification"), "{entry}");
}

#[sqlx::test]
async fn a_resolution_for_an_unknown_group_is_recorded_without_an_incident(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("alertmanager", None, false).await;
    let r = post(&app, "alertmanager", &token, &fixture("alertmanager_resolved_unknown_group")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["incident"], Value::Null);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM alert_groups WHERE status = 'resolved'").await, 1);
}

#[sqlx::test]
async fn malformed_bodies_are_refused_and_store_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.token("alertmanager", None, false).await;
    for body in [
        "{\"receiver\": \"foghorn\", \"alerts\": [",
        "[]",
        "{\"groupKey\": \"g\", \"status\": \"boiling\", \"alerts\": []}",
    ] {
        let r = post(&app, "alertmanager", &token, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert!(!r.json()["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(count(&app, "SELECT count(*) FROM alert_groups").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);

    // Without a token: 401, and nothing stored either.
    let request = Request::post("/api/v1/alerts/alertmanager").header("content-type", "application/json");
    let r = app.send(request.body(Body::from(fixture("alertmanager_firing"))).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app, "SELECT count(*) FROM alert_groups").await, 0);
}

#[sqlx::test]
async fn routing_rules_choose_service_severity_and_whether_to_declare(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.create_user("admin@example.com", "Admin", Role::Admin).await;
    let admin_token = app.token("admin's", Some(admin), false).await;
    let service: i64 = sqlx::query_scalar("INSERT INTO services (name) VALUES ('Checkout') RETURNING id")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let rules = json!([
        { "name": "storage only records", "matchers": [{ "label": "team", "op": "=", "value": "storage" }], "declare": false },
        { "name": "checkout", "matchers": [{ "label": "service", "op": "=~", "value": "check.*" },
                                          { "label": "env", "op": "!=", "value": "staging" }],
          "service_id": service, "severity": "SEV2" }
    ]);
    let saved = app.api("PUT", "/api/v1/alert-routes", Some(&admin_token), Some(rules)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json().as_array().unwrap().len(), 2);

    let bad = json!([{ "name": "broken", "matchers": [{ "label": "service", "op": "=~", "value": "(" }] }]);
    let refused = app.api("PUT", "/api/v1/alert-routes", Some(&admin_token), Some(bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.api("GET", "/api/v1/alert-routes", Some(&admin_token), None).await.json().as_array().unwrap().len(),
        2
    );

    let token = app.token("alerts", None, false).await;
    let recorded = post(&app, "grafana", &token, &fixture("grafana_firing")).await;
    assert_eq!(recorded.json()["incident"], Value::Null, "{}", recorded.body);
    assert_eq!(count(&app, "SELECT count(*) FROM alert_groups").await, 1);

    let declared = post(&app, "alertmanager", &token, &fixture("alertmanager_firing")).await;
    let n = number(&declared.json());
    let (severity, services): (i16, Vec<i64>) = sqlx::query_as(
        "SELECT i.severity, array(SELECT service_id FROM incident_services s WHERE s.incident_id = i.id)
           FROM incidents i WHERE i.number = $1",
    )
    .bind(n)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(severity, 2, "the rule's severity over the label's");
    assert_eq!(services, vec![service]);
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE kind = 'alert_routes_changed'").await, 1);

    // The history tells incidents an alert declared from the others.
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    app.declare(&cookie, "By hand", "SEV3").await;
    let all = app.api("GET", "/api/v1/incidents", Some(&token), None).await.json();
    let from_alert = app.api("GET", "/api/v1/incidents?from_alert=true", Some(&token), None).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(from_alert["items"].as_array().unwrap().len(), 1);
    assert_eq!(from_alert["items"][0]["number"], json!(n));
}
