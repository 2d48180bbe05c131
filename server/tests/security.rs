//! The security baseline every response and every write gets.

mod common;

use app::model::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{PASSWORD, TestApp};
use foghorn::WebSettings;
use sqlx::PgPool;

fn assert_baseline_headers(response: &common::TestResponse, what: &str) {
    let csp = response.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{what}: CSP lacks {directive}: {csp}");
    }
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert!(response.header("referrer-policy").is_some(), "{what}: no Referrer-Policy");
}

#[sqlx::test(migrations = false)]
async fn every_response_carries_the_security_headers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;

    assert_baseline_headers(&app.get("/login", None).await, "redirected page");
    assert_baseline_headers(&app.get("/", Some(&cookie)).await, "dashboard");
    assert_baseline_headers(&app.get("/healthz", None).await, "health");
    assert_baseline_headers(&app.get("/pkg/missing.js", None).await, "missing file");
    assert_baseline_headers(&app.call("viewer", &[], Some(&cookie)).await, "server function");
    assert_baseline_headers(&app.call("sign_in", &[("email", "x@example.com"), ("password", "wrong one")], None).await, "failed write");
    // No HSTS over plain HTTP.
    assert!(app.get("/healthz", None).await.header("strict-transport-security").is_none());
}

#[sqlx::test(migrations = false)]
async fn pages_allow_exactly_their_own_hydration_script(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let page = app.get("/", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("page CSP has a nonce");
    assert!(nonce.len() >= 16);
    assert!(page.body.contains(&format!("nonce=\"{nonce}\"")), "hydration script carries the nonce");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    let other = app.get("/", Some(&cookie)).await;
    assert!(!other.header("content-security-policy").unwrap().contains(nonce), "a fresh nonce per response");
}

#[sqlx::test(migrations = false)]
async fn behind_https_cookies_are_secure_and_host_bound(pool: PgPool) {
    let web = WebSettings { secure: true, public_origin: Some("https://foghorn.example.com".into()) };
    let app = TestApp::with(pool, common::test_auth(), web).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    let response = app.call("sign_in", &[("email", "ana@example.com"), ("password", PASSWORD)], None).await;
    let set_cookie = response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-foghorn_session="))
        .expect("__Host- prefixed session cookie")
        .to_owned();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute} missing: {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain="));
    assert!(response.header("strict-transport-security").unwrap().contains("max-age="));
}

#[sqlx::test(migrations = false)]
async fn plain_http_cookies_are_http_only_and_lax(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    let response = app.call("sign_in", &[("email", "ana@example.com"), ("password", PASSWORD)], None).await;
    let set_cookie = response.header("set-cookie").unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
}

#[sqlx::test(migrations = false)]
async fn writes_from_a_foreign_origin_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;

    let forged = Request::post("/api/create_team")
        .header(header::HOST, "foghorn.internal:3000")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &admin)
        .body(Body::from("name=Evil"))
        .unwrap();
    let response = app.send(forged).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(response.json()["error"], "forbidden");

    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams").fetch_one(&app.pool).await.unwrap();
    assert_eq!(teams, 0, "nothing was written");

    let same_origin = Request::post("/api/create_team")
        .header(header::HOST, "foghorn.internal:3000")
        .header(header::ORIGIN, "http://foghorn.internal:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &admin)
        .body(Body::from("name=Payments"))
        .unwrap();
    assert_eq!(app.send(same_origin).await.status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn health_reports_the_database(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let ok = app.get("/healthz", None).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["database"], "up");

    pool.close().await;
    let down = app.get("/healthz", None).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.json()["status"], "unavailable");
}

#[sqlx::test(migrations = false)]
async fn signed_out_visitors_are_sent_to_sign_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Viewer).await;
    for page in ["/", "/incidents", "/admin", "/account"] {
        let response = app.get(page, None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(response.header("location"), Some("/login"), "{page}");
    }
    assert_eq!(app.get("/login", None).await.status, StatusCode::OK);
}
