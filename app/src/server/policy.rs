//! Who may do what: the one place that answers it.
//!
//! Two questions, answered here and nowhere else:
//! - what a role may do ([`authorize`], asked by every server function before it acts;
//!   refusals are logged and audited);
//! - which incidents a person may see at all ([`incident_visible`], the SQL every query
//!   that reads incidents or what belongs to them filters with). A private incident is
//!   invisible to everyone else: absent from lists and counts, 404 by its address.
//!
//! [`SERVER_FUNCTIONS`] records, for every server function, how it treats private
//! incidents; a test fails when a server function is missing from it.

use crate::error::AppError;
use crate::model::{Caller, Role, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// List, add, change the role of, deactivate and reactivate users.
    ManageUsers,
    /// Create teams, change their members and lead.
    ManageTeams,
    /// Create and edit services.
    ManageServices,
    /// Notification policies, webhooks and the delivery log.
    ManageNotifications,
    /// Read teams and services (needed to fill forms elsewhere).
    ReadDirectory,
    /// Read incidents, their timelines and the dashboard.
    ReadIncidents,
    /// Declare incidents and work them: status, severity, roles, notes, edits.
    RespondToIncidents,
    /// Start, write, review and publish postmortems; schedule and attend their meetings.
    /// (Reading a published postmortem needs only [`Permission::ReadIncidents`].)
    WritePostmortems,
    /// Create action items and change them. (A team's lead may also reassign their
    /// team's items among its members: checked per item by the data layer.)
    TrackActionItems,
    /// Write runbooks, mark them reviewed, attach them to incidents.
    WriteRunbooks,
    /// Download every runbook as an offline bundle.
    ExportRunbooks,
    /// Read and export the audit trail.
    ReadAudit,
    /// Service tokens (for any user) and the alert routing rules.
    ManageIntegrations,
}

impl Permission {
    /// Reading only: what a read-only API token may still do.
    pub fn reads_only(self) -> bool {
        matches!(self, Permission::ReadDirectory | Permission::ReadIncidents | Permission::ReadAudit)
    }
}

/// Whether `role` grants `permission`.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match permission {
        ManageUsers | ManageTeams | ManageServices | ManageNotifications | ExportRunbooks | ReadAudit
        | ManageIntegrations => role == Role::Admin,
        RespondToIncidents | WritePostmortems | TrackActionItems | WriteRunbooks => {
            matches!(role, Role::Admin | Role::Responder)
        }
        ReadDirectory | ReadIncidents => true,
    }
}

/// The caller, if they are signed in and allowed to `permission`.
pub fn authorize(user: Option<Caller>, permission: Permission) -> Result<Caller, AppError> {
    let Some(user) = user else {
        tracing::warn!(target: "foghorn::audit", ?permission, "refused: not signed in");
        return Err(AppError::Unauthenticated);
    };
    if role_allows(user.role, permission) {
        Ok(user)
    } else {
        tracing::warn!(target: "foghorn::audit", user_id = user.id.0, role = %user.role, ?permission, "refused: role lacks permission");
        Err(AppError::Forbidden)
    }
}

/// The caller behind an API token, if the token may be used for `permission`: the
/// token's user's role allows it (as [`authorize`] decides for the pages), and a
/// read-only token only reads.
pub fn authorize_token(caller: &Caller, read_only: bool, permission: Permission) -> Result<(), AppError> {
    if read_only && !permission.reads_only() {
        tracing::warn!(target: "foghorn::audit", user_id = caller.id.0, ?permission, "refused: read-only token");
        return Err(AppError::Forbidden);
    }
    authorize(Some(caller.clone()), permission).map(|_| ())
}

/// The visibility rule, as SQL over the incident aliased `alias`, for the person whose
/// user id is the SQL expression `viewer` (a bind parameter; NULL for nobody signed in,
/// who sees no private incident).
///
/// A public incident is visible to everyone signed in. A private one only to: admins;
/// its participants (whoever holds or held point, comms or was added); and, when its
/// declarer allowed it, the members of its owning team.
pub fn incident_visible(alias: &str, viewer: &str) -> String {
    format!(
        "(NOT {alias}.private OR EXISTS (
            SELECT 1 FROM users vu
             WHERE vu.id = {viewer} AND vu.active
               AND (vu.role = 'admin'
                    OR EXISTS (SELECT 1 FROM incident_roles vr WHERE vr.incident_id = {alias}.id AND vr.user_id = vu.id)
                    OR ({alias}.team_can_see AND EXISTS (
                        SELECT 1 FROM team_members vm WHERE vm.team_id = {alias}.team_id AND vm.user_id = vu.id)))))"
    )
}

