//! Single sign-on against a real OpenID Connect provider (oidc-provider, run from
//! end2end/oidc/provider.mjs): people sign in through its login and consent pages and
//! get the role their groups give; every bad answer is refused and signs nobody in.

mod common;

use app::model::Role;
use app::server::AuthSettings;
use axum::http::StatusCode;
use common::{PASSWORD, TestApp};
use foghorn::WebSettings;
use foghorn::sso::{Sso, SsoSettings, parse_role_map};
use sqlx::PgPool;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const FOGHORN: &str = "http://foghorn.test";

/// The provider, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
    /// Held open: the provider must not write into a closed pipe.
    _output: BufReader<std::process::ChildStdout>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider() -> Provider {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("node")
        .arg("../end2end/oidc/provider.mjs")
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_REDIRECT_URIS", format!("{FOGHORN}/auth/oidc/callback"))
        .env("OIDC_LOGOUT_URIS", format!("{FOGHORN}/login"))
        .env("OIDC_UNVERIFIED_EMAIL", "local@example.com")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs the test identity provider (scripts/test.sh installs it)");
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    output.read_line(&mut line).unwrap();
    assert!(line.starts_with("ready"), "the provider did not start: {line}");
    Provider { child, issuer: format!("http://127.0.0.1:{port}"), _output: output }
}

async fn app_with(pool: PgPool, provider: &Provider, role_map: &str) -> TestApp {
    let settings = SsoSettings {
        issuer: provider.issuer.clone(),
        client_id: "foghorn".into(),
        client_secret: "foghorn-test-secret".into(),
        scopes: vec!["openid".into(), "email".into(), "profile".into(), "groups".into()],
        groups_claim: "groups".into(),
        label: "Test IdP".into(),
        default_role: Role::Viewer,
        role_map: parse_role_map(role_map).unwrap(),
        redirect_url: format!("{FOGHORN}/auth/oidc/callback"),
        after_sign_out_url: format!("{FOGHORN}/login"),
    };
    let web = WebSettings {
        public_origin: Some(FOGHORN.into()),
        sso: Some(Arc::new(Sso::new(settings).unwrap())),
        ..WebSettings::default()
    };
    let auth = AuthSettings { sso_label: Some("Test IdP".into()), ..common::test_auth() };
    TestApp::with(pool, auth, web).await
}

/// A browser without JavaScript at the provider: follows redirects, keeps cookies,
/// fills the login form as `login` and accepts the consent form.
struct Browser {
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, cookies: Vec::new() }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = value.to_str().unwrap_or_default().split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// From the provider's authorization URL to the callback URL it sends back to Foghorn.
    async fn authorize(&mut self, issuer: &str, url: &str, login: &str) -> String {
        let mut next = (url.to_owned(), None::<String>);
        for _ in 0..20 {
            let (url, form) = next.clone();
            if url.starts_with(FOGHORN) {
                return url;
            }
            let request = match form {
                Some(body) => self
                    .http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body),
                None => self.http.get(&url),
            };
            let response = request.header(reqwest::header::COOKIE, self.cookie_header()).send().await.unwrap();
            self.keep_cookies(&response);
            let absolute = |target: &str| {
                if target.starts_with("http") { target.to_owned() } else { format!("{issuer}{target}") }
            };
            if response.status().is_redirection() {
                let location = response.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
                next = (absolute(&location), None);
                continue;
            }
            let html = response.text().await.unwrap();
            let action = html.split("action=\"").nth(1).and_then(|a| a.split('"').next()).expect("a form");
            let fields: Vec<(&str, &str)> = if html.contains("name=\"login\"") {
                vec![("prompt", "login"), ("login", login), ("password", "anything")]
            } else {
                vec![("prompt", "consent")]
            };
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            next = (absolute(action), Some(body));
        }
        panic!("the provider never sent the browser back to Foghorn");
    }
}

/// Where a sign-in ended: the redirect Foghorn answered the callback with, and the
/// session cookie the browser holds afterwards.
struct Outcome {
    location: String,
    cookie: String,
    callback: String,
}

