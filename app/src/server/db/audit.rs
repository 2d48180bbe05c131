//! The audit trail's table: writing an event inside the transaction of the change it
//! records, reading it back filtered and a page at a time, and pruning it by age.
//! Rows are never updated or deleted otherwise (the table refuses it; see its migration).

use crate::error::AppError;
use crate::model::{AuditEvent, AuditFilter, AuditKind, AuditPage, Caller, UserId, parse_date_field};
use sqlx::{PgConnection, PgExecutor, PgPool, QueryBuilder};
use time::OffsetDateTime;

pub const PAGE_SIZE: i64 = 100;
/// Rows per read while streaming an export.
pub const EXPORT_BATCH: i64 = 1000;

/// Who acted, as the trail records them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub label: String,
    pub ip: String,
}

impl Actor {
    /// A signed-in user, acting from `ip`.
    pub fn user(user: &Caller, ip: &str) -> Self {
        Self { user_id: Some(user.id), label: person(&user.display_name, &user.email), ip: ip.to_owned() }
    }

    /// Someone not (yet) known to be a user: a sign-in attempt, named by the email it tried.
    pub fn visitor(email: &str, ip: &str) -> Self {
        Self { user_id: None, label: email.to_owned(), ip: ip.to_owned() }
    }

    /// Foghorn itself, or an operator at its command line.
    pub fn server(label: &str) -> Self {
        Self { user_id: None, label: label.to_owned(), ip: String::new() }
    }
}

/// How people appear in the trail: "Name <email>".
pub fn person(display_name: &str, email: &str) -> String {
    format!("{display_name} <{email}>")
}

/// Records one event. Pass the transaction of the change, so that the event is written
/// exactly when the change is: a rolled-back change leaves no event.
pub async fn record(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    kind: AuditKind,
    target: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query!("INSERT INTO audit_events (actor_id, actor, kind, target, ip, details) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)", actor.user_id.map(|v| v.0), &actor.label, kind.as_str(), target, &actor.ip, details.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// A user as the target of an event: "user Name <email>".
pub fn user_target_of(display_name: &str, email: &str) -> String {
    format!("user {}", person(display_name, email))
}

/// [`user_target_of`] by id; "user #id" for an id that names nobody.
pub async fn user_target(db: &mut PgConnection, user_id: UserId) -> Result<String, AppError> {
    let found =
        sqlx::query!("SELECT display_name, email FROM users WHERE id = $1", user_id.0).fetch_optional(db).await?;
    Ok(match found {
        Some(user) => user_target_of(&user.display_name, &user.email),
        None => format!("user #{user_id}"),
    })
}

/// The newest events matching `filter`, one page, with the cursor of the next.
pub async fn page(pool: &PgPool, filter: &AuditFilter) -> Result<AuditPage, AppError> {
    let after = parse_cursor(&filter.cursor)?;
    let (events, next) = read(pool, filter, after, PAGE_SIZE).await?;
    Ok(AuditPage { events, next_cursor: next.map(|id| id.to_string()) })
}

/// One batch of an export, from below `after` (the first batch: from the filter's cursor).
pub async fn export_batch(
    pool: &PgPool,
    filter: &AuditFilter,
    after: Option<i64>,
) -> Result<(Vec<AuditEvent>, Option<i64>), AppError> {
    let after = match after {
        Some(id) => Some(id),
        None => parse_cursor(&filter.cursor)?,
    };
    read(pool, filter, after, EXPORT_BATCH).await
}

fn parse_cursor(cursor: &str) -> Result<Option<i64>, AppError> {
    match cursor.trim() {
        "" => Ok(None),
        c => c
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid("cursor", "That page link is no longer valid; start from the first page.")),
    }
}

/// Events below `after` (by id, newest first), at most `limit`, and the id to continue
/// from when there are more.
async fn read(
    pool: &PgPool,
    filter: &AuditFilter,
    after: Option<i64>,
    limit: i64,
) -> Result<(Vec<AuditEvent>, Option<i64>), AppError> {
    let kind = match filter.kind.trim() {
        "" => None,
        k => Some(k.parse::<AuditKind>().map_err(|m| AppError::invalid("kind", m))?),
    };
    let from = parse_date_field("from", &filter.from)?;
    let to = parse_date_field("to", &filter.to)?;

    // Dynamic: each filter is optional, so the SQL is assembled from the ones given.
    let mut query = QueryBuilder::new(
        "SELECT id, at, actor_id, actor, kind, target, ip, details::text FROM audit_events WHERE true",
    );
    if let Some(kind) = kind {
        query.push(" AND kind = ").push_bind(kind.as_str());
    }
    for (column, value) in [("actor", filter.actor.trim()), ("target", filter.target.trim())] {
        if !value.is_empty() {
            query.push(format!(" AND strpos(lower({column}), lower(")).push_bind(value.to_owned()).push(")) > 0");
        }
    }
    if let Some(from) = from {
        query.push(" AND at >= ").push_bind(from.midnight().assume_utc());
    }
    if let Some(to) = to {
        query.push(" AND at < ").push_bind(to.next_day().unwrap_or(to).midnight().assume_utc());
    }
    if let Some(after) = after {
        query.push(" AND id < ").push_bind(after);
    }
    query.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);

    type Row = (i64, OffsetDateTime, Option<i64>, String, String, String, String, String);
    let mut rows: Vec<Row> = query.build_query_as().fetch_all(pool).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.0)
    } else {
        None
    };
    let events = rows
        .into_iter()
        .map(|(id, at, actor_id, actor, kind, target, ip, details)| AuditEvent {
            id,
            at,
            actor_id: actor_id.map(UserId),
            actor,
            kind,
            target,
            ip,
            details,
        })
        .collect();
    Ok((events, next))
}

/// Deletes the events older than `keep_days` days (recording that it did); how many.
pub async fn prune(pool: &PgPool, keep_days: i32) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT audit_prune($1) AS "pruned!""#, keep_days).fetch_one(pool).await?)
}
