//! While the database is unreachable Foghorn answers quickly and plainly: 503, "try
//! again shortly" — never a 500 that reads like a bug, never a request left hanging.
//! The outage here is real: the app's pool points at a port on 127.0.0.1 where nothing
//! listens, as a restarting PostgreSQL's does (scripts/faults.sh drills the full restart).

mod common;

use app::error::AppError;
use app::model::Role;
use app::server::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{PASSWORD, TestApp};
use foghorn::WebSettings;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::time::Duration;
use tower::ServiceExt;

/// The same application as `app`, but with a database that does not answer.
fn during_outage(app: &TestApp) -> axum::Router {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options: PgConnectOptions = app.pool.connect_options().as_ref().clone().host("127.0.0.1").port(closed_port);
    let down = PgPoolOptions::new().acquire_timeout(Duration::from_secs(1)).connect_lazy_with(options);
    let state = AppState::new_with_hasher(down, common::test_auth(), app.state.passwords.clone());
    let options = LeptosOptions::builder().output_name("foghorn").site_root("target/site").build();
    foghorn::router(state, WebSettings::default(), options, app.hub.clone())
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The answer is the error a browser shows as "… try again shortly".
fn says_try_again(body: &str) {
    let err: AppError = serde_json::from_str(body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"));
    assert_eq!(err, AppError::Unavailable);
    assert!(err.to_string().contains("try again"), "{err}");
}

fn form(endpoint: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", "192.0.2.1");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_server_function_answers_503_while_the_database_is_down(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("rita@example.com", "Rita", Role::Responder).await;
    let down = during_outage(&app);

    let (status, body) = send(
        &down,
        form("sign_in", &format!("email=rita%40example.com&password={}", common::urlencode(PASSWORD)), None),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    says_try_again(&body);
}

#[sqlx::test(migrations = false)]
async fn a_signed_in_write_and_a_live_stream_answer_503_while_the_database_is_down(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Database outage", "SEV2").await;
    let down = during_outage(&app);

    let (status, body) =
        send(&down, form("post_note", &format!("number={number}&body=still+there"), Some(&cookie))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    says_try_again(&body);

    let live = Request::get(format!("/api/live?incident={number}"))
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&down, live).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    // The same request against the database that answers works: nothing was broken.
    let posted = app.call("post_note", &[("number", &number.to_string()), ("body", "back")], Some(&cookie)).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
}

/// Where the test database listens: TCP, or the Unix socket of a private cluster
/// (`?host=/dir` in `DATABASE_URL`).
#[derive(Clone)]
enum Upstream {
    Tcp(std::net::SocketAddr),
    Unix(std::path::PathBuf),
}

impl Upstream {
    async fn of(options: &PgConnectOptions) -> Upstream {
        match options.get_socket() {
            Some(dir) => Upstream::Unix(dir.join(format!(".s.PGSQL.{}", options.get_port()))),
            None => Upstream::Tcp(
                tokio::net::lookup_host(format!("{}:{}", options.get_host(), options.get_port()))
                    .await
                    .unwrap()
                    .next()
                    .unwrap(),
            ),
        }
    }

    /// Copies between `inbound` and the database until either side closes.
    async fn pipe(&self, inbound: &mut tokio::net::TcpStream) {
        match self {
            Upstream::Tcp(addr) => {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(addr).await {
                    let _ = tokio::io::copy_bidirectional(inbound, &mut outbound).await;
                }
            }
            Upstream::Unix(path) => {
                if let Ok(mut outbound) = tokio::net::UnixStream::connect(path).await {
                    let _ = tokio::io::copy_bidirectional(inbound, &mut outbound).await;
                }
            }
        }
    }
}

/// A TCP relay in front of the test database that can be cut like a restarting
/// PostgreSQL: open connections are reset and new ones refused until it is restored.
struct Relay {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(target: Upstream) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, _) = tokio::sync::watch::channel(false);
        let relay = Relay { port, cut };
        relay.serve(listener, target);
        relay
    }

    fn serve(&self, listener: tokio::net::TcpListener, target: Upstream) {
        let mut cut = self.cut.subscribe();
        tokio::spawn(async move {
            loop {
                let (mut inbound, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    // Dropping the listener refuses new connections.
                    _ = cut.wait_for(|c| *c) => return,
                };
                let mut cut = cut.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = target.pipe(&mut inbound) => {}
                        _ = cut.wait_for(|c| *c) => {
                            // Reset, as a server that went away does.
                            let _ = inbound.set_zero_linger();
                        }
                    }
                });
            }
        });
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    async fn restore(&self, target: Upstream) {
        self.cut.send_replace(false);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener, target);
    }
}

/// Longer than any connect timeout of the live listener: it must come back by itself
/// and have every stream catch up, however long the database was gone.
const LONG_OUTAGE: Duration = Duration::from_secs(35);

#[sqlx::test(migrations = false)]
async fn live_updates_resume_after_a_long_database_outage(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Long outage", "SEV2").await;
    let target = Upstream::of(app.pool.connect_options().as_ref()).await;
    let relay = Relay::start(target.clone()).await;
    let relayed = PgPoolOptions::new()
        .connect_lazy_with(app.database_url_via(Some(relay.port)).parse::<PgConnectOptions>().unwrap());
    let hub = foghorn::live::start(relayed).await.expect("listener starts");
    let mut changes = hub.subscribe();

    relay.cut();
    tokio::time::sleep(LONG_OUTAGE).await;
    relay.restore(target).await;
    while changes.try_recv().is_ok() {}
    // Written after the database is back: this instance's streams must hear of it,
    // directly or by catching up.
    let posted =
        app.call("post_note", &[("number", &number.to_string()), ("body", "after the outage")], Some(&cookie)).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    let heard = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match changes.recv().await {
                Ok(foghorn::live::Change::Entry(entry, _)) if entry.body.contains("after the outage") => return,
                Ok(foghorn::live::Change::Resync) | Err(_) => return,
                _ => continue,
            }
        }
    })
    .await;
    assert!(heard.is_ok(), "the live listener never came back after the outage");
}
