//! The REST API, `/api/v1/`: JSON for automation, separate from the server functions
//! the pages call, but deciding nothing of its own — every endpoint asks the same
//! policy and calls the same data-layer functions as the page that does the same, so a
//! write through the API leaves exactly the timeline entries, audit events and outbox
//! messages the page would.
//!
//! Callers present an API token (`Authorization: Bearer fhn_…`): no session is created,
//! and the browser origin check does not apply (a token is not sent by a browser on its
//! own). Errors are problem details ([`problem`]); the document describing it all is
//! [`openapi`]'s.

mod action_items;
mod alerts;
mod body;
mod chat;
mod directory;
mod incidents;
pub mod openapi;
mod postmortems;
pub mod problem;
mod timeline;

use crate::middleware::client_ip;
use app::model::{Caller, IncidentNumber, parse_incident_ref};
use app::server::db::{self, api_tokens::Bearer, audit::Actor};
use app::server::{AppState, policy};
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
pub use problem::Problem;
use std::sync::Arc;

/// How the API and the doors for alerts and chat behave.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Requests per minute one token may make (every instance counts together).
    pub rate_per_minute: u32,
    /// Slack's signing secret: the slash command door is closed (404) without it.
    pub slack_signing_secret: Option<String>,
    /// The token Mattermost sends with its slash commands: closed without it.
    pub mattermost_token: Option<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self { rate_per_minute: 600, slack_signing_secret: None, mattermost_token: None }
    }
}

#[derive(Clone)]
pub struct Api {
    pub state: AppState,
    /// The public status, as the status page's in-memory copy has it.
    pub public: Arc<crate::status_page::Snapshot>,
    pub settings: Arc<ApiSettings>,
    pub web: crate::WebSettings,
}

/// Every route of `/api/v1/`.
pub fn router(api: Api) -> Router {
    let with_token = Router::new()
        .route("/incidents", get(incidents::list).post(incidents::declare))
        .route("/incidents/{number}", get(incidents::get).patch(incidents::update))
        .route("/incidents/{number}/status", post(incidents::change_status))
        .route("/incidents/{number}/severity", post(incidents::change_severity))
        .route("/incidents/{number}/roles/{role}", put(incidents::assign_role))
        .route("/incidents/{number}/join", post(incidents::join))
        .route("/incidents/{number}/timeline", get(timeline::list).post(timeline::post_note))
        .route("/incidents/{number}/timeline/{entry_id}/key", put(timeline::set_key_event))
        .route("/incidents/{number}/comms", get(timeline::comms).post(timeline::post_comms))
        .route("/action-items", get(action_items::list).post(action_items::create))
        .route("/action-items/{id}", get(action_items::get).patch(action_items::update))
        .route("/action-items/{id}/status", post(action_items::change_status))
        .route("/postmortems/{number}", get(postmortems::get))
        .route("/postmortems/{number}/markdown", get(postmortems::markdown))
        .route("/services", get(directory::services).post(directory::create_service))
        .route("/services/{id}", put(directory::update_service))
        .route("/teams", get(directory::teams).post(directory::create_team))
        .route("/teams/{id}/members/{user_id}", put(directory::add_member).delete(directory::remove_member))
        .route("/teams/{id}/lead", put(directory::set_lead))
        .route("/alert-routes", get(alerts::routes).put(alerts::save_routes))
        .route("/alerts/alertmanager", post(alerts::alertmanager))
        .route("/alerts/grafana", post(alerts::grafana))
        .route_layer(axum::middleware::from_fn_with_state(api.clone(), bearer));
    Router::new()
        .merge(with_token)
        .route("/status", get(directory::public_status))
        .route("/chat/slack/command", post(chat::command))
        .route("/chat/mattermost/command", post(chat::command))
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::reference))
        .fallback(|| async { Problem::not_found() })
        .with_state(api)
}

