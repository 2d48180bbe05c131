//! The audit trail as administrators read it: events, their kinds and the filters.

use super::UserId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

word_enum! {
    /// What happened. Stored as the word; the list is the set of events Foghorn records.
    pub enum AuditKind ("event kind", "") {
        SignIn = "sign_in", "Signed in";
        SignInFailed = "sign_in_failed", "Sign-in failed";
        SignInRefused = "sign_in_refused", "Sign-in refused";
        SignOut = "sign_out", "Signed out";
        SessionEnded = "session_ended", "Session ended";
        PasswordChanged = "password_changed", "Password changed";
        FirstAdminCreated = "first_admin_created", "First administrator created";
        UserCreated = "user_created", "User created";
        RoleChanged = "role_changed", "Role changed";
        UserDeactivated = "user_deactivated", "User deactivated";
        UserReactivated = "user_reactivated", "User reactivated";
        TeamCreated = "team_created", "Team created";
        TeamMemberAdded = "team_member_added", "Team member added";
        TeamMemberRemoved = "team_member_removed", "Team member removed";
        TeamLeadChanged = "team_lead_changed", "Team lead changed";
        ServiceCreated = "service_created", "Service created";
        ServiceChanged = "service_changed", "Service changed";
        NotificationPolicyCreated = "notification_policy_created", "Notification policy created";
        NotificationPolicyDeleted = "notification_policy_deleted", "Notification policy deleted";
        WebhookCreated = "webhook_created", "Webhook created";
        WebhookDeleted = "webhook_deleted", "Webhook deleted";
        IncidentMadePrivate = "incident_made_private", "Incident made private";
        IncidentMadePublic = "incident_made_public", "Incident made public";
        PrivateParticipantAdded = "private_participant_added", "Added to a private incident";
        PrivateDataExported = "private_data_exported", "Private incident data exported";
        AccessRefused = "access_refused", "Access refused";
        AuditExported = "audit_exported", "Audit log exported";
        AuditPruned = "audit_pruned", "Audit log pruned";
        TokenCreated = "token_created", "API token created";
        TokenRevoked = "token_revoked", "API token revoked";
        AlertRoutesChanged = "alert_routes_changed", "Alert routing changed";
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<UserId>,
    pub actor: String,
    /// The stored word; an event kind this version does not know stays readable as text.
    pub kind: String,
    pub target: String,
    pub ip: String,
    /// Event-specific facts (old and new role, the reason of a refusal…), as JSON text.
    pub details: String,
}

impl AuditEvent {
    /// The kind as people read it, or the stored word when this version does not know it.
    pub fn kind_label(&self) -> String {
        self.kind.parse::<AuditKind>().map(|k| k.label().to_owned()).unwrap_or_else(|_| self.kind.clone())
    }
}

/// Filters of the audit log. Empty strings mean "any"; the same fields serve the page's
/// address, the server function and the CSV / JSON Lines export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuditFilter {
    /// Part of the actor's name or email.
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub kind: String,
    /// Part of the target's description.
    #[serde(default)]
    pub target: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The id of the last event shown: the next page starts below it.
    #[serde(default)]
    pub cursor: String,
}

impl AuditFilter {
    /// The filter as URL query pairs (empty ones left out), for links to further pages
    /// and to the exports.
    pub fn query_string(&self) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("kind", &self.kind),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
            ("cursor", &self.cursor),
        ];
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", super::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The cursor of the next (older) page, if there is one.
    pub next_cursor: Option<String>,
}
