//! `/api/v1/alerts/…`: Alertmanager's and Grafana's webhooks, and the routing rules.

use super::body::Json;
use super::problem::ProblemDocument;
use super::{Api, Problem, Token};
use app::model::{AlertRoute, AlertSource};
use app::server::db::alert_routes;
use app::server::db::alerts::{self, Notification, Received};
use app::server::policy::Permission;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

/// `POST /alerts/alertmanager`.
#[utoipa::path(post, path = "/alerts/alertmanager", tag = "alerts", request_body = Notification, responses((status = 200, description = "Applied (or already applied)", body = Received), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn alertmanager(State(api): State<Api>, token: Token, body: Bytes) -> Result<Response, Problem> {
    receive(&api, &token, AlertSource::Alertmanager, &body).await
}

/// `POST /alerts/grafana`: Grafana's webhook contact point (Alertmanager's shape).
#[utoipa::path(post, path = "/alerts/grafana", tag = "alerts", request_body = Notification, responses((status = 200, description = "Applied (or already applied)", body = Received), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn grafana(State(api): State<Api>, token: Token, body: Bytes) -> Result<Response, Problem> {
    receive(&api, &token, AlertSource::Grafana, &body).await
}

async fn receive(api: &Api, token: &Token, source: AlertSource, body: &[u8]) -> Result<Response, Problem> {
    let endpoint = format!("POST /api/v1/alerts/{source}");
    let me = token.may(api, Permission::RespondToIncidents, &endpoint).await?;
    // A body that is not a notification is the sender's mistake, not a retryable failure.
    let notification = Notification::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let received = alerts::receive(&api.state.pool, me, &token.actor(), source, &notification).await?;
    if received.declared {
        tracing::info!(target: "foghorn::audit", incident = ?received.incident, %source, group = %notification.group_key, "incident declared by an alert");
    }
    Ok(axum::Json(received).into_response())
}

/// `GET /alert-routes`: the routing rules, in order.
#[utoipa::path(get, path = "/alert-routes", tag = "alerts", responses((status = 200, description = "The rules, in order", body = Vec<AlertRoute>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn routes(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageIntegrations, "GET /api/v1/alert-routes").await?;
    Ok(axum::Json(alert_routes::routes(&api.state.pool).await?).into_response())
}

/// `PUT /alert-routes`: replaces the rules (admins).
#[utoipa::path(put, path = "/alert-routes", tag = "alerts", request_body = Vec<AlertRoute>, responses((status = 200, description = "The rules, as saved", body = Vec<AlertRoute>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn save_routes(
    State(api): State<Api>,
    token: Token,
    Json(routes): Json<Vec<AlertRoute>>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageIntegrations, "PUT /api/v1/alert-routes").await?;
    alert_routes::save_routes(&api.state.pool, &token.actor(), &routes).await?;
    Ok(axum::Json(alert_routes::routes(&api.state.pool).await?).into_response())
}
