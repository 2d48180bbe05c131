//! Who may do what: the one place that answers it.
//!
//! Every server function that changes something asks [`authorize`] before it acts.
//! Refusals are logged for the audit trail.

use crate::error::AppError;
use crate::model::{Caller, Role};

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
}

/// Whether `role` grants `permission`.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match permission {
        ManageUsers | ManageTeams | ManageServices | ManageNotifications | ExportRunbooks | ReadAudit => {
            role == Role::Admin
        }
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
        tracing::warn!(target: "foghorn::audit", user_id = user.id, role = %user.role, ?permission, "refused: role lacks permission");
        Err(AppError::Forbidden)
    }
}