/// Recognises the request's API token (401 without a live one), counts it against the
/// token's rate limit (429 past it), and hands the token's caller to the handler.
async fn bearer(State(api): State<Api>, mut req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|s| s.trim().to_owned());
    let Some(secret) = secret else {
        return Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Send an API token: Authorization: Bearer fhn_… (create one on your account page).",
        )
        .into_response();
    };
    let ip = client_ip(&req, api.state.auth.trust_proxy);
    let bearer = match db::api_tokens::authenticate(&api.state.pool, &secret, &ip).await {
        Ok(Some(bearer)) => bearer,
        Ok(None) => {
            tracing::warn!(target: "foghorn::audit", %ip, "refused: unknown, expired or revoked API token");
            return Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "This API token is unknown, expired or revoked, or its user is deactivated.",
            )
            .into_response();
        }
        Err(err) => return Problem::from(err).into_response(),
    };
    if bearer.window_count > api.settings.rate_per_minute as i32 {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!(
                "This token made more than {} requests this minute; try again in {} s.",
                api.settings.rate_per_minute, bearer.window_left_secs
            ),
        );
        problem.retry_after = Some(bearer.window_left_secs);
        return problem.into_response();
    }
    req.extensions_mut().insert(Token { bearer: Arc::new(bearer), ip });
    next.run(req).await
}

/// The caller behind the request's token, as handlers receive it.
#[derive(Clone)]
pub struct Token {
    bearer: Arc<Bearer>,
    ip: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Token>().cloned().ok_or_else(|| app::error::AppError::Internal.into())
    }
}

impl Token {
    /// The caller, if the token may be used for `permission` (the policy decides, as for
    /// the pages). A refusal is recorded in the audit trail, as the pages record theirs.
    pub async fn may(&self, api: &Api, permission: policy::Permission, endpoint: &str) -> Result<&Caller, Problem> {
        let caller = &self.bearer.caller;
        match policy::authorize_token(caller, self.bearer.read_only, permission) {
            Ok(()) => Ok(caller),
            Err(err) => {
                let details = serde_json::json!({
                    "permission": format!("{permission:?}"), "endpoint": endpoint,
                    "token": self.bearer.name, "read_only": self.bearer.read_only,
                });
                let kind = app::model::AuditKind::AccessRefused;
                db::audit::record(&api.state.pool, &self.actor(), kind, endpoint, details).await?;
                let detail = if self.bearer.read_only && !permission.reads_only() {
                    "This token is read-only.".to_owned()
                } else {
                    err.to_string()
                };
                Err(Problem::new(StatusCode::FORBIDDEN, "forbidden", detail))
            }
        }
    }

    /// Whether the token may only read.
    pub fn read_only(&self) -> bool {
        self.bearer.read_only
    }

    /// The token's user (or bot), and the token, as the audit trail records them.
    pub fn actor(&self) -> Actor {
        let mut actor = Actor::user(&self.bearer.caller, &self.ip);
        actor.label = format!("{} (token {})", actor.label, self.bearer.name);
        actor
    }
}

/// `42` or `INC-42` ([`parse_incident_ref`]); anything else names no incident.
fn incident_number(text: &str) -> Result<IncidentNumber, Problem> {
    parse_incident_ref(text).ok_or_else(|| {
        Problem::new(StatusCode::NOT_FOUND, "not_found", format!("\"{text}\" is not an incident number (like INC-42)."))
    })
}

/// Incident `text` (`42` or `INC-42`) for `me`: its number and id, or the same 404 as
/// for a number never used when they may not see it.
async fn visible_incident(api: &Api, me: &Caller, text: &str) -> Result<(IncidentNumber, db::IncidentId), Problem> {
    let number = incident_number(text)?;
    let id = db::incident_people::visible_id(&api.state.pool, number, Some(me.id)).await?;
    Ok((number, id))
}

/// The `If-Match` version (`"7"`, `W/"7"`), if the request sent one.
fn if_match(headers: &HeaderMap) -> Result<Option<i32>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_version",
            "If-Match must be the ETag the resource was read with, like \"7\".",
        )
    })
}

fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}
