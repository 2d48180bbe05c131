//! Declaring and working incidents. Reading is open to every signed-in person;
//! every change needs the responder role (admins included), checked by the policy.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::server::{
    self,
    db::{audit, history, incident_pages, incident_people, incidents, timeline},
    policy::Permission,
};
#[cfg(feature = "ssr")]
use serde_json::json;

#[cfg(feature = "ssr")]
fn parse_severity(s: &str) -> Result<Severity, AppError> {
    s.parse().map_err(|m| AppError::invalid("severity", m))
}

/// What the declare form sends. Only the title and severity are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Declaration {
    pub title: String,
    pub severity: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub service_ids: Vec<ServiceId>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    /// Who takes point; `None` means the declarer does.
    #[serde(default)]
    pub point_user_id: Option<UserId>,
    /// Private: only its participants, admins (and, if chosen, its team) can see it.
    #[serde(default)]
    pub privacy: Privacy,
}

/// Declares an incident; returns its number (`INC-<number>`).
#[server(endpoint = "declare_incident", input = Json)]
pub async fn declare_incident(declaration: Declaration) -> Result<IncidentNumber, AppError> {
    let (state, me) = server::authorized(Permission::RespondToIncidents).await?;
    let severity = parse_severity(&declaration.severity)?;
    let fields = incidents::IncidentFields::parse(
        &declaration.title,
        &declaration.summary,
        declaration.team_id,
        declaration.service_ids,
    )?;
    let point = declaration.point_user_id.unwrap_or(me.id);
    let actor = server::actor(&me);
    let number = incidents::declare(
        &state.pool,
        &me,
        &incidents::NewIncident {
            fields: &fields,
            severity,
            point: Some(point),
            is_drill: false,
            privacy: declaration.privacy,
        },
        &actor,
    )
    .await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, incident = number.0, %severity, "incident declared");
    Ok(number)
}

/// The incident page's data: its latest [`TIMELINE_PAGE`] timeline entries, or every
/// entry from sequence number `from` on ("Show earlier").
#[server(endpoint = "get_incident")]
pub async fn get_incident(number: IncidentNumber, from: Option<i64>) -> Result<IncidentView, AppError> {
    let (state, me) = server::authorized(Permission::ReadIncidents).await?;
    let (incident, (timeline, timeline_total), roles) = incident_pages::view(&state.pool, number, from, me.id).await?;
    let can_respond = server::policy::role_allows(me.role, Permission::RespondToIncidents);
    let holds_point = incident.point.as_ref().is_some_and(|p| p.id == me.id);
    let can_manage_access = can_respond && server::policy::may_manage_access(&me, holds_point);
    Ok(IncidentView { incident, timeline, timeline_total, roles, can_respond, can_manage_access, viewer_id: me.id })
}

#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    let (state, me) = server::authorized(Permission::ReadIncidents).await?;
    incident_pages::dashboard(&state.pool, me.id).await
}

#[server(endpoint = "list_incidents", input = Json)]
pub async fn list_incidents(filter: IncidentFilter) -> Result<IncidentPage, AppError> {
    let (state, me) = server::authorized(Permission::ReadIncidents).await?;
    history::history(&state.pool, &filter.parse()?, me.id).await
}

/// People who can hold a role (responders and admins).
#[server(endpoint = "list_responders")]
pub async fn list_responders() -> Result<Vec<Person>, AppError> {
    let (state, _) = server::authorized(Permission::ReadIncidents).await?;
    incident_people::people(&state.pool, false).await
}

/// Everyone active, viewers included: who may be added to a (private) incident.
#[server(endpoint = "list_people")]
pub async fn list_people() -> Result<Vec<Person>, AppError> {
    let (state, _) = server::authorized(Permission::ReadDirectory).await?;
    incident_people::people(&state.pool, true).await
}

#[server(endpoint = "change_status")]
pub async fn change_status(number: IncidentNumber, status: String, resolution: String) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    let status: Status = status.parse().map_err(|m| AppError::invalid("status", m))?;
    incidents::change_status(&state.pool, &me, number, status, &resolution).await
}

#[server(endpoint = "change_severity")]
pub async fn change_severity(number: IncidentNumber, severity: String) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    incidents::change_severity(&state.pool, &me, number, parse_severity(&severity)?).await
}

/// What the edit form sends; `version` is the incident version the editor started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IncidentEdit {
    pub number: IncidentNumber,
    pub version: i32,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default)]
    pub service_ids: Vec<ServiceId>,
}

