//! `/api/v1/services`, `/api/v1/teams` and the public status.

use super::{Api, Problem, Token};
use app::server::db::{services, status, teams};
use app::server::policy::Permission;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

/// `GET /services`.
pub async fn services(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ReadDirectory, "GET /api/v1/services").await?;
    Ok(Json(services::list(&api.state.pool).await?).into_response())
}

/// `GET /teams`.
pub async fn teams(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ReadDirectory, "GET /api/v1/teams").await?;
    Ok(Json(teams::list(&api.state.pool).await?).into_response())
}

/// `GET /status`: what the public status page shows, for anyone (no token).
pub async fn public_status(State(api): State<Api>) -> Result<Response, Problem> {
    let now = time::OffsetDateTime::now_utc();
    Ok(Json(status::current(&api.state.pool, now).await?).into_response())
}
