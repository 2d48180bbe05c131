//! `/api/v1/action-items`: the remediation work, through the same data layer (and so
//! the same rules) as the tracker.

use super::body::{Json, Query};
use super::problem::ProblemDocument;
use super::{Api, Problem, Token};
use app::model::*;
use app::server::db::action_items::{self, NewItem};
use app::server::db::incident_people;
use app::server::db::tracker::{self, Judgement};
use app::server::policy::Permission;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// One page of the tracker.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemList {
    pub items: Vec<ActionItem>,
    /// How many items match, by status and flag.
    pub counts: ItemCounts,
    pub next: Option<String>,
}

fn item_id(text: &str) -> Result<i64, Problem> {
    text.trim().parse().ok().filter(|id| *id > 0).ok_or_else(Problem::not_found)
}

async fn item(api: &Api, me: &Caller, id: ActionItemId) -> Result<ActionItem, Problem> {
    Ok(tracker::get(&api.state.pool, id, &Judgement::now(&api.state, 0), me.id).await?)
}

/// The tracker's filters; `overdue` is judged in UTC.
#[utoipa::path(get, path = "/action-items", tag = "action items", params(ItemFilter), responses((status = 200, description = "One page", body = ItemList), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn list(State(api): State<Api>, token: Token, Query(filter): Query<ItemFilter>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/action-items").await?;
    let j = Judgement::now(&api.state, filter.tz_offset_minutes);
    let (items, counts, next_cursor) = tracker::list(&api.state.pool, &filter.parse()?, &j, me.id).await?;
    let next = next_cursor.map(|cursor| {
        let mut next = filter.clone();
        next.cursor = cursor;
        format!("/api/v1/action-items?{}", query_of(&next))
    });
    Ok(axum::Json(ItemList { items, counts, next }).into_response())
}

/// The filter as a query string (what `list` reads back).
fn query_of(f: &ItemFilter) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (key, value) in f.query_pairs() {
        q.append_pair(key, &value);
    }
    q.finish()
}

#[utoipa::path(get, path = "/action-items/{id}", tag = "action items", params(("id" = i64, Path)), responses((status = 200, description = "The item", body = ActionItem), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn get(State(api): State<Api>, token: Token, Path(id): Path<String>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/action-items/{id}").await?;
    Ok(axum::Json(item(&api, me, ActionItemId(item_id(&id)?)).await?).into_response())
}

/// Creates an item on an incident, as the incident page's form does.
#[utoipa::path(post, path = "/action-items", tag = "action items", request_body = NewActionItem, responses((status = 201, description = "Created", body = ActionItem, headers(("Location" = String))), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn create(
    State(api): State<Api>,
    token: Token,
    Json(form): Json<NewActionItem>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::TrackActionItems, "POST /api/v1/action-items").await?;
    incident_people::visible_id(&api.state.pool, form.incident_number, Some(me.id)).await?;
    let id = action_items::create(&api.state.pool, me, NewItem::from_form(&form)?).await?;
    let location = format!("/api/v1/action-items/{id}");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(item(&api, me, ActionItemId(id)).await?))
        .into_response())
}

/// The fields `PATCH` may change; those left out stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// `null`: nobody.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<i64>)]
    owner_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<i64>)]
    team_id: Option<Option<i64>>,
    #[serde(default)]
    priority: Option<Priority>,
    /// `YYYY-MM-DD`; `null` clears it.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    due_date: Option<Option<String>>,
}

/// A field sent as `null` told apart from a field left out.
fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes an item's fields, each as the tracker's controls do (and with the same
/// rules: a team's lead may reassign within the team).
#[utoipa::path(patch, path = "/action-items/{id}", tag = "action items", params(("id" = i64, Path)), request_body = ItemPatch, responses((status = 200, description = "Changed", body = ActionItem), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn update(
    State(api): State<Api>,
    token: Token,
    Path(id): Path<String>,
    Json(patch): Json<ItemPatch>,
) -> Result<Response, Problem> {
    let only_owner = patch.title.is_none()
        && patch.description.is_none()
        && patch.team_id.is_none()
        && patch.priority.is_none()
        && patch.due_date.is_none();
    // Reassigning is open to team leads too: the data layer decides who may.
    let permission = if only_owner { Permission::ReadIncidents } else { Permission::TrackActionItems };
    let me = token.may(&api, permission, "PATCH /api/v1/action-items/{id}").await?;
    if only_owner && token.read_only() {
        return Err(Problem::new(StatusCode::FORBIDDEN, "forbidden", "This token is read-only."));
    }
    let id = item_id(&id)?;
    let pool = &api.state.pool;
    let current = item(&api, me, ActionItemId(id)).await?;
    if patch.title.is_some() || patch.description.is_some() {
        let title = app::model::ItemTitle::parse(patch.title.as_deref().unwrap_or(&current.title))?.into_inner();
        let description =
            app::model::ItemDescription::parse(patch.description.as_deref().unwrap_or(&current.description))?
                .into_inner();
        action_items::edit(pool, me, ActionItemId(id), &title, &description).await?;
    }
    if let Some(owner) = patch.owner_id {
        action_items::reassign(pool, me, ActionItemId(id), owner.map(UserId)).await?;
    }
    if let Some(team) = patch.team_id {
        action_items::set_team(pool, me, ActionItemId(id), team.map(TeamId)).await?;
    }
    if let Some(priority) = patch.priority {
        action_items::set_priority(pool, me, ActionItemId(id), priority).await?;
    }
    if let Some(due) = patch.due_date {
        action_items::set_due_date(
            pool,
            me,
            ActionItemId(id),
            action_items::parse_due_date(due.as_deref().unwrap_or(""))?,
        )
        .await?;
    }
    Ok(axum::Json(item(&api, me, ActionItemId(id)).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ItemStatusChange {
    status: ItemStatus,
    /// Why it will not be done (needed for `wont_do`).
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/action-items/{id}/status", tag = "action items", params(("id" = i64, Path)), request_body = ItemStatusChange, responses((status = 200, description = "Changed", body = ActionItem), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn change_status(
    State(api): State<Api>,
    token: Token,
    Path(id): Path<String>,
    Json(change): Json<ItemStatusChange>,
) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::TrackActionItems, "POST /api/v1/action-items/{id}/status").await?;
    let id = item_id(&id)?;
    tracker::ensure_visible(&api.state.pool, ActionItemId(id), me.id).await?;
    action_items::set_status(&api.state.pool, me, ActionItemId(id), change.status, &change.reason).await?;
    Ok(axum::Json(item(&api, me, ActionItemId(id)).await?).into_response())
}
