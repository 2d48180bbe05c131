//! The incident history: every incident, newest first, filtered and searched, one page
//! at a time. Its SQL is built with `QueryBuilder` because the filters are optional.

use super::incident_pages::{SUMMARY_SELECT, SummaryRow};
use crate::error::AppError;
use crate::model::*;
use crate::server::policy;
use sqlx::{PgPool, QueryBuilder};
use time::OffsetDateTime;

pub const PAGE_SIZE: i64 = 50;

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
pub async fn history(pool: &PgPool, filter: &IncidentCriteria, viewer: UserId) -> Result<IncidentPage, AppError> {
    let cursor = parse_cursor(&filter.cursor)?;
    let q = filter.q.as_str();

    let mut query = QueryBuilder::new(SUMMARY_SELECT);
    query.push(" WHERE ");
    policy::push_incident_visible(&mut query, "i", Some(viewer));
    match filter.status {
        Some(StatusChoice::Active) => {
            query.push(" AND i.status <> 'resolved'");
        }
        Some(StatusChoice::Is(s)) => {
            query.push(" AND i.status = ").push_bind(s.as_str());
        }
        None => {}
    }
    if let Some(severity) = filter.severity {
        query.push(" AND i.severity = ").push_bind(severity.level());
    }
    if let Some(team) = filter.team_id {
        query.push(" AND i.team_id = ").push_bind(team);
    }
    if let Some(service) = filter.service_id {
        query
            .push(" AND EXISTS (SELECT 1 FROM incident_services s WHERE s.incident_id = i.id AND s.service_id = ")
            .push_bind(service)
            .push(")");
    }
    if let Some(from) = filter.from {
        query.push(" AND i.declared_at >= ").push_bind(from.midnight().assume_utc());
    }
    if let Some(to) = filter.to {
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
