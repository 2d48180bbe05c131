//! Incidents as both sides see them.

use super::{Person, ServiceRef, TimelineEntry};
use crate::model::{IncidentNumber, TeamId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// How bad it is. SEV1 is the worst. On the wire as people write it: `"SEV1"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Severity {
    #[serde(rename = "SEV1", alias = "Sev1")]
    Sev1,
    #[serde(rename = "SEV2", alias = "Sev2")]
    Sev2,
    #[serde(rename = "SEV3", alias = "Sev3")]
    Sev3,
    #[serde(rename = "SEV4", alias = "Sev4")]
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    pub fn level(self) -> i16 {
        self as i16 + 1
    }

    pub fn from_level(level: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(level - 1).ok()?).copied()
    }

    pub fn label(self) -> &'static str {
        ["SEV1", "SEV2", "SEV3", "SEV4"][self as usize]
    }

    /// The one-line meaning shown wherever a severity is chosen.
    pub fn description(self) -> &'static str {
        match self {
            Severity::Sev1 => "Critical: customer-facing outage or data loss",
            Severity::Sev2 => "Major: a key feature is broken or badly degraded for many customers",
            Severity::Sev3 => "Minor: partial degradation, a workaround exists",
            Severity::Sev4 => "Low: little customer impact; internal tooling or a cosmetic issue",
        }
    }

    pub fn css_class(self) -> &'static str {
        ["sev sev1", "sev sev2", "sev sev3", "sev sev4"][self as usize]
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let level = t.strip_prefix("SEV").unwrap_or(&t);
        level
            .parse::<i16>()
            .ok()
            .and_then(Severity::from_level)
            .ok_or_else(|| format!("Unknown severity \"{}\": choose SEV1, SEV2, SEV3 or SEV4.", s.trim()))
    }
}

word_enum! {
    /// Where the response stands.
    pub enum Status ("status", "") {
        Investigating = "investigating", "Investigating";
        Identified = "identified", "Identified";
        Monitoring = "monitoring", "Monitoring";
        Resolved = "resolved", "Resolved";
    }
}

impl Status {
    pub fn is_active(self) -> bool {
        self != Status::Resolved
    }

    /// Whether moving from `self` to `to` makes sense. Active statuses move freely
    /// among themselves (a wrong diagnosis goes back to investigating); a resolved
    /// incident can only be reopened, which starts investigating again.
    pub fn can_move_to(self, to: Status) -> Result<(), String> {
        if self == to {
            return Err(format!("The incident is already {}.", to.as_str()));
        }
        if self == Status::Resolved && to != Status::Investigating {
            return Err("A resolved incident can only be reopened (back to investigating).".into());
        }
        Ok(())
    }
}

word_enum! {
    /// A role someone holds in one incident.
    pub enum IncidentRole ("incident role", "choose point or comms") {
        /// Directs the response (even without doing the work).
        Point = "point", "Point";
        /// Keeps the company (and the public) informed.
        Comms = "comms", "Comms";
        /// Joined to help.
        Participant = "participant", "Participant";
    }
}

/// `INC-42` ⇄ 42.
pub fn incident_ref(number: IncidentNumber) -> String {
    format!("INC-{number}")
}

pub fn parse_incident_ref(s: &str) -> Option<IncidentNumber> {
    let t = s.trim();
    let digits = t.strip_prefix("INC-").or_else(|| t.strip_prefix("inc-")).unwrap_or(t);
    digits.parse().ok().filter(|n: &i64| *n > 0).map(IncidentNumber)
}

/// One line of a list: the dashboard, history, search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentSummary {
    pub number: IncidentNumber,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub is_drill: bool,
    pub private: bool,
    pub team_name: Option<String>,
    pub point: Option<Person>,
    pub comms: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub declared_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When comms promised the next update; past it (while active) the update is overdue.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update_at: Option<OffsetDateTime>,
}

