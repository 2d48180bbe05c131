//! Action items: every change is recorded with who and when, and told on the
//! incident's timeline, in the same transaction.
//!
//! The schedule rules (overdue, unscheduled) live in [`crate::model`]; the lists are
//! paged and the counts and summary aggregated in the database, so those rules are
//! also written once in SQL here ([`OVERDUE`], [`UNSCHEDULED`]) for the tracker, its
//! counts, the CSV and the summary alike. Nothing loads every item at once.

use super::timeline;
use super::{incidents, person};
use crate::error::AppError;
use crate::model::*;
use crate::server::{exports, policy};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use time::{Date, Duration, OffsetDateTime};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_REASON_CHARS: usize = 2_000;

/// Items per page of the tracker.
pub const PAGE_SIZE: i64 = 50;

/// Items read per query while the CSV export streams.
pub const CSV_BATCH: i64 = 500;

/// [`is_overdue`] in SQL; `$today` is pushed after it as a bind.
const OVERDUE: &str = "(a.status IN ('open', 'in_progress') AND a.due_date < ";
/// [`is_unscheduled`] in SQL.
const UNSCHEDULED: &str = "(a.status IN ('open', 'in_progress') AND (a.owner_id IS NULL OR a.due_date IS NULL))";

/// What a new item says. Only the incident and the title are required.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub incident_number: i64,
    pub title: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub team_id: Option<i64>,
    pub priority: Priority,
    pub due_date: Option<Date>,
}

impl NewItem {
    /// Reads the new-item form (the page's, or the API's body: the same one).
    pub fn from_form(item: &crate::api::action_items::NewActionItem) -> Result<Self, AppError> {
        Ok(NewItem {
            incident_number: item.incident_number,
            title: parse_title(&item.title)?,
            description: parse_description(&item.description)?,
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

pub fn parse_title(title: &str) -> Result<String, AppError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::invalid("title", "Say what needs doing."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(AppError::invalid(
            "title",
            format!("Keep the title under {MAX_TITLE_CHARS} characters; put detail in the description."),
        ));
    }
    Ok(title.to_owned())
}

pub fn parse_description(description: &str) -> Result<String, AppError> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid(
            "description",
            format!("Keep the description under {MAX_DESCRIPTION_CHARS} characters."),
        ));
    }
    Ok(description.trim_end().to_owned())
}

async fn active_user_name(tx: &mut PgConnection, user_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1 AND active")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("owner_id", "Choose an active person as the owner."))
}

async fn team_name(tx: &mut PgConnection, team_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT name FROM teams WHERE id = $1")
        .bind(team_id)
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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO action_items (incident_id, title, description, owner_id, team_id, priority, due_date, created_by)
         SELECT $1, $2, $3, $4, COALESCE($5, i.team_id), $6, $7, $8 FROM incidents i WHERE i.id = $1
         RETURNING id",
    )
    .bind(incident.id)
    .bind(&item.title)
    .bind(&item.description)
    .bind(item.owner_id)
    .bind(item.team_id)
    .bind(item.priority.level())
    .bind(item.due_date)
    .bind(by.id)
    .fetch_one(&mut *tx)
    .await?;
    let body = format!("{} added action item #{id} ({}): {}", by.display_name, item.priority.label(), item.title);
    timeline::append(&mut tx, incident.id, EntryKind::ActionItem, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(id)
}

/// The item being changed, locked.
pub struct Locked {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub team_id: Option<i64>,
    pub priority: Priority,
    pub due_date: Option<Date>,
    pub status: ItemStatus,
}

