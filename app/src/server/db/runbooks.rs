//! Runbooks: versioned like postmortems (a save names its base version; a stale one is
//! refused with the current text), reviewed on an interval, and exported. How they
//! serve incidents (suggested, attached, drilled): [`super::runbook_incidents`].

use super::person;
use crate::error::AppError;
use crate::model::RunbookId;
use crate::model::*;
use crate::server::markdown;
use sqlx::{PgConnection, PgPool, QueryBuilder};
use time::{Duration, OffsetDateTime};

pub fn parse_text(title: &str, body: &str) -> Result<RunbookText, AppError> {
    Ok(RunbookText { title: RunbookTitle::parse(title)?.into_inner(), body: RunbookBody::parse(body)?.into_inner() })
}

pub fn parse_interval(days: i32) -> Result<i32, AppError> {
    if !(1..=3650).contains(&days) {
        return Err(AppError::invalid("review_interval_days", "Review every 1 to 3650 days."));
    }
    Ok(days)
}

async fn set_services(tx: &mut PgConnection, id: RunbookId, service_ids: &[ServiceId]) -> Result<(), AppError> {
    let mut unique = bare_ids(service_ids);
    unique.sort_unstable();
    unique.dedup();
    let known: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM services WHERE id = ANY($1)"#, &unique)
        .fetch_one(&mut *tx)
        .await?;
    if known != unique.len() as i64 {
        return Err(AppError::invalid("service_ids", "Choose existing services."));
    }
    sqlx::query!("DELETE FROM runbook_services WHERE runbook_id = $1", id.0).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO runbook_services (runbook_id, service_id) SELECT $1, unnest($2::bigint[])",
        id.0,
        &unique
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn create(
    pool: &PgPool,
    by: &Caller,
    text: &RunbookText,
    team_id: Option<TeamId>,
    service_ids: &[ServiceId],
    interval: i32,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    super::teams::ensure_exists(&mut tx, team_id).await?;
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO runbooks (title, body, team_id, review_interval_days, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        &text.title,
        &text.body,
        team_id.map(|v| v.0),
        interval,
        by.id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    set_services(&mut tx, RunbookId(id), service_ids).await?;
    sqlx::query!("INSERT INTO runbook_versions (runbook_id, version, title, body, author_id, note) VALUES ($1, 1, $2, $3, $4, 'created')", id, &text.title, &text.body, by.id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves a new version if `base_version` is still current; else refuses with the
/// current text (JSON of [`RunbookText`]) so the editor can show both.
pub async fn save(
    pool: &PgPool,
    by: &Caller,
    id: RunbookId,
    base_version: i32,
    text: &RunbookText,
    note: &str,
) -> Result<Saved, AppError> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query!(
        r#"SELECT r.version, r.title, r.body, u.display_name AS "updated_by?"
             FROM runbooks r LEFT JOIN users u ON u.id = r.updated_by
            WHERE r.id = $1 FOR UPDATE OF r"#,
        id.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("That runbook".into()))?;
    let version = current.version;
    let saved = RunbookText { title: current.title, body: current.body };
    let Some(next) = super::next_version(&saved, version, current.updated_by, base_version, text)? else {
        return Ok(Saved { version });
    };
    sqlx::query!(
        "UPDATE runbooks SET title = $2, body = $3, version = $4, updated_by = $5, updated_at = now() WHERE id = $1",
        id.0,
        &text.title,
        &text.body,
        next,
        by.id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("INSERT INTO runbook_versions (runbook_id, version, title, body, author_id, note) VALUES ($1, $2, $3, $4, $5, $6)", id.0, next, &text.title, &text.body, by.id.0, note)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Saved { version: next })
}

pub async fn restore(
    pool: &PgPool,
    by: &Caller,
    id: RunbookId,
    version: i32,
    base_version: i32,
) -> Result<Saved, AppError> {
    let old = sqlx::query_as!(
        RunbookText,
        "SELECT title, body FROM runbook_versions WHERE runbook_id = $1 AND version = $2",
        id.0,
        version
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("Version {version} of that runbook")))?;
    save(pool, by, id, base_version, &old, &format!("restored version {version}")).await
}

/// Owning team, services and review interval: not part of the text's versions.
pub async fn set_details(
    pool: &PgPool,
    id: RunbookId,
    team_id: Option<TeamId>,
    service_ids: &[ServiceId],
    interval: i32,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    super::teams::ensure_exists(&mut tx, team_id).await?;
    let done = sqlx::query!(
        "UPDATE runbooks SET team_id = $2, review_interval_days = $3 WHERE id = $1",
        id.0,
        team_id.map(|v| v.0),
        interval
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound("That runbook".into()));
    }
    set_services(&mut tx, id, service_ids).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn mark_reviewed(pool: &PgPool, by: &Caller, id: RunbookId) -> Result<(), AppError> {
    let done = sqlx::query!(
        "UPDATE runbooks SET last_reviewed_at = now(), last_reviewed_by = $2 WHERE id = $1",
        id.0,
        by.id.0
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound("That runbook".into()));
    }
    Ok(())
}

async fn services_of(pool: &PgPool, id: RunbookId) -> Result<Vec<ServiceRef>, AppError> {
    Ok(sqlx::query_as!(
        ServiceRef,
        "SELECT s.id, s.name FROM runbook_services x JOIN services s ON s.id = x.service_id
          WHERE x.runbook_id = $1 ORDER BY lower(s.name)",
        id.0
    )
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: RunbookId, can_edit: bool, now: OffsetDateTime) -> Result<Runbook, AppError> {
    let r = sqlx::query!(
        r#"SELECT r.title, r.body, r.version, r.team_id, t.name AS "team_name?", r.review_interval_days,
                  r.last_reviewed_at, r.last_reviewed_by, rv.display_name AS "reviewer_name?", r.updated_by,
                  u.display_name AS "updater_name?", r.updated_at, r.created_at
             FROM runbooks r LEFT JOIN teams t ON t.id = r.team_id
             LEFT JOIN users rv ON rv.id = r.last_reviewed_by LEFT JOIN users u ON u.id = r.updated_by
            WHERE r.id = $1"#,
        id.0
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("That runbook".into()))?;
    let (title, body, interval, reviewed_at) = (r.title, r.body, r.review_interval_days, r.last_reviewed_at);
    let drills = sqlx::query!(
        r#"SELECT i.number, d.started_by, u.display_name AS "started_by_name?", d.started_at, i.status
             FROM runbook_drills d
             JOIN incidents i ON i.id = d.incident_id LEFT JOIN users u ON u.id = d.started_by
            WHERE d.runbook_id = $1 ORDER BY d.started_at DESC"#,
        id.0
    )
    .fetch_all(pool)
    .await?;
    Ok(Runbook {
        id,
        body_html: markdown::render(&body),
        text: RunbookText { title, body },
        version: r.version,
        services: services_of(pool, id).await?,
        team_id: r.team_id.map(TeamId),
        team_name: r.team_name,
        review_interval_days: interval,
        last_reviewed_at: reviewed_at,
        last_reviewed_by: person(r.last_reviewed_by, r.reviewer_name),
        review_overdue: review_overdue(r.created_at, reviewed_at, interval, now),
        updated_by: person(r.updated_by, r.updater_name),
        updated_at: r.updated_at,
        drills: drills
            .into_iter()
            .map(|d| Drill {
                incident_number: IncidentNumber(d.number),
                started_by: person(d.started_by, d.started_by_name),
                started_at: d.started_at,
                resolved: d.status == "resolved",
            })
            .collect(),
        can_edit,
    })
}

pub async fn versions(pool: &PgPool, id: RunbookId) -> Result<Vec<RunbookVersion>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT v.version, v.author_id, u.display_name AS "author_name?", v.saved_at, v.note FROM runbook_versions v
             LEFT JOIN users u ON u.id = v.author_id WHERE v.runbook_id = $1 ORDER BY v.version DESC"#,
        id.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|v| RunbookVersion {
            version: v.version,
            author: person(v.author_id, v.author_name),
            saved_at: v.saved_at,
            note: v.note,
        })
        .collect())
}

