//! Runbooks: what to do when a service goes down, reviewed on a schedule and rehearsed
//! in drills.

use super::{Person, ServiceRef};
use crate::model::RunbookId;
use crate::model::{IncidentNumber, TeamId};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub const DEFAULT_REVIEW_DAYS: i32 = 90;

/// Due for review: never reviewed, or reviewed longer ago than its interval.
pub fn review_overdue(
    created_at: OffsetDateTime,
    last_reviewed_at: Option<OffsetDateTime>,
    interval_days: i32,
    now: OffsetDateTime,
) -> bool {
    last_reviewed_at.unwrap_or(created_at) + Duration::days(i64::from(interval_days)) < now
}

/// The text of a runbook: what a save carries and a version keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunbookText {
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookSummary {
    pub id: RunbookId,
    pub title: String,
    pub services: Vec<ServiceRef>,
    pub team_name: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reviewed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_drilled_at: Option<OffsetDateTime>,
    pub review_overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drill {
    pub incident_number: IncidentNumber,
    pub started_by: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runbook {
    pub id: RunbookId,
    pub text: RunbookText,
    pub body_html: String,
    pub version: i32,
    pub services: Vec<ServiceRef>,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub review_interval_days: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reviewed_at: Option<OffsetDateTime>,
    pub last_reviewed_by: Option<Person>,
    pub review_overdue: bool,
    pub updated_by: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub drills: Vec<Drill>,
    pub can_edit: bool,
}

/// A runbook as the incident page lists it: why it is there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRunbook {
    pub id: RunbookId,
    pub title: String,
    /// Attached by hand (not through an affected service).
    pub attached: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookVersion {
    pub version: i32,
    pub author: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn review_falls_due_after_the_interval() {
        let created = datetime!(2026-01-01 00:00 UTC);
        let reviewed = Some(datetime!(2026-06-01 00:00 UTC));
        assert!(!review_overdue(created, reviewed, 90, datetime!(2026-08-29 00:00 UTC)));
        assert!(review_overdue(created, reviewed, 90, datetime!(2026-08-31 00:00 UTC)));
        assert!(
            review_overdue(created, None, 90, datetime!(2026-04-02 00:00 UTC)),
            "never reviewed counts from creation"
        );
        assert!(!review_overdue(created, None, 90, datetime!(2026-03-01 00:00 UTC)));
    }
}
