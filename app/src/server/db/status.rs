//! What the public may see: public services and their state, and public incidents.
//!
//! An incident is public once it has a public comms update, and never when it is a
//! drill. Public surfaces show the public wording and the affected public services —
//! never internal titles, summaries or internal updates.

use super::timeline;
use super::{incidents, severity_of};
use crate::error::AppError;
use crate::model::*;
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

pub use crate::model::{PublicIncident, PublicService, PublicStatus, PublicUpdate};

pub const HISTORY_DAYS: i64 = 90;

/// The channel on which the database announces a change to what the public sees
/// (triggers on the tables read here, migration `20261201002001_public_status_changes`).
pub const CHANNEL: &str = "foghorn_public";

/// Public incidents that touched the last 90 days, with their public services.
struct Row {
    id: i64,
    number: IncidentNumber,
    severity: Severity,
    active: bool,
    declared_at: OffsetDateTime,
    resolved_at: Option<OffsetDateTime>,
    service_ids: Vec<i64>,
}

pub async fn current(pool: &PgPool, now: OffsetDateTime) -> Result<PublicStatus, AppError> {
    // An override speaks for an incident: it is in force only while an active,
    // non-drill incident still affects the service, so resolving ends it.
    let services = sqlx::query!(
        r#"SELECT s.id, s.name, s.description, o.state AS "override_state?", o.set_at AS "set_at?" FROM services s
           LEFT JOIN service_state_overrides o ON o.service_id = s.id
                AND EXISTS (SELECT 1 FROM incident_services x JOIN incidents i ON i.id = x.incident_id
                             WHERE x.service_id = s.id AND i.status <> 'resolved' AND NOT i.is_drill AND NOT i.private)
          WHERE s.public ORDER BY lower(s.name)"#
    )
    .fetch_all(pool)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT i.id, i.number, i.severity, i.status, i.declared_at, i.resolved_at, i.updated_at,
                  ARRAY(SELECT x.service_id FROM incident_services x JOIN services s ON s.id = x.service_id
                         WHERE x.incident_id = i.id AND s.public) AS "service_ids!"
             FROM incidents i
            WHERE NOT i.is_drill AND NOT i.private
              AND EXISTS (SELECT 1 FROM comms_updates c WHERE c.incident_id = i.id AND c.public_text IS NOT NULL)
              AND (i.status <> 'resolved' OR i.resolved_at > $1)
            ORDER BY i.declared_at"#,
        now - Duration::days(HISTORY_DAYS)
    )
    .fetch_all(pool)
    .await?;
    let mut updated_at = services.iter().filter_map(|s| s.set_at).max();
    let incidents: Vec<Row> = rows
        .into_iter()
        .map(|r| {
            updated_at = updated_at.max(Some(r.updated_at));
            Row {
                id: r.id,
                number: IncidentNumber(r.number),
                severity: severity_of(r.severity),
                active: r.status != "resolved",
                declared_at: r.declared_at,
                resolved_at: r.resolved_at,
                service_ids: r.service_ids,
            }
        })
        .collect();

    let today = now.date();
    let first_day = today - Duration::days(HISTORY_DAYS - 1);
    let worst_on = |service: i64, day: Date| {
        incidents
            .iter()
            .filter(|i| i.service_ids.contains(&service))
            .filter(|i| i.declared_at.date() <= day && i.resolved_at.is_none_or(|r| r.date() >= day))
            .map(|i| ServiceState::from_severity(i.severity))
            .max()
            .unwrap_or(ServiceState::Operational)
    };
    let services: Vec<PublicService> = services
        .into_iter()
        .map(|s| {
            let id = s.id;
            let derived = incidents
                .iter()
                .filter(|i| i.active && i.service_ids.contains(&id))
                .map(|i| ServiceState::from_severity(i.severity))
                .max()
                .unwrap_or(ServiceState::Operational);
            let overridden = s.override_state.as_deref().and_then(|s| s.parse().ok());
            PublicService {
                id,
                name: s.name,
                description: s.description,
                state: overridden.unwrap_or(derived),
                overridden: overridden.is_some(),
                days: (0..HISTORY_DAYS).map(|d| worst_on(id, first_day + Duration::days(d))).collect(),
            }
        })
        .collect();

    let mut active = Vec::new();
    for incident in incidents.iter().filter(|i| i.active) {
        let updates = updates(pool, Some(incident.id), 1000).await?;
        active.push(PublicIncident {
            number: incident.number,
            state: ServiceState::from_severity(incident.severity),
            services: services
                .iter()
                .filter(|s| incident.service_ids.contains(&s.id))
                .map(|s| s.name.clone())
                .collect(),
            started_at: incident.declared_at,
            updates,
        });
    }
    let overall = services
        .iter()
        .map(|s| s.state)
        .chain(active.iter().map(|i| i.state))
        .max()
        .unwrap_or(ServiceState::Operational);
    Ok(PublicStatus { overall, services, active, updated_at })
}

