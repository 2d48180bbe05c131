//! Telling people: comms updates, who gets which notifications, and the public status.

use super::{Person, Severity};
use crate::model::IncidentNumber;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A structured comms update. `public_text` is the wording for the status page, when
/// the update has a public part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommsUpdate {
    pub id: i64,
    pub author: Option<Person>,
    pub affected: String,
    pub known: String,
    pub doing: String,
    pub internal: bool,
    pub public_text: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub posted_at: OffsetDateTime,
}

/// Whether a promised update is late at `now`: the incident is active and the time the
/// last update named has passed.
pub fn comms_overdue(active: bool, next_update_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    active && next_update_at.is_some_and(|at| at < now)
}

word_enum! {
    /// What can trigger a notification.
    pub enum NotifyEvent ("event", "") {
        Declared = "declared", "Declared";
        SeverityChanged = "severity_changed", "Severity changed";
        StatusChanged = "status_changed", "Status changed";
        CommsUpdate = "comms_update", "Comms update";
        Resolved = "resolved", "Resolved";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationPolicy {
    pub id: i64,
    pub name: String,
    pub severities: Vec<Severity>,
    pub events: Vec<NotifyEvent>,
    pub recipients: Vec<String>,
    /// Also send to the members of the incident's owning team.
    pub owning_team: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    pub severities: Vec<Severity>,
    pub events: Vec<NotifyEvent>,
    /// Also sent for private incidents.
    pub private_incidents: bool,
    /// Shown to admins so receivers can be configured to verify signatures.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub message_id: String,
    pub incident_number: Option<IncidentNumber>,
    pub event: String,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
}

word_enum! {
    /// A public service's state, worst last.
    #[derive(PartialOrd, Ord)]
    pub enum ServiceState ("state", "use operational, degraded, partial_outage or major_outage") {
        Operational = "operational", "Operational";
        Degraded = "degraded", "Degraded performance";
        PartialOutage = "partial_outage", "Partial outage";
        MajorOutage = "major_outage", "Major outage";
    }
}

impl ServiceState {
    /// What an active public incident of this severity means for its services.
    pub fn from_severity(severity: Severity) -> Self {
        match severity {
            Severity::Sev1 => Self::MajorOutage,
            Severity::Sev2 => Self::PartialOutage,
            Severity::Sev3 | Severity::Sev4 => Self::Degraded,
        }
    }
}

/// An active SEV1/SEV2 for the site-wide banner inside Foghorn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MajorIncident {
    pub number: IncidentNumber,
    pub title: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublicService {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub state: ServiceState,
    /// Set by comms rather than derived from incidents.
    pub overridden: bool,
    /// The worst state of each of the last 90 days (UTC), oldest first.
    pub days: Vec<ServiceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublicUpdate {
    pub id: i64,
    pub incident_number: IncidentNumber,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub posted_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublicIncident {
    pub number: IncidentNumber,
    pub state: ServiceState,
    pub services: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Newest first.
    pub updates: Vec<PublicUpdate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublicStatus {
    pub overall: ServiceState,
    pub services: Vec<PublicService>,
    pub active: Vec<PublicIncident>,
    /// The latest public change: the page's `Last-Modified`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_promised_update_is_overdue_once_its_time_passes_while_active() {
        let at = Some(datetime!(2026-11-25 10:30 UTC));
        assert!(!comms_overdue(true, at, datetime!(2026-11-25 10:29 UTC)));
        assert!(comms_overdue(true, at, datetime!(2026-11-25 10:31 UTC)));
        assert!(!comms_overdue(false, at, datetime!(2026-11-25 10:31 UTC)), "resolved incidents owe no update");
        assert!(!comms_overdue(true, None, datetime!(2026-11-25 10:31 UTC)));
    }

    #[test]
    fn severity_maps_to_the_public_state() {
        assert_eq!(ServiceState::from_severity(Severity::Sev1), ServiceState::MajorOutage);
        assert_eq!(ServiceState::from_severity(Severity::Sev4), ServiceState::Degraded);
        assert!(ServiceState::MajorOutage > ServiceState::Degraded);
    }
}

word_enum! {
    /// How an outbox message travels.
    pub enum Channel ("delivery channel", "") {
        Email = "email", "Email";
        Webhook = "webhook", "Webhook";
    }
}

word_enum! {
    /// The body a webhook receives.
    pub enum WebhookFormat ("webhook format", "slack or json") {
        /// `text` plus `blocks`, which Slack, Mattermost and most chat tools accept.
        Slack = "slack", "Slack-compatible (text and blocks)";
        /// Foghorn's own JSON document.
        Json = "json", "Generic JSON";
    }
}
