//! `/api/v1/services`, `/api/v1/teams` (admins write them) and the public status.

use super::body::Json;
use super::problem::ProblemDocument;
use super::{Api, Problem, Token};
use app::model::{PublicStatus, Service, Team};
use app::model::{ServiceId, TeamId, UserId};
use app::server::db::{services, teams};
use app::server::policy::Permission;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `GET /services`.
#[utoipa::path(get, path = "/services", tag = "directory", responses((status = 200, description = "Every service", body = Vec<Service>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn services(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ReadDirectory, "GET /api/v1/services").await?;
    Ok(axum::Json(services::list(&api.state.pool).await?).into_response())
}

/// `GET /teams`.
#[utoipa::path(get, path = "/teams", tag = "directory", responses((status = 200, description = "Every team", body = Vec<Team>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn teams(State(api): State<Api>, token: Token) -> Result<Response, Problem> {
    token.may(&api, Permission::ReadDirectory, "GET /api/v1/teams").await?;
    Ok(axum::Json(teams::list(&api.state.pool).await?).into_response())
}

/// `GET /status`: what the public status page shows, for anyone (no token), from the
/// status page's in-memory copy: a flood of these costs the database nothing.
#[utoipa::path(get, path = "/status", tag = "directory", responses((status = 200, description = "What the public status page shows", body = PublicStatus), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn public_status(State(api): State<Api>) -> Result<Response, Problem> {
    let status = api.public.public_status().await.ok_or(app::error::AppError::Unavailable)?;
    Ok(axum::Json(status).into_response())
}

/// A service as admins describe it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct ServiceBody {
    name: String,
    #[serde(default)]
    description: String,
    /// The owning team.
    #[serde(default)]
    team_id: Option<TeamId>,
}

async fn service(api: &Api, id: ServiceId) -> Result<Service, Problem> {
    services::list(&api.state.pool)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| app::error::AppError::NotFound("That service".into()).into())
}

/// Creates a service (admins).
#[utoipa::path(post, path = "/services", tag = "directory", request_body = ServiceBody, responses((status = 201, description = "Created", body = Service, headers(("Location" = String))), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn create_service(
    State(api): State<Api>,
    token: Token,
    Json(body): Json<ServiceBody>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageServices, "POST /api/v1/services").await?;
    let team = body.team_id.map(|t| t.to_string()).unwrap_or_default();
    let input = services::ServiceInput::parse(&body.name, &body.description, &team)?;
    let id = services::create(&api.state.pool, &token.actor(), &input).await?;
    let location = format!("/api/v1/services/{id}");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(service(&api, ServiceId(id)).await?))
        .into_response())
}

/// Replaces a service's name, description and team (admins).
#[utoipa::path(put, path = "/services/{id}", tag = "directory", params(("id" = i64, Path)), request_body = ServiceBody, responses((status = 200, description = "Changed", body = Service), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn update_service(
    State(api): State<Api>,
    token: Token,
    Path(id): Path<String>,
    Json(body): Json<ServiceBody>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageServices, "PUT /api/v1/services/{id}").await?;
    let id: i64 = id.trim().parse().map_err(|_| Problem::not_found())?;
    let team = body.team_id.map(|t| t.to_string()).unwrap_or_default();
    let input = services::ServiceInput::parse(&body.name, &body.description, &team)?;
    services::update(&api.state.pool, &token.actor(), ServiceId(id), &input).await?;
    Ok(axum::Json(service(&api, ServiceId(id)).await?).into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct TeamBody {
    name: String,
}

/// Creates a team (admins); its members are managed on the admin page.
#[utoipa::path(post, path = "/teams", tag = "directory", request_body = TeamBody, responses((status = 201, description = "Created", body = Team), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn create_team(
    State(api): State<Api>,
    token: Token,
    Json(body): Json<TeamBody>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageTeams, "POST /api/v1/teams").await?;
    let id = teams::create(&api.state.pool, &token.actor(), &body.name).await?;
    let team = teams::list(&api.state.pool).await?.into_iter().find(|t| t.id == TeamId(id));
    Ok((StatusCode::CREATED, axum::Json(team)).into_response())
}

async fn team(api: &Api, id: TeamId) -> Result<Team, Problem> {
    teams::list(&api.state.pool)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| app::error::AppError::NotFound("That team".into()).into())
}

fn ids(team_id: &str, user_id: &str) -> Result<(TeamId, UserId), Problem> {
    let id = |t: &str| t.trim().parse::<i64>().map_err(|_| Problem::not_found());
    Ok((TeamId(id(team_id)?), UserId(id(user_id)?)))
}

/// Adds a member to a team (admins); adding someone already in it changes nothing.
#[utoipa::path(put, path = "/teams/{id}/members/{user_id}", tag = "directory", params(("id" = i64, Path), ("user_id" = i64, Path)), responses((status = 200, description = "The team", body = Team), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn add_member(
    State(api): State<Api>,
    token: Token,
    Path((team_id, user_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageTeams, "PUT /api/v1/teams/{id}/members/{user_id}").await?;
    let (team_id, user_id) = ids(&team_id, &user_id)?;
    teams::add_member(&api.state.pool, &token.actor(), team_id, user_id).await?;
    Ok(axum::Json(team(&api, team_id).await?).into_response())
}

/// Takes a member out of a team (admins).
#[utoipa::path(delete, path = "/teams/{id}/members/{user_id}", tag = "directory", params(("id" = i64, Path), ("user_id" = i64, Path)), responses((status = 200, description = "The team", body = Team), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn remove_member(
    State(api): State<Api>,
    token: Token,
    Path((team_id, user_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageTeams, "DELETE /api/v1/teams/{id}/members/{user_id}").await?;
    let (team_id, user_id) = ids(&team_id, &user_id)?;
    teams::remove_member(&api.state.pool, &token.actor(), team_id, user_id).await?;
    Ok(axum::Json(team(&api, team_id).await?).into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct LeadBody {
    /// The new lead (made a member if need be); `null`: no lead.
    user_id: Option<UserId>,
}

/// Sets a team's lead (admins).
#[utoipa::path(put, path = "/teams/{id}/lead", tag = "directory", params(("id" = i64, Path)), request_body = LeadBody, responses((status = 200, description = "The team", body = Team), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn set_lead(
    State(api): State<Api>,
    token: Token,
    Path(team_id): Path<String>,
    Json(body): Json<LeadBody>,
) -> Result<Response, Problem> {
    token.may(&api, Permission::ManageTeams, "PUT /api/v1/teams/{id}/lead").await?;
    let team_id: TeamId = team_id.trim().parse().map_err(|_| Problem::not_found())?;
    teams::set_lead(&api.state.pool, &token.actor(), team_id, body.user_id).await?;
    Ok(axum::Json(team(&api, team_id).await?).into_response())
}
