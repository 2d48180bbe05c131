//! `/api/v1/services`, `/api/v1/teams` and the public status.

use super::problem::ProblemDocument;
use super::{Api, Problem, Token};
use app::model::{PublicStatus, Service, Team};
use app::server::db::{services, status, teams};
use app::server::policy::Permission;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

/// `GET /services`.
#[utoipa::path(get, path = "/services", tag = "directory", responses((status = 200, description = "Every service", body = Vec<Service>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn services(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ReadDirectory, "GET /api/v1/services").await?;
    Ok(Json(services::list(&api.state.pool).await?).into_response())
}

/// `GET /teams`.
#[utoipa::path(get, path = "/teams", tag = "directory", responses((status = 200, description = "Every team", body = Vec<Team>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn teams(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ReadDirectory, "GET /api/v1/teams").await?;
    Ok(Json(teams::list(&api.state.pool).await?).into_response())
}

/// `GET /status`: what the public status page shows, for anyone (no token).
#[utoipa::path(get, path = "/status", tag = "directory", responses((status = 200, description = "What the public status page shows", body = PublicStatus), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn public_status(State(api): State<Api>) -> Result<Response, Problem> {
    let now = time::OffsetDateTime::now_utc();
    Ok(Json(status::current(&api.state.pool, now).await?).into_response())
}
