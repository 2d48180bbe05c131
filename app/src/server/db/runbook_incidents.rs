//! Runbooks in incidents: the ones an incident's services suggest, those attached by
//! hand, and drills (a rehearsal incident started from a runbook).

use super::incidents::{self, IncidentFields};
use super::runbooks::get;
use super::timeline;
use crate::error::AppError;
use crate::model::RunbookId;
use crate::model::*;
use sqlx::PgPool;
use time::OffsetDateTime;

/// The runbooks of an incident's affected services, and those attached by hand.
pub async fn for_incident(pool: &PgPool, number: IncidentNumber) -> Result<Vec<IncidentRunbook>, AppError> {
    Ok(sqlx::query_as!(
        IncidentRunbook,
        r#"SELECT r.id, r.title, bool_and(src.attached) AS "attached!" FROM (
             SELECT x.runbook_id, false AS attached FROM incident_services s
               JOIN runbook_services x ON x.service_id = s.service_id JOIN incidents i ON i.id = s.incident_id
              WHERE i.number = $1
             UNION ALL
             SELECT a.runbook_id, true FROM incident_runbooks a JOIN incidents i ON i.id = a.incident_id WHERE i.number = $1
         ) src JOIN runbooks r ON r.id = src.runbook_id
         GROUP BY r.id, r.title ORDER BY lower(r.title)"#,
        number.0
    )
    .fetch_all(pool)
    .await?)
}

pub async fn attach(pool: &PgPool, by: &Caller, number: IncidentNumber, runbook_id: RunbookId) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, number).await?;
    let title: String = sqlx::query_scalar!("SELECT title FROM runbooks WHERE id = $1", runbook_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("runbook_id", "Choose an existing runbook."))?;
    let added = sqlx::query!("INSERT INTO incident_runbooks (incident_id, runbook_id, attached_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", incident.id.0, runbook_id.0, by.id.0)
        .execute(&mut *tx)
        .await?;
    if added.rows_affected() == 0 {
        return Err(AppError::invalid("runbook_id", "That runbook is already attached."));
    }
    timeline::append(
        &mut tx,
        incident.id,
        EntryKind::Edit,
        Some(by.id),
        &format!("{} attached the runbook \"{title}\"", by.display_name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a drill: an incident flagged as a drill, on the runbook's services and team,
/// with the runbook attached and the starter on point.
pub async fn start_drill(
    pool: &PgPool,
    by: &Caller,
    runbook_id: RunbookId,
    severity: Severity,
) -> Result<IncidentNumber, AppError> {
    let runbook = get(pool, runbook_id, true, OffsetDateTime::now_utc()).await?;
    let fields = IncidentFields::parse(
        &format!("Drill: {}", runbook.text.title),
        &format!("A rehearsal of the runbook \"{}\".", runbook.text.title),
        runbook.team_id,
        runbook.services.iter().map(|s| s.id).collect(),
    )?;
    let actor = super::audit::Actor::user(by, "");
    let number = incidents::declare(
        pool,
        by,
        &incidents::NewIncident {
            fields: &fields,
            severity,
            point: Some(by.id),
            is_drill: true,
            privacy: Privacy::default(),
        },
        &actor,
    )
    .await?;
    let incident_id = incidents::id_of(pool, number).await?;
    sqlx::query!(
        "INSERT INTO runbook_drills (runbook_id, incident_id, started_by) VALUES ($1, $2, $3)",
        runbook_id.0,
        incident_id.0,
        by.id.0
    )
    .execute(pool)
    .await?;
    sqlx::query!("INSERT INTO incident_runbooks (incident_id, runbook_id, attached_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", incident_id.0, runbook_id.0, by.id.0)
        .execute(pool)
        .await?;
    Ok(number)
}