async fn lock(tx: &mut PgConnection, id: i64) -> Result<Locked, AppError> {
    #[allow(clippy::type_complexity)]
    let row: Option<(i64, String, Option<i64>, Option<String>, Option<i64>, i16, Option<Date>, String)> =
        sqlx::query_as(
            "SELECT a.incident_id, a.title, a.owner_id, u.display_name, a.team_id, a.priority, a.due_date, a.status
           FROM action_items a LEFT JOIN users u ON u.id = a.owner_id WHERE a.id = $1 FOR UPDATE OF a",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let (incident_id, title, owner_id, owner_name, team_id, priority, due_date, status) =
        row.ok_or_else(|| AppError::NotFound(format!("Action item #{id}")))?;
    Ok(Locked {
        id,
        incident_id,
        title,
        owner_id,
        owner_name,
        team_id,
        priority: Priority::from_level(priority).ok_or(AppError::Internal)?,
        due_date,
        status: status.parse().map_err(|_| AppError::Internal)?,
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
    sqlx::query("UPDATE action_items SET updated_at = now() WHERE id = $1").bind(item.id).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO action_item_changes (item_id, field, old_value, new_value, changed_by) VALUES ($1, $2, $3, $4, $5)")
        .bind(item.id)
        .bind(field)
        .bind(old)
        .bind(new)
        .bind(by.id)
        .execute(&mut *tx)
        .await?;
    let body = format!("{} {sentence} on action item #{}: {}", by.display_name, item.id, item.title);
    timeline::append(tx, item.incident_id, EntryKind::ActionItem, Some(by.id), &body).await?;
    Ok(())
}

/// Whether `by` may give item `id` to `new_owner` as the lead of the item's team
/// (leads reassign within their team even without the responder role).
pub async fn lead_may_reassign(pool: &PgPool, by: &Caller, id: i64, new_owner: Option<i64>) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM action_items a JOIN teams t ON t.id = a.team_id
                         WHERE a.id = $1 AND t.lead_id = $2
                           AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.user_id = $3)))",
    )
    .bind(id)
    .bind(by.id)
    .bind(new_owner)
    .fetch_one(pool)
    .await?)
}

/// The teams `user_id` leads.
pub async fn teams_led_by(pool: &PgPool, user_id: i64) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar("SELECT id FROM teams WHERE lead_id = $1").bind(user_id).fetch_all(pool).await?)
}

/// Gives the item to `owner` (or nobody) for `by`: a responder may; so may the lead of
/// the item's team, within the team. The one place that rule lives.
pub async fn reassign(pool: &PgPool, by: &Caller, id: i64, owner: Option<i64>) -> Result<(), AppError> {
    if !policy::role_allows(by.role, policy::Permission::TrackActionItems)
        && !lead_may_reassign(pool, by, id, owner).await?
    {
        tracing::warn!(target: "foghorn::audit", user_id = by.id, item = id, "refused: not a responder or this team's lead");
        return Err(AppError::Forbidden);
    }
    set_owner(pool, by, id, owner).await
}