word_enum! {
    /// The key moments of an incident; metrics come from these.
    pub enum Milestone ("timestamp", "") {
        Started = "started", "Started";
        Detected = "detected", "Detected";
        Declared = "declared", "Declared";
        Acknowledged = "acknowledged", "Acknowledged";
        Mitigated = "mitigated", "Mitigated";
        Resolved = "resolved", "Resolved";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Timestamps {
    #[serde(with = "time::serde::rfc3339::option")]
    pub started: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub detected: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub declared: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub mitigated: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved: Option<OffsetDateTime>,
}

impl Timestamps {
    pub fn get(&self, milestone: Milestone) -> Option<OffsetDateTime> {
        match milestone {
            Milestone::Started => self.started,
            Milestone::Detected => self.detected,
            Milestone::Declared => Some(self.declared),
            Milestone::Acknowledged => self.acknowledged,
            Milestone::Mitigated => self.mitigated,
            Milestone::Resolved => self.resolved,
        }
    }

    /// Where the clock starts for the response metrics: when it started, else when it
    /// was detected, else when it was declared.
    pub fn origin(&self) -> OffsetDateTime {
        self.started.or(self.detected).unwrap_or(self.declared)
    }

    pub fn time_to_acknowledge(&self) -> Option<time::Duration> {
        self.acknowledged.map(|t| t - self.origin())
    }

    pub fn time_to_mitigate(&self) -> Option<time::Duration> {
        self.mitigated.map(|t| t - self.origin())
    }

    pub fn time_to_resolve(&self) -> Option<time::Duration> {
        self.resolved.map(|t| t - self.origin())
    }
}

/// Everything the incident page header shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentDetail {
    pub number: IncidentNumber,
    pub title: String,
    pub summary: String,
    pub severity: Severity,
    pub status: Status,
    pub is_drill: bool,
    pub privacy: Privacy,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub services: Vec<ServiceRef>,
    pub point: Option<Person>,
    pub comms: Option<Person>,
    pub participants: Vec<Person>,
    pub resolution: String,
    pub timestamps: Timestamps,
    pub version: i32,
    pub last_seq: i64,
    /// Where its postmortem stands, once one is started.
    pub postmortem: Option<super::PostmortemStatus>,
    /// When comms promised the next update.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update_at: Option<OffsetDateTime>,
    /// The alerts that declared it, if an alert did.
    pub alert: Option<super::AlertOrigin>,
}

/// Who may see an incident. Public: everyone signed in. Private: admins, its
/// participants, and its owning team's members when `team_can_see`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Privacy {
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub team_can_see: bool,
}

/// A change of who holds a role, for the handoff history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub role: IncidentRole,
    pub person: Person,
    pub assigned_by: Option<Person>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
}

/// The incident page: header, timeline, role history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub incident: IncidentDetail,
    /// The latest entries, oldest first: [`TIMELINE_PAGE`] unless earlier ones were asked for.
    pub timeline: Vec<TimelineEntry>,
    /// How many entries the timeline has in all.
    pub timeline_total: i64,
    pub roles: Vec<RoleAssignment>,
    /// Whether the caller may change it (responders and admins).
    pub can_respond: bool,
    /// Whether the caller may make it private or public and add people (point, admins).
    pub can_manage_access: bool,
    pub viewer_id: UserId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Dashboard {
    pub active: Vec<IncidentSummary>,
    pub mine: Vec<IncidentSummary>,
    pub recently_resolved: Vec<IncidentSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentPage {
    pub items: Vec<IncidentSummary>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_and_order_worst_first() {
        assert_eq!("sev1".parse::<Severity>(), Ok(Severity::Sev1));
        assert_eq!("3".parse::<Severity>(), Ok(Severity::Sev3));
        assert!("SEV5".parse::<Severity>().is_err());
        assert!("critical".parse::<Severity>().is_err());
        assert!(Severity::Sev1 < Severity::Sev4);
        assert_eq!(Severity::from_level(2), Some(Severity::Sev2));
    }

    #[test]
    fn resolved_incidents_only_reopen() {
        assert!(Status::Resolved.can_move_to(Status::Monitoring).is_err());
        assert!(Status::Resolved.can_move_to(Status::Investigating).is_ok());
        assert!(Status::Identified.can_move_to(Status::Investigating).is_ok());
        assert!(Status::Monitoring.can_move_to(Status::Monitoring).is_err());
    }

    #[test]
    fn incident_refs_round_trip() {
        assert_eq!(parse_incident_ref(&incident_ref(IncidentNumber(42))), Some(IncidentNumber(42)));
        assert_eq!(parse_incident_ref("inc-7"), Some(IncidentNumber(7)));
        assert_eq!(parse_incident_ref("INC-0"), None);
        assert_eq!(parse_incident_ref("INC-x"), None);
    }
}