pub async fn list(
    pool: &PgPool,
    filter: &RunbookCriteria,
    now: OffsetDateTime,
) -> Result<Vec<RunbookSummary>, AppError> {
    // Dynamic: each filter is optional, so the SQL is assembled from the ones given.
    let mut q = QueryBuilder::new(
        "SELECT r.id, r.title, t.name AS team_name, r.last_reviewed_at, r.created_at, r.review_interval_days,
                (SELECT max(d.started_at) FROM runbook_drills d WHERE d.runbook_id = r.id) AS last_drilled
           FROM runbooks r LEFT JOIN teams t ON t.id = r.team_id WHERE true",
    );
    let text = filter.q.as_str();
    if !text.is_empty() {
        q.push(" AND r.search @@ websearch_to_tsquery('english', ").push_bind(text).push(")");
    }
    if let Some(service) = filter.service_id {
        q.push(" AND EXISTS (SELECT 1 FROM runbook_services x WHERE x.runbook_id = r.id AND x.service_id = ")
            .push_bind(service)
            .push(")");
    }
    if let Some(team) = filter.team_id {
        q.push(" AND r.team_id = ").push_bind(team);
    }
    match filter.drilled {
        None => {}
        Some(DrillFilter::Never) => {
            q.push(" AND NOT EXISTS (SELECT 1 FROM runbook_drills d WHERE d.runbook_id = r.id)");
        }
        Some(DrillFilter::Stale) => {
            q.push(" AND NOT EXISTS (SELECT 1 FROM runbook_drills d WHERE d.runbook_id = r.id AND d.started_at > ")
                .push_bind(now - Duration::days(183))
                .push(")");
        }
    }
    q.push(" ORDER BY lower(r.title), r.id");
    #[derive(sqlx::FromRow)]
    struct Row {
        id: RunbookId,
        title: String,
        team_name: Option<String>,
        last_reviewed_at: Option<OffsetDateTime>,
        created_at: OffsetDateTime,
        review_interval_days: i32,
        last_drilled: Option<OffsetDateTime>,
    }
    let rows: Vec<Row> = q.build_query_as().fetch_all(pool).await?;
    // Every listed runbook's services in one query.
    let ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    let links = sqlx::query!(
        "SELECT x.runbook_id, s.id, s.name FROM runbook_services x JOIN services s ON s.id = x.service_id
          WHERE x.runbook_id = ANY($1) ORDER BY lower(s.name)",
        &ids
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (id, reviewed) = (r.id, r.last_reviewed_at);
        let overdue = review_overdue(r.created_at, reviewed, r.review_interval_days, now);
        if filter.review_overdue && !overdue {
            continue;
        }
        out.push(RunbookSummary {
            id,
            title: r.title,
            services: links
                .iter()
                .filter(|l| l.runbook_id == id.0)
                .map(|l| ServiceRef { id: ServiceId(l.id), name: l.name.clone() })
                .collect(),
            team_name: r.team_name,
            last_reviewed_at: reviewed,
            last_drilled_at: r.last_drilled,
            review_overdue: overdue,
        });
    }
    Ok(out)
}

/// A runbook as the offline export writes it.
pub struct Exported {
    pub id: RunbookId,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub version: i32,
    pub services: Vec<String>,
    pub team: Option<String>,
    pub last_reviewed_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

pub async fn export_all(pool: &PgPool) -> Result<Vec<Exported>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT r.id, r.title, r.body, r.version, t.name AS "team?", r.last_reviewed_at, r.updated_at,
                  ARRAY(SELECT s.name FROM runbook_services x JOIN services s ON s.id = x.service_id
                         WHERE x.runbook_id = r.id ORDER BY lower(s.name)) AS "services!"
             FROM runbooks r LEFT JOIN teams t ON t.id = r.team_id ORDER BY lower(r.title), r.id"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Exported {
            id: RunbookId(r.id),
            body_html: markdown::render(&r.body),
            title: r.title,
            body: r.body,
            version: r.version,
            services: r.services,
            team: r.team,
            last_reviewed_at: r.last_reviewed_at,
            updated_at: r.updated_at,
        })
        .collect())
}
