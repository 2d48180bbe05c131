//! Action items, changed: every change is recorded with who and when, and told on the
//! incident's timeline, in the same transaction. Reading them (the tracker, its counts,
//! the CSV, the summary) is [`super::tracker`].

use super::IncidentId;
use super::incidents;
use super::timeline;
use crate::error::AppError;
use crate::model::ActionItemId;
use crate::model::*;
use crate::server::policy;
use sqlx::{PgConnection, PgPool};
use time::Date;

/// What a new item says. Only the incident and the title are required.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub incident_number: IncidentNumber,
    pub title: String,
    pub description: String,
    pub owner_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub priority: Priority,
    pub due_date: Option<Date>,
}

impl NewItem {
    /// Reads the new-item form (the page's, or the API's body: the same one).
    pub fn from_form(item: &crate::model::NewActionItem) -> Result<Self, AppError> {
        Ok(NewItem {
            incident_number: item.incident_number,
            title: ItemTitle::parse(&item.title)?.into_inner(),
            description: ItemDescription::parse(&item.description)?.into_inner(),
            owner_id: item.owner_id,
            team_id: item.team_id,
            priority: match item.priority.trim() {
                "" => Priority::P2,
                p => p.parse().map_err(|m| AppError::invalid("priority", m))?,
            },
            due_date: parse_due_date(&item.due_date)?,
        })
    }
}

/// `YYYY-MM-DD`, or empty for none.
pub fn parse_due_date(value: &str) -> Result<Option<Date>, AppError> {
    match value.trim() {
        "" => Ok(None),
        v => parse_date(v)
            .ok_or_else(|| AppError::invalid("due_date", "Use a date like 2026-12-01."))
            .and_then(|d| check_date("due_date", d))
            .map(Some),
    }
}

async fn active_user_name(tx: &mut PgConnection, user_id: UserId) -> Result<String, AppError> {
    sqlx::query_scalar!("SELECT display_name FROM users WHERE id = $1 AND active", user_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("owner_id", "Choose an active person as the owner."))
}

async fn team_name(tx: &mut PgConnection, team_id: TeamId) -> Result<String, AppError> {
    sqlx::query_scalar!("SELECT name FROM teams WHERE id = $1", team_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("team_id", "Choose an existing team."))
}

pub async fn create(pool: &PgPool, by: &Caller, item: NewItem) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, item.incident_number).await?;
    if let Some(owner) = item.owner_id {
        active_user_name(&mut tx, owner).await?;
    }
    if let Some(team) = item.team_id {
        team_name(&mut tx, team).await?;
    }
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO action_items (incident_id, title, description, owner_id, team_id, priority, due_date, created_by)
         SELECT $1, $2, $3, $4, COALESCE($5, i.team_id), $6, $7, $8 FROM incidents i WHERE i.id = $1
         RETURNING id",
        incident.id.0,
        &item.title,
        &item.description,
        item.owner_id.map(|v| v.0),
        item.team_id.map(|v| v.0),
        item.priority.level(),
        item.due_date,
        by.id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    let body = format!("{} added action item #{id} ({}): {}", by.display_name, item.priority.label(), item.title);
    timeline::append(&mut tx, incident.id, EntryKind::ActionItem, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(id)
}

/// The item being changed, locked.
pub struct Locked {
    pub id: ActionItemId,
    pub incident_id: IncidentId,
    pub title: String,
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
    pub team_id: Option<TeamId>,
    pub priority: Priority,
    pub due_date: Option<Date>,
    pub status: ItemStatus,
}

async fn lock(tx: &mut PgConnection, id: ActionItemId) -> Result<Locked, AppError> {
    let row = sqlx::query!(
        r#"SELECT a.incident_id, a.title, a.owner_id, u.display_name AS "owner_name?", a.team_id, a.priority,
                  a.due_date, a.status
             FROM action_items a LEFT JOIN users u ON u.id = a.owner_id WHERE a.id = $1 FOR UPDATE OF a"#,
        id.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("Action item #{id}")))?;
    Ok(Locked {
        id,
        incident_id: IncidentId(row.incident_id),
        title: row.title,
        owner_id: row.owner_id.map(UserId),
        owner_name: row.owner_name,
        team_id: row.team_id.map(TeamId),
        priority: Priority::from_level(row.priority).ok_or(AppError::Internal)?,
        due_date: row.due_date,
        status: row.status.parse().map_err(|_| AppError::Internal)?,
    })
}

/// Records one change: its history row, and a sentence on the incident's timeline.
async fn record(
    tx: &mut PgConnection,
    item: &Locked,
    by: &Caller,
    field: &str,
    old: &str,
    new: &str,
    sentence: &str,
) -> Result<(), AppError> {
    sqlx::query!("UPDATE action_items SET updated_at = now() WHERE id = $1", item.id.0).execute(&mut *tx).await?;
    sqlx::query!("INSERT INTO action_item_changes (item_id, field, old_value, new_value, changed_by) VALUES ($1, $2, $3, $4, $5)", item.id.0, field, old, new, by.id.0)
        .execute(&mut *tx)
        .await?;
    let body = format!("{} {sentence} on action item #{}: {}", by.display_name, item.id, item.title);
    timeline::append(tx, item.incident_id, EntryKind::ActionItem, Some(by.id), &body).await?;
    Ok(())
}

/// Whether `by` may give item `id` to `new_owner` as the lead of the item's team
/// (leads reassign within their team even without the responder role).
pub async fn lead_may_reassign(
    pool: &PgPool,
    by: &Caller,
    id: ActionItemId,
    new_owner: Option<UserId>,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM action_items a JOIN teams t ON t.id = a.team_id
                         WHERE a.id = $1 AND t.lead_id = $2
                           AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.user_id = $3))) AS "exists!""#, id.0, by.id.0, new_owner.map(|v| v.0))
    .fetch_one(pool)
    .await?)
}