pub async fn set_owner(pool: &PgPool, by: &Caller, id: i64, owner: Option<i64>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.owner_id == owner {
        return Ok(());
    }
    let new_name = match owner {
        Some(user) => Some(active_user_name(&mut tx, user).await?),
        None => None,
    };
    sqlx::query("UPDATE action_items SET owner_id = $2 WHERE id = $1").bind(id).bind(owner).execute(&mut *tx).await?;
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

pub async fn set_due_date(pool: &PgPool, by: &Caller, id: i64, due: Option<Date>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.due_date == due {
        return Ok(());
    }
    sqlx::query("UPDATE action_items SET due_date = $2 WHERE id = $1").bind(id).bind(due).execute(&mut *tx).await?;
    let show = |d: Option<Date>| d.map(format_date).unwrap_or_default();
    let sentence = match due {
        Some(d) => format!("set the due date to {}", format_date(d)),
        None => "cleared the due date".to_owned(),
    };
    record(&mut tx, &item, by, "due_date", &show(item.due_date), &show(due), &sentence).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_priority(pool: &PgPool, by: &Caller, id: i64, priority: Priority) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    if item.priority == priority {
        return Ok(());
    }
    sqlx::query("UPDATE action_items SET priority = $2 WHERE id = $1")
        .bind(id)
        .bind(priority.level())
        .execute(&mut *tx)
        .await?;
    let sentence = format!("changed the priority from {} to {}", item.priority.label(), priority.label());
    record(&mut tx, &item, by, "priority", item.priority.label(), priority.label(), &sentence).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_team(pool: &PgPool, by: &Caller, id: i64, team: Option<i64>) -> Result<(), AppError> {
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
    sqlx::query("UPDATE action_items SET team_id = $2 WHERE id = $1").bind(id).bind(team).execute(&mut *tx).await?;
    let sentence =
        if new_name.is_empty() { "removed the team".to_owned() } else { format!("gave it to team {new_name}") };
    record(&mut tx, &item, by, "team", &old_name, &new_name, &sentence).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the status; won't do needs a reason, and closing stamps `closed_at`.
pub async fn set_status(pool: &PgPool, by: &Caller, id: i64, to: ItemStatus, reason: &str) -> Result<(), AppError> {
    let reason = reason.trim();
    if to == ItemStatus::WontDo && reason.is_empty() {
        return Err(AppError::invalid("reason", "Say why it won't be done."));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid("reason", format!("Keep the reason under {MAX_REASON_CHARS} characters.")));
    }
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    item.status.can_move_to(to).map_err(|m| AppError::invalid("status", m))?;
    sqlx::query(
        "UPDATE action_items SET status = $2,
                wont_do_reason = CASE WHEN $2 = 'wont_do' THEN $3 ELSE '' END,
                closed_at = CASE WHEN $2 IN ('done', 'wont_do') THEN now() ELSE NULL END
          WHERE id = $1",
    )
    .bind(id)
    .bind(to.as_str())
    .bind(reason)
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

pub async fn edit(pool: &PgPool, by: &Caller, id: i64, title: &str, description: &str) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let item = lock(&mut tx, id).await?;
    sqlx::query("UPDATE action_items SET title = $2, description = $3 WHERE id = $1")
        .bind(id)
        .bind(title)
        .bind(description)
        .execute(&mut *tx)
        .await?;
    record(&mut tx, &item, by, "details", &item.title, title, "edited the title and description").await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    number: i64,
    incident_title: String,
    has_postmortem: bool,
    title: String,
    description: String,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    team_id: Option<i64>,
    team_name: Option<String>,
    priority: i16,
    due_date: Option<Date>,
    status: String,
    wont_do_reason: String,
    created_at: OffsetDateTime,
    closed_at: Option<OffsetDateTime>,
    incident_visible: bool,
}

/// The tracker's SELECT, for `viewer`: whether they may see the item's incident is a
/// column, so an owner who may see only the item gets it without the incident's title.
fn push_select(q: &mut QueryBuilder<'_, Postgres>, viewer: i64) {
    q.push(
        "SELECT a.id, i.number, i.title AS incident_title,
                EXISTS (SELECT 1 FROM postmortems p WHERE p.incident_id = a.incident_id) AS has_postmortem,
                a.title, a.description, a.owner_id, u.display_name AS owner_name, a.team_id, t.name AS team_name,
                a.priority, a.due_date, a.status, a.wont_do_reason, a.created_at, a.closed_at, ",
    );
    policy::push_incident_visible(q, "i", Some(viewer));
    q.push(
        " AS incident_visible
           FROM action_items a
           JOIN incidents i ON i.id = a.incident_id
           LEFT JOIN users u ON u.id = a.owner_id
           LEFT JOIN teams t ON t.id = a.team_id
          WHERE ",
    );
    policy::push_item_visible(q, "a", "i", viewer);
}

/// When the flags are judged: the reader's date, the current time, and how many days a
/// P1 may stay unscheduled.
#[derive(Debug, Clone, Copy)]
pub struct Judgement {
    pub today: Date,
    pub now: OffsetDateTime,
    pub p1_schedule_days: i64,
}

impl Judgement {
    /// Judged now, on the reader's date (their UTC offset in minutes, as the browser
    /// reports it), with this instance's P1 scheduling limit.
    pub fn now(state: &crate::server::AppState, tz_offset_minutes: i32) -> Self {
        let now = OffsetDateTime::now_utc();
        Judgement {
            today: local_today(now, offset_from_minutes(tz_offset_minutes)),
            now,
            p1_schedule_days: state.p1_schedule_days,
        }
    }
}

impl Row {
    fn into_item(self, j: &Judgement) -> ActionItem {
        let status: ItemStatus = self.status.parse().unwrap_or(ItemStatus::Open);
        let priority = Priority::from_level(self.priority).unwrap_or(Priority::P3);
        let unscheduled = is_unscheduled(status, self.owner_id.is_some(), self.due_date);
        ActionItem {
            id: self.id,
            incident_number: self.number,
            incident_title: if self.incident_visible { self.incident_title } else { PRIVATE_INCIDENT.to_owned() },
            has_postmortem: self.has_postmortem && self.incident_visible,
            title: self.title,
            description_html: crate::server::markdown::render(&self.description),
            description: self.description,
            owner: person(self.owner_id, self.owner_name),
            team_id: self.team_id,
            team_name: self.team_name,
            priority,
            due_date: self.due_date,
            status,
            wont_do_reason: self.wont_do_reason,
            created_at: self.created_at,
            closed_at: self.closed_at,
            overdue: is_overdue(status, self.due_date, j.today),
            unscheduled,
            late_to_schedule: priority == Priority::P1
                && unscheduled
                && self.created_at + Duration::days(j.p1_schedule_days) < j.now,
        }
    }
}

/// The order of the tracker, as SQL, and the keyset cursor that continues it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sort {
    /// Soonest due first (undated last), then priority.
    Due,
    /// P1 first, then soonest due.
    Priority,
    /// Oldest first.
    Age,
}

/// Where the previous page ended, in the sort's own key.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    Due(Option<Date>, i16, i64),
    Priority(i16, Option<Date>, i64),
    Age(OffsetDateTime, i64),
}

