//! The filters of the lists: incident history, postmortems, action items, runbooks.
//! One convention for all four.
//!
//! A filter is what a list's address carries: text, empty meaning "any" (flags are
//! booleans). A page copies it from its URL and back without loss, the REST API reads
//! it from the query string, and a JSON client may send an id as a bare number. Nothing
//! in it can fail while a request is decoded, where the field's name would be lost.
//! Instead `parse` turns it into its criteria — typed ids (`TeamId` …), enums for
//! statuses and other words, dates — and refuses a bad value by naming its field
//! (`team_id: "abc"` → 422 `field: team_id`). The data layer reads only the criteria.
//! Cursors stay opaque text: each list's data layer reads its own.

use super::{
    IncidentNumber, ItemStatus, PostmortemStatus, Priority, ServiceId, Severity, Status, TeamId, UserId, check_date,
    parse_choice, parse_incident_ref,
};
use crate::error::AppError;
use serde::{Deserialize, Deserializer, Serialize};
use std::str::FromStr;
use time::Date;

/// A filter's text field as sent: text, or a bare number or `true`/`false` from a JSON
/// client, or null (empty).
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Sent {
        Text(String),
        Number(i64),
        Flag(bool),
        Null(()),
    }
    Ok(match Option::<Sent>::deserialize(d)? {
        Some(Sent::Text(t)) => t,
        Some(Sent::Number(n)) => n.to_string(),
        Some(Sent::Flag(b)) => b.to_string(),
        Some(Sent::Null(())) | None => String::new(),
    })
}

/// A word from a closed set ([`word_enum!`]), or none when empty.
fn word<W: FromStr<Err = String>>(field: &str, value: &str) -> Result<Option<W>, AppError> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|m| AppError::invalid(field, m)),
    }
}

/// `YYYY-MM-DD` (UTC), or none when empty.
pub fn parse_date_field(field: &str, value: &str) -> Result<Option<Date>, AppError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(value.trim(), format)
        .map_err(|_| AppError::invalid(field, "Use a date like 2026-11-25."))
        .and_then(|d| check_date(field, d))
        .map(Some)
}

/// A status filter: one status, or `active` for every one still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChoice<S> {
    Active,
    Is(S),
}

impl<S: FromStr<Err = String>> StatusChoice<S> {
    fn parse(value: &str) -> Result<Option<Self>, AppError> {
        match value.trim() {
            "" => Ok(None),
            v if v.eq_ignore_ascii_case("active") => Ok(Some(StatusChoice::Active)),
            v => v.parse().map(|s| Some(StatusChoice::Is(s))).map_err(|m| AppError::invalid("status", m)),
        }
    }
}

/// Filters of the incident history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct IncidentFilter {
    /// A status, or `active` for every one but resolved.
    #[serde(deserialize_with = "text")]
    pub status: String,
    /// `SEV1` … `SEV4`.
    #[serde(deserialize_with = "text")]
    pub severity: String,
    #[serde(deserialize_with = "text")]
    pub team_id: String,
    #[serde(deserialize_with = "text")]
    pub service_id: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    #[serde(deserialize_with = "text")]
    pub from: String,
    #[serde(deserialize_with = "text")]
    pub to: String,
    #[serde(deserialize_with = "text")]
    pub q: String,
    /// Only incidents an alert declared.
    pub from_alert: bool,
    /// Opaque keyset cursor from the previous page.
    #[serde(deserialize_with = "text")]
    pub cursor: String,
}

/// What [`IncidentFilter`] asks for, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentCriteria {
    pub status: Option<StatusChoice<Status>>,
    pub severity: Option<Severity>,
    pub team_id: Option<TeamId>,
    pub service_id: Option<ServiceId>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Search words, trimmed; empty for none.
    pub q: String,
    pub from_alert: bool,
    pub cursor: String,
}

impl IncidentFilter {
    pub fn parse(&self) -> Result<IncidentCriteria, AppError> {
        Ok(IncidentCriteria {
            status: StatusChoice::parse(&self.status)?,
            severity: word("severity", &self.severity)?,
            team_id: parse_choice("team_id", &self.team_id)?,
            service_id: parse_choice("service_id", &self.service_id)?,
            from: parse_date_field("from", &self.from)?,
            to: parse_date_field("to", &self.to)?,
            q: self.q.trim().to_owned(),
            from_alert: self.from_alert,
            cursor: self.cursor.trim().to_owned(),
        })
    }

    /// The filter as URL query pairs (only those set), for links to the next page.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let pairs = [
            ("q", self.q.clone()),
            ("status", self.status.clone()),
            ("severity", self.severity.clone()),
            ("team_id", self.team_id.clone()),
            ("service_id", self.service_id.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("from_alert", if self.from_alert { "true".into() } else { String::new() }),
            ("cursor", self.cursor.clone()),
        ];
        pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect()
    }
}

/// Filters of `/postmortems`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PostmortemFilter {
    #[serde(deserialize_with = "text")]
    pub team_id: String,
    #[serde(deserialize_with = "text")]
    pub status: String,
    #[serde(deserialize_with = "text")]
    pub service_id: String,
    /// Full-text search over the sections and the incident's title and summary.
    #[serde(deserialize_with = "text")]
    pub q: String,
}

/// What [`PostmortemFilter`] asks for, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct PostmortemCriteria {
    pub team_id: Option<TeamId>,
    pub status: Option<PostmortemStatus>,
    pub service_id: Option<ServiceId>,
    pub q: String,
}

