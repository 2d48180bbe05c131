//! Incidents: declaring, changing, reading. Every change is one transaction that also
//! appends the timeline entry saying who did what.

use super::{outbox, timeline};
use crate::error::AppError;
use crate::model::*;
use crate::server::policy;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_SUMMARY_CHARS: usize = 20_000;

/// The row of an incident being changed, locked for the transaction.
pub struct Locked {
    pub id: i64,
    pub number: i64,
    pub severity: Severity,
    pub status: Status,
    pub version: i32,
}

/// Posts a note to the incident's timeline (under the incident's lock, which orders
/// its entries).
pub async fn post_note(pool: &PgPool, number: i64, author_id: i64, body: &str) -> Result<TimelineEntry, AppError> {
    let body = timeline::parse_note(body)?;
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    let seq = timeline::append(&mut tx, incident.id, EntryKind::Note, Some(author_id), &body).await?;
    tx.commit().await?;
    let entries = timeline::after(pool, incident.id, seq - 1, 1).await?;
    entries.into_iter().next().ok_or(AppError::Internal)
}

pub async fn lock(tx: &mut PgConnection, number: i64) -> Result<Locked, AppError> {
    let row: Option<(i64, i16, String, i32)> =
        sqlx::query_as("SELECT id, severity, status, version FROM incidents WHERE number = $1 FOR UPDATE")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?;
    let (id, severity, status, version) = row.ok_or_else(|| AppError::NotFound(incident_ref(number)))?;
    Ok(Locked {
        id,
        number,
        severity: Severity::from_level(severity).ok_or(AppError::Internal)?,
        status: status.parse().map_err(|_| AppError::Internal)?,
        version,
    })
}

/// The incident's id when `viewer` may see it (see [`policy::incident_visible`]);
/// otherwise the same 404 as for a number that was never used.
pub async fn visible_id(db: impl PgExecutor<'_>, number: i64, viewer: Option<i64>) -> Result<i64, AppError> {
    sqlx::query_scalar(&format!(
        "SELECT i.id FROM incidents i WHERE i.number = $1 AND {}",
        policy::incident_visible("i", "$2")
    ))
    .bind(number)
    .bind(viewer)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(incident_ref(number)))
}

pub async fn id_of(pool: &PgPool, number: i64) -> Result<i64, AppError> {
    sqlx::query_scalar("SELECT id FROM incidents WHERE number = $1")
        .bind(number)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(incident_ref(number)))
}

async fn display_name(tx: &mut PgConnection, user_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1 AND active")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("user_id", "Choose an active user."))
}

/// What a responder submits when declaring or editing. Validated on construction.
#[derive(Debug, Clone)]
pub struct IncidentFields {
    pub title: String,
    pub summary: String,
    pub team_id: Option<i64>,
    pub service_ids: Vec<i64>,
}

impl IncidentFields {
    pub fn parse(title: &str, summary: &str, team_id: Option<i64>, service_ids: Vec<i64>) -> Result<Self, AppError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(AppError::invalid("title", "Give the incident a title: what is broken?"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(AppError::invalid(
                "title",
                format!("Keep the title under {MAX_TITLE_CHARS} characters; put details in the summary."),
            ));
        }
        let summary = summary.trim();
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(AppError::invalid(
                "summary",
                format!("Keep the summary under {MAX_SUMMARY_CHARS} characters."),
            ));
        }
        let mut service_ids = service_ids;
        service_ids.sort_unstable();
        service_ids.dedup();
        Ok(Self { title: title.to_owned(), summary: summary.to_owned(), team_id, service_ids })
    }
}

async fn check_references(tx: &mut PgConnection, fields: &IncidentFields) -> Result<(), AppError> {
    if let Some(team_id) = fields.team_id {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1)")
            .bind(team_id)
            .fetch_one(&mut *tx)
            .await?;
        if !exists {
            return Err(AppError::invalid("team_id", "Choose an existing team."));
        }
    }
    let known: i64 = sqlx::query_scalar("SELECT count(*) FROM services WHERE id = ANY($1)")
        .bind(&fields.service_ids)
        .fetch_one(&mut *tx)
        .await?;
    if known != fields.service_ids.len() as i64 {
        return Err(AppError::invalid("service_ids", "Choose existing services."));
    }
    Ok(())
}