impl Sort {
    fn parse(by: &str) -> Sort {
        match by {
            "priority" => Sort::Priority,
            "age" => Sort::Age,
            _ => Sort::Due,
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Due => " ORDER BY coalesce(a.due_date, 'infinity'::date), a.priority, a.id",
            Sort::Priority => " ORDER BY a.priority, coalesce(a.due_date, 'infinity'::date), a.id",
            Sort::Age => " ORDER BY a.created_at, a.id",
        }
    }

    fn cursor_after(self, item: &ActionItem) -> Cursor {
        match self {
            Sort::Due => Cursor::Due(item.due_date, item.priority.level(), item.id),
            Sort::Priority => Cursor::Priority(item.priority.level(), item.due_date, item.id),
            Sort::Age => Cursor::Age(item.created_at, item.id),
        }
    }
}

impl Cursor {
    /// `due:<date or ->:<priority>:<id>`, `priority:<priority>:<date or ->:<id>`,
    /// `age:<unix nanos>:<id>`.
    fn encode(self) -> String {
        let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        match self {
            Cursor::Due(due, priority, id) => format!("due:{}:{priority}:{id}", date(due)),
            Cursor::Priority(priority, due, id) => format!("priority:{priority}:{}:{id}", date(due)),
            Cursor::Age(at, id) => format!("age:{}:{id}", at.unix_timestamp_nanos()),
        }
    }