/// [`incident_visible`] for a query being built: binds the viewer in place.
pub fn push_incident_visible(query: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, alias: &str, viewer: Option<UserId>) {
    const MARK: &str = "\u{1}viewer\u{1}";
    let sql = incident_visible(alias, MARK);
    let (before, after) = sql.split_once(MARK).expect("the rule names the viewer once");
    query.push(before.to_owned()).push_bind(viewer).push(after.to_owned());
}

/// Who may see an action item: whoever may see its incident, and its owner (who sees
/// the item, not the private incident: its title reads [`crate::model::PRIVATE_INCIDENT`]).
/// Postmortems need no rule of their own: they are read through their incident.
pub fn item_visible(item: &str, incident: &str, viewer: &str) -> String {
    format!("({} OR {item}.owner_id = {viewer})", incident_visible(incident, viewer))
}

/// [`item_visible`] for a query being built.
pub fn push_item_visible(
    query: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
    item: &str,
    incident: &str,
    viewer: UserId,
) {
    query.push("(");
    push_incident_visible(query, incident, Some(viewer));
    query.push(format!(" OR {item}.owner_id = ")).push_bind(viewer).push(")");
}

/// Who may change who sees an incident (make it private or public, add people to it):
/// whoever holds point, or an admin.
pub fn may_manage_access(caller: &Caller, holds_point: bool) -> bool {
    caller.role == Role::Admin || holds_point
}

/// How a server function treats private incidents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentScope {
    /// Says nothing about incidents (accounts, the directory, settings, runbooks' text).
    NoIncidents,
    /// Acts on or reads one incident (or its timeline entry, postmortem, action item,
    /// comms), found only when visible to the caller: 404 otherwise.
    OneVisible,
    /// Lists or counts incidents or what belongs to them: only the visible ones.
    VisibleOnly,
    /// Declares a new incident (the declarer chooses whether it is private).
    Declares,
    /// A public surface: private incidents never appear.
    PublicOnly,
}

/// Every operation of the REST API (`METHOD /path` under `/api/v1`) and its decision
/// about private incidents; a test fails when the OpenAPI document has one missing here.
pub const REST_OPERATIONS: &[(&str, IncidentScope)] = {
    use IncidentScope::*;
    &[
        ("GET /incidents", VisibleOnly),
        ("POST /incidents", Declares),
        ("GET /incidents/{number}", OneVisible),
        ("PATCH /incidents/{number}", OneVisible),
        ("POST /incidents/{number}/status", OneVisible),
        ("POST /incidents/{number}/severity", OneVisible),
        ("PUT /incidents/{number}/roles/{role}", OneVisible),
        ("POST /incidents/{number}/join", OneVisible),
        ("GET /incidents/{number}/timeline", OneVisible),
        ("POST /incidents/{number}/timeline", OneVisible),
        ("PUT /incidents/{number}/timeline/{entry_id}/key", OneVisible),
        ("GET /incidents/{number}/comms", OneVisible),
        ("POST /incidents/{number}/comms", OneVisible),
        ("GET /action-items", VisibleOnly),
        ("POST /action-items", OneVisible),
        ("GET /action-items/{id}", OneVisible),
        ("PATCH /action-items/{id}", OneVisible),
        ("POST /action-items/{id}/status", OneVisible),
        ("GET /postmortems/{number}", OneVisible),
        ("GET /postmortems/{number}/markdown", OneVisible),
        ("GET /services", NoIncidents),
        ("POST /services", NoIncidents),
        ("PUT /services/{id}", NoIncidents),
        ("GET /teams", NoIncidents),
        ("POST /teams", NoIncidents),
        ("PUT /teams/{id}/members/{user_id}", NoIncidents),
        ("DELETE /teams/{id}/members/{user_id}", NoIncidents),
        ("PUT /teams/{id}/lead", NoIncidents),
        ("GET /status", PublicOnly),
        ("GET /alert-routes", NoIncidents),
        ("PUT /alert-routes", NoIncidents),
        // An alert declares public incidents only; a later notification adds to the
        // group's incident whoever may see it (the sender is a service, not a person).
        ("POST /alerts/alertmanager", Declares),
        ("POST /alerts/grafana", Declares),
        // Runs as the mapped person: their visibility, as on the pages.
        ("POST /chat/slack/command", OneVisible),
    ]
};

