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
    assert_baseline_headers(&app.call("get_viewer", &[], Some(&cookie)).await, "server function");
    assert_baseline_headers(
        &app.call("sign_in", &[("email", "x@example.com"), ("password", "wrong one")], None).await,
        "failed write",
    );
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
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("page CSP has a nonce");
    assert!(nonce.len() >= 16);
    assert!(page.body.contains(&format!("nonce=\"{nonce}\"")), "hydration script carries the nonce");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    let other = app.get("/", Some(&cookie)).await;
    assert!(!other.header("content-security-policy").unwrap().contains(nonce), "a fresh nonce per response");
}

#[sqlx::test(migrations = false)]
async fn behind_https_cookies_are_secure_and_host_bound(pool: PgPool) {
    let web = WebSettings {
        secure: true,
        public_origin: Some("https://foghorn.example.com".into()),
        ..WebSettings::default()
    };
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
    for (page, sign_in) in [
        ("/", "/login"),
        ("/incidents", "/login?next=%2Fincidents"),
        ("/admin", "/login?next=%2Fadmin"),
        ("/account", "/login?next=%2Faccount"),
    ] {
        let response = app.get(page, None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(response.header("location"), Some(sign_in), "{page}");
    }
    assert_eq!(app.get("/login", None).await.status, StatusCode::OK);
}

/// A write as a script without a browser would send it: no `Origin`, no `Sec-Fetch-Site`.
fn bare_write(admin: &str, name: &str) -> Request<Body> {
    Request::post("/api/create_team")
        .header(header::HOST, "foghorn.internal:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, admin)
        .body(Body::from(format!("name={name}")))
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn writes_that_say_nothing_of_their_origin_are_judged_by_referer_or_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;

    let silent = app.send(bare_write(&admin, "Silent")).await;
    assert_eq!(silent.status, StatusCode::FORBIDDEN, "{}", silent.body);
    assert_eq!(silent.json()["error"], "forbidden");

    let mut foreign = bare_write(&admin, "Foreign");
    foreign.headers_mut().insert(header::REFERER, "https://evil.example/page".parse().unwrap());
    assert_eq!(app.send(foreign).await.status, StatusCode::FORBIDDEN);

    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams").fetch_one(&app.pool).await.unwrap();
    assert_eq!(teams, 0, "nothing was written");

    let mut own = bare_write(&admin, "Payments");
    own.headers_mut().insert(header::REFERER, "http://foghorn.internal:3000/admin".parse().unwrap());
    assert_eq!(app.send(own).await.status, StatusCode::OK);

    let mut fetch_metadata = bare_write(&admin, "Search");
    fetch_metadata.headers_mut().insert("sec-fetch-site", "same-origin".parse().unwrap());
    assert_eq!(app.send(fetch_metadata).await.status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn with_a_public_url_other_hosts_are_refused(pool: PgPool) {
    let web = WebSettings {
        secure: false,
        public_origin: Some("http://foghorn.example.com".into()),
        ..WebSettings::default()
    };
    let app = TestApp::with(pool, common::test_auth(), web).await;
    let get = |host: &'static str, path: &'static str| {
        let app = &app;
        async move { app.send(Request::get(path).header(header::HOST, host).body(Body::empty()).unwrap()).await.status }
    };
    // A page reached through another name (DNS rebinding) is refused before anything runs.
    assert_eq!(get("attacker.example", "/setup").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("attacker.example", "/status").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("127.0.0.1:3000", "/status").await, StatusCode::MISDIRECTED_REQUEST);
    // The configured host passes, in any case; health checks pass whatever they call the host.
    assert_ne!(get("foghorn.example.com", "/status").await, StatusCode::MISDIRECTED_REQUEST);
    assert_ne!(get("FOGHORN.example.com", "/status").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("127.0.0.1:3000", "/healthz").await, StatusCode::OK);
    assert_eq!(get("10.0.0.7:3000", "/healthz").await, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn a_forged_host_never_reaches_a_response_body(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, responder) = app.user_with_role(Role::Responder).await;
    app.declare(&responder, "Checkout is down", "SEV1").await;
    let evil = r#"x"><b>"#;
    for path in ["/status", "/status.json", "/status/feed.atom", "/status/banner.js", "/login", "/"] {
        let mut request = Request::get(path).header(header::HOST, evil);
        if path == "/" {
            request = request.header(header::COOKIE, &responder);
        }
        let response = app.send(request.body(Body::empty()).unwrap()).await;
        assert!(!response.body.contains("<b>"), "{path}: {}", response.body);
        assert!(!response.body.contains(evil), "{path}");
        if ["/status", "/status/feed.atom", "/status/banner.js"].contains(&path) {
            // Links from the request's own Host: for that asker only, never a shared cache.
            assert!(response.header("cache-control").unwrap().starts_with("private"), "{path}");
        }
    }

    // With a public URL the links never depend on the request, and caches may share them.
    let web = WebSettings {
        secure: false,
        public_origin: Some("http://status.example.com".into()),
        ..WebSettings::default()
    };
    let public = TestApp::with(app.pool.clone(), common::test_auth(), web).await;
    let page = public.get("/status", None).await;
    assert!(page.header("cache-control").unwrap().starts_with("public"));
    assert!(page.body.contains("http://status.example.com/status/feed.atom"), "{}", page.body);
}

#[sqlx::test(migrations = false)]
async fn typed_text_cannot_forge_a_log_line(pool: PgPool) {
    let (captured, _guard) = common::CapturedLogs::start();

    let app = TestApp::new(pool).await;
    let forged = "mallory@example.com\n2026-12-01T00:00:00Z  INFO foghorn::audit: forged signed in user_id=1";
    app.call("sign_in", &[("email", forged), ("password", "guess guess")], None).await;

    let logs = captured.text();
    assert!(logs.contains("sign-in failed"), "{logs}");
    for line in logs.lines().filter(|l| l.contains("forged")) {
        assert!(line.contains("sign-in failed"), "a typed newline started a line of its own: {line}");
    }
}
