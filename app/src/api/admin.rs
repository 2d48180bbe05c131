//! Administration: users, teams and services. Admins only, checked by the policy.

use crate::error::AppError;
use crate::model::{Service, Team, UserSummary};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{
    self, db, passwords,
    policy::{Permission, authorize},
};

#[cfg(feature = "ssr")]
use crate::model::Role;

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse().map_err(|msg: String| AppError::invalid("role", msg))
}

#[cfg(feature = "ssr")]
async fn admin_for(permission: Permission) -> Result<(server::AppState, crate::model::Caller), AppError> {
    let me = authorize(server::current_user().await?, permission)?;
    Ok((server::state()?, me))
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let (state, _) = admin_for(Permission::ManageUsers).await?;
    db::users::list(&state.pool).await
}

#[server(endpoint = "add_user")]
pub async fn add_user(email: String, display_name: String, role: String, password: String) -> Result<i64, AppError> {
    let (state, me) = admin_for(Permission::ManageUsers).await?;
    let email = crate::model::parse_email(&email)?;
    let display_name = crate::model::parse_display_name(&display_name)?;
    let role = parse_role(&role)?;
    passwords::check_password_policy(&password)?;
    let hash = state.passwords.hash(&password).await?;
    let id = db::users::insert(&state.pool, &email, &display_name, role, &hash).await?;
    tracing::info!(target: "foghorn::audit", by = me.id, user_id = id, %role, "user added");
    Ok(id)
}

#[server(endpoint = "change_role")]
pub async fn change_role(user_id: i64, role: String) -> Result<(), AppError> {
    let (state, me) = admin_for(Permission::ManageUsers).await?;
    let role = parse_role(&role)?;
    db::users::set_role(&state.pool, user_id, role).await?;
    tracing::info!(target: "foghorn::audit", by = me.id, user_id, %role, "role changed");
    Ok(())
}

/// Deactivates (`active = false`) or reactivates a user; deactivation ends their sessions.
#[server(endpoint = "set_user_active")]
pub async fn set_user_active(user_id: i64, active: bool) -> Result<(), AppError> {
    let (state, me) = admin_for(Permission::ManageUsers).await?;
    if me.id == user_id && !active {
        return Err(AppError::Conflict("You cannot deactivate yourself.".into()));
    }
    db::users::set_active(&state.pool, user_id, active).await?;
    tracing::info!(target: "foghorn::audit", by = me.id, user_id, active, "user activation changed");
    Ok(())
}

/// Teams, for anyone signed in (forms elsewhere need them).
#[server(endpoint = "list_teams")]
pub async fn list_teams() -> Result<Vec<Team>, AppError> {
    let (state, _) = admin_for(Permission::ReadDirectory).await?;
    db::teams::list(&state.pool).await
}

#[server(endpoint = "create_team")]
pub async fn create_team(name: String) -> Result<i64, AppError> {
    let (state, me) = admin_for(Permission::ManageTeams).await?;
    let name = db::teams::parse_team_name(&name)?;
    let id = db::teams::create(&state.pool, &name).await?;
    tracing::info!(target: "foghorn::audit", by = me.id, team_id = id, "team created");
    Ok(id)
}

#[server(endpoint = "add_team_member")]
pub async fn add_team_member(team_id: i64, user_id: i64) -> Result<(), AppError> {
    let (state, _) = admin_for(Permission::ManageTeams).await?;
    db::teams::add_member(&state.pool, team_id, user_id).await
}

#[server(endpoint = "remove_team_member")]
pub async fn remove_team_member(team_id: i64, user_id: i64) -> Result<(), AppError> {
    let (state, _) = admin_for(Permission::ManageTeams).await?;
    db::teams::remove_member(&state.pool, team_id, user_id).await
}

/// Sets the team's lead; an empty `user_id` leaves the team without one.
#[server(endpoint = "set_team_lead")]
pub async fn set_team_lead(team_id: i64, user_id: String) -> Result<(), AppError> {
    let (state, _) = admin_for(Permission::ManageTeams).await?;
    let lead = match user_id.trim() {
        "" => None,
        id => Some(id.parse().map_err(|_| AppError::invalid("user_id", "Choose a user."))?),
    };
    db::teams::set_lead(&state.pool, team_id, lead).await
}

/// Services, for anyone signed in.
#[server(endpoint = "list_services")]
pub async fn list_services() -> Result<Vec<Service>, AppError> {
    let (state, _) = admin_for(Permission::ReadDirectory).await?;
    db::services::list(&state.pool).await
}

#[server(endpoint = "create_service")]
pub async fn create_service(name: String, description: String, team_id: String) -> Result<i64, AppError> {
    let (state, _) = admin_for(Permission::ManageServices).await?;
    let input = db::services::ServiceInput::parse(&name, &description, &team_id)?;
    db::services::create(&state.pool, &input).await
}

#[server(endpoint = "update_service")]
pub async fn update_service(id: i64, name: String, description: String, team_id: String) -> Result<(), AppError> {
    let (state, _) = admin_for(Permission::ManageServices).await?;
    let input = db::services::ServiceInput::parse(&name, &description, &team_id)?;
    db::services::update(&state.pool, id, &input).await
}
