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
    number: i64,
    severity: Severity,
    active: bool,
    declared_at: OffsetDateTime,
    resolved_at: Option<OffsetDateTime>,
    service_ids: Vec<i64>,
}

pub async fn current(pool: &PgPool, now: OffsetDateTime) -> Result<PublicStatus, AppError> {
    let services: Vec<(i64, String, String, Option<String>, Option<OffsetDateTime>)> = sqlx::query_as(
        // An override speaks for an incident: it is in force only while an active,
        // non-drill incident still affects the service, so resolving ends it.
        "SELECT s.id, s.name, s.description, o.state, o.set_at FROM services s
           LEFT JOIN service_state_overrides o ON o.service_id = s.id
                AND EXISTS (SELECT 1 FROM incident_services x JOIN incidents i ON i.id = x.incident_id
                             WHERE x.service_id = s.id AND i.status <> 'resolved' AND NOT i.is_drill AND NOT i.private)
          WHERE s.public ORDER BY lower(s.name)",
    )
    .fetch_all(pool)
    .await?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, i64, i16, String, OffsetDateTime, Option<OffsetDateTime>, OffsetDateTime, Vec<i64>)> =
        sqlx::query_as(
            "SELECT i.id, i.number, i.severity, i.status, i.declared_at, i.resolved_at, i.updated_at,
                ARRAY(SELECT x.service_id FROM incident_services x JOIN services s ON s.id = x.service_id
                       WHERE x.incident_id = i.id AND s.public)
           FROM incidents i
          WHERE NOT i.is_drill AND NOT i.private
            AND EXISTS (SELECT 1 FROM comms_updates c WHERE c.incident_id = i.id AND c.public_text IS NOT NULL)
            AND (i.status <> 'resolved' OR i.resolved_at > $1)
          ORDER BY i.declared_at",
        )
        .bind(now - Duration::days(HISTORY_DAYS))
        .fetch_all(pool)
        .await?;
    let mut updated_at = services.iter().filter_map(|s| s.4).max();
    let incidents: Vec<Row> = rows
        .into_iter()
        .map(|(id, number, severity, status, declared_at, resolved_at, changed, service_ids)| {
            updated_at = updated_at.max(Some(changed));
            Row {
                id,
                number,
                severity: severity_of(severity),
                active: status != "resolved",
                declared_at,
                resolved_at,
                service_ids,
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
        .map(|(id, name, description, override_state, _)| {
            let derived = incidents
                .iter()
                .filter(|i| i.active && i.service_ids.contains(&id))
                .map(|i| ServiceState::from_severity(i.severity))
                .max()
                .unwrap_or(ServiceState::Operational);
            let overridden = override_state.as_deref().and_then(|s| s.parse().ok());
            PublicService {
                id,
                name,
                description,
                state: overridden.unwrap_or(derived),
                overridden: overridden.is_some(),
                days: (0..HISTORY_DAYS).map(|d| worst_on(id, first_day + Duration::days(d))).collect(),
            }
        })
        .collect();

    let mut active = Vec::new();
    for incident in incidents.iter().filter(|i| i.active) {
        let updates = updates_where(pool, "c.incident_id = $1", incident.id, 1000).await?;
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
    updates_where(pool, "$1 = 0", 0, limit).await
}

async fn updates_where(pool: &PgPool, condition: &str, arg: i64, limit: i64) -> Result<Vec<PublicUpdate>, AppError> {
    let rows: Vec<(i64, i64, String, OffsetDateTime)> = sqlx::query_as(&format!(
        "SELECT c.id, i.number, c.public_text, c.posted_at FROM comms_updates c JOIN incidents i ON i.id = c.incident_id
          WHERE c.public_text IS NOT NULL AND NOT i.is_drill AND NOT i.private AND {condition}
          ORDER BY c.posted_at DESC, c.id DESC LIMIT $2"
    ))
    .bind(arg)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, incident_number, text, posted_at)| PublicUpdate { id, incident_number, text, posted_at })
        .collect())
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
    number: i64,
    service_id: i64,
    state: Option<ServiceState>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, number).await?;
    let (is_drill, private, holds): (bool, bool, bool) = sqlx::query_as(
        "SELECT i.is_drill, i.private, EXISTS (SELECT 1 FROM incident_roles r WHERE r.incident_id = i.id AND r.user_id = $2
                                     AND r.role IN ('comms', 'point') AND r.ended_at IS NULL)
           FROM incidents i WHERE i.id = $1",
    )
    .bind(incident.id)
    .bind(by.id)
    .fetch_one(&mut *tx)
    .await?;
    if !holds && by.role != Role::Admin {
        tracing::warn!(target: "foghorn::audit", user_id = by.id, incident = number, service_id, "refused: status page override without point or comms");
        return Err(AppError::Forbidden);
    }
    let service: Option<(String, bool, bool)> = sqlx::query_as(
        "SELECT s.name, s.public, EXISTS (SELECT 1 FROM incident_services x WHERE x.incident_id = $2 AND x.service_id = s.id)
           FROM services s WHERE s.id = $1",
    )
    .bind(service_id)
    .bind(incident.id)
    .fetch_optional(&mut *tx)
    .await?;
    let (name, public, affected) = service.ok_or_else(|| AppError::NotFound("That service".into()))?;
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
            sqlx::query(
                "INSERT INTO service_state_overrides (service_id, state, set_by) VALUES ($1, $2, $3)
                 ON CONFLICT (service_id) DO UPDATE SET state = $2, set_by = $3, set_at = now()",
            )
            .bind(service_id)
            .bind(state.as_str())
            .bind(by.id)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM service_state_overrides WHERE service_id = $1")
                .bind(service_id)
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
    tracing::info!(target: "foghorn::audit", by = by.id, incident = number, service_id, state = state.map(|s| s.as_str()).unwrap_or("from incidents"), "status page override");
    Ok(())
}
