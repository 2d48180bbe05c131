//! The action-item tracker, read: pages with keyset cursors, the counts, the CSV
//! export streamed in batches, one item's history, the per-team summary. Changing items
//! is [`super::action_items`].
//!
//! The schedule rules (overdue, unscheduled) live in [`crate::model`]; the lists are
//! paged and the counts and summary aggregated in the database, so those rules are
//! also written once in SQL here ([`OVERDUE`], [`UNSCHEDULED`]) for the tracker, its
//! counts, the CSV and the summary alike. Nothing loads every item at once. Its SQL is
//! assembled from those pieces, the visibility rule and the optional filters, so unlike
//! the rest of the data layer it is checked by the tests rather than the compiler.
//!
//! One file of about 470 lines on purpose: the filter, the sort keys and their cursors
//! are shared by every read here, and split up they would have to be public.

use super::person;
use crate::error::AppError;
use crate::model::ActionItemId;
use crate::model::*;
use crate::server::{exports, policy};
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::{Date, Duration, OffsetDateTime};

/// Items per page of the tracker.
pub const PAGE_SIZE: i64 = 50;

/// Items read per query while the CSV export streams.
pub const CSV_BATCH: i64 = 500;

/// [`is_overdue`] in SQL; `$today` is pushed after it as a bind.
const OVERDUE: &str = "(a.status IN ('open', 'in_progress') AND a.due_date < ";
/// [`is_unscheduled`] in SQL.
const UNSCHEDULED: &str = "(a.status IN ('open', 'in_progress') AND (a.owner_id IS NULL OR a.due_date IS NULL))";

