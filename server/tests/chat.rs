//! `/incident` from chat: Slack's signed slash commands and Mattermost's token-verified
//! ones, run as the Foghorn user who mapped their chat user id.

mod common;

use app::model::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

fn settings() -> foghorn::WebSettings {
    foghorn::WebSettings {
        public_origin: Some("https://foghorn.example.com".into()),
        api: foghorn::rest::ApiSettings {
            slack_signing_secret: Some(SECRET.into()),
            mattermost_token: Some("mm-token-123".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Slack's signature of `body` sent at `timestamp`.
fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    format!("v0={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn form(user_id: &str, text: &str) -> String {
    format!(
        "token=deprecated&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=incidents\
         &user_id={user_id}&user_name=ada&command=%2Fincident&text={}&api_app_id=A123456\
         &response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0",
        urlencode(text)
    )
}

async fn slack(app: &TestApp, body: &str, timestamp: i64, signature: &str) -> TestResponse {
    let request = Request::post("/api/v1/chat/slack/command")
        .header("host", "foghorn.example.com")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature);
    app.send(request.body(Body::from(body.to_owned())).unwrap()).await
}

async fn mapped_responder(app: &TestApp) -> i64 {
    let id = app.create_user("ada@example.com", "Ada", Role::Responder).await;
    app::server::db::users::set_chat_user_id(&app.pool, app::model::UserId(id), Some("U2147483697")).await.unwrap();
    id
}

async fn incidents(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM incidents").fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test]
async fn a_signed_command_declares_notes_and_reports(pool: PgPool) {
    let app = TestApp::with(pool, test_auth(), settings()).await;
    let ada = mapped_responder(&app).await;

    let body = form("U2147483697", "declare SEV2 Checkout is failing for EU customers");
    let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let text = r.json()["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Ada declared INC-1 (SEV2): Checkout is failing for EU customers"), "{text}");
    assert!(text.contains("https://foghorn.example.com/incidents/1"), "{text}");
    let (declared_by, point): (i64, Option<i64>) = sqlx::query_as(
        "SELECT declared_by, (SELECT user_id FROM incident_roles r WHERE r.incident_id = i.id AND role = 'point')
           FROM incidents i WHERE number = 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((declared_by, point), (ada, Some(ada)));

    let body = form("U2147483697", "note INC-1 Rolled back the 14:02 deploy");
    let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
    assert_eq!(r.json()["response_type"], "ephemeral");
    let note: String =
        sqlx::query_scalar("SELECT body FROM timeline_entries WHERE kind = 'note'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(note, "Rolled back the 14:02 deploy");

    let body = form("U2147483697", "status INC-1");
    let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
    let text = r.json()["text"].as_str().unwrap().to_owned();
    assert!(text.contains("INC-1 (SEV2, Investigating)") && text.contains("Point: Ada. Comms: nobody."), "{text}");

    let body = form("U2147483697", "");
    let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
    assert!(r.json()["text"].as_str().unwrap().contains("Usage"));
}

#[sqlx::test]
async fn wrong_signatures_old_requests_and_unknown_people_change_nothing(pool: PgPool) {
    let app = TestApp::with(pool, test_auth(), settings()).await;
    mapped_responder(&app).await;
    let body = form("U2147483697", "declare SEV1 Everything is down");

    let r = slack(&app, &body, now(), &sign("another secret", now(), &body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["detail"].as_str().unwrap().contains("does not match"), "{}", r.body);

    let old = now() - 6 * 60;
    let r = slack(&app, &body, old, &sign(SECRET, old, &body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["detail"].as_str().unwrap().contains("older than five minutes"), "{}", r.body);

    // Signed for one body, sent with another.
    let other = form("U2147483697", "declare SEV1 Something else");
    let r = slack(&app, &other, now(), &sign(SECRET, now(), &body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let stranger = form("U0000STRANGER", "declare SEV1 Everything is down");
    let r = slack(&app, &stranger, now(), &sign(SECRET, now(), &stranger)).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.json()["text"].as_str().unwrap().to_owned();
    assert!(text.contains("does not know you") && text.contains("U0000STRANGER") && text.contains("Account"), "{text}");

    assert_eq!(incidents(&app).await, 0);
}

#[sqlx::test]
async fn a_viewer_cannot_declare_from_chat_either(pool: PgPool) {
    let app = TestApp::with(pool, test_auth(), settings()).await;
    let id = app.create_user("vic@example.com", "Vic", Role::Viewer).await;
    app::server::db::users::set_chat_user_id(&app.pool, app::model::UserId(id), Some("UVIEWER")).await.unwrap();
    let body = form("UVIEWER", "declare SEV2 Hmm");
    let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
    assert!(r.json()["text"].as_str().unwrap().contains("permission"), "{}", r.body);
    assert_eq!(incidents(&app).await, 0);
}

#[sqlx::test]
async fn mattermost_commands_carry_their_token(pool: PgPool) {
    let app = TestApp::with(pool, test_auth(), settings()).await;
    mapped_responder(&app).await;
    let send = |token: &'static str| {
        let body = format!(
            "channel_id=abc&channel_name=town-square&command=%2Fincident&response_url=x&team_domain=acme&team_id=t1\
             &text={}&token={token}&trigger_id=x&user_id=U2147483697&user_name=ada",
            urlencode("declare SEV3 Search is slow")
        );
        let request = Request::post("/api/v1/chat/mattermost/command")
            .header("host", "foghorn.example.com")
            .header("content-type", "application/x-www-form-urlencoded");
        app.send(request.body(Body::from(body)).unwrap())
    };
    assert_eq!(send("wrong").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(incidents(&app).await, 0);
    let r = send("mm-token-123").await;
    assert!(r.json()["text"].as_str().unwrap().contains("declared INC-1"), "{}", r.body);
    assert_eq!(incidents(&app).await, 1);
}

#[sqlx::test]
async fn without_configuration_the_doors_are_closed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    mapped_responder(&app).await;
    let body = form("U2147483697", "declare SEV2 x");
    let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(incidents(&app).await, 0);
}

#[sqlx::test]
async fn a_reference_that_is_not_an_incident_is_answered_not_crashed_on(pool: PgPool) {
    let app = TestApp::with(pool, test_auth(), settings()).await;
    mapped_responder(&app).await;
    for text in ["note aéé rolled back", "status ÄÖÜ", "status INC-99999999999999999999"] {
        let body = form("U2147483697", text);
        let r = slack(&app, &body, now(), &sign(SECRET, now(), &body)).await;
        assert_eq!(r.status, StatusCode::OK, "{text}: {}", r.body);
        assert!(r.json()["text"].as_str().unwrap().contains("is not an incident like INC-42"), "{text}: {}", r.body);
    }
}
