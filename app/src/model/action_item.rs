//! Action items: the remediation work an incident leaves behind, scheduled (an owner
//! and a due date) and tracked to done.

use super::Person;
use crate::model::ActionItemId;
use crate::model::{IncidentNumber, TeamId, UserId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use time::{Date, OffsetDateTime, UtcOffset};

/// What the new-item form (and the API's create) sends; the data layer parses it.
/// Only the incident and the title are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewActionItem {
    pub incident_number: IncidentNumber,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    /// `P1`…`P3`; empty means P2.
    #[serde(default)]
    pub priority: String,
    /// `YYYY-MM-DD`, or empty.
    #[serde(default)]
    pub due_date: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Priority {
    P1,
    P2,
    P3,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::P1, Priority::P2, Priority::P3];

    pub fn level(self) -> i16 {
        self as i16 + 1
    }

    pub fn from_level(level: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(level - 1).ok()?).copied()
    }

    pub fn label(self) -> &'static str {
        ["P1", "P2", "P3"][self as usize]
    }

    /// What the priority means, shown wherever one is chosen.
    pub fn meaning(self) -> &'static str {
        match self {
            Priority::P1 => "Prevents a likely repeat of a serious incident: schedule it now",
            Priority::P2 => "Reduces the risk or the impact of a repeat: this quarter",
            Priority::P3 => "Worth doing when there is room",
        }
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        t.strip_prefix('P')
            .unwrap_or(&t)
            .parse::<i16>()
            .ok()
            .and_then(Priority::from_level)
            .ok_or_else(|| format!("Unknown priority \"{}\": choose P1, P2 or P3.", s.trim()))
    }
}

/// What an action item's owner reads in place of the title of a private incident they
/// may not see.
pub const PRIVATE_INCIDENT: &str = "Private incident";

word_enum! {
    /// Where an action item stands.
    pub enum ItemStatus ("status", "use open, in_progress, done or wont_do") {
        Open = "open", "Open";
        InProgress = "in_progress", "In progress";
        Done = "done", "Done";
        WontDo = "wont_do", "Won't do";
    }
}

impl ItemStatus {
    /// Done and won't-do items are closed: never overdue or unscheduled.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Done | Self::WontDo)
    }

    /// `open → in progress → done` (open may go straight to done), either may become
    /// won't do; a closed item can be reopened. Nothing else makes sense.
    pub fn can_move_to(self, to: Self) -> Result<(), String> {
        use ItemStatus::*;
        match (self, to) {
            (a, b) if a == b => Err(format!("It is already {}.", b.label().to_lowercase())),
            (Open, InProgress) | (Open, Done) | (InProgress, Done) | (InProgress, Open) => Ok(()),
            (Open | InProgress, WontDo) => Ok(()),
            (Done | WontDo, Open) => Ok(()),
            (Done | WontDo, _) => Err("It is closed: reopen it first.".into()),
            _ => Err(format!("{} cannot become {}.", self.label(), to.label().to_lowercase())),
        }
    }
}

/// The date it is for a reader at `offset` from UTC: due dates are calendar dates, so
/// an item due on the 25th is overdue from the reader's midnight, not UTC's.
pub fn local_today(now: OffsetDateTime, offset: UtcOffset) -> Date {
    now.to_offset(offset).date()
}

/// Past its due date and not closed.
pub fn is_overdue(status: ItemStatus, due: Option<Date>, today: Date) -> bool {
    !status.is_closed() && due.is_some_and(|d| d < today)
}

/// Open work without an owner or a due date.
pub fn is_unscheduled(status: ItemStatus, owner: bool, due: Option<Date>) -> bool {
    !status.is_closed() && (!owner || due.is_none())
}