/// The teams `user_id` leads.
pub async fn teams_led_by(pool: &PgPool, user_id: UserId) -> Result<Vec<TeamId>, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT id AS "id: TeamId" FROM teams WHERE lead_id = $1"#, user_id.0)
        .fetch_all(pool)
        .await?)
}

/// Gives the item to `owner` (or nobody) for `by`: a responder may; so may the lead of
/// the item's team, within the team. The one place that rule lives.
pub async fn reassign(pool: &PgPool, by: &Caller, id: ActionItemId, owner: Option<UserId>) -> Result<(), AppError> {
    if !policy::role_allows(by.role, policy::Permission::TrackActionItems)
        && !lead_may_reassign(pool, by, id, owner).await?
    {
        tracing::warn!(target: "foghorn::audit", user_id = by.id.0, item = id.0, "refused: not a responder or this team's lead");
        return Err(AppError::Forbidden);
    }
    set_owner(pool, by, id, owner).await
}

pub async fn set_owner(pool: &PgPool, by: &Caller, id: ActionItemId, owner: Option<UserId>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.owner_id == owner {
        return Ok(());
    }
    let new_name = match owner {
        Some(user) => Some(active_user_name(&mut tx, user).await?),
        None => None,
    };
    sqlx::query!("UPDATE action_items SET owner_id = $2 WHERE id = $1", id.0, owner.map(|v| v.0))
        .execute(&mut *tx)
        .await?;
    let old = item.owner_name.clone().unwrap_or_default();
    let new = new_name.clone().unwrap_or_default();
    let sentence = match (&item.owner_name, &new_name) {
        (_, None) => format!("removed {old} as owner"),
        (None, Some(n)) => format!("made {n} the owner"),
        (Some(o), Some(n)) => format!("reassigned from {o} to {n}"),
    };
    record(&mut tx, &item, by, "owner", &old, &new, &sentence).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_due_date(pool: &PgPool, by: &Caller, id: ActionItemId, due: Option<Date>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.due_date == due {
        return Ok(());
    }
    sqlx::query!("UPDATE action_items SET due_date = $2 WHERE id = $1", id.0, due).execute(&mut *tx).await?;
    let show = |d: Option<Date>| d.map(format_date).unwrap_or_default();
    let sentence = match due {
        Some(d) => format!("set the due date to {}", format_date(d)),
        None => "cleared the due date".to_owned(),
    };
    record(&mut tx, &item, by, "due_date", &show(item.due_date), &show(due), &sentence).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_priority(pool: &PgPool, by: &Caller, id: ActionItemId, priority: Priority) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.priority == priority {
        return Ok(());
    }
    sqlx::query!("UPDATE action_items SET priority = $2 WHERE id = $1", id.0, priority.level())
        .execute(&mut *tx)
        .await?;
    let sentence = format!("changed the priority from {} to {}", item.priority.label(), priority.label());
    record(&mut tx, &item, by, "priority", item.priority.label(), priority.label(), &sentence).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_team(pool: &PgPool, by: &Caller, id: ActionItemId, team: Option<TeamId>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.team_id == team {
        return Ok(());
    }
    let new_name = match team {
        Some(t) => team_name(&mut tx, t).await?,
        None => String::new(),
    };
    let old_name = match item.team_id {
        Some(t) => team_name(&mut tx, t).await?,
        None => String::new(),
    };
    sqlx::query!("UPDATE action_items SET team_id = $2 WHERE id = $1", id.0, team.map(|v| v.0))
        .execute(&mut *tx)
        .await?;
    let sentence =
        if new_name.is_empty() { "removed the team".to_owned() } else { format!("gave it to team {new_name}") };
    record(&mut tx, &item, by, "team", &old_name, &new_name, &sentence).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the status; won't do needs a reason, and closing stamps `closed_at`.
pub async fn set_status(
    pool: &PgPool,
    by: &Caller,
    id: ActionItemId,
    to: ItemStatus,
    reason: &str,
) -> Result<(), AppError> {
    let reason = WontDoReason::parse(reason)?.into_inner();
    if to == ItemStatus::WontDo && reason.is_empty() {
        return Err(AppError::invalid("reason", "Say why it won't be done."));
    }
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    item.status.can_move_to(to).map_err(|m| AppError::invalid("status", m))?;
    sqlx::query!(
        "UPDATE action_items SET status = $2,
                wont_do_reason = CASE WHEN $2 = 'wont_do' THEN $3 ELSE '' END,
                closed_at = CASE WHEN $2 IN ('done', 'wont_do') THEN now() ELSE NULL END
          WHERE id = $1",
        id.0,
        to.as_str(),
        reason
    )
    .execute(&mut *tx)
    .await?;
    let sentence = match to {
        ItemStatus::Done => "marked it done".to_owned(),
        ItemStatus::WontDo => format!("decided it won't be done ({reason})"),
        ItemStatus::InProgress => "started work".to_owned(),
        ItemStatus::Open if item.status.is_closed() => "reopened it".to_owned(),
        ItemStatus::Open => "moved it back to open".to_owned(),
    };
    record(&mut tx, &item, by, "status", item.status.as_str(), to.as_str(), &sentence).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn edit(
    pool: &PgPool,
    by: &Caller,
    id: ActionItemId,
    title: &str,
    description: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    sqlx::query!("UPDATE action_items SET title = $2, description = $3 WHERE id = $1", id.0, title, description)
        .execute(&mut *tx)
        .await?;
    record(&mut tx, &item, by, "details", &item.title, title, "edited the title and description").await?;
    tx.commit().await?;
    Ok(())
}
