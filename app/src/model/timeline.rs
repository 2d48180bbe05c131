//! An incident's timeline entries, as both sides see them.

use super::Person;
use crate::model::IncidentNumber;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

word_enum! {
    /// What a timeline entry records.
    pub enum EntryKind ("timeline entry kind", "") {
        Note = "note", "Note";
        Declared = "declared", "Declared";
        StatusChange = "status_change", "Status";
        SeverityChange = "severity_change", "Severity";
        RoleChange = "role_change", "Role";
        /// An edit of the incident's fields, or a runbook attached.
        Edit = "edit", "Edit";
        TimestampCorrection = "timestamp_correction", "Timestamp";
        Postmortem = "postmortem", "Postmortem";
        ActionItem = "action_item", "Action item";
        CommsUpdate = "comms_update", "Comms update";
        StatusPage = "status_page", "Status page";
        /// Made private or public; who was added to the response.
        Access = "access", "Access";
        /// Alerts firing or resolving, from Alertmanager or Grafana.
        Alert = "alert", "Alert";
    }
}

/// One entry of the live timeline. `seq` increases by one per entry within an
/// incident; live streams resume from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub id: i64,
    pub incident_number: IncidentNumber,
    pub seq: i64,
    pub kind: EntryKind,
    pub author: Option<Person>,
    /// Markdown source (notes) or a sentence (changes).
    pub body: String,
    /// `body` rendered and sanitized on the server.
    pub body_html: String,
    pub is_key_event: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
}

/// How many of the latest timeline entries the incident page loads at first; "Show
/// earlier" loads more. A bot posting every second must not make the page (and every
/// live refresh of it, for every viewer) heavy; and when the whole company opens one
/// SEV1 at once, the page's cost is mostly its entries (rendered, and again as the
/// hydration data): 50 fill about ten phone screens, and a 300-entry incident's page
/// serves 1.65 times as many pages per second as with 200 (docs/benchmarks.md, "The
/// all-hands herd").
pub const TIMELINE_PAGE: i64 = 50;

/// The most timeline entries one request returns, however many were asked for ("Show
/// all" on a very long incident).
pub const TIMELINE_MAX: i64 = 100_000;
