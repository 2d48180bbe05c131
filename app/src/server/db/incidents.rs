//! Incidents: declaring and changing them. Every change is one transaction that also
//! appends the timeline entry saying who did what.

use super::IncidentId;
use super::{outbox, timeline};
use crate::error::AppError;
use crate::model::*;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// The row of an incident being changed, locked for the transaction.
pub struct Locked {
    pub id: IncidentId,
    pub number: IncidentNumber,
    pub severity: Severity,
    pub status: Status,
    pub version: i32,
}

/// Posts a note to the incident's timeline (under the incident's lock, which orders
/// its entries).
pub async fn post_note(
    pool: &PgPool,
    number: IncidentNumber,
    author_id: UserId,
    body: &str,
) -> Result<TimelineEntry, AppError> {
    let body = NoteBody::parse(body)?.into_inner();
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    let seq = timeline::append(&mut tx, incident.id, EntryKind::Note, Some(author_id), &body).await?;
    tx.commit().await?;
    let entries = timeline::after(pool, incident.id, seq - 1, 1).await?;
    entries.into_iter().next().ok_or(AppError::Internal)
}

pub async fn lock(tx: &mut PgConnection, number: IncidentNumber) -> Result<Locked, AppError> {
    let row =
        sqlx::query!("SELECT id, severity, status, version FROM incidents WHERE number = $1 FOR UPDATE", number.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::NotFound(incident_ref(number)))?;
    Ok(Locked {
        id: IncidentId(row.id),
        number,
        severity: Severity::from_level(row.severity).ok_or(AppError::Internal)?,
        status: row.status.parse().map_err(|_| AppError::Internal)?,
        version: row.version,
    })
}

pub async fn id_of(pool: &PgPool, number: IncidentNumber) -> Result<super::IncidentId, AppError> {
    sqlx::query_scalar!(r#"SELECT id AS "id: super::IncidentId" FROM incidents WHERE number = $1"#, number.0)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(incident_ref(number)))
}

/// What a responder submits when declaring or editing. Validated on construction.
#[derive(Debug, Clone)]
pub struct IncidentFields {
    pub title: IncidentTitle,
    pub summary: Summary,
    pub team_id: Option<TeamId>,
    pub service_ids: Vec<ServiceId>,
}

impl IncidentFields {
    pub fn parse(
        title: &str,
        summary: &str,
        team_id: Option<TeamId>,
        service_ids: Vec<ServiceId>,
    ) -> Result<Self, AppError> {
        let title = IncidentTitle::parse(title)?;
        let summary = Summary::parse(summary)?;
        let mut service_ids = service_ids;
        service_ids.sort_unstable();
        service_ids.dedup();
        Ok(Self { title, summary, team_id, service_ids })
    }
}

async fn check_references(tx: &mut PgConnection, fields: &IncidentFields) -> Result<(), AppError> {
    super::teams::ensure_exists(tx, fields.team_id).await?;
    let known: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM services WHERE id = ANY($1)"#,
        &bare_ids(&fields.service_ids)
    )
    .fetch_one(&mut *tx)
    .await?;
    if known != fields.service_ids.len() as i64 {
        return Err(AppError::invalid("service_ids", "Choose existing services."));
    }
    Ok(())
}

async fn set_services(
    tx: &mut PgConnection,
    incident_id: IncidentId,
    service_ids: &[ServiceId],
) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM incident_services WHERE incident_id = $1", incident_id.0).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO incident_services (incident_id, service_id) SELECT $1, unnest($2::bigint[])",
        incident_id.0,
        &bare_ids(service_ids)
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What a declaration says, whoever makes it (the declare form, the API, chat, an
/// alert, a drill): its fields and severity, who takes point (normally the declarer),
/// whether it is a drill, and who may see it.
pub struct NewIncident<'a> {
    pub fields: &'a IncidentFields,
    pub severity: Severity,
    pub point: Option<UserId>,
    pub is_drill: bool,
    pub privacy: Privacy,
}

/// Declares an incident, by `by`; `actor` is the declarer as the audit log records a
/// private declaration.
pub async fn declare(
    pool: &PgPool,
    by: &Caller,
    new: &NewIncident<'_>,
    actor: &super::audit::Actor,
) -> Result<IncidentNumber, AppError> {
    let mut tx = pool.begin().await?;
    let (_, number) = declare_in(&mut tx, by, new, actor).await?;
    tx.commit().await?;
    Ok(IncidentNumber(number))
}