/// The latest public updates of every public incident, for the Atom feed.
pub async fn recent_updates(pool: &PgPool, limit: i64) -> Result<Vec<PublicUpdate>, AppError> {
    updates(pool, None, limit).await
}

/// The newest public updates of one incident (its id) or, with `None`, of all.
async fn updates(pool: &PgPool, incident: Option<i64>, limit: i64) -> Result<Vec<PublicUpdate>, AppError> {
    Ok(sqlx::query_as!(
        PublicUpdate,
        r#"SELECT c.id, i.number AS incident_number, c.public_text AS "text!", c.posted_at
             FROM comms_updates c JOIN incidents i ON i.id = c.incident_id
            WHERE c.public_text IS NOT NULL AND NOT i.is_drill AND NOT i.private
              AND ($1::bigint IS NULL OR c.incident_id = $1)
            ORDER BY c.posted_at DESC, c.id DESC LIMIT $2"#,
        incident,
        limit
    )
    .fetch_all(pool)
    .await?)
}

/// Sets a public service's state by hand (or, with `None`, hands it back to the state
/// derived from incidents), speaking for incident `number`. The status page speaks to
/// customers, so only that incident's point or comms holder (or an admin) may, only
/// for a public service the incident affects, never through a drill, and a state is
/// set only while the incident is active (handing back stays possible after); it lapses
/// once no active incident affects the service (see `current`). The incident's timeline
/// and the audit log record it.
pub async fn override_state(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    service_id: ServiceId,
    state: Option<ServiceState>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, number).await?;
    let found = sqlx::query!(
        r#"SELECT i.is_drill, i.private,
                  EXISTS (SELECT 1 FROM incident_roles r WHERE r.incident_id = i.id AND r.user_id = $2
                             AND r.role IN ('comms', 'point') AND r.ended_at IS NULL) AS "holds!"
             FROM incidents i WHERE i.id = $1"#,
        incident.id.0,
        by.id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    let (is_drill, private, holds) = (found.is_drill, found.private, found.holds);
    if !holds && by.role != Role::Admin {
        tracing::warn!(target: "foghorn::audit", user_id = by.id.0, incident = number.0, service_id = service_id.0, "refused: status page override without point or comms");
        return Err(AppError::Forbidden);
    }
    let service = sqlx::query!(
        r#"SELECT s.name, s.public,
                  EXISTS (SELECT 1 FROM incident_services x WHERE x.incident_id = $2 AND x.service_id = s.id) AS "affected!"
             FROM services s WHERE s.id = $1"#,
        service_id.0,
        incident.id.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("That service".into()))?;
    let (name, public, affected) = (service.name, service.public, service.affected);
    if !public {
        return Err(AppError::invalid("service_id", "Only public services have a public state."));
    }
    if !affected {
        return Err(AppError::invalid(
            "service_id",
            format!("{} does not affect {name}: add the service to the incident first.", incident_ref(number)),
        ));
    }
    if is_drill {
        return Err(AppError::invalid("state", "A drill never changes the public status page."));
    }
    if private {
        return Err(AppError::invalid("state", "A private incident never appears on the public status page."));
    }
    if state.is_some() && incident.status == Status::Resolved {
        return Err(AppError::invalid(
            "state",
            format!("{} is resolved: the status page follows the incidents again.", incident_ref(number)),
        ));
    }
    match state {
        Some(state) => {
            sqlx::query!(
                "INSERT INTO service_state_overrides (service_id, state, set_by) VALUES ($1, $2, $3)
                 ON CONFLICT (service_id) DO UPDATE SET state = $2, set_by = $3, set_at = now()",
                service_id.0,
                state.as_str(),
                by.id.0
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query!("DELETE FROM service_state_overrides WHERE service_id = $1", service_id.0)
                .execute(&mut *tx)
                .await?;
        }
    }
    let body = match state {
        Some(state) => format!("{} set {name} to {} on the public status page", by.display_name, state.label()),
        None => format!("{} handed {name} on the public status page back to the state from incidents", by.display_name),
    };
    timeline::append(&mut tx, incident.id, EntryKind::StatusPage, Some(by.id), &body).await?;
    tx.commit().await?;
    tracing::info!(target: "foghorn::audit", by = by.id.0, incident = number.0, service_id = service_id.0, state = state.map(|s| s.as_str()).unwrap_or("from incidents"), "status page override");
    Ok(())
}