impl PostmortemFilter {
    pub fn parse(&self) -> Result<PostmortemCriteria, AppError> {
        Ok(PostmortemCriteria {
            team_id: parse_choice("team_id", &self.team_id)?,
            status: word("status", &self.status)?,
            service_id: parse_choice("service_id", &self.service_id)?,
            q: self.q.trim().to_owned(),
        })
    }
}

/// Filters and sort of the action-item tracker.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ItemFilter {
    #[serde(deserialize_with = "text")]
    pub team_id: String,
    #[serde(deserialize_with = "text")]
    pub owner_id: String,
    /// A status, or `active` for open and in progress.
    #[serde(deserialize_with = "text")]
    pub status: String,
    /// `P1` … `P4`.
    #[serde(deserialize_with = "text")]
    pub priority: String,
    /// The incident, as `INC-12` or `12`.
    #[serde(deserialize_with = "text")]
    pub incident: String,
    pub overdue: bool,
    pub unscheduled: bool,
    /// `due` (default), `priority` or `age`.
    #[serde(deserialize_with = "text")]
    pub sort: String,
    /// The reader's UTC offset in minutes, for what "overdue" means to them.
    pub tz_offset_minutes: i32,
    /// Opaque keyset cursor from the previous page; empty for the first.
    #[serde(deserialize_with = "text")]
    pub cursor: String,
}

/// What [`ItemFilter`] asks for, parsed. The sort and the cursor stay text: the
/// tracker reads both, since a cursor is written in its sort's own key.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemCriteria {
    pub team_id: Option<TeamId>,
    pub owner_id: Option<UserId>,
    pub status: Option<StatusChoice<ItemStatus>>,
    pub priority: Option<Priority>,
    pub incident: Option<IncidentNumber>,
    pub overdue: bool,
    pub unscheduled: bool,
    pub sort: String,
    pub tz_offset_minutes: i32,
    pub cursor: String,
}

impl ItemFilter {
    pub fn parse(&self) -> Result<ItemCriteria, AppError> {
        let incident = match self.incident.trim() {
            "" => None,
            v => Some(
                parse_incident_ref(v).ok_or_else(|| AppError::invalid("incident", "Use an incident like INC-12."))?,
            ),
        };
        Ok(ItemCriteria {
            team_id: parse_choice("team_id", &self.team_id)?,
            owner_id: parse_choice("owner_id", &self.owner_id)?,
            status: StatusChoice::parse(&self.status)?,
            priority: word("priority", &self.priority)?,
            incident,
            overdue: self.overdue,
            unscheduled: self.unscheduled,
            sort: self.sort.trim().to_owned(),
            tz_offset_minutes: self.tz_offset_minutes,
            cursor: self.cursor.trim().to_owned(),
        })
    }

    /// The filter as URL query pairs (only those set), for links to further pages.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let flag = |on: bool| if on { "true".to_owned() } else { String::new() };
        let pairs = [
            ("team_id", self.team_id.clone()),
            ("owner_id", self.owner_id.clone()),
            ("status", self.status.clone()),
            ("priority", self.priority.clone()),
            ("incident", self.incident.clone()),
            ("overdue", flag(self.overdue)),
            ("unscheduled", flag(self.unscheduled)),
            ("sort", self.sort.clone()),
            (
                "tz_offset_minutes",
                if self.tz_offset_minutes == 0 { String::new() } else { self.tz_offset_minutes.to_string() },
            ),
            ("cursor", self.cursor.clone()),
        ];
        pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect()
    }
}

word_enum! {
    /// The runbook list's drill filter.
    pub enum DrillFilter ("drill filter", "use never or stale") {
        /// Never drilled.
        Never = "never", "Never drilled";
        /// Not drilled in 6 months.
        Stale = "stale", "Not drilled in 6 months";
    }
}

/// Filters of `/runbooks`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunbookFilter {
    #[serde(deserialize_with = "text")]
    pub q: String,
    #[serde(deserialize_with = "text")]
    pub service_id: String,
    #[serde(deserialize_with = "text")]
    pub team_id: String,
    /// `never` (never drilled) or `stale` (not drilled in 6 months).
    #[serde(deserialize_with = "text")]
    pub drilled: String,
    pub review_overdue: bool,
}

/// What [`RunbookFilter`] asks for, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunbookCriteria {
    pub q: String,
    pub service_id: Option<ServiceId>,
    pub team_id: Option<TeamId>,
    pub drilled: Option<DrillFilter>,
    pub review_overdue: bool,
}

impl RunbookFilter {
    pub fn parse(&self) -> Result<RunbookCriteria, AppError> {
        Ok(RunbookCriteria {
            q: self.q.trim().to_owned(),
            service_id: parse_choice("service_id", &self.service_id)?,
            team_id: parse_choice("team_id", &self.team_id)?,
            drilled: word("drilled", &self.drilled)?,
            review_overdue: self.review_overdue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_takes_ids_as_text_or_numbers_and_names_a_bad_field() {
        let f: ItemFilter = serde_json::from_value(serde_json::json!({ "team_id": 7, "incident": "INC-3" })).unwrap();
        let c = f.parse().unwrap();
        assert_eq!((c.team_id, c.incident), (Some(TeamId(7)), Some(IncidentNumber(3))));
        let bad = IncidentFilter { team_id: "abc".into(), ..Default::default() }.parse().unwrap_err();
        assert!(bad.for_field("team_id").is_some(), "{bad:?}");
        let active = IncidentFilter { status: "active".into(), ..Default::default() }.parse().unwrap();
        assert_eq!(active.status, Some(StatusChoice::Active));
        assert!(RunbookFilter { drilled: "often".into(), ..Default::default() }.parse().is_err());
    }
}