/// [`declare`], inside the caller's transaction (an alert group declares under its own
/// lock); returns the incident's id and number.
pub async fn declare_in(
    tx: &mut PgConnection,
    by: &Caller,
    new: &NewIncident<'_>,
    actor: &super::audit::Actor,
) -> Result<(IncidentId, i64), AppError> {
    let NewIncident { fields, severity, point, is_drill, privacy } = *new;
    if privacy.private && is_drill {
        return Err(AppError::invalid("private", "A drill is a rehearsal for everyone: it cannot be private."));
    }
    if privacy.private && privacy.team_can_see && fields.team_id.is_none() {
        return Err(AppError::invalid("team_can_see", "Choose the owning team it should be visible to."));
    }
    check_references(&mut *tx, fields).await?;
    let created = sqlx::query!(
        "INSERT INTO incidents (title, summary, severity, team_id, declared_by, detected_at, is_drill, private, team_can_see)
         VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8) RETURNING id, number",
        fields.title.as_str(),
        fields.summary.as_str(),
        severity.level(),
        fields.team_id.map(|v| v.0),
        by.id.0,
        is_drill,
        privacy.private,
        privacy.private && privacy.team_can_see
    )
    .fetch_one(&mut *tx)
    .await?;
    let (id, number) = (IncidentId(created.id), created.number);
    set_services(tx, id, &fields.service_ids).await?;
    let body = format!(
        "{} declared {} ({}): {}",
        by.display_name,
        incident_ref(IncidentNumber(number)),
        severity,
        fields.title
    );
    timeline::append(tx, id, EntryKind::Declared, Some(by.id), &body).await?;
    if let Some(point) = point {
        super::incident_people::assign_in(tx, id, by, IncidentRole::Point, point).await?;
    }
    if privacy.private {
        let details = serde_json::json!({ "incident": number, "declared": true, "to": privacy });
        super::audit::record(
            &mut *tx,
            actor,
            AuditKind::IncidentMadePrivate,
            &incident_ref(IncidentNumber(number)),
            details,
        )
        .await?;
    }
    if privacy.private && point != Some(by.id) {
        // Whoever declares a private incident stays able to see it.
        sqlx::query!(
            "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by) VALUES ($1, 'participant', $2, $2)",
            id.0,
            by.id.0
        )
        .execute(&mut *tx)
        .await?;
    }
    // After point is assigned: a drill's messages go to the people in it.
    outbox::enqueue(tx, id, NotifyEvent::Declared, &body, fields.summary.as_str()).await?;
    Ok((id, number))
}

