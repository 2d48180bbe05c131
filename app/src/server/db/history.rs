//! The incident history: every incident, newest first, filtered and searched, one page
//! at a time. Its SQL is built with `QueryBuilder` because the filters are optional.

use super::incident_pages::{SUMMARY_SELECT, SummaryRow};
use crate::error::AppError;
use crate::model::*;
use crate::server::policy;
use sqlx::{PgPool, QueryBuilder};
use time::OffsetDateTime;

pub const PAGE_SIZE: i64 = 50;

pub(crate) fn parse_date(field: &str, value: &str) -> Result<Option<time::Date>, AppError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value.trim(), format)
        .map_err(|_| AppError::invalid(field, "Use a date like 2026-11-25."))
        .and_then(|d| check_date(field, d))
        .map(Some)
}

fn parse_id(field: &str, value: &str) -> Result<Option<i64>, AppError> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| AppError::invalid(field, "Choose from the list.")),
    }
}

/// The keyset cursor: the (declared_at, id) of the last row shown, as `unix_nanos:id`.
fn parse_cursor(cursor: &str) -> Result<Option<(OffsetDateTime, i64)>, AppError> {
    if cursor.is_empty() {
        return Ok(None);
    }
    let invalid = || AppError::invalid("cursor", "That page link is no longer valid; start from the first page.");
    let (nanos, id) = cursor.split_once(':').ok_or_else(invalid)?;
    let nanos: i128 = nanos.parse().map_err(|_| invalid())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| invalid())?;
    Ok(Some((at, id.parse().map_err(|_| invalid())?)))
}

/// Every incident, newest first, filtered, one page at a time (keyset pagination, so
/// page 1000 costs what page 1 costs).
pub async fn history(pool: &PgPool, filter: &IncidentFilter, viewer: UserId) -> Result<IncidentPage, AppError> {
    let status = match filter.status.trim() {
        "" => None,
        "active" => Some("active".to_owned()),
        s => Some(s.parse::<Status>().map_err(|m| AppError::invalid("status", m))?.as_str().to_owned()),
    };
    let severity = match filter.severity.trim() {
        "" => None,
        s => Some(s.parse::<Severity>().map_err(|m| AppError::invalid("severity", m))?.level()),
    };
    let team_id = parse_id("team_id", &filter.team_id)?;
    let service_id = parse_id("service_id", &filter.service_id)?;
    let from = parse_date("from", &filter.from)?;
    let to = parse_date("to", &filter.to)?;
    let cursor = parse_cursor(&filter.cursor)?;
    let q = filter.q.trim();

    let mut query = QueryBuilder::new(SUMMARY_SELECT);
    query.push(" WHERE ");
    policy::push_incident_visible(&mut query, "i", Some(viewer));
    match status.as_deref() {
        Some("active") => {
            query.push(" AND i.status <> 'resolved'");
        }
        Some(s) => {
            query.push(" AND i.status = ").push_bind(s.to_owned());
        }
        None => {}
    }
    if let Some(level) = severity {
        query.push(" AND i.severity = ").push_bind(level);
    }
    if let Some(team) = team_id {
        query.push(" AND i.team_id = ").push_bind(team);
    }
    if let Some(service) = service_id {
        query
            .push(" AND EXISTS (SELECT 1 FROM incident_services s WHERE s.incident_id = i.id AND s.service_id = ")
            .push_bind(service)
            .push(")");
    }
    if let Some(from) = from {
        query.push(" AND i.declared_at >= ").push_bind(from.midnight().assume_utc());
    }
    if let Some(to) = to {
        query.push(" AND i.declared_at < ").push_bind(to.next_day().unwrap_or(to).midnight().assume_utc());
    }
    if filter.from_alert {
        query.push(" AND i.alert IS NOT NULL");
    }
    if !q.is_empty() {
        query.push(" AND i.search @@ websearch_to_tsquery('english', ").push_bind(q.to_owned()).push(")");
    }
    if let Some((at, id)) = cursor {
        query.push(" AND (i.declared_at, i.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
    }
    query.push(" ORDER BY i.declared_at DESC, i.id DESC LIMIT ").push_bind(PAGE_SIZE + 1);

    let mut rows: Vec<SummaryRow> = query.build_query_as().fetch_all(pool).await?;
    let next_cursor = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| format!("{}:{}", r.declared_at.unix_timestamp_nanos(), r.id))
    } else {
        None
    };
    Ok(IncidentPage { items: rows.into_iter().map(Into::into).collect(), next_cursor })
}
