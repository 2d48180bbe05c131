//! The doors for automation, as people manage them: API tokens (personal ones on the
//! account page, service tokens for admins), the chat user id slash commands know a
//! person by, and the alert routing rules.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::{
    self,
    db::{self, api_tokens::Owner},
    policy::{self, Permission},
};

#[cfg(feature = "ssr")]
fn parse_days(days: &str) -> Result<Option<u32>, AppError> {
    match days.trim() {
        "" => Ok(None),
        d => d
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid("expires_days", "Give a number of days, or leave it empty.")),
    }
}

/// The caller's personal tokens (live ones first).
#[server(endpoint = "list_my_tokens")]
pub async fn list_my_tokens() -> Result<Vec<ApiToken>, AppError> {
    let me = server::signed_in_user().await?;
    db::api_tokens::list(&server::state()?.pool, Some(me.id.0)).await
}

/// Creates a token: a personal one for the caller, or (admins, `service_role` set) a
/// service token acting as its own bot. Its secret is in the answer, and nowhere else.
#[server(endpoint = "create_token")]
pub async fn create_token(
    name: String,
    read_only: Option<String>,
    expires_days: String,
    service_role: Option<String>,
) -> Result<NewToken, AppError> {
    let service_role = service_role.filter(|r| !r.is_empty());
    let (state, me, owner) = match &service_role {
        Some(role) => {
            let (state, me) = server::authorized(Permission::ManageIntegrations).await?;
            let role: Role = role.parse().map_err(|m| AppError::invalid("service_role", m))?;
            (state, me, Owner::Service(role))
        }
        None => {
            let me = server::signed_in_user().await?;
            let id = me.id;
            (server::state()?, me, Owner::Person(id.0))
        }
    };
    let request = TokenRequest {
        name,
        read_only: read_only.is_some(),
        expires_days: parse_days(&expires_days)?,
        service_role: None,
    };
    db::api_tokens::create(&state.pool, &server::actor(&me), owner, &request).await
}

/// Revokes a token: one of the caller's own, or (admins) any.
#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let me = server::signed_in_user().await?;
    let owner = (!policy::role_allows(me.role, Permission::ManageIntegrations)).then_some(me.id);
    db::api_tokens::revoke(&server::state()?.pool, &server::actor(&me), id, owner).await
}

/// Every token, personal and service (admins).
#[server(endpoint = "list_all_tokens")]
pub async fn list_all_tokens() -> Result<Vec<ApiToken>, AppError> {
    let (state, _) = server::authorized(Permission::ManageIntegrations).await?;
    db::api_tokens::list(&state.pool, None).await
}

/// The caller's chat (Slack or Mattermost) user id, if they set one.
#[server(endpoint = "get_chat_user_id")]
pub async fn get_chat_user_id() -> Result<Option<String>, AppError> {
    let me = server::signed_in_user().await?;
    db::users::chat_user_id(&server::state()?.pool, me.id).await
}

/// Sets the caller's chat user id (empty: forget it).
#[server(endpoint = "set_chat_user_id")]
pub async fn set_chat_user_id(chat_user_id: String) -> Result<(), AppError> {
    let me = server::signed_in_user().await?;
    let id = ChatUserId::parse(&chat_user_id)?.into_inner();
    if id.contains(char::is_whitespace) {
        return Err(AppError::invalid("chat_user_id", "A chat user id is one word, like U024BE7LH."));
    }
    let id = (!id.is_empty()).then_some(id.as_str());
    db::users::set_chat_user_id(&server::state()?.pool, me.id, id).await
}

/// The alert routing rules, in order.
#[server(endpoint = "list_alert_routes")]
pub async fn list_alert_routes() -> Result<Vec<AlertRoute>, AppError> {
    let (state, _) = server::authorized(Permission::ManageIntegrations).await?;
    db::alert_routes::routes(&state.pool).await
}

/// Adds a rule after the others. `matchers` as Alertmanager writes them; `severity`
/// empty: from the alerts' label; `action` is `declare` or `record`.
#[server(endpoint = "add_alert_route")]
pub async fn add_alert_route(
    name: String,
    matchers: String,
    service_id: String,
    team_id: String,
    severity: String,
    action: String,
) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageIntegrations).await?;
    let route = AlertRoute {
        id: 0,
        name,
        matchers: parse_matchers(&matchers).map_err(|m| AppError::invalid("matchers", m))?,
        service_id: parse_choice("service_id", &service_id)?,
        team_id: parse_choice("team_id", &team_id)?,
        severity: match severity.trim() {
            "" => None,
            s => Some(s.parse().map_err(|m| AppError::invalid("severity", m))?),
        },
        declare: action != "record",
    };
    let mut routes = db::alert_routes::routes(&state.pool).await?;
    routes.push(route);
    db::alert_routes::save_routes(&state.pool, &server::actor(&me), &routes).await.map_err(|err| match err {
        // Only the new rule can be wrong: name its fields as the form does.
        AppError::Invalid { field, message } => AppError::invalid(
            field.rsplit('.').next().filter(|f| !f.starts_with(char::is_numeric)).unwrap_or("name"),
            message,
        ),
        other => other,
    })
}

/// Removes rule `id`, or moves it one place up or down (`change`: `delete`, `up`, `down`).
#[server(endpoint = "change_alert_route")]
pub async fn change_alert_route(id: i64, change: String) -> Result<(), AppError> {
    let (state, me) = server::authorized(Permission::ManageIntegrations).await?;
    let mut routes = db::alert_routes::routes(&state.pool).await?;
    let at = routes.iter().position(|r| r.id == id).ok_or_else(|| AppError::NotFound("That rule".into()))?;
    match change.as_str() {
        "delete" => {
            routes.remove(at);
        }
        "up" if at > 0 => routes.swap(at, at - 1),
        "down" if at + 1 < routes.len() => routes.swap(at, at + 1),
        "up" | "down" => return Ok(()),
        _ => return Err(AppError::invalid("change", "Delete it, or move it up or down.")),
    }
    db::alert_routes::save_routes(&state.pool, &server::actor(&me), &routes).await
}