#[derive(sqlx::FromRow)]
struct Row {
    id: ActionItemId,
    number: IncidentNumber,
    incident_title: String,
    has_postmortem: bool,
    title: String,
    description: String,
    owner_id: Option<UserId>,
    owner_name: Option<String>,
    team_id: Option<TeamId>,
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
fn push_select(q: &mut QueryBuilder<'_, Postgres>, viewer: UserId) {
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
            owner: person(self.owner_id.map(|v| v.0), self.owner_name),
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
            Sort::Due => Cursor::Due(item.due_date, item.priority.level(), item.id.0),
            Sort::Priority => Cursor::Priority(item.priority.level(), item.due_date, item.id.0),
            Sort::Age => Cursor::Age(item.created_at, item.id.0),
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
fn push_filter(q: &mut QueryBuilder<'_, sqlx::Postgres>, filter: &ItemCriteria, j: &Judgement) {
    if let Some(team) = filter.team_id {
        q.push(" AND a.team_id = ").push_bind(team);
    }
    if let Some(owner) = filter.owner_id {
        q.push(" AND a.owner_id = ").push_bind(owner);
    }
    match filter.status {
        Some(StatusChoice::Is(s)) => {
            q.push(" AND a.status = ").push_bind(s.as_str());
        }
        Some(StatusChoice::Active) => {
            q.push(" AND a.status IN ('open', 'in_progress')");
        }
        None => {}
    }
    if let Some(p) = filter.priority {
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
}

/// Up to `limit` items matching the filter after `cursor`, in the filter's order, and
/// the cursor of the next page if there is one.
async fn page(
    pool: &PgPool,
    filter: &ItemCriteria,
    j: &Judgement,
    viewer: UserId,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<ActionItem>, Option<Cursor>), AppError> {
    let sort = Sort::parse(&filter.sort);
    let mut q = QueryBuilder::new("");
    push_select(&mut q, viewer);
    push_filter(&mut q, filter, j);
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
pub async fn get(pool: &PgPool, id: ActionItemId, j: &Judgement, viewer: UserId) -> Result<ActionItem, AppError> {
    let mut q = QueryBuilder::new("");
    push_select(&mut q, viewer);
    q.push(" AND a.id = ").push_bind(id);
    let row: Option<Row> = q.build_query_as().fetch_optional(pool).await?;
    row.map(|r| r.into_item(j)).ok_or_else(|| AppError::NotFound("That action item".into()))
}

/// How many items match the filter, in total and by status and flag.
async fn counts(pool: &PgPool, filter: &ItemCriteria, j: &Judgement, viewer: UserId) -> Result<ItemCounts, AppError> {
    let mut q = QueryBuilder::new(
        "SELECT count(*), count(*) FILTER (WHERE a.status = 'open'), count(*) FILTER (WHERE a.status = 'in_progress'),
                count(*) FILTER (WHERE a.status = 'done'), count(*) FILTER (WHERE a.status = 'wont_do'),
                count(*) FILTER (WHERE ",
    );
    q.push(OVERDUE).push_bind(j.today).push(")), count(*) FILTER (WHERE ").push(UNSCHEDULED).push(")");
    q.push(" FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE ");
    policy::push_item_visible(&mut q, "a", "i", viewer);
    push_filter(&mut q, filter, j);
    let (total, open, in_progress, done, wont_do, overdue, unscheduled): (i64, i64, i64, i64, i64, i64, i64) =
        q.build_query_as().fetch_one(pool).await?;
    Ok(ItemCounts { total, open, in_progress, done, wont_do, overdue, unscheduled })
}

/// One page of the tracker (after `filter.cursor`), the counts of every match, and the
/// cursor of the next page.
pub async fn list(
    pool: &PgPool,
    filter: &ItemCriteria,
    j: &Judgement,
    viewer: UserId,
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
    filter: &ItemCriteria,
    j: &Judgement,
    viewer: UserId,
) -> Result<bool, AppError> {
    let mut q = QueryBuilder::new(
        "SELECT EXISTS (SELECT 1 FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE i.private AND ",
    );
    policy::push_item_visible(&mut q, "a", "i", viewer);
    push_filter(&mut q, filter, j);
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
    filter: &ItemCriteria,
    j: &Judgement,
    viewer: UserId,
    after: Option<CsvCursor>,
) -> Result<(String, Option<CsvCursor>), AppError> {
    let (items, next) = page(pool, filter, j, viewer, after.map(|c| c.0), CSV_BATCH).await?;
    let header = if after.is_none() { exports::csv_header() } else { String::new() };
    Ok((header + &exports::csv_rows(&items), next.map(CsvCursor)))
}

/// 404 unless `viewer` may see the item (see [`policy::push_item_visible`]).
pub async fn ensure_visible(pool: &PgPool, id: ActionItemId, viewer: UserId) -> Result<(), AppError> {
    let mut q = QueryBuilder::new(
        "SELECT EXISTS (SELECT 1 FROM action_items a JOIN incidents i ON i.id = a.incident_id WHERE ",
    );
    policy::push_item_visible(&mut q, "a", "i", viewer);
    q.push(" AND a.id = ").push_bind(id).push(")");
    let visible: bool = q.build_query_scalar().fetch_one(pool).await?;
    if visible { Ok(()) } else { Err(AppError::NotFound(format!("Action item #{id}"))) }
}

pub async fn history(pool: &PgPool, id: ActionItemId) -> Result<Vec<ItemChange>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT c.field, c.old_value, c.new_value, c.changed_by, u.display_name AS "by_name?", c.changed_at
             FROM action_item_changes c LEFT JOIN users u ON u.id = c.changed_by
            WHERE c.item_id = $1 ORDER BY c.changed_at, c.id"#,
        id.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ItemChange {
            field: r.field,
            old_value: r.old_value,
            new_value: r.new_value,
            by: person(r.changed_by, r.by_name),
            at: r.changed_at,
        })
        .collect())
}

/// Per team: open, overdue, unscheduled, done in 30 days, median days to done, and
/// open-vs-done for each of the last 12 weeks; aggregated in the database.
pub async fn summary(pool: &PgPool, j: &Judgement, viewer: UserId) -> Result<Vec<TeamSummary>, AppError> {
    let visible = policy::item_visible("a", "i", "$3");
    #[derive(sqlx::FromRow)]
    struct Row {
        team_id: Option<TeamId>,
        team_name: Option<String>,
        open: i64,
        overdue: i64,
        unscheduled: i64,
        done_30_days: i64,
        median_days_to_done: Option<f64>,
    }
    // Dynamic: the visibility rule and the overdue and unscheduled conditions the lists share are spliced in.
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT a.team_id, min(t.name) AS team_name,
                count(*) FILTER (WHERE a.status IN ('open', 'in_progress')) AS open,
                count(*) FILTER (WHERE {OVERDUE}$1)) AS overdue,
                count(*) FILTER (WHERE {UNSCHEDULED}) AS unscheduled,
                count(*) FILTER (WHERE a.status = 'done' AND a.closed_at > $2 - interval '30 days') AS done_30_days,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM a.closed_at - a.created_at) / 86400)::float8)
                    FILTER (WHERE a.status = 'done' AND a.closed_at IS NOT NULL) AS median_days_to_done
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
    // Dynamic: the visibility rule and the overdue and unscheduled conditions the lists share are spliced in.
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
        .map(|r| {
            let mut chart = vec![(0, 0); 12];
            for (_, n, open_then, done_then) in weeks.iter().filter(|w| w.0 == r.team_id.map(|v| v.0)) {
                if let Some(week) = chart.get_mut(*n as usize) {
                    *week = (*open_then, *done_then);
                }
            }
            TeamSummary {
                team_id: r.team_id,
                team_name: r.team_name.unwrap_or_else(|| "No team".into()),
                open: r.open,
                overdue: r.overdue,
                unscheduled: r.unscheduled,
                done_30_days: r.done_30_days,
                median_days_to_done: r.median_days_to_done,
                weeks: chart,
            }
        })
        .collect())
}
