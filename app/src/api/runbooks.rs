//! Runbooks: everyone signed in reads them; responders write, review and drill them.

use crate::error::AppError;
use crate::model::RunbookId;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::server::{
    self,
    db::{runbook_incidents, runbooks},
    policy::{Permission, role_allows},
};

/// What the new-runbook and details forms send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RunbookForm {
    pub title: String,
    pub body: String,
    pub team_id: Option<TeamId>,
    pub service_ids: Vec<ServiceId>,
    pub review_interval_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookIndex {
    pub runbooks: Vec<RunbookSummary>,
    pub can_edit: bool,
}

#[server(endpoint = "create_runbook", input = Json)]
pub async fn create_runbook(runbook: RunbookForm) -> Result<i64, AppError> {
    let (state, me) = server::authorized(Permission::WriteRunbooks).await?;
    let text = runbooks::parse_text(&runbook.title, &runbook.body)?;
    let interval = runbooks::parse_interval(runbook.review_interval_days.unwrap_or(DEFAULT_REVIEW_DAYS))?;
    runbooks::create(&state.pool, &me, &text, runbook.team_id, &runbook.service_ids, interval).await
}

#[server(endpoint = "get_runbook")]
pub async fn get_runbook(id: RunbookId) -> Result<Runbook, AppError> {
    let (state, me) = server::authorized(Permission::ReadIncidents).await?;
    runbooks::get(&state.pool, id, role_allows(me.role, Permission::WriteRunbooks), time::OffsetDateTime::now_utc())
        .await
}

#[server(endpoint = "list_runbooks", input = Json)]
pub async fn list_runbooks(filter: RunbookFilter) -> Result<RunbookIndex, AppError> {
    let (state, me) = server::authorized(Permission::ReadIncidents).await?;
    Ok(RunbookIndex {
        runbooks: runbooks::list(&state.pool, &filter.parse()?, time::OffsetDateTime::now_utc()).await?,
        can_edit: role_allows(me.role, Permission::WriteRunbooks),
    })
}

/// Saves the text as a new version if `base_version` is current; otherwise fails with
/// [`AppError::EditConflict`] carrying the current text.
#[server(endpoint = "save_runbook", input = Json)]
pub async fn save_runbook(id: RunbookId, base_version: i32, title: String, body: String) -> Result<Saved, AppError> {
    let (state, me) = server::authorized(Permission::WriteRunbooks).await?;
    let text = runbooks::parse_text(&title, &body)?;
    runbooks::save(&state.pool, &me, id, base_version, &text, "").await
}

#[server(endpoint = "set_runbook_details", input = Json)]
pub async fn set_runbook_details(id: RunbookId, details: RunbookForm) -> Result<(), AppError> {
    let (state, _) = server::authorized(Permission::WriteRunbooks).await?;
    let interval = runbooks::parse_interval(details.review_interval_days.unwrap_or(DEFAULT_REVIEW_DAYS))?;
    runbooks::set_details(&state.pool, id, details.team_id, &details.service_ids, interval).await
}

#[server(endpoint = "list_runbook_versions")]
pub async fn list_runbook_versions(id: RunbookId) -> Result<Vec<RunbookVersion>, AppError> {
    let (state, _) = server::authorized(Permission::ReadIncidents).await?;
    runbooks::versions(&state.pool, id).await
}

#[server(endpoint = "restore_runbook_version")]
pub async fn restore_runbook_version(id: RunbookId, version: i32, base_version: i32) -> Result<Saved, AppError> {
    let (state, me) = server::authorized(Permission::WriteRunbooks).await?;
    runbooks::restore(&state.pool, &me, id, version, base_version).await
}

#[server(endpoint = "mark_runbook_reviewed")]
pub async fn mark_runbook_reviewed(id: RunbookId) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::WriteRunbooks).await?;
    runbooks::mark_reviewed(&state.pool, &me, id).await
}

#[server(endpoint = "list_incident_runbooks")]
pub async fn list_incident_runbooks(number: IncidentNumber) -> Result<Vec<IncidentRunbook>, AppError> {
    let (state, _) = server::authorized_on(Permission::ReadIncidents, number).await?;
    runbook_incidents::for_incident(&state.pool, number).await
}

#[server(endpoint = "attach_runbook")]
pub async fn attach_runbook(number: IncidentNumber, runbook_id: RunbookId) -> Result<(), AppError> {
    let (state, me) = server::authorized_on(Permission::RespondToIncidents, number).await?;
    runbook_incidents::attach(&state.pool, &me, number, runbook_id).await
}

/// Starts a drill of the runbook; returns the drill incident's number.
#[server(endpoint = "start_drill")]
pub async fn start_drill(runbook_id: RunbookId, severity: String) -> Result<IncidentNumber, AppError> {
    let (state, me) = server::authorized(Permission::RespondToIncidents).await?;
    let severity: Severity = severity.parse().map_err(|m| AppError::invalid("severity", m))?;
    let number = runbook_incidents::start_drill(&state.pool, &me, runbook_id, severity).await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, runbook = runbook_id.0, incident = number.0, "drill started");
    Ok(number)
}
