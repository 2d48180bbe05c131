//! Drives the real router (every middleware included) against a real, per-test
//! PostgreSQL database created by `#[sqlx::test]`.
#![allow(dead_code)]

pub mod delivery;

use app::model::Role;
use app::server::{AppState, AuthSettings, db};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use foghorn::WebSettings;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::sync::OnceLock;
use std::time::Duration;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub state: AppState,
    pub hub: foghorn::live::Hub,
    /// The `Host` requests name unless they say otherwise: the public URL's, when set.
    pub host: Option<String>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// The `name=value` of the session cookie this response set, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("foghorn_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Argon2 is slow by design; one hasher (with its dummy hash) serves every test.
fn shared_state(pool: PgPool, auth: AuthSettings) -> AppState {
    static HASHER: OnceLock<std::sync::Arc<app::server::passwords::PasswordHasher>> = OnceLock::new();
    AppState::new_with_hasher(pool, auth, HASHER.get_or_init(Default::default).clone())
}

pub fn test_auth() -> AuthSettings {
    AuthSettings { trust_proxy: true, ..AuthSettings::default() }
}

impl TestApp {
    pub async fn new(pool: PgPool) -> Self {
        Self::with(pool, test_auth(), WebSettings::default()).await
    }

    pub async fn with(pool: PgPool, auth: AuthSettings, web: WebSettings) -> Self {
        Self::with_site(pool, auth, web, "target/site").await
    }

    /// With the built site (wasm, JavaScript, CSS) served from `site_root`.
    pub async fn with_site(pool: PgPool, auth: AuthSettings, web: WebSettings, site_root: &str) -> Self {
        quiet_global_subscriber();
        foghorn::migrate(&pool).await.expect("migrations apply");
        let state = shared_state(pool.clone(), auth);
        let options = LeptosOptions::builder().output_name("foghorn").site_root(site_root).build();
        let hub = foghorn::live::start(pool.clone()).await.expect("live listener starts");
        let host = web
            .public_origin
            .as_deref()
            .and_then(|o| o.split_once("://"))
            .map(|(_, rest)| rest.trim_end_matches('/').to_owned());
        let router = foghorn::router(state.clone(), web, options, hub.clone());
        TestApp { router, pool, state, hub, host }
    }

    /// A URL for this test's own database, for a `foghorn` process the test starts: the
    /// suite's `DATABASE_URL` (host, socket, credentials and parameters as given) with
    /// the database `#[sqlx::test]` created in place of its path.
    pub fn database_url(&self) -> String {
        self.database_url_via(None)
    }