/// Every server function (by endpoint) and its decision about private incidents.
pub const SERVER_FUNCTIONS: &[(&str, IncidentScope)] = {
    use IncidentScope::*;
    &[
        // Accounts and administration.
        ("get_viewer", NoIncidents),
        ("get_session_ends_at", NoIncidents),
        ("get_setup_needed", NoIncidents),
        ("sign_in", NoIncidents),
        ("get_sign_in_options", NoIncidents),
        ("sign_out", NoIncidents),
        ("create_first_admin", NoIncidents),
        ("change_password", NoIncidents),
        ("list_users", NoIncidents),
        ("add_user", NoIncidents),
        ("change_role", NoIncidents),
        ("set_user_active", NoIncidents),
        ("list_teams", NoIncidents),
        ("create_team", NoIncidents),
        ("add_team_member", NoIncidents),
        ("remove_team_member", NoIncidents),
        ("set_team_lead", NoIncidents),
        ("list_services", NoIncidents),
        ("create_service", NoIncidents),
        ("update_service", NoIncidents),
        ("list_audit_events", NoIncidents),
        ("list_responders", NoIncidents),
        ("list_people", NoIncidents),
        // Incidents.
        ("declare_incident", Declares),
        ("get_incident", OneVisible),
        ("get_dashboard", VisibleOnly),
        ("list_incidents", VisibleOnly),
        ("change_status", OneVisible),
        ("change_severity", OneVisible),
        ("edit_incident", OneVisible),
        ("assign_role", OneVisible),
        ("join_incident", OneVisible),
        ("add_participant", OneVisible),
        ("set_incident_privacy", OneVisible),
        ("correct_timestamp", OneVisible),
        ("post_note", OneVisible),
        ("edit_note", OneVisible),
        ("set_key_event", OneVisible),
        // Postmortems.
        ("start_postmortem", OneVisible),
        ("get_postmortem", OneVisible),
        ("list_postmortems", VisibleOnly),
        ("save_postmortem", OneVisible),
        ("list_postmortem_versions", OneVisible),
        ("get_postmortem_version", OneVisible),
        ("restore_postmortem_version", OneVisible),
        ("move_postmortem", OneVisible),
        ("set_postmortem_team", OneVisible),
        ("set_no_action_items_reason", OneVisible),
        ("schedule_postmortem_meeting", OneVisible),
        ("attend_postmortem", OneVisible),
        ("get_postmortem_timeline_import", OneVisible),
        ("preview_markdown", NoIncidents),
        ("get_calendar_feed", NoIncidents),
        ("reset_calendar_address", NoIncidents),
        // Action items.
        ("create_action_item", OneVisible),
        ("list_action_items", VisibleOnly),
        ("get_action_item_history", OneVisible),
        ("list_team_summaries", VisibleOnly),
        ("set_item_owner", OneVisible),
        ("set_item_due_date", OneVisible),
        ("set_item_status", OneVisible),
        ("set_item_priority", OneVisible),
        ("set_item_team", OneVisible),
        ("edit_action_item", OneVisible),
        // Runbooks.
        ("create_runbook", NoIncidents),
        // Lists the runbook's drills: a drill is never private.
        ("get_runbook", NoIncidents),
        ("list_runbooks", NoIncidents),
        ("save_runbook", NoIncidents),
        ("set_runbook_details", NoIncidents),
        ("list_runbook_versions", NoIncidents),
        ("restore_runbook_version", NoIncidents),
        ("mark_runbook_reviewed", NoIncidents),
        ("list_incident_runbooks", OneVisible),
        ("attach_runbook", OneVisible),
        ("start_drill", Declares),
        // Communication.
        ("post_comms_update", OneVisible),
        ("list_comms_updates", OneVisible),
        ("list_major_incidents", VisibleOnly),
        ("override_service_state", OneVisible),
        ("get_public_status", PublicOnly),
        ("get_notification_settings", NoIncidents),
        ("create_notification_policy", NoIncidents),
        ("delete_notification_policy", NoIncidents),
        ("create_webhook", NoIncidents),
        ("delete_webhook", NoIncidents),
        ("retry_delivery", NoIncidents),
        ("set_service_public", NoIncidents),
        // Integrations.
        ("list_my_tokens", NoIncidents),
        ("create_token", NoIncidents),
        ("revoke_token", NoIncidents),
        ("list_all_tokens", NoIncidents),
        ("get_chat_user_id", NoIncidents),
        ("set_chat_user_id", NoIncidents),
        ("list_alert_routes", NoIncidents),
        ("add_alert_route", NoIncidents),
        ("change_alert_route", NoIncidents),
    ]
};