/// A browser's UTC offset in minutes (east positive), bounded to real zones.
pub fn offset_from_minutes(minutes: i32) -> UtcOffset {
    UtcOffset::from_whole_seconds(minutes.clamp(-14 * 60, 14 * 60) * 60).unwrap_or(UtcOffset::UTC)
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// `YYYY-MM-DD`, as due dates travel and are shown.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionItem {
    pub id: ActionItemId,
    pub incident_number: IncidentNumber,
    pub incident_title: String,
    pub has_postmortem: bool,
    pub title: String,
    /// Markdown source, and rendered (sanitised) for display.
    pub description: String,
    pub description_html: String,
    pub owner: Option<Person>,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub priority: Priority,
    #[serde(with = "iso_date::option")]
    pub due_date: Option<Date>,
    pub status: ItemStatus,
    pub wont_do_reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub overdue: bool,
    pub unscheduled: bool,
    /// A P1 still unscheduled past the allowed number of days.
    pub late_to_schedule: bool,
}

/// One recorded change of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemChange {
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub by: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// How many items match, in total and by the flags the tracker counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ItemCounts {
    pub total: i64,
    pub open: i64,
    pub in_progress: i64,
    pub done: i64,
    pub wont_do: i64,
    pub overdue: i64,
    pub unscheduled: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracker {
    pub items: Vec<ActionItem>,
    pub counts: ItemCounts,
    pub can_edit: bool,
    /// Teams the reader leads (they may reassign those teams' items among members).
    pub leads: Vec<TeamId>,
    pub viewer_id: UserId,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// One team's line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub team_id: Option<TeamId>,
    pub team_name: String,
    pub open: i64,
    pub overdue: i64,
    pub unscheduled: i64,
    pub done_30_days: i64,
    /// Median days from creation to done, over items done (all time).
    pub median_days_to_done: Option<f64>,
    /// For each of the last 12 weeks (oldest first): items open at the week's end, and
    /// items done during the week.
    pub weeks: Vec<(i64, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn overdue_starts_at_the_readers_midnight() {
        let due = Some(date!(2026 - 11 - 25));
        let open = ItemStatus::Open;
        let utc = UtcOffset::UTC;
        assert!(!is_overdue(open, due, local_today(datetime!(2026-11-25 23:59 UTC), utc)), "still the due day in UTC");
        assert!(is_overdue(open, due, local_today(datetime!(2026-11-26 00:00 UTC), utc)));
        let tokyo = offset_from_minutes(9 * 60);
        assert!(
            is_overdue(open, due, local_today(datetime!(2026-11-25 15:00 UTC), tokyo)),
            "already the 26th in Tokyo"
        );
        assert!(!is_overdue(open, due, local_today(datetime!(2026-11-25 14:59 UTC), tokyo)));
        let new_york = offset_from_minutes(-5 * 60);
        assert!(
            !is_overdue(open, due, local_today(datetime!(2026-11-26 04:59 UTC), new_york)),
            "still the 25th in New York"
        );
        assert!(is_overdue(open, due, local_today(datetime!(2026-11-26 05:00 UTC), new_york)));
        assert!(!is_overdue(ItemStatus::Done, due, date!(2027 - 01 - 01)), "done is never overdue");
        assert!(!is_overdue(open, None, date!(2027 - 01 - 01)), "no due date, not overdue (but unscheduled)");
    }

    #[test]
    fn unscheduled_means_no_owner_or_no_date() {
        let due = Some(date!(2026 - 12 - 01));
        assert!(is_unscheduled(ItemStatus::Open, false, due));
        assert!(is_unscheduled(ItemStatus::InProgress, true, None));
        assert!(!is_unscheduled(ItemStatus::Open, true, due));
        assert!(!is_unscheduled(ItemStatus::WontDo, false, None));
    }

    #[test]
    fn status_moves() {
        use ItemStatus::*;
        assert!(Open.can_move_to(InProgress).is_ok());
        assert!(InProgress.can_move_to(Done).is_ok());
        assert!(Open.can_move_to(WontDo).is_ok());
        assert!(Done.can_move_to(Open).is_ok());
        assert!(Done.can_move_to(InProgress).is_err());
        assert!(WontDo.can_move_to(Done).is_err());
        assert!(Open.can_move_to(Open).is_err());
    }
}