    /// The cursor of a page of `sort`; `None` for the first page.
    fn parse(cursor: &str, sort: Sort) -> Result<Option<Cursor>, AppError> {
        let cursor = cursor.trim();
        if cursor.is_empty() {
            return Ok(None);
        }
        let invalid = || AppError::invalid("cursor", "That page link is no longer valid; start from the first page.");
        let date = |s: &str| -> Result<Option<Date>, AppError> {
            if s == "-" {
                return Ok(None);
            }
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(s, &format).map(Some).map_err(|_| invalid())
        };
        let parts: Vec<&str> = cursor.split(':').collect();
        let number = |s: &str| s.parse::<i64>().map_err(|_| invalid());
        let level = |s: &str| s.parse::<i16>().map_err(|_| invalid());
        let parsed = match (sort, parts.as_slice()) {
            (Sort::Due, ["due", due, priority, id]) => Cursor::Due(date(due)?, level(priority)?, number(id)?),
            (Sort::Priority, ["priority", priority, due, id]) => {
                Cursor::Priority(level(priority)?, date(due)?, number(id)?)
            }
            (Sort::Age, ["age", nanos, id]) => {
                let nanos = nanos.parse::<i128>().map_err(|_| invalid())?;
                Cursor::Age(OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| invalid())?, number(id)?)
            }
            _ => return Err(invalid()),
        };
        Ok(Some(parsed))
    }

    /// Rows after this one in its sort's order.
    fn push_after(self, q: &mut QueryBuilder<'_, sqlx::Postgres>) {
        match self {
            Cursor::Due(due, priority, id) => {
                q.push(" AND (coalesce(a.due_date, 'infinity'::date), a.priority, a.id) > (coalesce(")
                    .push_bind(due)
                    .push("::date, 'infinity'::date), ")
                    .push_bind(priority)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            Cursor::Priority(priority, due, id) => {
                q.push(" AND (a.priority, coalesce(a.due_date, 'infinity'::date), a.id) > (")
                    .push_bind(priority)
                    .push(", coalesce(")
                    .push_bind(due)
                    .push("::date, 'infinity'::date), ")
                    .push_bind(id)
                    .push(")");
            }
            Cursor::Age(at, id) => {
                q.push(" AND (a.created_at, a.id) > (").push_bind(at).push(", ").push_bind(id).push(")");
            }
        }
    }
}

/// The filter's conditions, after a `WHERE true`.
fn push_filter(q: &mut QueryBuilder<'_, sqlx::Postgres>, filter: &ItemFilter, j: &Judgement) -> Result<(), AppError> {
    let status = match filter.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some("active") => Some(None),
        Some(s) => Some(Some(s.parse::<ItemStatus>().map_err(|m| AppError::invalid("status", m))?)),
        None => None,
    };
    let priority = match filter.priority.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Some(p.parse::<Priority>().map_err(|m| AppError::invalid("priority", m))?),
        None => None,
    };
    if let Some(team) = filter.team_id {
        q.push(" AND a.team_id = ").push_bind(team);
    }
    if let Some(owner) = filter.owner_id {
        q.push(" AND a.owner_id = ").push_bind(owner);
    }
    match status {
        Some(Some(s)) => {
            q.push(" AND a.status = ").push_bind(s.as_str());
        }
        Some(None) => {
            q.push(" AND a.status IN ('open', 'in_progress')");
        }
        None => {}
    }
    if let Some(p) = priority {
        q.push(" AND a.priority = ").push_bind(p.level());
    }
    if let Some(number) = filter.incident {
        q.push(" AND i.number = ").push_bind(number);
    }
    if filter.overdue {
        q.push(" AND ").push(OVERDUE).push_bind(j.today).push(")");
    }
    if filter.unscheduled {
        q.push(" AND ").push(UNSCHEDULED);
    }
    Ok(())
}

/// Up to `limit` items matching the filter after `cursor`, in the filter's order, and
/// the cursor of the next page if there is one.
async fn page(
    pool: &PgPool,
    filter: &ItemFilter,
    j: &Judgement,
    viewer: i64,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<ActionItem>, Option<Cursor>), AppError> {
    let sort = Sort::parse(&filter.sort);
    let mut q = QueryBuilder::new("");
    push_select(&mut q, viewer);
    push_filter(&mut q, filter, j)?;
    if let Some(cursor) = cursor {
        cursor.push_after(&mut q);
    }
    q.push(sort.order_by()).push(" LIMIT ").push_bind(limit + 1);
    let mut rows: Vec<Row> = q.build_query_as().fetch_all(pool).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let items: Vec<ActionItem> = rows.into_iter().map(|r| r.into_item(j)).collect();
    let next = if more { items.last().map(|last| sort.cursor_after(last)) } else { None };
    Ok((items, next))
}

