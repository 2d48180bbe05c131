//! `/api/v1/postmortems`: an incident's write-up, as its page shows it or as Markdown.

use super::problem::ProblemDocument;
use super::{Api, Problem, Token, visible_incident};
use app::model::Postmortem;
use app::server::db::postmortems;
use app::server::policy::{Permission, role_allows};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The postmortem of an incident, as its page shows it.
#[utoipa::path(get, path = "/postmortems/{number}", tag = "postmortems", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), responses((status = 200, description = "The postmortem", body = Postmortem), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn get(State(api): State<Api>, token: Token, Path(number): Path<String>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/postmortems/{number}").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let can_edit = role_allows(me.role, Permission::WritePostmortems);
    Ok(axum::Json(postmortems::view(&api.state.pool, number, me, can_edit).await?).into_response())
}

/// The postmortem as one Markdown document (a private one's export is in the audit log).
#[utoipa::path(get, path = "/postmortems/{number}/markdown", tag = "postmortems", params(("number" = String, Path, description = "The incident: `INC-42` or `42`")), responses((status = 200, description = "Markdown", body = String, content_type = "text/markdown"), (status = "default", description = "A problem (RFC 9457)", body = ProblemDocument, content_type = "application/problem+json")), security(("token" = [])))]
pub async fn markdown(State(api): State<Api>, token: Token, Path(number): Path<String>) -> Result<Response, Problem> {
    let me = token.may(&api, Permission::ReadIncidents, "GET /api/v1/postmortems/{number}/markdown").await?;
    let (number, _) = visible_incident(&api, me, &number).await?;
    let can_edit = role_allows(me.role, Permission::WritePostmortems);
    let pm = postmortems::view(&api.state.pool, number, me, can_edit).await?;
    if pm.private {
        crate::downloads::record_private_export(&api.state, &token.actor(), number).await?;
    }
    let text = app::server::exports::to_markdown(&pm);
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response())
}