/// Starts single sign-on at Foghorn and returns the callback URL the provider gives back,
/// with Foghorn's session cookie holding the flow.
async fn begin(app: &TestApp, provider: &Provider, login: &str) -> (String, String) {
    let start = app.get("/auth/oidc/start?next=/incidents", None).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let cookie = start.session_cookie().expect("the flow lives in a session");
    let url = start.header("location").unwrap().to_owned();
    assert!(url.starts_with(&provider.issuer), "{url}");
    for part in ["code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "scope=openid"] {
        assert!(url.contains(part), "{part} in {url}");
    }
    let callback = Browser::new().authorize(&provider.issuer, &url, login).await;
    (callback, cookie)
}

async fn finish(app: &TestApp, callback: &str, cookie: &str) -> Outcome {
    let path = callback.trim_start_matches(FOGHORN);
    let response = app.get(path, Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let cookie = response.session_cookie().unwrap_or_else(|| cookie.to_owned());
    Outcome { location: response.header("location").unwrap().to_owned(), cookie, callback: callback.to_owned() }
}

async fn sign_in(app: &TestApp, provider: &Provider, login: &str) -> Outcome {
    let (callback, cookie) = begin(app, provider, login).await;
    finish(app, &callback, &cookie).await
}

async fn count(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE kind = $1")
        .bind(kind)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn people_sign_in_with_the_provider_and_get_the_role_their_groups_give(pool: PgPool) {
    let provider = start_provider();
    let app = app_with(pool, &provider, "sre=admin,eng=responder,*=viewer").await;
    app.create_user("first@example.com", "First Admin", Role::Admin).await;
    let sign_in_page = app.get("/login", None).await;
    assert!(sign_in_page.body.contains("Sign in with Test IdP"), "{}", sign_in_page.body);

    let ana = sign_in(&app, &provider, "ana").await;
    assert_eq!(ana.location, "/incidents", "back where they were going");
    let me = app.viewer(Some(&ana.cookie)).await;
    assert_eq!(
        (me["email"].as_str(), me["display_name"].as_str(), me["role"].as_str()),
        (Some("ana@example.com"), Some("Ana Sso"), Some("admin"))
    );
    let details: serde_json::Value =
        sqlx::query_scalar("SELECT details FROM audit_events WHERE kind = 'sign_in' ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(details["method"], "sso");

    let ben = sign_in(&app, &provider, "ben").await;
    assert_eq!(app.viewer(Some(&ben.cookie)).await["role"], "responder");
    let cat = sign_in(&app, &provider, "cat").await;
    assert_eq!(app.viewer(Some(&cat.cookie)).await["role"], "viewer", "* gives everyone else the viewer role");

    // The provider's groups decide again at the next sign-in.
    sqlx::query("UPDATE users SET role = 'viewer' WHERE email = 'ben@example.com'").execute(&app.pool).await.unwrap();
    let ben = sign_in(&app, &provider, "ben").await;
    assert_eq!(app.viewer(Some(&ben.cookie)).await["role"], "responder");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 4, "one account per person, made at their first sign-in");
    assert_eq!(count(&app, "user_created").await, 3, "each one in the audit log");
    assert_eq!(count(&app, "role_changed").await, 1, "as is the role the groups gave back to Ben");

    // Signing out also signs out at the provider.
    let out = app.call("sign_out", &[], Some(&ana.cookie)).await;
    let to = out.header("location").or(out.header("x-leptos-redirect")).unwrap_or_default().to_owned();
    assert!(to.starts_with(&format!("{}/session/end?id_token_hint=", provider.issuer)), "{to} {}", out.body);
}

#[sqlx::test(migrations = false)]
async fn an_existing_account_is_linked_only_through_a_verified_email(pool: PgPool) {
    let provider = start_provider();
    let app = app_with(pool, &provider, "").await;
    let ben_id = app.create_user("ben@example.com", "Ben Local", Role::Responder).await;
    app.create_user("local@example.com", "Local", Role::Admin).await;

    let ben = sign_in(&app, &provider, "ben").await;
    let me = app.viewer(Some(&ben.cookie)).await;
    assert_eq!((me["id"].as_i64(), me["role"].as_str()), (Some(ben_id), Some("responder")), "linked, role kept");

    let before = count(&app, "sign_in").await;
    let refused = sign_in(&app, &provider, "unverified").await;
    assert!(refused.location.starts_with("/login?sso_error="), "{}", refused.location);
    assert!(refused.location.contains("verified"), "{}", refused.location);
    assert!(app.viewer(Some(&refused.cookie)).await.is_null(), "nobody signed in");
    assert_eq!(count(&app, "sign_in").await, before);
    assert_eq!(count(&app, "sign_in_refused").await, 1);
    let linked: Option<String> = sqlx::query_scalar("SELECT oidc_subject FROM users WHERE email = 'local@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(linked, None, "the local account was not taken over");
}

#[sqlx::test(migrations = false)]
async fn every_bad_answer_is_refused_and_signs_nobody_in(pool: PgPool) {
    let provider = start_provider();
    let app = app_with(pool, &provider, "*=responder").await;
    let refused = |outcome: &Outcome, what: &str| {
        assert!(outcome.location.starts_with("/login?sso_error="), "{what}: {}", outcome.location);
    };

    // A state that is not the one Foghorn sent.
    let (callback, cookie) = begin(&app, &provider, "ana").await;
    let forged = callback.replace("state=", "state=forged");
    let outcome = finish(&app, &forged, &cookie).await;
    refused(&outcome, "wrong state");
    assert!(app.viewer(Some(&outcome.cookie)).await.is_null());

    // A code used once already, brought to a new sign-in of someone else.
    let first = sign_in(&app, &provider, "ana").await;
    assert_eq!(first.location, "/incidents");
    let (second, cookie) = begin(&app, &provider, "ben").await;
    let code = |url: &str| url.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let replayed = second.replace(&code(&second), &code(&first.callback));
    let outcome = finish(&app, &replayed, &cookie).await;
    refused(&outcome, "replayed code");
    assert!(app.viewer(Some(&outcome.cookie)).await.is_null());

    // Tokens the provider's tampering accounts get: another key, another audience, expired.
    for login in ["forged-key", "wrong-audience", "expired"] {
        let outcome = sign_in(&app, &provider, login).await;
        refused(&outcome, login);
        assert!(outcome.location.contains("not%20valid"), "{login}: {}", outcome.location);
        assert!(app.viewer(Some(&outcome.cookie)).await.is_null(), "{login}");
    }
    let made: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE email LIKE ANY (ARRAY['forged%', 'audience%', 'expired%'])",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(made, 0, "no account for a refused token");

    // A deactivated user stays out whatever the provider says.
    sqlx::query("UPDATE users SET active = false WHERE email = 'ana@example.com'").execute(&app.pool).await.unwrap();
    let outcome = sign_in(&app, &provider, "ana").await;
    refused(&outcome, "deactivated");
    assert!(app.viewer(Some(&outcome.cookie)).await.is_null());

    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_events WHERE kind IN ('sign_in_failed', 'sign_in_refused') ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(reasons.len(), 6, "each refusal is in the audit log: {reasons:?}");
    assert_eq!(reasons[0], "state does not match");
    assert!(reasons[1].starts_with("code exchange"), "{reasons:?}");
    assert_eq!(reasons[5], "account deactivated");
}

#[sqlx::test(migrations = false)]
async fn with_passwords_off_only_single_sign_on_signs_in(pool: PgPool) {
    let web = WebSettings { public_origin: Some(FOGHORN.into()), ..WebSettings::default() };
    let auth = AuthSettings { sso_label: Some("Test IdP".into()), password_sign_in: false, ..common::test_auth() };
    let app = TestApp::with(pool, auth, web).await;
    app.create_user("local@example.com", "Local", Role::Admin).await;
    let attempt = app.call("sign_in", &[("email", "local@example.com"), ("password", PASSWORD)], None).await;
    assert_eq!(attempt.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", attempt.body);
    assert!(attempt.session_cookie().is_none());
    let page = app.get("/login", None).await;
    assert!(page.body.contains("Sign in with Test IdP") && !page.body.contains("type=\"password\""), "{}", page.body);
}
