//! What every request passes through: logging, security headers, the same-origin rule
//! for writes, resolving the signed-in user, and sending signed-out visitors to sign-in.

use crate::WebSettings;
use app::error::AppError;
use app::server::{AppState, ClientIp, CurrentUser, db, sessions};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use std::time::Instant;
use tower_sessions::Session;

/// One structured line per request: method, path, status, latency.
pub async fn log_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    tracing::info!(
        target: "foghorn::http",
        %method,
        ?path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Strict default Content-Security-Policy for anything that is not a rendered page
/// (pages set their own, with the nonce of their hydration scripts).
const DEFAULT_CSP: &str =
    "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub async fn security_headers(State(web): State<WebSettings>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(DEFAULT_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if web.secure {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    response
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `scheme://host[:port]` → `host[:port]`.
fn origin_authority(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'))
}

/// Refuses state-changing requests sent from another site (CSRF defence in depth,
/// on top of `SameSite=Lax` cookies). The request's `Origin` decides; a browser that
/// sends none says where it stands with `Sec-Fetch-Site`; failing both, `Referer`.
/// A write that says nothing of where it comes from is refused: every browser sends at
/// least one of the three, and scripts can send `Origin` too.
pub async fn refuse_foreign_origin(State(web): State<WebSettings>, req: Request, next: Next) -> Response {
    if is_safe_method(req.method()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST);
    let is_own = |origin: &str| {
        let origin = origin.trim_end_matches('/');
        let same_host = origin_authority(origin).is_some_and(|a| Some(a) == host);
        let public = web.public_origin.as_deref().is_some_and(|p| p.trim_end_matches('/') == origin);
        same_host || public
    };
    let own = if let Some(origin) = text(header::ORIGIN) {
        is_own(origin)
    } else if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        matches!(site, "same-origin" | "none")
    } else if let Some(referer) = text(header::REFERER) {
        referer_origin(referer).is_some_and(is_own)
    } else {
        false
    };
    if !own {
        tracing::warn!(
            target: "foghorn::audit",
            origin = ?req.headers().get(header::ORIGIN),
            referer = ?req.headers().get(header::REFERER),
            path = ?req.uri().path(),
            "refused: cross-origin write"
        );
        // The standard refusal: the message tells a script's author what to send.
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "error": AppError::Forbidden.code(),
                "message": "Cross-origin requests that change data are refused. Send an Origin header naming Foghorn's own address."
            })),
        )
            .into_response();
    }
    next.run(req).await
}

/// `scheme://host[:port]/path…` → `scheme://host[:port]`.
fn referer_origin(referer: &str) -> Option<&str> {
    let (scheme, rest) = referer.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&referer[..scheme.len() + 3 + end])
}

/// With a public URL configured, answers 421 to a request that names another host:
/// a page reached through an attacker's DNS name (rebinding) must not be served
/// Foghorn's answers. Health checks pass whatever host the prober uses.
pub async fn refuse_other_hosts(State(web): State<WebSettings>, req: Request, next: Next) -> Response {
    let Some(expected) = web.public_origin.as_deref().and_then(origin_authority) else {
        return next.run(req).await;
    };
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let expected = expected.split('/').next().unwrap_or_default();
    if host.eq_ignore_ascii_case(expected) || req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    tracing::warn!(target: "foghorn::audit", host = ?host, path = ?req.uri().path(), "refused: request for another host");
    (StatusCode::MISDIRECTED_REQUEST, "This Foghorn answers only at its configured public address.\n").into_response()
}

pub(crate) fn client_ip(req: &Request, trust_proxy: bool) -> String {
    if trust_proxy {
        // The proxy appends the address it saw: the last entry is the one we can trust.
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Resolves the session to a user (ending invalid sessions) and records the client
/// address, for server functions and the page guard to read.
pub async fn resolve_user(State(state): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    // Static files and health checks need no user: spare them the session and user reads.
    if is_static(req.uri().path()) {
        return next.run(req).await;
    }
    let ip = client_ip(&req, state.auth.trust_proxy);
    let user = match sessions::resolve(&state, &session).await {
        Ok(user) => user,
        // Encoded as a server function's error, so the browser can show what it says.
        Err(err) => return err.into_response(),
    };
    req.extensions_mut().insert(CurrentUser(user));
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

/// Files and probes that never depend on who is asking.
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || matches!(path, "/healthz" | "/favicon.ico" | "/robots.txt")
}

/// Paths anyone may fetch without signing in (server functions check the caller themselves).
fn is_public(path: &str) -> bool {
    is_static(path)
        || path.starts_with("/api/")
        || path.starts_with("/auth/oidc/")
        || path == "/status"
        || path == "/status.json"
        || path.starts_with("/status/")
}

/// The sign-in page, carrying the page a signed-out visitor asked for (when it is a GET
/// of a path short enough to carry) so that sign-in can send them back. It travels in the
/// URL: a signed-out visitor costs no session row.
fn sign_in_url(req: &Request) -> String {
    let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if req.method() != Method::GET || target == "/" || !sessions::is_return_path(target) {
        return "/login".to_owned();
    }
    format!("/login?next={}", form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>())
}

/// Sends signed-out visitors of a page to sign-in (and back afterwards), and the very
/// first visitor to the first-administrator set-up.
pub async fn guard_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_public(&path) {
        return next.run(req).await;
    }
    let signed_in = req.extensions().get::<CurrentUser>().is_some_and(|u| u.0.is_some());
    let has_users = || async {
        db::users::any_exist(&state.pool).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    };
    match path.as_str() {
        "/setup" => match has_users().await {
            Ok(true) => Redirect::to(if signed_in { "/" } else { "/login" }).into_response(),
            Ok(false) => next.run(req).await,
            Err(response) => response,
        },
        // `/login?again` lets someone whose session is about to end sign in afresh (in
        // another tab) without leaving the page they are writing on.
        "/login" if signed_in && req.uri().query() != Some("again") => Redirect::to("/").into_response(),
        "/login" => match has_users().await {
            Ok(false) => Redirect::to("/setup").into_response(),
            Ok(true) => next.run(req).await,
            Err(response) => response,
        },
        _ if signed_in => next.run(req).await,
        _ => match has_users().await {
            Ok(false) => Redirect::to("/setup").into_response(),
            Ok(true) => Redirect::to(&sign_in_url(&req)).into_response(),
            Err(response) => response,
        },
    }
}

/// Gives server-function errors their HTTP status. The server-function runtime answers
/// every error with 500 — including arguments that fail to parse, before the function
/// runs — so the one place that knows the status is the error itself (`AppError::status`).
pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
