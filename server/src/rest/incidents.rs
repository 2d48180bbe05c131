//! `/api/v1/incidents`: the history, one incident, declaring and working it.

use super::body::Json;
use super::body::Query;
use super::problem::ProblemDocument;
use super::{Api, Problem, Token, etag, if_match, incident_number, visible_incident};
use app::api::incidents::Declaration;
use app::model::*;
use app::server::db::{history, incident_pages, incident_people, incidents};
use app::server::policy::Permission;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The incident (visible to the caller), with its version as the `ETag`.
async fn detail(api: &Api, me: &Caller, number: IncidentNumber) -> Result<Response, Problem> {
    let (incident, _, _) = incident_pages::detail(&api.state.pool, number, me.id).await?;
    Ok(([etag(incident.version)], axum::Json(incident)).into_response())
}

/// `GET /incidents`: the history's filters (`status`, `severity`, `team_id`,
/// `service_id`, `from`, `to`, `q`, `from_alert`), newest first, 50 at a time; `next`
/// is the address of the following page.
#[utoipa::path(get, path = "/incidents", tag = "incidents", params(IncidentFilter), responses((status = 200, description = "One page, newest first", body = IncidentList), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn list(
    State(api): State<Api>,
    token: Token,
    Query(filter): Query<IncidentFilter>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/incidents").await?;
    let page = history::history(&api.state.pool, &filter.parse()?, me.id).await?;
    let next = page.next_cursor.map(|cursor| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let next = IncidentFilter { cursor, ..filter.clone() };
        for (key, value) in next.query_pairs() {
            query.append_pair(key, &value);
        }
        format!("/api/v1/incidents?{}", query.finish())
    });
    let mut response = axum::Json(IncidentList { items: page.items, next: next.clone() }).into_response();
    if let Some(next) = &next
        && let Ok(link) = format!("<{next}>; rel=\"next\"").parse()
    {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// `POST /incidents`: declares, as the page's declare form does.
#[utoipa::path(post, path = "/incidents", tag = "incidents", request_body = Declaration, responses((status = 201, description = "Declared", body = IncidentDetail, headers(("Location" = String), ("ETag" = String))), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn declare(State(api): State<Api>, token: Token, Json(d): Json<Declaration>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "POST /api/v1/incidents").await?;
    let severity: Severity = d.severity.parse().map_err(|m| app::error::AppError::invalid("severity", m))?;
    let fields = incidents::IncidentFields::parse(&d.title, &d.summary, d.team_id, d.service_ids)?;
    let point = d.point_user_id.unwrap_or(me.id);
    let number = incidents::declare(
        &api.state.pool,
        me,
        &incidents::NewIncident { fields: &fields, severity, point: Some(point), is_drill: false, privacy: d.privacy },
        &token.actor(),
    )
    .await?;
    let mut response = detail(&api, me, number).await?;
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(location) = format!("/api/v1/incidents/{number}").parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /incidents/{number}`.
#[utoipa::path(get, path = "/incidents/{number}", tag = "incidents", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), responses((status = 200, description = "The incident", body = IncidentDetail, headers(("ETag" = String, description = "Its version: send it back as If-Match"))), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn get(State(api): State<Api>, token: Token, Path(number): Path<String>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/incidents/{number}").await?;
    detail(&api, me, incident_number(&number)?).await
}

/// The fields `PATCH` may change; those left out stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    /// `null` clears the owning team.
    #[serde(default, deserialize_with = "double_option::deserialize")]
    #[schema(value_type = Option<i64>)]
    team_id: Option<Option<TeamId>>,
    #[serde(default)]
    service_ids: Option<Vec<app::model::ServiceId>>,
}

/// One page of the history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentList {
    pub items: Vec<IncidentSummary>,
    /// The next page's address, while there is one.
    pub next: Option<String>,
}

/// `null` (clear the team) told apart from a field left out.
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// `PATCH /incidents/{number}` with `If-Match`: 428 without it, 412 when the incident
/// changed since that version was read (as the page's edit form refuses a stale edit).
#[utoipa::path(patch, path = "/incidents/{number}", tag = "incidents", params(("number" = String, Path, description = "The incident: `INC-42` or `42`"), ("If-Match" = String, Header, description = "The ETag the incident was read with")), request_body = IncidentPatch, responses((status = 200, description = "Changed", body = IncidentDetail, headers(("ETag" = String))), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn update(
    State(api): State<Api>,
    token: Token,
    Path(number): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<IncidentPatch>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "PATCH /api/v1/incidents/{number}").await?;
    let number = incident_number(&number)?;
    let Some(version) = if_match(&headers)? else {
        return Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "version_required",
            "Send If-Match with the ETag you read the incident with, so that nobody's change is overwritten.",
        ));
    };
    let (current, _, _) = incident_pages::detail(&api.state.pool, number, me.id).await?;
    if current.version != version {
        return Err(stale(current.version));
    }
    let fields = incidents::IncidentFields::parse(
        patch.title.as_deref().unwrap_or(&current.title),
        patch.summary.as_deref().unwrap_or(&current.summary),
        patch.team_id.unwrap_or(current.team_id),
        patch.service_ids.unwrap_or_else(|| current.services.iter().map(|s| s.id).collect()),
    )?;
    match incidents::edit(&api.state.pool, me, number, version, &fields).await {
        // Someone saved between the read above and the edit's lock.
        Err(app::error::AppError::Conflict(_)) => return Err(stale(version + 1)),
        other => other?,
    }
    detail(&api, me, number).await
}

fn stale(current: i32) -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "stale_version",
        format!(
            "The incident changed since you read it (it is at version {current}): read it again, then apply your change."
        ),
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StatusChange {
    status: String,
    #[serde(default)]
    resolution: String,
}

/// `POST /incidents/{number}/status`.
#[utoipa::path(post, path = "/incidents/{number}/status", tag = "incidents", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), request_body = StatusChange, responses((status = 200, description = "Changed", body = IncidentDetail), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn change_status(
    State(api): State<Api>,
    token: Token,
    Path(number): Path<String>,
    Json(change): Json<StatusChange>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "POST /api/v1/incidents/{number}/status").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let status: Status = change.status.parse().map_err(|m| app::error::AppError::invalid("status", m))?;
    incidents::change_status(&api.state.pool, me, number, status, &change.resolution).await?;
    detail(&api, me, number).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SeverityChange {
    severity: String,
}

/// `POST /incidents/{number}/severity`.
#[utoipa::path(post, path = "/incidents/{number}/severity", tag = "incidents", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), request_body = SeverityChange, responses((status = 200, description = "Changed", body = IncidentDetail), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn change_severity(
    State(api): State<Api>,
    token: Token,
    Path(number): Path<String>,
    Json(change): Json<SeverityChange>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "POST /api/v1/incidents/{number}/severity").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let severity: Severity = change.severity.parse().map_err(|m| app::error::AppError::invalid("severity", m))?;
    incidents::change_severity(&api.state.pool, me, number, severity).await?;
    detail(&api, me, number).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RoleHolder {
    user_id: UserId,
}

/// `PUT /incidents/{number}/roles/{point|comms}`: gives the role to `user_id`.
#[utoipa::path(put, path = "/incidents/{number}/roles/{role}", tag = "incidents", params(("number" = String, Path, description = "The incident: `INC-42` or `42`"), ("role" = String, Path, description = "`point` or `comms`")), request_body = RoleHolder, responses((status = 200, description = "Assigned", body = IncidentDetail), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn assign_role(
    State(api): State<Api>,
    token: Token,
    Path((number, role)): Path<(String, String)>,
    Json(holder): Json<RoleHolder>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "PUT /api/v1/incidents/{number}/roles/{role}").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let role: IncidentRole = role.parse().map_err(|m| app::error::AppError::invalid("role", m))?;
    incident_people::assign_role(&api.state.pool, me, number, role, holder.user_id).await?;
    detail(&api, me, number).await
}

/// `POST /incidents/{number}/join`: the token's user joins the response.
#[utoipa::path(post, path = "/incidents/{number}/join", tag = "incidents", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), responses((status = 200, description = "Joined", body = IncidentDetail), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn join(State(api): State<Api>, token: Token, Path(number): Path<String>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "POST /api/v1/incidents/{number}/join").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    incident_people::join(&api.state.pool, me, number).await?;
    detail(&api, me, number).await
}
