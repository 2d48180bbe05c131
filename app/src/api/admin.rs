//! Administration: users, teams and services. Admins only, checked by the policy.

use crate::error::AppError;
use crate::model::{Service, ServiceId, Team, TeamId, UserId, UserSummary};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{
    model::{AuditKind, Role},
    server::{self, db, db::audit, passwords, policy::Permission},
};
#[cfg(feature = "ssr")]
use serde_json::json;

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse().map_err(|msg: String| AppError::invalid("role", msg))
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let (state, _) = server::authorized(Permission::ManageUsers).await?;
    db::users::list(&state.pool).await
}

#[server(endpoint = "add_user")]
pub async fn add_user(email: String, display_name: String, role: String, password: String) -> Result<i64, AppError> {
    let (state, me) = server::authorized(Permission::ManageUsers).await?;
    let email = crate::model::parse_email(&email)?;
    let display_name = crate::model::parse_display_name(&display_name)?;
    let role = parse_role(&role)?;
    passwords::check_password_policy(&password)?;
    let hash = state.passwords.hash(&password).await?;
    let mut tx = state.pool.begin().await?;
    let id = db::users::insert(&mut *tx, &email, &display_name, role, &hash).await?;
    let target = audit::user_target_of(&display_name, &email);
    audit::record(
        &mut *tx,
        &server::actor(&me),
        AuditKind::UserCreated,
        &target,
        json!({ "user_id": id, "role": role }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, user_id = id, %role, "user added");
    Ok(id)
}

#[server(endpoint = "change_role")]
pub async fn change_role(user_id: UserId, role: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageUsers).await?;
    let role = parse_role(&role)?;
    let mut tx = state.pool.begin().await?;
    let previous = db::users::set_role(&mut tx, user_id, role).await?;
    if previous != role {
        let target = audit::user_target(&mut tx, user_id).await?;
        let details = json!({ "user_id": user_id, "from": previous, "to": role });
        audit::record(&mut *tx, &server::actor(&me), AuditKind::RoleChanged, &target, details).await?;
    }
    tx.commit().await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, user_id = user_id.0, %role, "role changed");
    Ok(())
}

/// Deactivates (`active = false`) or reactivates a user; deactivation ends their sessions.
#[server(endpoint = "set_user_active")]
pub async fn set_user_active(user_id: UserId, active: bool) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageUsers).await?;
    if me.id == user_id && !active {
        return Err(AppError::Conflict("You cannot deactivate yourself.".into()));
    }
    let mut tx = state.pool.begin().await?;
    if db::users::set_active(&mut tx, user_id, active).await? {
        let target = audit::user_target(&mut tx, user_id).await?;
        let (kind, details) = if active {
            (AuditKind::UserReactivated, json!({ "user_id": user_id }))
        } else {
            (AuditKind::UserDeactivated, json!({ "user_id": user_id, "sessions_ended": true }))
        };
        audit::record(&mut *tx, &server::actor(&me), kind, &target, details).await?;
    }
    tx.commit().await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, user_id = user_id.0, active, "user activation changed");
    Ok(())
}

/// Teams, for anyone signed in (forms elsewhere need them).
#[server(endpoint = "list_teams")]
pub async fn list_teams() -> Result<Vec<Team>, AppError> {
    let (state, _) = server::authorized(Permission::ReadDirectory).await?;
    db::teams::list(&state.pool).await
}

#[server(endpoint = "create_team")]
pub async fn create_team(name: String) -> Result<i64, AppError> {
    let (state, me) = server::authorized(Permission::ManageTeams).await?;
    let id = db::teams::create(&state.pool, &server::actor(&me), &name).await?;
    tracing::info!(target: "foghorn::audit", by = me.id.0, team_id = id, "team created");
    Ok(id)
}

#[server(endpoint = "add_team_member")]
pub async fn add_team_member(team_id: TeamId, user_id: UserId) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageTeams).await?;
    db::teams::add_member(&state.pool, &server::actor(&me), team_id, user_id).await
}

#[server(endpoint = "remove_team_member")]
pub async fn remove_team_member(team_id: TeamId, user_id: UserId) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageTeams).await?;
    db::teams::remove_member(&state.pool, &server::actor(&me), team_id, user_id).await
}

/// Sets the team's lead; an empty `user_id` leaves the team without one.
#[server(endpoint = "set_team_lead")]
pub async fn set_team_lead(team_id: TeamId, user_id: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageTeams).await?;
    let lead = match user_id.trim() {
        "" => None,
        id => Some(crate::model::UserId(id.parse().map_err(|_| AppError::invalid("user_id", "Choose a user."))?)),
    };
    db::teams::set_lead(&state.pool, &server::actor(&me), team_id, lead).await
}

/// Services, for anyone signed in.
#[server(endpoint = "list_services")]
pub async fn list_services() -> Result<Vec<Service>, AppError> {
    let (state, _) = server::authorized(Permission::ReadDirectory).await?;
    db::services::list(&state.pool).await
}

#[server(endpoint = "create_service")]
pub async fn create_service(name: String, description: String, team_id: String) -> Result<i64, AppError> {
    let (state, me) = server::authorized(Permission::ManageServices).await?;
    let input = db::services::ServiceInput::parse(&name, &description, &team_id)?;
    db::services::create(&state.pool, &server::actor(&me), &input).await
}

#[server(endpoint = "update_service")]
pub async fn update_service(id: ServiceId, name: String, description: String, team_id: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageServices).await?;
    let input = db::services::ServiceInput::parse(&name, &description, &team_id)?;
    db::services::update(&state.pool, &server::actor(&me), id, &input).await
}