#[server(endpoint = "edit_incident", input = Json)]
pub async fn edit_incident(edit: IncidentEdit) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, edit.number).await?;
    let fields = incidents::IncidentFields::parse(&edit.title, &edit.summary, edit.team_id, edit.service_ids)?;
    incidents::edit(&state.pool, &me, edit.number, edit.version, &fields).await
}

/// Gives point or comms to `user_id` (the caller's own id: "take point").
#[server(endpoint = "assign_role")]
pub async fn assign_role(number: IncidentNumber, role: String, user_id: UserId) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    let role: IncidentRole = role.parse().map_err(|m| AppError::invalid("role", m))?;
    incident_people::assign_role(&state.pool, &me, number, role, user_id).await
}

#[server(endpoint = "join_incident")]
pub async fn join_incident(number: IncidentNumber) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    incident_people::join(&state.pool, &me, number).await
}

/// Corrects a key timestamp. `value` is `YYYY-MM-DDTHH:MM` (or with seconds) in UTC;
/// empty clears it.
#[server(endpoint = "correct_timestamp")]
pub async fn correct_timestamp(number: IncidentNumber, milestone: String, value: String) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    let milestone: Milestone = milestone.parse().map_err(|m| AppError::invalid("milestone", m))?;
    let value = parse_utc_minute(&value)?;
    incidents::correct_timestamp(&state.pool, &me, number, milestone, value).await
}

#[cfg(feature = "ssr")]
fn parse_utc_minute(value: &str) -> Result<Option<time::OffsetDateTime>, AppError> {
    let value = value.trim().trim_end_matches('Z');
    if value.is_empty() {
        return Ok(None);
    }
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(value, minutes)
        .or_else(|_| time::PrimitiveDateTime::parse(value, seconds))
        .map_err(|_| AppError::invalid("value", "Use a UTC time like 2026-11-25T14:05."))
        .and_then(|t| check_time("value", t.assume_utc()))
        .map(Some)
}

#[server(endpoint = "post_note")]
pub async fn post_note(number: IncidentNumber, body: String) -> Result<TimelineEntry, AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    incidents::post_note(&state.pool, number, me.id, &body).await
}

#[server(endpoint = "edit_note")]
pub async fn edit_note(entry_id: i64, body: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::RespondToIncidents).await?;
    timeline::ensure_entry_visible(&state.pool, entry_id, me.id).await?;
    timeline::edit_note(&state.pool, entry_id, me.id, &body).await
}

#[server(endpoint = "set_key_event")]
pub async fn set_key_event(entry_id: i64, key: bool) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::RespondToIncidents).await?;
    timeline::ensure_entry_visible(&state.pool, entry_id, me.id).await?;
    timeline::set_key_event(&state.pool, entry_id, key).await
}

/// Adds someone to the response as a participant (point or an admin): on a private
/// incident, that is what lets them see it.
#[server(endpoint = "add_participant")]
pub async fn add_participant(number: IncidentNumber, user_id: UserId) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    let mut tx = state.pool.begin().await?;
    let (name, private) = incident_people::add_participant(&mut tx, &me, number, user_id).await?;
    if private {
        let details = json!({ "incident": number, "user_id": user_id });
        let target = format!("{} (private)", incident_ref(number));
        let actor = server::actor(&me);
        audit::record(&mut *tx, &actor, AuditKind::PrivateParticipantAdded, &format!("{target}: {name}"), details)
            .await?;
    }
    Ok(tx.commit().await?)
}

/// Makes an incident private (optionally visible to its owning team) or public again
/// (point or an admin). Both are on the timeline and in the audit log.
#[server(endpoint = "set_incident_privacy")]
pub async fn set_incident_privacy(number: IncidentNumber, private: bool, team_can_see: bool) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    let mut tx = state.pool.begin().await?;
    let privacy = Privacy { private, team_can_see: private && team_can_see };
    if let Some(before) = incident_people::set_privacy(&mut tx, &me, number, privacy).await? {
        let kind = if private { AuditKind::IncidentMadePrivate } else { AuditKind::IncidentMadePublic };
        let details = json!({ "incident": number, "from": before, "to": privacy });
        audit::record(&mut *tx, &server::actor(&me), kind, &incident_ref(number), details).await?;
    }
    Ok(tx.commit().await?)
}