pub async fn change_status(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    to: Status,
    resolution: &str,
) -> Result<(), AppError> {
    let resolution = Resolution::parse(resolution)?.into_inner();
    if to == Status::Resolved && resolution.is_empty() {
        return Err(AppError::invalid("resolution", "Say in a sentence how it was resolved."));
    }
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    incident.status.can_move_to(to).map_err(|m| AppError::invalid("status", m))?;
    sqlx::query!("UPDATE incidents SET status = $2, version = version + 1,
                mitigated_at = CASE WHEN $2 IN ('monitoring', 'resolved') THEN coalesce(mitigated_at, now()) ELSE mitigated_at END,
                resolved_at  = CASE WHEN $2 = 'resolved' THEN now() ELSE NULL END,
                resolution   = CASE WHEN $2 = 'resolved' THEN $3 ELSE resolution END
          WHERE id = $1", incident.id.0, to.as_str(), resolution)
    .execute(&mut *tx)
    .await?;
    let body = match (incident.status, to) {
        (Status::Resolved, _) => format!("{} reopened the incident (investigating)", by.display_name),
        (_, Status::Resolved) => format!("{} resolved the incident: {resolution}", by.display_name),
        (from, to) => format!("{} changed the status from {from} to {to}", by.display_name),
    };
    timeline::append(&mut tx, incident.id, EntryKind::StatusChange, Some(by.id), &body).await?;
    let event = if to == Status::Resolved { NotifyEvent::Resolved } else { NotifyEvent::StatusChanged };
    outbox::enqueue(&mut tx, incident.id, event, &body, "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_severity(pool: &PgPool, by: &Caller, number: IncidentNumber, to: Severity) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    if incident.severity == to {
        return Err(AppError::invalid("severity", format!("The incident is already {to}.")));
    }
    sqlx::query!("UPDATE incidents SET severity = $2, version = version + 1 WHERE id = $1", incident.id.0, to.level())
        .execute(&mut *tx)
        .await?;
    let verb = if to < incident.severity { "raised" } else { "lowered" };
    let body = format!("{} {verb} the severity from {} to {to}", by.display_name, incident.severity);
    timeline::append(&mut tx, incident.id, EntryKind::SeverityChange, Some(by.id), &body).await?;
    outbox::enqueue(&mut tx, incident.id, NotifyEvent::SeverityChanged, &body, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Edits title, summary, team and services. Refused when `version` is not the current
/// one: someone else changed the incident since the editor loaded it.
pub async fn edit(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    version: i32,
    fields: &IncidentFields,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    if incident.version != version {
        return Err(AppError::Conflict(
            "Someone changed this incident while you were editing. Your text is still in the form: review the latest version and save again.".into(),
        ));
    }
    check_references(&mut tx, fields).await?;
    let before = sqlx::query!("SELECT title, summary, team_id FROM incidents WHERE id = $1", incident.id.0)
        .fetch_one(&mut *tx)
        .await?;
    let before = (before.title, before.summary, before.team_id);
    let services_before: Vec<i64> = sqlx::query_scalar!(
        "SELECT service_id FROM incident_services WHERE incident_id = $1 ORDER BY service_id",
        incident.id.0
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut changed = Vec::new();
    if before.0 != fields.title.as_str() {
        changed.push(format!("title to \"{}\"", fields.title));
    }
    if before.1 != fields.summary.as_str() {
        changed.push("the summary".to_owned());
    }
    if before.2 != fields.team_id.map(|v| v.0) {
        changed.push("the owning team".to_owned());
    }
    if services_before != bare_ids(&fields.service_ids) {
        changed.push("the affected services".to_owned());
    }
    if changed.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE incidents SET title = $2, summary = $3, team_id = $4, version = version + 1 WHERE id = $1",
        incident.id.0,
        fields.title.as_str(),
        fields.summary.as_str(),
        fields.team_id.map(|v| v.0)
    )
    .execute(&mut *tx)
    .await?;
    set_services(&mut tx, incident.id, &fields.service_ids).await?;
    let body = format!("{} changed {}", by.display_name, changed.join(", "));
    timeline::append(&mut tx, incident.id, EntryKind::Edit, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(())
}

/// Corrects one of the key timestamps (`None` clears it; `declared` cannot be cleared).
pub async fn correct_timestamp(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    milestone: Milestone,
    value: Option<OffsetDateTime>,
) -> Result<(), AppError> {
    if milestone == Milestone::Declared && value.is_none() {
        return Err(AppError::invalid("value", "An incident always has a declared time."));
    }
    if value.is_some_and(|v| v > OffsetDateTime::now_utc() + time::Duration::minutes(5)) {
        return Err(AppError::invalid("value", "That time is in the future."));
    }
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    if milestone == Milestone::Resolved && incident.status != Status::Resolved && value.is_some() {
        return Err(AppError::invalid("value", "Resolve the incident to set its resolved time."));
    }
    // Dynamic: the column is the milestone's, one of a closed set (never user input).
    let column = format!("{}_at", milestone.as_str());
    let old: Option<OffsetDateTime> = sqlx::query_scalar(&format!("SELECT {column} FROM incidents WHERE id = $1"))
        .bind(incident.id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(&format!("UPDATE incidents SET {column} = $2, version = version + 1 WHERE id = $1"))
        .bind(incident.id)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    let show = |t: Option<OffsetDateTime>| t.map(format_time).unwrap_or_else(|| "unset".to_owned());
    let body = format!("{} corrected {}: {} → {}", by.display_name, milestone.as_str(), show(old), show(value));
    timeline::append(&mut tx, incident.id, EntryKind::TimestampCorrection, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(())
}