    /// [`Self::database_url`], reached over TCP at `127.0.0.1:port` when a port is given
    /// (a relay in front of the database): the address and any socket directory
    /// (`host=`) are replaced, credentials and other parameters kept.
    pub fn database_url_via(&self, port: Option<u16>) -> String {
        let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
        let mut url = url::Url::parse(&base).expect("DATABASE_URL is a URL");
        url.set_path(self.pool.connect_options().get_database().expect("sqlx::test names its database"));
        if let Some(port) = port {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| !["host", "hostaddr", "port"].contains(&key.as_ref()))
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            url.set_host(Some("127.0.0.1")).expect("an IP address is a host");
            url.set_port(Some(port)).expect("a postgres URL takes a port");
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
        }
        url.into()
    }

    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        if let Some(host) = &self.host {
            request.headers_mut().entry(header::HOST).or_insert(host.parse().expect("a valid host"));
        }
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(path).header("x-forwarded-for", "192.0.2.1");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Calls a server function the way a browser form does.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)], cookie: Option<&str>) -> TestResponse {
        self.call_from("192.0.2.1", endpoint, form, cookie).await
    }

    pub async fn call_from(
        &self,
        ip: &str,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> TestResponse {
        let body = form.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            // What a browser sends with a same-site write.
            .header("sec-fetch-site", "same-origin")
            .header("x-forwarded-for", ip);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Calls a server function that takes JSON (forms with lists).
    pub async fn call_json(&self, endpoint: &str, body: serde_json::Value, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header("x-forwarded-for", "192.0.2.1");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap()).await
    }

    /// Calls the REST API with `token` (if any) and a JSON body (if any).
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        self.api_with(method, path, token, body, &[]).await
    }

    /// [`Self::api`] with extra headers.
    pub async fn api_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path).header("x-forwarded-for", "198.51.100.7");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// A new API token: `user_id`'s personal one, or (`None`) a service token acting as a
    /// responder bot.
    pub async fn token(&self, name: &str, user_id: Option<i64>, read_only: bool) -> String {
        use db::api_tokens::Owner;
        let owner = user_id.map(Owner::Person).unwrap_or(Owner::Service(Role::Responder));
        let request = app::model::TokenRequest { name: name.into(), read_only, ..Default::default() };
        let actor = db::audit::Actor::server("test");
        db::api_tokens::create(&self.pool, &actor, owner, &request).await.expect("token created").secret
    }

    /// Declares an incident as the holder of `cookie`; returns its number.
    pub async fn declare(&self, cookie: &str, title: &str, severity: &str) -> i64 {
        let response = self
            .call_json(
                "declare_incident",
                serde_json::json!({ "declaration": { "title": title, "severity": severity } }),
                Some(cookie),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "declare: {}", response.body);
        response.json().as_i64().expect("incident number")
    }

    /// The holder of `cookie` takes comms on incident `number` (so that they may post
    /// comms updates).
    pub async fn take_comms(&self, cookie: &str, number: i64) {
        let me = self.viewer(Some(cookie)).await["id"].to_string();
        let response = self
            .call("assign_role", &[("number", &number.to_string()), ("role", "comms"), ("user_id", &me)], Some(cookie))
            .await;
        assert_eq!(response.status, StatusCode::OK, "take comms: {}", response.body);
    }

    /// The incident page's data, as the holder of `cookie` sees it.
    pub async fn incident(&self, cookie: &str, number: i64) -> serde_json::Value {
        let response = self.call("get_incident", &[("number", &number.to_string())], Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "incident: {}", response.body);
        response.json()
    }

    pub async fn last_seq(&self, number: i64) -> i64 {
        sqlx::query_scalar("SELECT last_seq FROM incidents WHERE number = $1")
            .bind(number)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn create_user(&self, email: &str, name: &str, role: Role) -> i64 {
        let hash = self.state.passwords.hash(PASSWORD).await.unwrap();
        db::users::insert(&self.pool, email, name, role, &hash).await.unwrap()
    }

    /// Signs in and returns the session cookie.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = self.call("sign_in", &[("email", email), ("password", password)], None).await;
        assert!(
            response.status.is_success() || response.status.is_redirection(),
            "sign-in failed: {} {}",
            response.status,
            response.body
        );
        response.session_cookie().expect("sign-in sets a session cookie")
    }

    /// Creates a user of `role` and signs them in; returns (user id, cookie).
    pub async fn user_with_role(&self, role: Role) -> (i64, String) {
        let email = format!("{}@example.com", role.as_str());
        let id = self.create_user(&email, &format!("{} user", role.label()), role).await;
        (id, self.sign_in(&email, PASSWORD).await)
    }

    /// Who the server thinks this cookie belongs to.
    pub async fn viewer(&self, cookie: Option<&str>) -> serde_json::Value {
        self.call("get_viewer", &[], cookie).await.json()
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn sleep(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Installs, once per test binary, a global subscriber that keeps nothing. tracing
/// caches whether each log line is wanted the first time any thread reaches it; with
/// only a test's own (thread-local) capture registered, a sibling test on a thread
/// without one would cache "never", and the capturing test would miss its line. With a
/// global subscriber that wants everything, the cache always says "ask".
pub fn quiet_global_subscriber() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

/// What this test's code logs (on its own thread), for tests of audit lines.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures every log line of the current thread while the guard lives.
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        quiet_global_subscriber();
        let captured = CapturedLogs::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Whether `path` answers with a body containing `text` within `within`: the public
/// snapshot follows a change once its NOTIFY has arrived, which takes how long the
/// machine takes.
pub async fn shows_within(app: &TestApp, path: &str, text: &str, within: Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if app.get(path, None).await.body.contains(text) {
            return true;
        }
        sleep(50).await;
    }
    false
}
