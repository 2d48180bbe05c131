//! `/api/v1/incidents/{number}/timeline` and `/comms`: reading and writing the record.

use super::body::{Json, Query};
use super::problem::ProblemDocument;
use super::{Api, Problem, Token, visible_incident};
use app::model::{CommsUpdate, TimelineEntry};
use app::server::db::{comms, incidents, timeline};
use app::server::policy::Permission;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// How many entries one page of the timeline holds, at most and by default.
const MAX_PAGE: i64 = 500;
const DEFAULT_PAGE: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Cursor {
    /// Entries after this sequence number (0: from the first).
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// `GET /incidents/{number}/timeline?after=SEQ&limit=N`: oldest first; `next` continues.
#[utoipa::path(get, path = "/incidents/{number}/timeline", tag = "timeline", params(("number" = String, Path, description = "The incident: `INC-42` or `42`"), Cursor), responses((status = 200, description = "Entries, oldest first", body = TimelinePage), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn list(
    State(api): State<Api>,
    token: Token,
    Path(number): Path<String>,
    Query(cursor): Query<Cursor>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/incidents/{number}/timeline").await?;
    let (number, id) = visible_incident(&api, me, &number).await?;
    let limit = cursor.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let entries = timeline::after(&api.state.pool, id, cursor.after.max(0), limit).await?;
    let next = (entries.len() as i64 == limit && limit > 0)
        .then(|| entries.last().map(|e| format!("/api/v1/incidents/{number}/timeline?after={}&limit={limit}", e.seq)))
        .flatten();
    Ok(axum::Json(TimelinePage { items: entries, next }).into_response())
}

/// Timeline entries, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    /// The following entries' address, while the page was full.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Note {
    body: String,
}

/// `POST /incidents/{number}/timeline`: posts a note (Markdown).
#[utoipa::path(post, path = "/incidents/{number}/timeline", tag = "timeline", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), request_body = Note, responses((status = 201, description = "Posted", body = TimelineEntry, headers(("Location" = String))), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn post_note(
    State(api): State<Api>,
    token: Token,
    Path(number): Path<String>,
    Json(note): Json<Note>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "POST /api/v1/incidents/{number}/timeline").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let entry = incidents::post_note(&api.state.pool, number, me.id, &note.body).await?;
    let location = format!("/api/v1/incidents/{number}/timeline?after={}&limit=1", entry.seq - 1);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(entry)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct KeyEvent {
    key: bool,
}

/// `PUT /incidents/{number}/timeline/{entry_id}/key`: marks (or unmarks) a key event.
#[utoipa::path(put, path = "/incidents/{number}/timeline/{entry_id}/key", tag = "timeline", params(("number" = String, Path, description = "The incident: `INC-42` or `42`"), ("entry_id" = i64, Path)), request_body = KeyEvent, responses((status = 204, description = "Marked"), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn set_key_event(
    State(api): State<Api>,
    token: Token,
    Path((number, entry_id)): Path<(String, String)>,
    Json(key): Json<KeyEvent>,
) -> Result<Response, Problem> {
    let me = token
        .may(&api, Permission::RespondToIncidents, "PUT /api/v1/incidents/{number}/timeline/{entry_id}/key")
        .await?;
    let entry_id: i64 = entry_id.parse().map_err(|_| Problem::not_found())?;
    let (_, incident) = visible_incident(&api, me, &number).await?;
    // The entry must belong to this incident: the address names both.
    let belongs: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM timeline_entries WHERE id = $1 AND incident_id = $2) AS "exists!""#,
        entry_id,
        incident.0
    )
    .fetch_one(&api.state.pool)
    .await?;
    if !belongs {
        return Err(Problem::not_found());
    }
    timeline::set_key_event(&api.state.pool, entry_id, key.key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /incidents/{number}/comms`: the comms updates, newest first.
#[utoipa::path(get, path = "/incidents/{number}/comms", tag = "comms", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), responses((status = 200, description = "Newest first", body = Vec<CommsUpdate>), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn comms(State(api): State<Api>, token: Token, Path(number): Path<String>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/incidents/{number}/comms").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    Ok(axum::Json(comms::for_incident(&api.state.pool, number).await?).into_response())
}

/// A comms update, as the page's comms form sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommsPost {
    #[serde(default)]
    affected: String,
    #[serde(default)]
    known: String,
    #[serde(default)]
    doing: String,
    /// Minutes until the next update; absent: no promise.
    next_update_minutes: Option<u32>,
    #[serde(default = "yes")]
    internal: bool,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    public_text: String,
}

fn yes() -> bool {
    true
}

/// `POST /incidents/{number}/comms`: posts an update (who may is the page's rule).
#[utoipa::path(post, path = "/incidents/{number}/comms", tag = "comms", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), request_body = CommsPost, responses((status = 201, description = "Posted; every update, newest first", body = Vec<CommsUpdate>, headers(("Location" = String))), (status = "default", description = "A problem (RFC 9457): 400, 401, 403, 404, 412, 415, 422, 428, 429", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn post_comms(
    State(api): State<Api>,
    token: Token,
    Path(number): Path<String>,
    Json(update): Json<CommsPost>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::RespondToIncidents, "POST /api/v1/incidents/{number}/comms").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let minutes = update.next_update_minutes.map(|m| m.to_string()).unwrap_or_default();
    let input = comms::UpdateInput::parse(
        &update.affected,
        &update.known,
        &update.doing,
        &minutes,
        update.internal,
        update.public,
        &update.public_text,
    )?;
    comms::post(&api.state.pool, me, number, &input).await?;
    let location = format!("/api/v1/incidents/{number}/comms");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(comms::for_incident(&api.state.pool, number).await?),
    )
        .into_response())
}
