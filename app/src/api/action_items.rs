//! Action items: everyone signed in reads them; responders create and change them; a
//! team's lead may reassign that team's items among its members.

use crate::error::AppError;
use crate::model::ActionItemId;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::server::{
    self,
    db::action_items,
    db::tracker::{self, Judgement},
    policy::{Permission, authorize, role_allows},
};

#[server(endpoint = "create_action_item", input = Json)]
pub async fn create_action_item(item: NewActionItem) -> Result<i64, AppError> {
    let (state, me) = server::authorized_on(Permission::TrackActionItems, item.incident_number).await?;
    action_items::create(&state.pool, &me, action_items::NewItem::from_form(&item)?).await
}

#[server(endpoint = "list_action_items", input = Json)]
pub async fn list_action_items(filter: ItemFilter) -> Result<Tracker, AppError> {
    let me = authorize(server::current_user().await?, Permission::ReadIncidents)?;
    let state = server::state()?;
    let filter = filter.parse()?;
    let (items, counts, next_cursor) =
        tracker::list(&state.pool, &filter, &Judgement::now(&state, filter.tz_offset_minutes), me.id).await?;
    let leads = action_items::teams_led_by(&state.pool, me.id).await?;
    Ok(Tracker {
        items,
        counts,
        can_edit: role_allows(me.role, Permission::TrackActionItems),
        leads,
        viewer_id: me.id,
        next_cursor,
    })
}

#[server(endpoint = "get_action_item_history")]
pub async fn get_action_item_history(id: ActionItemId) -> Result<Vec<ItemChange>, AppError> {
    let me = authorize(server::current_user().await?, Permission::ReadIncidents)?;
    let pool = server::state()?.pool;
    tracker::ensure_visible(&pool, id, me.id).await?;
    tracker::history(&pool, id).await
}

#[server(endpoint = "list_team_summaries")]
pub async fn list_team_summaries(tz_offset_minutes: i32) -> Result<Vec<TeamSummary>, AppError> {
    let me = authorize(server::current_user().await?, Permission::ReadIncidents)?;
    let state = server::state()?;
    tracker::summary(&state.pool, &Judgement::now(&state, tz_offset_minutes), me.id).await
}

/// Gives the item to `owner_id` (empty: nobody). Responders may; so may the lead of the
/// item's team, within the team.
#[server(endpoint = "set_item_owner")]
pub async fn set_item_owner(id: ActionItemId, owner_id: String) -> Result<(), AppError> {
    let me = server::signed_in_user().await?;
    let state = server::state()?;
    tracker::ensure_visible(&state.pool, id, me.id).await?;
    let owner = parse_choice("owner_id", &owner_id)?;
    action_items::reassign(&state.pool, &me, id, owner.map(UserId)).await
}

#[server(endpoint = "set_item_due_date")]
pub async fn set_item_due_date(id: ActionItemId, due_date: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::TrackActionItems).await?;
    tracker::ensure_visible(&state.pool, id, me.id).await?;
    action_items::set_due_date(&state.pool, &me, id, action_items::parse_due_date(&due_date)?).await
}

#[server(endpoint = "set_item_status")]
pub async fn set_item_status(id: ActionItemId, status: String, reason: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::TrackActionItems).await?;
    tracker::ensure_visible(&state.pool, id, me.id).await?;
    let status: ItemStatus = status.parse().map_err(|m| AppError::invalid("status", m))?;
    action_items::set_status(&state.pool, &me, id, status, &reason).await
}

#[server(endpoint = "set_item_priority")]
pub async fn set_item_priority(id: ActionItemId, priority: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::TrackActionItems).await?;
    tracker::ensure_visible(&state.pool, id, me.id).await?;
    let priority: Priority = priority.parse().map_err(|m| AppError::invalid("priority", m))?;
    action_items::set_priority(&state.pool, &me, id, priority).await
}

#[server(endpoint = "set_item_team")]
pub async fn set_item_team(id: ActionItemId, team_id: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::TrackActionItems).await?;
    tracker::ensure_visible(&state.pool, id, me.id).await?;
    action_items::set_team(&state.pool, &me, id, parse_choice("team_id", &team_id)?).await
}

#[server(endpoint = "edit_action_item")]
pub async fn edit_action_item(id: ActionItemId, title: String, description: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::TrackActionItems).await?;
    tracker::ensure_visible(&state.pool, id, me.id).await?;
    let title = ItemTitle::parse(&title)?.into_inner();
    let description = ItemDescription::parse(&description)?.into_inner();
    action_items::edit(&state.pool, &me, id, &title, &description).await
}