async fn set_services(tx: &mut PgConnection, incident_id: i64, service_ids: &[i64]) -> Result<(), AppError> {
    sqlx::query("DELETE FROM incident_services WHERE incident_id = $1").bind(incident_id).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO incident_services (incident_id, service_id) SELECT $1, unnest($2::bigint[])")
        .bind(incident_id)
        .bind(service_ids)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Declares an incident. `point` is who takes point (normally the declarer); `actor`
/// is the declarer as the audit log records a private declaration.
pub async fn declare(
    pool: &PgPool,
    by: &Caller,
    fields: &IncidentFields,
    severity: Severity,
    point: Option<i64>,
    is_drill: bool,
    privacy: Privacy,
    actor: &super::audit::Actor,
) -> Result<i64, AppError> {
    if privacy.private && is_drill {
        return Err(AppError::invalid("private", "A drill is a rehearsal for everyone: it cannot be private."));
    }
    if privacy.private && privacy.team_can_see && fields.team_id.is_none() {
        return Err(AppError::invalid("team_can_see", "Choose the owning team it should be visible to."));
    }
    let mut tx = pool.begin().await?;
    check_references(&mut tx, fields).await?;
    let (id, number): (i64, i64) = sqlx::query_as(
        "INSERT INTO incidents (title, summary, severity, team_id, declared_by, detected_at, is_drill, private, team_can_see)
         VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8) RETURNING id, number",
    )
    .bind(&fields.title)
    .bind(&fields.summary)
    .bind(severity.level())
    .bind(fields.team_id)
    .bind(by.id)
    .bind(is_drill)
    .bind(privacy.private)
    .bind(privacy.private && privacy.team_can_see)
    .fetch_one(&mut *tx)
    .await?;
    set_services(&mut tx, id, &fields.service_ids).await?;
    let body = format!("{} declared {} ({}): {}", by.display_name, incident_ref(number), severity, fields.title);
    timeline::append(&mut tx, id, EntryKind::Declared, Some(by.id), &body).await?;
    if let Some(point) = point {
        assign_in(&mut tx, id, by, IncidentRole::Point, point).await?;
    }
    if privacy.private {
        let details = serde_json::json!({ "incident": number, "declared": true, "to": privacy });
        super::audit::record(&mut *tx, actor, AuditKind::IncidentMadePrivate, &incident_ref(number), details).await?;
    }
    if privacy.private && point != Some(by.id) {
        // Whoever declares a private incident stays able to see it.
        sqlx::query(
            "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by) VALUES ($1, 'participant', $2, $2)",
        )
        .bind(id)
        .bind(by.id)
        .execute(&mut *tx)
        .await?;
    }
    // After point is assigned: a drill's messages go to the people in it.
    outbox::enqueue(&mut tx, id, NotifyEvent::Declared, &body, &fields.summary).await?;
    tx.commit().await?;
    Ok(number)
}

