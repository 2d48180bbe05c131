use super::on_unique;
use crate::error::AppError;
use crate::model::{Team, TeamMember};
use crate::model::{TeamId, UserId};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;

/// Every team with its lead and members, by name.
pub async fn list(pool: &PgPool) -> Result<Vec<Team>, AppError> {
    let teams = sqlx::query!("SELECT id, name, lead_id FROM teams ORDER BY lower(name)").fetch_all(pool).await?;
    let members = sqlx::query!(
        "SELECT m.team_id, u.id AS user_id, u.display_name
           FROM team_members m JOIN users u ON u.id = m.user_id
          ORDER BY lower(u.display_name)"
    )
    .fetch_all(pool)
    .await?;
    let mut by_team: BTreeMap<i64, Vec<TeamMember>> = BTreeMap::new();
    for m in members {
        by_team
            .entry(m.team_id)
            .or_default()
            .push(TeamMember { user_id: UserId(m.user_id), display_name: m.display_name });
    }
    Ok(teams
        .into_iter()
        .map(|t| {
            let members = by_team.remove(&t.id).unwrap_or_default();
            let lead = t.lead_id.and_then(|lead| members.iter().find(|m| m.user_id == UserId(lead)).cloned());
            Team { id: TeamId(t.id), name: t.name, lead, members }
        })
        .collect())
}

/// Creates the team called `name` (as typed: it is checked here), recorded in the
/// audit trail as `actor`'s doing.
pub async fn create(pool: &PgPool, actor: &super::audit::Actor, name: &str) -> Result<i64, AppError> {
    let name = crate::model::TeamName::parse(name)?.into_inner();
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar!("INSERT INTO teams (name) VALUES ($1) RETURNING id", &name)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| on_unique(e, "teams_name_key", "name", "A team with this name already exists."))?;
    let details = serde_json::json!({ "team_id": id });
    super::audit::record(&mut *tx, actor, crate::model::AuditKind::TeamCreated, &format!("team {name}"), details)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The team's name, with the team locked for the rest of the transaction.
async fn lock_team(tx: &mut PgConnection, team_id: TeamId) -> Result<String, AppError> {
    let found: Option<String> = sqlx::query_scalar!("SELECT name FROM teams WHERE id = $1 FOR UPDATE", team_id.0)
        .fetch_optional(&mut *tx)
        .await?;
    found.ok_or_else(|| AppError::NotFound("That team".into()))
}

async fn ensure_user(tx: &mut PgConnection, user_id: UserId) -> Result<(), AppError> {
    let found: Option<i64> =
        sqlx::query_scalar!("SELECT id FROM users WHERE id = $1", user_id.0).fetch_optional(&mut *tx).await?;
    found.map(|_| ()).ok_or_else(|| AppError::invalid("user_id", "Choose an existing user."))
}

/// Adds a member (in the caller's transaction); the team's name if they were not one yet.
async fn add_member_in(tx: &mut PgConnection, team_id: TeamId, user_id: UserId) -> Result<Option<String>, AppError> {
    let team = lock_team(tx, team_id).await?;
    ensure_user(tx, user_id).await?;
    let added = sqlx::query!(
        "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        team_id.0,
        user_id.0
    )
    .execute(&mut *tx)
    .await?;
    Ok((added.rows_affected() > 0).then_some(team))
}

/// Removes a member (in the caller's transaction); the team's name if they were one.
/// Removing the lead also leaves the team without a lead.
async fn remove_member_in(tx: &mut PgConnection, team_id: TeamId, user_id: UserId) -> Result<Option<String>, AppError> {
    let team = lock_team(tx, team_id).await?;
    let removed = sqlx::query!("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", team_id.0, user_id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("UPDATE teams SET lead_id = NULL WHERE id = $1 AND lead_id = $2", team_id.0, user_id.0)
        .execute(&mut *tx)
        .await?;
    Ok((removed.rows_affected() > 0).then_some(team))
}

/// Sets (or clears) the lead (in the caller's transaction); a lead is always a member, so
/// they are added if needed. The team's name if the lead changed.
async fn set_lead_in(tx: &mut PgConnection, team_id: TeamId, lead: Option<UserId>) -> Result<Option<String>, AppError> {
    let team = lock_team(tx, team_id).await?;
    if let Some(user_id) = lead {
        ensure_user(tx, user_id).await?;
        sqlx::query!(
            "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            team_id.0,
            user_id.0
        )
        .execute(&mut *tx)
        .await?;
    }
    let previous: Option<i64> =
        sqlx::query_scalar!("SELECT lead_id FROM teams WHERE id = $1", team_id.0).fetch_one(&mut *tx).await?;
    let lead = lead.map(|u| u.0);
    sqlx::query!("UPDATE teams SET lead_id = $2 WHERE id = $1", team_id.0, lead).execute(&mut *tx).await?;
    Ok((previous != lead).then_some(team))
}

/// Records a change of a team's people: `user_id` is the member added or removed, or
/// the new lead (`None`: no lead any more).
async fn record_change(
    tx: &mut PgConnection,
    actor: &super::audit::Actor,
    kind: crate::model::AuditKind,
    team: &str,
    team_id: TeamId,
    user_id: Option<UserId>,
) -> Result<(), AppError> {
    let user = match user_id {
        Some(id) => super::audit::user_target(tx, id).await?,
        None => "nobody".to_owned(),
    };
    let details = serde_json::json!({ "team_id": team_id, "user_id": user_id, "user": user });
    super::audit::record(&mut *tx, actor, kind, &format!("team {team}"), details).await
}

/// Adds `user_id` to the team (nothing happens if they are in it), recorded as `actor`'s doing.
pub async fn add_member(
    pool: &PgPool,
    actor: &super::audit::Actor,
    team_id: TeamId,
    user_id: UserId,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if let Some(team) = add_member_in(&mut tx, team_id, user_id).await? {
        record_change(&mut tx, actor, crate::model::AuditKind::TeamMemberAdded, &team, team_id, Some(user_id)).await?;
    }
    Ok(tx.commit().await?)
}

/// Takes `user_id` out of the team, recorded as `actor`'s doing.
pub async fn remove_member(
    pool: &PgPool,
    actor: &super::audit::Actor,
    team_id: TeamId,
    user_id: UserId,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if let Some(team) = remove_member_in(&mut tx, team_id, user_id).await? {
        record_change(&mut tx, actor, crate::model::AuditKind::TeamMemberRemoved, &team, team_id, Some(user_id))
            .await?;
    }
    Ok(tx.commit().await?)
}

/// Makes `lead` the team's lead (`None`: no lead), recorded as `actor`'s doing.
pub async fn set_lead(
    pool: &PgPool,
    actor: &super::audit::Actor,
    team_id: TeamId,
    lead: Option<UserId>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if let Some(team) = set_lead_in(&mut tx, team_id, lead).await? {
        record_change(&mut tx, actor, crate::model::AuditKind::TeamLeadChanged, &team, team_id, lead).await?;
    }
    Ok(tx.commit().await?)
}

/// Refuses a team that does not exist (`team_id` named), for the forms that set an
/// owning team: incidents, postmortems, runbooks.
pub(crate) async fn ensure_exists(tx: &mut sqlx::PgConnection, team_id: Option<TeamId>) -> Result<(), AppError> {
    let Some(team) = team_id else { return Ok(()) };
    let exists: bool = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1) AS "exists!""#, team.0)
        .fetch_one(&mut *tx)
        .await?;
    if exists { Ok(()) } else { Err(AppError::invalid("team_id", "Choose an existing team.")) }
}
