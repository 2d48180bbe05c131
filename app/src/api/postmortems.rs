//! Postmortems: responders write them; everyone signed in reads published ones.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::server::{
    self,
    db::{self, meetings, postmortem_imports, postmortem_versions, postmortems},
    policy::{Permission, authorize, role_allows},
};

/// The caller, who may read; and whether they may also write (and so see drafts).
#[cfg(feature = "ssr")]
async fn reader() -> Result<(server::AppState, Caller, bool), AppError> {
    let me = authorize(server::current_user().await?, Permission::ReadIncidents)?;
    let can_edit = role_allows(me.role, Permission::WritePostmortems);
    Ok((server::state()?, me, can_edit))
}

/// [`reader`], of incident `number`'s postmortem: 404 when the incident is not visible.
#[cfg(feature = "ssr")]
async fn reader_of(number: IncidentNumber) -> Result<(server::AppState, Caller, bool), AppError> {
    let (state, me, can_edit) = reader().await?;
    db::incident_people::visible_id(&state.pool, number, Some(me.id)).await?;
    Ok((state, me, can_edit))
}

#[server(endpoint = "start_postmortem")]
pub async fn start_postmortem(number: IncidentNumber) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::WritePostmortems, number).await?;
    postmortems::start(&state.pool, &me, number).await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, incident = number.0, "postmortem started");
    Ok(())
}

#[server(endpoint = "get_postmortem")]
pub async fn get_postmortem(number: IncidentNumber) -> Result<Postmortem, AppError> {
    let (state, me, can_edit) = reader_of(number).await?;
    postmortems::view(&state.pool, number, &me, can_edit).await
}

#[server(endpoint = "list_postmortems", input = Json)]
pub async fn list_postmortems(filter: PostmortemFilter) -> Result<PostmortemIndex, AppError> {
    let (state, me, can_edit) = reader().await?;
    Ok(PostmortemIndex {
        postmortems: postmortems::list(&state.pool, &filter.parse()?, can_edit, me.id).await?,
        meetings: meetings::upcoming_meetings(&state.pool, me.id).await?,
        can_edit,
        viewer_id: me.id,
    })
}

/// Saves the sections as a new version if `base_version` is still current; otherwise
/// fails with [`AppError::EditConflict`] carrying the current version.
#[server(endpoint = "save_postmortem", input = Json)]
pub async fn save_postmortem(number: IncidentNumber, base_version: i32, sections: Sections) -> Result<Saved, AppError> {
    let (state, me) = server::authorized_on(Permission::WritePostmortems, number).await?;
    postmortems::save(&state.pool, &me, number, base_version, sections, "").await
}

/// The versions the caller may read: all of them for those who may edit; for
/// everyone else the published one and its corrections (see `db::postmortems`).
#[server(endpoint = "list_postmortem_versions")]
pub async fn list_postmortem_versions(number: IncidentNumber) -> Result<Vec<VersionSummary>, AppError> {
    let (state, _, can_edit) = reader_of(number).await?;
    postmortem_versions::versions(&state.pool, number, can_edit).await
}

#[server(endpoint = "get_postmortem_version")]
pub async fn get_postmortem_version(number: IncidentNumber, version: i32) -> Result<VersionDetail, AppError> {
    let (state, _, can_edit) = reader_of(number).await?;
    postmortem_versions::version_detail(&state.pool, number, version, can_edit).await
}

#[server(endpoint = "restore_postmortem_version")]
pub async fn restore_postmortem_version(
    number: IncidentNumber,
    version: i32,
    base_version: i32,
) -> Result<Saved, AppError> {
    let (state, me) = server::authorized_on(Permission::WritePostmortems, number).await?;
    postmortem_versions::restore(&state.pool, &me, number, version, base_version).await
}

#[server(endpoint = "move_postmortem")]
pub async fn move_postmortem(number: IncidentNumber, status: String) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::WritePostmortems, number).await?;
    let to: PostmortemStatus = status.parse().map_err(|m| AppError::invalid("status", m))?;
    postmortems::move_status(&state.pool, &me, number, to).await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, incident = number.0, status = %to, "postmortem moved");
    Ok(())
}

/// Changes the owning team; an empty `team_id` clears it.
#[server(endpoint = "set_postmortem_team")]
pub async fn set_postmortem_team(number: IncidentNumber, team_id: String) -> Result<(), AppError> {
    let (state, _) = server::authorized_on(Permission::WritePostmortems, number).await?;
    let team = match team_id.trim() {
        "" => None,
        id => Some(id.parse().map_err(|_| AppError::invalid("team_id", "Choose a team."))?),
    };
    postmortems::set_team(&state.pool, number, team).await
}

#[server(endpoint = "set_no_action_items_reason")]
pub async fn set_no_action_items_reason(number: IncidentNumber, reason: String) -> Result<(), AppError> {
    let (state, _) = server::authorized_on(Permission::WritePostmortems, number).await?;
    postmortems::set_no_action_items_reason(&state.pool, number, &reason).await
}

/// Sets the meeting: `at` is an RFC 3339 time (the browser converts the reader's local
/// time); empty cancels the meeting.
#[server(endpoint = "schedule_postmortem_meeting")]
pub async fn schedule_postmortem_meeting(number: IncidentNumber, at: String, place: String) -> Result<(), AppError> {
    let (state, _) = server::authorized_on(Permission::WritePostmortems, number).await?;
    let at = match at.trim() {
        "" => None,
        t => Some(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| AppError::invalid("at", "Choose a date and time for the meeting."))
                .and_then(|at| check_time("at", at))?,
        ),
    };
    meetings::schedule(&state.pool, number, at, &place).await
}

#[server(endpoint = "attend_postmortem")]
pub async fn attend_postmortem(number: IncidentNumber, attending: bool) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::WritePostmortems, number).await?;
    meetings::attend(&state.pool, &me, number, attending).await
}

/// The incident's timeline imported afresh, for the editor's "refresh from incident".
#[server(endpoint = "get_postmortem_timeline_import")]
pub async fn get_postmortem_timeline_import(number: IncidentNumber) -> Result<String, AppError> {
    let (state, _) = server::authorized_on(Permission::WritePostmortems, number).await?;
    postmortem_imports::refreshed_timeline(&state.pool, number).await
}

/// Markdown rendered exactly as saved text will be (sanitised), for the editor preview.
#[server(endpoint = "preview_markdown")]
pub async fn preview_markdown(text: String) -> Result<String, AppError> {
    server::signed_in_user().await?;
    Ok(server::markdown::render(&text))
}

/// The caller's private calendar-feed address (path and query).
#[server(endpoint = "get_calendar_feed")]
pub async fn get_calendar_feed() -> Result<String, AppError> {
    let (state, me, _) = reader().await?;
    let key = meetings::calendar_key(&state.pool, me.id).await?;
    Ok(feed_address(&key))
}

/// Replaces the caller's calendar-feed address (the old one stops working, e.g. after
/// it was shared by mistake); returns the new one.
#[server(endpoint = "reset_calendar_address")]
pub async fn reset_calendar_address() -> Result<String, AppError> {
    let (state, me, _) = reader().await?;
    meetings::reset_calendar_key(&state.pool, me.id).await?;
    let key = meetings::calendar_key(&state.pool, me.id).await?;
    tracing::info!(target: "foghorn::audit", user_id = me.id.0, "calendar address reset");
    Ok(feed_address(&key))
}

#[cfg(feature = "ssr")]
fn feed_address(key: &str) -> String {
    format!("/api/calendar/postmortems.ics?key={key}")
}