/// One item, as `viewer` may see it.
pub async fn get(pool: &PgPool, id: i64, j: &Judgement, viewer: i64) -> Result<ActionItem, AppError> {
    let mut q = QueryBuilder::new("");
    push_select(&mut q, viewer);
    q.push(" AND a.id = ").push_bind(id);
    let row: Option<Row> = q.build_query_as().fetch_optional(pool).await?;
    row.map(|r| r.into_item(j)).ok_or_else(|| AppError::NotFound("That action item".into()))
}

/// How many items match the filter, in total and by status and flag.
async fn counts(pool: &PgPool, filter: &ItemFilter, j: &Judgement, viewer: i64) -> Result<ItemCounts, AppError> {
    let mut q = QueryBuilder::new(
        "SELECT count(*), count(*) FILTER (WHERE a.status = 'open'), count(*) FILTER (WHERE a.status = 'in_progress'),
                count(*) FILTER (WHERE a.status = 'done'), count(*) FILTER (WHERE a.status = 'wont_do'),
                count(*) FILTER (WHERE ",
    );
    q.push(OVERDUE).push_bind(j.today).push(")), count(*) FILTER (WHERE ").push(UNSCHEDULED).push(")");
    q.push(" FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE ");
    policy::push_item_visible(&mut q, "a", "i", viewer);
    push_filter(&mut q, filter, j)?;
    let (total, open, in_progress, done, wont_do, overdue, unscheduled): (i64, i64, i64, i64, i64, i64, i64) =
        q.build_query_as().fetch_one(pool).await?;
    Ok(ItemCounts { total, open, in_progress, done, wont_do, overdue, unscheduled })
}

/// One page of the tracker (after `filter.cursor`), the counts of every match, and the
/// cursor of the next page.
pub async fn list(
    pool: &PgPool,
    filter: &ItemFilter,
    j: &Judgement,
    viewer: i64,
) -> Result<(Vec<ActionItem>, ItemCounts, Option<String>), AppError> {
    let cursor = Cursor::parse(&filter.cursor, Sort::parse(&filter.sort))?;
    let (items, next) = page(pool, filter, j, viewer, cursor, PAGE_SIZE).await?;
    let counts = counts(pool, filter, j, viewer).await?;
    Ok((items, counts, next.map(Cursor::encode)))
}

/// Whether an export of the filter, as `viewer` may see it, includes items of private
/// incidents (taking those out of Foghorn is recorded in the audit log).
pub async fn export_has_private(
    pool: &PgPool,
    filter: &ItemFilter,
    j: &Judgement,
    viewer: i64,
) -> Result<bool, AppError> {
    let mut q = QueryBuilder::new(
        "SELECT EXISTS (SELECT 1 FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE i.private AND ",
    );
    policy::push_item_visible(&mut q, "a", "i", viewer);
    push_filter(&mut q, filter, j)?;
    q.push(")");
    Ok(q.build_query_scalar().fetch_one(pool).await?)
}

/// Where the next batch of a CSV export starts.
#[derive(Debug, Clone, Copy)]
pub struct CsvCursor(Cursor);

/// One batch of the CSV export of every item matching the filter ([`CSV_BATCH`] items;
/// the header first when `after` is `None`), and where the next batch starts: the
/// export is streamed a batch at a time as the receiver takes it.
pub async fn csv_batch(
    pool: &PgPool,
    filter: &ItemFilter,
    j: &Judgement,
    viewer: i64,
    after: Option<CsvCursor>,
) -> Result<(String, Option<CsvCursor>), AppError> {
    let (items, next) = page(pool, filter, j, viewer, after.map(|c| c.0), CSV_BATCH).await?;
    let header = if after.is_none() { exports::csv_header() } else { String::new() };
    Ok((header + &exports::csv_rows(&items), next.map(CsvCursor)))
}

/// 404 unless `viewer` may see the item (see [`policy::push_item_visible`]).
pub async fn ensure_visible(pool: &PgPool, id: i64, viewer: i64) -> Result<(), AppError> {
    let mut q = QueryBuilder::new(
        "SELECT EXISTS (SELECT 1 FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE ",
    );
    policy::push_item_visible(&mut q, "a", "i", viewer);
    q.push(" AND a.id = ").push_bind(id).push(")");
    let visible: bool = q.build_query_scalar().fetch_one(pool).await?;
    if visible { Ok(()) } else { Err(AppError::NotFound(format!("Action item #{id}"))) }
}

pub async fn history(pool: &PgPool, id: i64) -> Result<Vec<ItemChange>, AppError> {
    let rows: Vec<(String, String, String, Option<i64>, Option<String>, OffsetDateTime)> = sqlx::query_as(
        "SELECT c.field, c.old_value, c.new_value, c.changed_by, u.display_name, c.changed_at
           FROM action_item_changes c LEFT JOIN users u ON u.id = c.changed_by
          WHERE c.item_id = $1 ORDER BY c.changed_at, c.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(field, old_value, new_value, by_id, by_name, at)| ItemChange {
            field,
            old_value,
            new_value,
            by: person(by_id, by_name),
            at,
        })
        .collect())
}

