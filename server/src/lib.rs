//! The Foghorn server: composition root of the web app.
//!
//! [`router`] builds the whole HTTP surface (pages, server functions, health,
//! static files) behind the middleware every request passes through, so tests drive
//! exactly what production serves.

// Leptos views are deeply nested types; release builds (no type erasure) need room.
#![recursion_limit = "512"]

/// Rendering a page makes many small, short-lived allocations (reactive owners,
/// view nodes, strings); mimalloc serves them in a fraction of glibc malloc's time.
/// Declared here so every binary built on this crate (the server, the benchmark's
/// bare handler, the tests) runs on the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod assets;
pub mod audit;
pub mod config;
pub mod delivery;
mod downloads;
pub mod embedded_db;
mod health;
mod links;
pub mod live;
mod middleware;
pub mod priority;
pub mod rest;
pub mod runbook_export;
pub mod serve;
pub mod sso;
pub use assets::built_with_hashed_names;
mod status_page;
mod webhook_target;

use app::server::AppState;
use app::{App, shell};
use axum::Router;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};
use std::time::Duration;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

/// Text made safe to place in HTML (element content or a quoted attribute), for the
/// pages and mails the server writes without Leptos.
pub(crate) fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// How the server presents itself on the web.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Mark cookies `Secure` (and name the session cookie `__Host-…`), send HSTS.
    pub secure: bool,
    /// The origin users reach Foghorn at (e.g. `https://foghorn.example.com`), accepted
    /// for writes besides the request's own `Host`; needed behind a rewriting proxy.
    pub public_origin: Option<String>,
    /// Single sign-on, when an identity provider is configured.
    pub sso: Option<std::sync::Arc<sso::Sso>>,
    /// The REST API's rate limit, and the chat doors.
    pub api: rest::ApiSettings,
}

/// The session cookie's name: `__Host-` prefixed when `Secure`, which browsers then
/// bind to this exact host and path.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-foghorn_session" } else { "foghorn_session" }
}

/// How Foghorn pools its database connections (the server, and the benchmark's bare
/// handler, so the two are compared on equal terms).
///
/// sqlx by default pings every connection it hands out: a second round trip for every
/// query, about a sixth of a page's CPU. A connection used in the last half minute is known
/// to be alive; only one idle for longer (the database may have restarted or a proxy
/// dropped it since) is pinged first, and replaced if the ping fails.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(30) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Applies Foghorn's schema and the session store's.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::migrate!("../migrations").run(pool).await?;
    PostgresStore::new(pool.clone()).migrate().await?;
    Ok(())
}

/// The session store, for the background task that deletes expired sessions.
pub fn session_store(pool: &PgPool) -> PostgresStore {
    PostgresStore::new(pool.clone())
}

/// `/auth/oidc/start` and `/auth/oidc/callback`, when single sign-on is configured.
fn sso_routes(state: &AppState, web: &WebSettings) -> Router<LeptosOptions> {
    match &web.sso {
        Some(sso) => Router::new()
            .route("/auth/oidc/start", get(sso::start))
            .route("/auth/oidc/callback", get(sso::callback))
            .with_state((state.clone(), sso.clone())),
        None => Router::new(),
    }
}

/// Builds the complete application router.
pub fn router(state: AppState, web: WebSettings, leptos_options: LeptosOptions, hub: live::Hub) -> Router {
    let idle = time::Duration::seconds(state.auth.session_idle.as_secs() as i64);
    let sessions = SessionManagerLayer::new(session_store(&state.pool))
        .with_name(session_cookie_name(web.secure))
        .with_secure(web.secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle));

    let routes = generate_route_list(App);
    let context_state = state.clone();
    let pool = state.pool.clone();
    let public = (std::sync::Arc::new(status_page::Snapshot::new(state.pool.clone(), hub.clone())), web.clone());

    let pages = Router::new()
        .route("/healthz", get(move || health::healthz(pool.clone())))
        .route("/api/live", get(live::stream).with_state((state.clone(), hub)))
        .route("/api/calendar/postmortems.ics", get(downloads::meetings_feed).with_state((state.clone(), web.clone())))
        .route("/status", get(status_page::page).with_state(public.clone()))
        .route("/status.json", get(status_page::json).with_state(public.clone()))
        .route("/status/feed.atom", get(status_page::feed).with_state(public.clone()))
        .route("/status/banner.js", get(status_page::banner).with_state(public.clone()))
        .route("/api/runbooks/export.zip", get(downloads::runbooks_zip).with_state(state.clone()))
        .route("/api/action_items.csv", get(downloads::action_items_csv).with_state(state.clone()))
        .route("/api/audit.csv", get(audit::csv).with_state(state.clone()))
        .route("/api/audit.jsonl", get(audit::json_lines).with_state(state.clone()))
        .route("/api/postmortems/{reference}/markdown", get(downloads::markdown).with_state(state.clone()))
        .merge(sso_routes(&state, &web))
        .leptos_routes_with_context(&leptos_options, routes, move || provide_context(context_state.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .nest_service("/pkg", assets::pkg_service(&leptos_options))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        // Innermost first: each layer below wraps everything above it.
        .layer(axum::middleware::from_fn(middleware::server_fn_error_status))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::guard_pages))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::resolve_user))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(web.clone(), middleware::refuse_foreign_origin));
    // The REST API: tokens instead of sessions, so neither the session layers nor the
    // browser origin check above apply to it.
    let api = rest::Api {
        state: state.clone(),
        public: public.0.clone(),
        settings: std::sync::Arc::new(web.api.clone()),
        web: web.clone(),
    };
    Router::new()
        .merge(pages)
        .nest("/api/v1", rest::router(api))
        .layer(axum::middleware::from_fn_with_state(web.clone(), middleware::refuse_other_hosts))
        // Pages and JSON go out gzipped at the fastest level: level 4 took 14 % of the
        // server's CPU on a long incident page for 16 % fewer bytes (9.8 KB against
        // 11.6 KB), which matters when everyone opens the page at once. Live streams
        // are left alone, since compression would hold back their events.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(axum::middleware::from_fn_with_state(web, middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(priority::Work::default(), priority::schedule))
        .layer(axum::middleware::from_fn(middleware::log_requests))
}
