//! Who is in an incident's response and who may see it: holding and handing off point
//! and comms, joining, adding people, and making an incident private or public. Every
//! change is one transaction that also appends the timeline entry saying so.

use super::IncidentId;
use super::incidents::lock;
use super::timeline;
use crate::error::AppError;
use crate::model::*;
use crate::server::policy;
use sqlx::{PgConnection, PgExecutor, PgPool};

/// The incident's id when `viewer` may see it (see [`policy::incident_visible`]);
/// otherwise the same 404 as for a number that was never used.
pub async fn visible_id(
    db: impl PgExecutor<'_>,
    number: IncidentNumber,
    viewer: Option<UserId>,
) -> Result<IncidentId, AppError> {
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`).
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

async fn display_name(tx: &mut PgConnection, user_id: UserId) -> Result<String, AppError> {
    sqlx::query_scalar!("SELECT display_name FROM users WHERE id = $1 AND active", user_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("user_id", "Choose an active user."))
}

/// Gives `role` to `user_id`, ending the current holder's tenure; one timeline entry.
pub(super) async fn assign_in(
    tx: &mut PgConnection,
    incident_id: IncidentId,
    by: &Caller,
    role: IncidentRole,
    user_id: UserId,
) -> Result<(), AppError> {
    let name = display_name(tx, user_id).await?;
    let current = sqlx::query!(
        "SELECT r.user_id, u.display_name FROM incident_roles r JOIN users u ON u.id = r.user_id
          WHERE r.incident_id = $1 AND r.role = $2 AND r.ended_at IS NULL",
        incident_id.0,
        role.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| (r.user_id, r.display_name));
    if current.as_ref().is_some_and(|(holder, _)| *holder == user_id.0) {
        return Err(AppError::invalid("user_id", format!("{name} already has {}.", role.as_str())));
    }
    sqlx::query!(
        "UPDATE incident_roles SET ended_at = now() WHERE incident_id = $1 AND role = $2 AND ended_at IS NULL",
        incident_id.0,
        role.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by) VALUES ($1, $2, $3, $4)",
        incident_id.0,
        role.as_str(),
        user_id.0,
        by.id.0
    )
    .execute(&mut *tx)
    .await?;
    if role == IncidentRole::Point {
        // Someone is directing the response: the incident is acknowledged.
        sqlx::query!(
            "UPDATE incidents SET acknowledged_at = coalesce(acknowledged_at, now()) WHERE id = $1",
            incident_id.0
        )
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
    number: IncidentNumber,
    role: IncidentRole,
    user_id: UserId,
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
pub async fn join(pool: &PgPool, by: &Caller, number: IncidentNumber) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = lock(&mut tx, number).await?;
    let inserted = sqlx::query!(
        "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by)
         VALUES ($1, 'participant', $2, $2) ON CONFLICT DO NOTHING",
        incident.id.0,
        by.id.0
    )
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
async fn ensure_may_manage_access(tx: &mut PgConnection, by: &Caller, incident_id: IncidentId) -> Result<(), AppError> {
    let holds_point: bool = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM incident_roles
                         WHERE incident_id = $1 AND user_id = $2 AND role = 'point' AND ended_at IS NULL) AS "exists!""#, incident_id.0, by.id.0)
    .fetch_one(&mut *tx)
    .await?;
    if policy::may_manage_access(by, holds_point) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// Adds `user_id` to the response (in the caller's transaction; point or an admin);
/// one timeline entry. Returns their name and whether the incident is private.
pub async fn add_participant(
    tx: &mut PgConnection,
    by: &Caller,
    number: IncidentNumber,
    user_id: UserId,
) -> Result<(String, bool), AppError> {
    let incident = lock(tx, number).await?;
    ensure_may_manage_access(tx, by, incident.id).await?;
    let person = sqlx::query!("SELECT display_name, active FROM users WHERE id = $1", user_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(|p| (p.display_name, p.active));
    let Some((name, true)) = person else {
        return Err(AppError::invalid("user_id", "Choose an active person."));
    };
    let added = sqlx::query!(
        "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by)
         VALUES ($1, 'participant', $2, $3) ON CONFLICT DO NOTHING",
        incident.id.0,
        user_id.0,
        by.id.0
    )
    .execute(&mut *tx)
    .await?;
    if added.rows_affected() == 0 {
        return Err(AppError::invalid("user_id", format!("{name} is already a participant.")));
    }
    let body = format!("{} added {name} to the response", by.display_name);
    timeline::append(tx, incident.id, EntryKind::Access, Some(by.id), &body).await?;
    let private: bool =
        sqlx::query_scalar!("SELECT private FROM incidents WHERE id = $1", incident.id.0).fetch_one(&mut *tx).await?;
    Ok((name, private))
}

/// Makes the incident private or public (in the caller's transaction; point or an
/// admin); one timeline entry. Returns what it was before, or `None` when nothing changed.
pub async fn set_privacy(
    tx: &mut PgConnection,
    by: &Caller,
    number: IncidentNumber,
    privacy: Privacy,
) -> Result<Option<Privacy>, AppError> {
    let incident = lock(tx, number).await?;
    ensure_may_manage_access(tx, by, incident.id).await?;
    let row =
        sqlx::query!("SELECT private, team_can_see, is_drill, team_id FROM incidents WHERE id = $1", incident.id.0)
            .fetch_one(&mut *tx)
            .await?;
    let (private, team_can_see, is_drill, team_id) = (row.private, row.team_can_see, row.is_drill, row.team_id);
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
    sqlx::query!(
        "UPDATE incidents SET private = $2, team_can_see = $3, updated_at = now() WHERE id = $1",
        incident.id.0,
        privacy.private,
        privacy.team_can_see
    )
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

/// Active people, for choosing whom to hand a role to.
/// Active people by name: those who may hold a role, or with `viewers` everyone.
pub async fn people(pool: &PgPool, viewers: bool) -> Result<Vec<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT id, display_name FROM users WHERE active AND NOT is_bot AND ($1 OR role <> 'viewer')
          ORDER BY lower(display_name)",
        viewers
    )
    .fetch_all(pool)
    .await?)
}