/// Per team: open, overdue, unscheduled, done in 30 days, median days to done, and
/// open-vs-done for each of the last 12 weeks; aggregated in the database.
pub async fn summary(pool: &PgPool, j: &Judgement, viewer: i64) -> Result<Vec<TeamSummary>, AppError> {
    let visible = policy::item_visible("a", "i", "$3");
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Option<i64>, Option<String>, i64, i64, i64, i64, Option<f64>)> = sqlx::query_as(&format!(
        "SELECT a.team_id, min(t.name),
                count(*) FILTER (WHERE a.status IN ('open', 'in_progress')),
                count(*) FILTER (WHERE {OVERDUE}$1)),
                count(*) FILTER (WHERE {UNSCHEDULED}),
                count(*) FILTER (WHERE a.status = 'done' AND a.closed_at > $2 - interval '30 days'),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM a.closed_at - a.created_at) / 86400)::float8)
                    FILTER (WHERE a.status = 'done' AND a.closed_at IS NOT NULL)
           FROM action_items a JOIN incidents i ON i.id = a.incident_id LEFT JOIN teams t ON t.id = a.team_id
          WHERE {visible}
          GROUP BY a.team_id
          ORDER BY lower(coalesce(min(t.name), '')), a.team_id NULLS FIRST"
    ))
    .bind(j.today)
    .bind(j.now)
    .bind(viewer)
    .fetch_all(pool)
    .await?;
    // Week w (0 = eleven weeks ago … 11 = the one ending now) ends at now - (11 - w) weeks.
    let visible = policy::item_visible("a", "i", "$2");
    let weeks: Vec<(Option<i64>, i32, i64, i64)> = sqlx::query_as(&format!(
        "SELECT a.team_id, w.n::int,
                count(*) FILTER (WHERE a.created_at <= w.end_at AND (a.closed_at IS NULL OR a.closed_at > w.end_at)),
                count(*) FILTER (WHERE a.status = 'done' AND a.closed_at > w.end_at - interval '1 week' AND a.closed_at <= w.end_at)
           FROM action_items a JOIN incidents i ON i.id = a.incident_id,
                LATERAL (SELECT n, $1 - make_interval(weeks => 11 - n) AS end_at FROM generate_series(0, 11) n) w
          WHERE {visible}
          GROUP BY a.team_id, w.n",
    ))
    .bind(j.now)
    .bind(viewer)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(team_id, team_name, open, overdue, unscheduled, done_30_days, median_days_to_done)| {
            let mut chart = vec![(0, 0); 12];
            for (_, n, open_then, done_then) in weeks.iter().filter(|w| w.0 == team_id) {
                if let Some(week) = chart.get_mut(*n as usize) {
                    *week = (*open_then, *done_then);
                }
            }
            TeamSummary {
                team_id,
                team_name: team_name.unwrap_or_else(|| "No team".into()),
                open,
                overdue,
                unscheduled,
                done_30_days,
                median_days_to_done,
                weeks: chart,
            }
        })
        .collect())
}