/// Gives `role` to `user_id`, ending the current holder's tenure; one timeline entry.
async fn assign_in(
    tx: &mut PgConnection,
    incident_id: i64,
    by: &Caller,
    role: IncidentRole,
    user_id: i64,
) -> Result<(), AppError> {
    let name = display_name(tx, user_id).await?;
    let current: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.user_id, u.display_name FROM incident_roles r JOIN users u ON u.id = r.user_id
          WHERE r.incident_id = $1 AND r.role = $2 AND r.ended_at IS NULL",
    )
    .bind(incident_id)
    .bind(role.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    if current.as_ref().is_some_and(|(holder, _)| *holder == user_id) {
        return Err(AppError::invalid("user_id", format!("{name} already has {}.", role.as_str())));
    }
    sqlx::query("UPDATE incident_roles SET ended_at = now() WHERE incident_id = $1 AND role = $2 AND ended_at IS NULL")
        .bind(incident_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO incident_roles (incident_id, role, user_id, assigned_by) VALUES ($1, $2, $3, $4)")
        .bind(incident_id)
        .bind(role.as_str())
        .bind(user_id)
        .bind(by.id)
        .execute(&mut *tx)
        .await?;
    if role == IncidentRole::Point {
        // Someone is directing the response: the incident is acknowledged.
        sqlx::query("UPDATE incidents SET acknowledged_at = coalesce(acknowledged_at, now()) WHERE id = $1")
            .bind(incident_id)
            .execute(&mut *tx)
            .await?;
    }
    let role_name = role.as_str();
    let body = match (&current, user_id == by.id) {
        (None, true) => format!("{} took {role_name}", by.display_name),
        (None, false) => format!("{} gave {role_name} to {name}", by.display_name),
        (Some((_, from)), true) => format!("{} took {role_name} from {from}", by.display_name),
        (Some((_, from)), false) => format!("{} handed {role_name} from {from} to {name}", by.display_name),
    };
    timeline::append(tx, incident_id, EntryKind::RoleChange, Some(by.id), &body).await?;
    Ok(())
}

pub async fn assign_role(
    pool: &PgPool,
    by: &Caller,
    number: i64,
    role: IncidentRole,
    user_id: i64,
) -> Result<(), AppError> {
    if role == IncidentRole::Participant {
        return Err(AppError::invalid("role", "Choose point or comms."));
    }
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    assign_in(&mut tx, incident.id, by, role, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Joins the caller to the response as a participant.
pub async fn join(pool: &PgPool, by: &Caller, number: i64) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    let inserted = sqlx::query(
        "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by)
         VALUES ($1, 'participant', $2, $2) ON CONFLICT DO NOTHING",
    )
    .bind(incident.id)
    .bind(by.id)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::invalid("", "You are already a participant."));
    }
    timeline::append(
        &mut tx,
        incident.id,
        EntryKind::RoleChange,
        Some(by.id),
        &format!("{} joined as a participant", by.display_name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses unless `by` may change who sees the incident (see [`policy::may_manage_access`]).
async fn ensure_may_manage_access(tx: &mut PgConnection, by: &Caller, incident_id: i64) -> Result<(), AppError> {
    let holds_point: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM incident_roles
                         WHERE incident_id = $1 AND user_id = $2 AND role = 'point' AND ended_at IS NULL)",
    )
    .bind(incident_id)
    .bind(by.id)
    .fetch_one(&mut *tx)
    .await?;
    if policy::may_manage_access(by, holds_point) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// Adds `user_id` to the response (in the caller's transaction; point or an admin);
/// one timeline entry. Returns their name and whether the incident is private.
pub async fn add_participant(
    tx: &mut PgConnection,
    by: &Caller,
    number: i64,
    user_id: i64,
) -> Result<(String, bool), AppError> {
    let incident = lock(tx, number).await?;
    ensure_may_manage_access(tx, by, incident.id).await?;
    let person: Option<(String, bool)> = sqlx::query_as("SELECT display_name, active FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((name, true)) = person else {
        return Err(AppError::invalid("user_id", "Choose an active person."));
    };
    let added = sqlx::query(
        "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by)
         VALUES ($1, 'participant', $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(incident.id)
    .bind(user_id)
    .bind(by.id)
    .execute(&mut *tx)
    .await?;
    if added.rows_affected() == 0 {
        return Err(AppError::invalid("user_id", format!("{name} is already a participant.")));
    }
    let body = format!("{} added {name} to the response", by.display_name);
    timeline::append(tx, incident.id, EntryKind::Access, Some(by.id), &body).await?;
    let private: bool =
        sqlx::query_scalar("SELECT private FROM incidents WHERE id = $1").bind(incident.id).fetch_one(&mut *tx).await?;
    Ok((name, private))
}

/// Makes the incident private or public (in the caller's transaction; point or an
/// admin); one timeline entry. Returns what it was before, or `None` when nothing changed.
pub async fn set_privacy(
    tx: &mut PgConnection,
    by: &Caller,
    number: i64,
    privacy: Privacy,
) -> Result<Option<Privacy>, AppError> {
    let incident = lock(tx, number).await?;
    ensure_may_manage_access(tx, by, incident.id).await?;
    let (private, team_can_see, is_drill, team_id): (bool, bool, bool, Option<i64>) =
        sqlx::query_as("SELECT private, team_can_see, is_drill, team_id FROM incidents WHERE id = $1")
            .bind(incident.id)
            .fetch_one(&mut *tx)
            .await?;
    let before = Privacy { private, team_can_see };
    if before == privacy {
        return Ok(None);
    }
    if privacy.private && is_drill {
        return Err(AppError::invalid("private", "A drill is a rehearsal for everyone: it cannot be private."));
    }
    if privacy.team_can_see && team_id.is_none() {
        return Err(AppError::invalid("team_can_see", "Give the incident an owning team first."));
    }
    sqlx::query("UPDATE incidents SET private = $2, team_can_see = $3, updated_at = now() WHERE id = $1")
        .bind(incident.id)
        .bind(privacy.private)
        .bind(privacy.team_can_see)
        .execute(&mut *tx)
        .await?;
    let who = by.display_name.as_str();
    let body = match (privacy.private, privacy.team_can_see) {
        (false, _) => format!("{who} made the incident public: everyone signed in can see it"),
        (true, false) => format!("{who} made the incident private: only its participants and admins can see it"),
        (true, true) => {
            format!("{who} made the incident private: only its participants, its owning team and admins can see it")
        }
    };
    timeline::append(tx, incident.id, EntryKind::Access, Some(by.id), &body).await?;
    Ok(Some(before))
}

pub async fn change_status(
    pool: &PgPool,
    by: &Caller,
    number: i64,
    to: Status,
    resolution: &str,
) -> Result<(), AppError> {
    let resolution = resolution.trim();
    if to == Status::Resolved && resolution.is_empty() {
        return Err(AppError::invalid("resolution", "Say in a sentence how it was resolved."));
    }
    if resolution.chars().count() > MAX_SUMMARY_CHARS {
        return Err(AppError::invalid("resolution", "Keep the resolution summary shorter."));
    }
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    incident.status.can_move_to(to).map_err(|m| AppError::invalid("status", m))?;
    sqlx::query(
        "UPDATE incidents SET status = $2, version = version + 1,
                mitigated_at = CASE WHEN $2 IN ('monitoring', 'resolved') THEN coalesce(mitigated_at, now()) ELSE mitigated_at END,
                resolved_at  = CASE WHEN $2 = 'resolved' THEN now() ELSE NULL END,
                resolution   = CASE WHEN $2 = 'resolved' THEN $3 ELSE resolution END
          WHERE id = $1",
    )
    .bind(incident.id)
    .bind(to.as_str())
    .bind(resolution)
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

pub async fn change_severity(pool: &PgPool, by: &Caller, number: i64, to: Severity) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    if incident.severity == to {
        return Err(AppError::invalid("severity", format!("The incident is already {to}.")));
    }
    sqlx::query("UPDATE incidents SET severity = $2, version = version + 1 WHERE id = $1")
        .bind(incident.id)
        .bind(to.level())
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
    number: i64,
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
    let before: (String, String, Option<i64>) =
        sqlx::query_as("SELECT title, summary, team_id FROM incidents WHERE id = $1")
            .bind(incident.id)
            .fetch_one(&mut *tx)
            .await?;
    let services_before: Vec<i64> =
        sqlx::query_scalar("SELECT service_id FROM incident_services WHERE incident_id = $1 ORDER BY service_id")
            .bind(incident.id)
            .fetch_all(&mut *tx)
            .await?;
    let mut changed = Vec::new();
    if before.0 != fields.title {
        changed.push(format!("title to \"{}\"", fields.title));
    }
    if before.1 != fields.summary {
        changed.push("the summary".to_owned());
    }
    if before.2 != fields.team_id {
        changed.push("the owning team".to_owned());
    }
    if services_before != fields.service_ids {
        changed.push("the affected services".to_owned());
    }
    if changed.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE incidents SET title = $2, summary = $3, team_id = $4, version = version + 1 WHERE id = $1")
        .bind(incident.id)
        .bind(&fields.title)
        .bind(&fields.summary)
        .bind(fields.team_id)
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
    number: i64,
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

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
    pub(super) id: i64,
    number: i64,
    title: String,
    severity: i16,
    status: String,
    is_drill: bool,
    private: bool,
    team_name: Option<String>,
    point_id: Option<i64>,
    point_name: Option<String>,
    comms_id: Option<i64>,
    comms_name: Option<String>,
    pub(super) declared_at: OffsetDateTime,
    resolved_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
    next_update_at: Option<OffsetDateTime>,
}

/// Stored values are constrained by the schema; these readings cannot fail in practice,
/// and fall back to the least alarming reading rather than failing a whole page.
pub(crate) fn severity_of(level: i16) -> Severity {
    Severity::from_level(level).unwrap_or(Severity::Sev4)
}

fn status_of(stored: &str) -> Status {
    stored.parse().unwrap_or(Status::Investigating)
}

pub(crate) fn person(id: Option<i64>, name: Option<String>) -> Option<Person> {
    id.zip(name).map(|(id, display_name)| Person { id, display_name })
}

impl From<SummaryRow> for IncidentSummary {
    fn from(r: SummaryRow) -> Self {
        IncidentSummary {
            number: r.number,
            title: r.title,
            severity: severity_of(r.severity),
            status: status_of(&r.status),
            is_drill: r.is_drill,
            private: r.private,
            team_name: r.team_name,
            point: person(r.point_id, r.point_name),
            comms: person(r.comms_id, r.comms_name),
            declared_at: r.declared_at,
            resolved_at: r.resolved_at,
            updated_at: r.updated_at,
            next_update_at: r.next_update_at,
        }
    }
}

pub(super) const SUMMARY_SELECT: &str = "
    SELECT i.id, i.number, i.title, i.severity, i.status, i.is_drill, i.private, t.name AS team_name,
           p.user_id AS point_id, pu.display_name AS point_name,
           c.user_id AS comms_id, cu.display_name AS comms_name,
           i.declared_at, i.resolved_at, i.updated_at, i.next_update_at
      FROM incidents i
      LEFT JOIN teams t ON t.id = i.team_id
      LEFT JOIN incident_roles p ON p.incident_id = i.id AND p.role = 'point' AND p.ended_at IS NULL
      LEFT JOIN users pu ON pu.id = p.user_id
      LEFT JOIN incident_roles c ON c.incident_id = i.id AND c.role = 'comms' AND c.ended_at IS NULL
      LEFT JOIN users cu ON cu.id = c.user_id";

/// The signed-in home page: what is burning, what I hold, what just ended.
pub async fn dashboard(pool: &PgPool, user_id: i64) -> Result<Dashboard, AppError> {
    let visible = policy::incident_visible("i", "$1");
    let active: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.status <> 'resolved' AND {visible} ORDER BY i.severity, i.declared_at LIMIT 200"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    // Holding a role makes an incident visible: no further filter needed.
    let mine: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.status <> 'resolved'
           AND EXISTS (SELECT 1 FROM incident_roles r WHERE r.incident_id = i.id AND r.user_id = $1 AND r.ended_at IS NULL)
         ORDER BY i.severity, i.declared_at LIMIT 100"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let resolved: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE i.status = 'resolved' AND i.resolved_at > now() - interval '7 days' AND {visible}
         ORDER BY i.resolved_at DESC LIMIT 50"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(Dashboard {
        active: active.into_iter().map(Into::into).collect(),
        mine: mine.into_iter().map(Into::into).collect(),
        recently_resolved: resolved.into_iter().map(Into::into).collect(),
    })
}

/// The whole incident page: header, the timeline (and how many entries it has in all),
/// role history. The timeline is the latest [`TIMELINE_PAGE`] entries, or with
/// `timeline_from` every entry from that sequence number on (the newest [`TIMELINE_MAX`]).
pub async fn view(
    pool: &PgPool,
    number: i64,
    timeline_from: Option<i64>,
    viewer: i64,
) -> Result<(IncidentDetail, (Vec<TimelineEntry>, i64), Vec<RoleAssignment>), AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        title: String,
        summary: String,
        severity: i16,
        status: String,
        is_drill: bool,
        private: bool,
        team_can_see: bool,
        team_id: Option<i64>,
        team_name: Option<String>,
        resolution: String,
        started_at: Option<OffsetDateTime>,
        detected_at: Option<OffsetDateTime>,
        declared_at: OffsetDateTime,
        acknowledged_at: Option<OffsetDateTime>,
        mitigated_at: Option<OffsetDateTime>,
        resolved_at: Option<OffsetDateTime>,
        version: i32,
        last_seq: i64,
        postmortem_status: Option<String>,
        next_update_at: Option<OffsetDateTime>,
    }
    let row: Row = sqlx::query_as(&format!(
        "SELECT i.id, i.title, i.summary, i.severity, i.status, i.is_drill, i.private, i.team_can_see, i.team_id,
                t.name AS team_name, i.resolution, i.started_at, i.detected_at, i.declared_at, i.acknowledged_at,
                i.mitigated_at, i.resolved_at, i.version, i.last_seq,
                (SELECT p.status FROM postmortems p WHERE p.incident_id = i.id) AS postmortem_status, i.next_update_at
           FROM incidents i LEFT JOIN teams t ON t.id = i.team_id WHERE i.number = $1 AND {}",
        policy::incident_visible("i", "$2")
    ))
    .bind(number)
    .bind(viewer)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(incident_ref(number)))?;

    let services: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.id, s.name FROM incident_services x JOIN services s ON s.id = x.service_id
          WHERE x.incident_id = $1 ORDER BY lower(s.name)",
    )
    .bind(row.id)
    .fetch_all(pool)
    .await?;

    #[derive(sqlx::FromRow)]
    struct RoleRow {
        role: String,
        user_id: i64,
        display_name: String,
        by_id: Option<i64>,
        by_name: Option<String>,
        started_at: OffsetDateTime,
        ended_at: Option<OffsetDateTime>,
    }
    let role_rows: Vec<RoleRow> = sqlx::query_as(
        "SELECT r.role, r.user_id, u.display_name, r.assigned_by AS by_id, b.display_name AS by_name, r.started_at, r.ended_at
           FROM incident_roles r JOIN users u ON u.id = r.user_id LEFT JOIN users b ON b.id = r.assigned_by
          WHERE r.incident_id = $1 ORDER BY r.started_at, r.id",
    )
    .bind(row.id)
    .fetch_all(pool)
    .await?;
    let roles: Vec<RoleAssignment> = role_rows
        .into_iter()
        .filter_map(|r| {
            Some(RoleAssignment {
                role: r.role.parse().ok()?,
                person: Person { id: r.user_id, display_name: r.display_name },
                assigned_by: person(r.by_id, r.by_name),
                started_at: r.started_at,
                ended_at: r.ended_at,
            })
        })
        .collect();
    let current =
        |role: IncidentRole| roles.iter().find(|r| r.role == role && r.ended_at.is_none()).map(|r| r.person.clone());
    let detail = IncidentDetail {
        number,
        title: row.title,
        summary: row.summary,
        severity: severity_of(row.severity),
        status: status_of(&row.status),
        is_drill: row.is_drill,
        privacy: Privacy { private: row.private, team_can_see: row.team_can_see },
        team_id: row.team_id,
        team_name: row.team_name,
        services: services.into_iter().map(|(id, name)| ServiceRef { id, name }).collect(),
        point: current(IncidentRole::Point),
        comms: current(IncidentRole::Comms),
        participants: roles
            .iter()
            .filter(|r| r.role == IncidentRole::Participant && r.ended_at.is_none())
            .map(|r| r.person.clone())
            .collect(),
        resolution: row.resolution,
        timestamps: Timestamps {
            started: row.started_at,
            detected: row.detected_at,
            declared: row.declared_at,
            acknowledged: row.acknowledged_at,
            mitigated: row.mitigated_at,
            resolved: row.resolved_at,
        },
        version: row.version,
        last_seq: row.last_seq,
        postmortem: row.postmortem_status.and_then(|s| s.parse().ok()),
        next_update_at: row.next_update_at,
    };
    // Sequence numbers have no gaps, so the last one is how many entries there are.
    let timeline = match timeline_from {
        None => timeline::latest(pool, row.id, 1, TIMELINE_PAGE).await?,
        Some(from) => timeline::latest(pool, row.id, from, TIMELINE_MAX).await?,
    };
    Ok((detail, (timeline, row.last_seq), roles))
}

/// Active people, for choosing whom to hand a role to.
/// Active people by name: those who may hold a role, or with `viewers` everyone.
pub async fn people(pool: &PgPool, viewers: bool) -> Result<Vec<Person>, AppError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, display_name FROM users WHERE active AND ($1 OR role <> 'viewer') ORDER BY lower(display_name)",
    )
    .bind(viewers)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id, display_name)| Person { id, display_name }).collect())
}
