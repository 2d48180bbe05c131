//! Administration: every operation checked for each role, and what admins can do.

mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use sqlx::PgPool;

/// Everything that changes Foghorn's directory, as (endpoint, arguments). Ids refer to
/// the fixtures made in `fixtures`.
fn admin_operations(team: i64, user: i64, service: i64) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        ("list_users", vec![]),
        (
            "add_user",
            vec![
                ("email", "new@example.com".into()),
                ("display_name", "New".into()),
                ("role", "viewer".into()),
                ("password", "a long enough passphrase".into()),
            ],
        ),
        ("change_role", vec![("user_id", user.to_string()), ("role", "admin".into())]),
        ("set_user_active", vec![("user_id", user.to_string()), ("active", "false".into())]),
        ("create_team", vec![("name", "Platform".into())]),
        ("add_team_member", vec![("team_id", team.to_string()), ("user_id", user.to_string())]),
        ("set_team_lead", vec![("team_id", team.to_string()), ("user_id", user.to_string())]),
        ("remove_team_member", vec![("team_id", team.to_string()), ("user_id", user.to_string())]),
        (
            "create_service",
            vec![("name", "Checkout".into()), ("description", "".into()), ("team_id", team.to_string())],
        ),
        (
            "update_service",
            vec![
                ("id", service.to_string()),
                ("name", "Renamed".into()),
                ("description", "x".into()),
                ("team_id", "".into()),
            ],
        ),
    ]
}

async fn fixtures(app: &TestApp) -> (i64, i64, i64) {
    let team = app::server::db::teams::create(&app.pool, &app::server::db::audit::Actor::server("test"), "Payments")
        .await
        .unwrap();
    let user = app.create_user("target@example.com", "Target", Role::Responder).await;
    let input = app::server::db::services::ServiceInput::parse("Billing", "", &team.to_string()).unwrap();
    let service = app::server::db::services::create(&app.pool, &app::server::db::audit::Actor::server("test"), &input)
        .await
        .unwrap();
    (team, user, service)
}

/// A fingerprint of the directory, to prove a refused call changed nothing.
async fn directory(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|',
            (SELECT string_agg(concat(id, email, role, active, session_epoch), ',' ORDER BY id) FROM users),
            (SELECT string_agg(concat(id, name, lead_id), ',' ORDER BY id) FROM teams),
            (SELECT string_agg(concat(team_id, user_id), ',' ORDER BY team_id, user_id) FROM team_members),
            (SELECT string_agg(concat(id, name, description, team_id), ',' ORDER BY id) FROM services))",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn only_admins_manage_users_teams_and_services(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (team, user, service) = fixtures(&app).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;

    for (caller, cookie, expected) in [
        ("anonymous", None, StatusCode::UNAUTHORIZED),
        ("viewer", Some(viewer.as_str()), StatusCode::FORBIDDEN),
        ("responder", Some(responder.as_str()), StatusCode::FORBIDDEN),
    ] {
        for (endpoint, args) in admin_operations(team, user, service) {
            let before = directory(&app).await;
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.call(endpoint, &form, cookie).await;
            assert_eq!(response.status, expected, "{caller} calling {endpoint}: {}", response.body);
            assert_eq!(directory(&app).await, before, "{caller} calling {endpoint} changed something");
        }
    }

    let (_, admin) = app.user_with_role(Role::Admin).await;
    for (endpoint, args) in admin_operations(team, user, service) {
        let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app.call(endpoint, &form, Some(&admin)).await;
        assert_eq!(response.status, StatusCode::OK, "admin calling {endpoint}: {}", response.body);
    }
}

#[sqlx::test(migrations = false)]
async fn the_admin_page_is_refused_to_everyone_but_admins(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, viewer) = app.user_with_role(Role::Viewer).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;

    for cookie in [&viewer, &responder] {
        let page = app.get("/admin", Some(cookie)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("403"), "{}", page.body);
        assert!(!page.body.contains("admin@example.com"), "no user data leaks into the 403 page");
    }
    let page = app.get("/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("viewer@example.com"));
}

#[sqlx::test(migrations = false)]
async fn admins_build_teams_with_a_lead_and_services_they_own(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let lead = app.create_user("lead@example.com", "Lena Lead", Role::Responder).await;

    let team = app.call("create_team", &[("name", "Payments")], Some(&admin)).await.json().as_i64().unwrap();
    let duplicate = app.call("create_team", &[("name", "payments ")], Some(&admin)).await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.body.contains("already exists"));
    let empty = app.call("create_team", &[("name", "   ")], Some(&admin)).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    let set = app
        .call("set_team_lead", &[("team_id", &team.to_string()), ("user_id", &lead.to_string())], Some(&admin))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let teams = app.call("list_teams", &[], Some(&admin)).await.json();
    assert_eq!(teams[0]["lead"]["display_name"], "Lena Lead");
    assert_eq!(teams[0]["members"][0]["user_id"], lead, "a lead is a member");

    app.call("remove_team_member", &[("team_id", &team.to_string()), ("user_id", &lead.to_string())], Some(&admin))
        .await;
    let teams = app.call("list_teams", &[], Some(&admin)).await.json();
    assert!(teams[0]["lead"].is_null(), "removing the lead leaves no lead");

    let service = app
        .call(
            "create_service",
            &[("name", "Checkout"), ("description", "Takes the money"), ("team_id", &team.to_string())],
            Some(&admin),
        )
        .await;
    assert_eq!(service.status, StatusCode::OK, "{}", service.body);
    let bad_team = app
        .call("create_service", &[("name", "Other"), ("description", ""), ("team_id", "999999")], Some(&admin))
        .await;
    assert_eq!(bad_team.status, StatusCode::UNPROCESSABLE_ENTITY);
    let services = app.call("list_services", &[], Some(&admin)).await.json();
    assert_eq!(services.as_array().unwrap().len(), 1);
    assert_eq!(services[0]["team_name"], "Payments");
}

#[sqlx::test(migrations = false)]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (admin_id, admin) = app.user_with_role(Role::Admin).await;
    let other = app.create_user("second@example.com", "Second", Role::Responder).await;

    let demote = app.call("change_role", &[("user_id", &admin_id.to_string()), ("role", "viewer")], Some(&admin)).await;
    assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.body);
    let myself =
        app.call("set_user_active", &[("user_id", &admin_id.to_string()), ("active", "false")], Some(&admin)).await;
    assert_eq!(myself.status, StatusCode::CONFLICT);
    let bad_role = app.call("change_role", &[("user_id", &other.to_string()), ("role", "owner")], Some(&admin)).await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);

    let promote = app.call("change_role", &[("user_id", &other.to_string()), ("role", "admin")], Some(&admin)).await;
    assert_eq!(promote.status, StatusCode::OK);
    let demote =
        app.call("change_role", &[("user_id", &admin_id.to_string()), ("role", "responder")], Some(&admin)).await;
    assert_eq!(demote.status, StatusCode::OK, "with another admin, demotion is fine");
}

#[sqlx::test(migrations = false)]
async fn a_role_change_applies_to_existing_sessions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (responder_id, responder) = app.user_with_role(Role::Responder).await;
    app.call("change_role", &[("user_id", &responder_id.to_string()), ("role", "viewer")], Some(&admin)).await;
    assert_eq!(app.viewer(Some(&responder)).await["role"], "viewer");
}
