//! Signing in and out, the first administrator, and one's own password.

use crate::error::AppError;
use crate::model::Caller;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{
    model::AuditKind,
    server::{
        self,
        db::{
            self,
            audit::{self, Actor},
        },
        passwords, sessions, throttle,
    },
};
#[cfg(feature = "ssr")]
use serde_json::json;

/// Who is signed in on this browser, if anyone.
#[server(endpoint = "get_viewer")]
pub async fn get_viewer() -> Result<Option<Caller>, AppError> {
    server::current_user().await
}

/// When the caller's session will end (absolute or idle lifetime), in Unix seconds, so
/// the page can warn before it signs them out mid-sentence. `None` once it has ended.
/// Reading it counts as activity.
#[server(endpoint = "get_session_ends_at")]
pub async fn get_session_ends_at() -> Result<Option<i64>, AppError> {
    if server::current_user().await?.is_none() {
        return Ok(None);
    }
    let ends = sessions::ends_at(&server::state()?, &server::session().await?).await?;
    Ok(ends.map(|t| t.unix_timestamp()))
}

/// Whether Foghorn has no user yet, so the first visit may create the administrator.
#[server(endpoint = "get_setup_needed")]
pub async fn get_setup_needed() -> Result<bool, AppError> {
    Ok(!db::users::any_exist(&server::state()?.pool).await?)
}

/// How people sign in here: "Sign in with <label>" (single sign-on), the password form,
/// or both.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
pub struct SignInMethods {
    pub sso_label: Option<String>,
    pub password: bool,
}

#[server(endpoint = "get_sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInMethods, AppError> {
    let auth = server::state()?.auth;
    Ok(SignInMethods { sso_label: auth.sso_label.clone(), password: auth.password_sign_in })
}

/// The one message for every failed sign-in: it does not tell which part was wrong.
pub const SIGN_IN_FAILED: &str = "That email and password do not match an active account.";

/// Signs in with email and password, then goes to `next` (a local path the sign-in
/// page carried from the page the visitor first asked for) or the dashboard.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let state = server::state()?;
    let session = server::session().await?;
    let ip = server::client_ip();
    let email = email.trim().to_lowercase();
    if !state.auth.password_sign_in {
        return Err(AppError::invalid("password", "Sign in with single sign-on: passwords are turned off here."));
    }

    let visitor = Actor::visitor(&email, &ip);
    let attempt = match throttle::admit(&state.pool, &email, &ip).await {
        Ok(attempt) => attempt,
        Err(err) => {
            let details = json!({ "method": "password", "reason": "too many failed attempts" });
            audit::record(&state.pool, &visitor, AuditKind::SignInRefused, &email, details).await?;
            return Err(err);
        }
    };
    let user = db::users::find_by_email(&state.pool, &email).await?;
    // No stored password is longer than the policy allows: don't spend a hash on one.
    let matched = password.chars().count() <= crate::model::Password::MAX
        // A single sign-on account has no password (an empty hash): the dummy is checked instead.
        && state.passwords.verify(&password, user.as_ref().map(|u| u.password_hash.as_str()).filter(|h| !h.is_empty())).await;
    let exhausted = attempt.address_exhausted;
    throttle::settle(&state.pool, attempt, matched && user.as_ref().is_some_and(|u| u.active)).await?;
    let user = match user {
        Some(user) if matched && user.active => user,
        user => {
            tracing::warn!(target: "foghorn::audit", ?email, ?ip, "sign-in failed");
            let (kind, actor, reason) = match user {
                // The right password for a deactivated account: the account, not the guess, is refused.
                Some(user) if matched => {
                    (AuditKind::SignInRefused, Actor::user(&user.caller(), &ip), "account deactivated")
                }
                _ if exhausted => (AuditKind::SignInRefused, visitor, "too many failed attempts from this address"),
                _ => (AuditKind::SignInFailed, visitor, "wrong email or password"),
            };
            let details = json!({ "method": "password", "reason": reason });
            audit::record(&state.pool, &actor, kind, &email, details).await?;
            // An address over its own limit learns nothing more from a wrong guess.
            return Err(if exhausted { throttle::too_many() } else { AppError::invalid("password", SIGN_IN_FAILED) });
        }
    };

    sessions::start(&session, &user).await?;
    let me = user.caller();
    let target = audit::user_target_of(&me.display_name, &me.email);
    audit::record(&state.pool, &Actor::user(&me, &ip), AuditKind::SignIn, &target, json!({ "method": "password" }))
        .await?;
    tracing::info!(target: "foghorn::audit", user_id = user.id, ?ip, "signed in");
    leptos_axum::redirect(&sessions::return_path(next.as_deref()));
    Ok(())
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let session = server::session().await?;
    if let Some(user) = server::current_user().await? {
        let target = audit::user_target_of(&user.display_name, &user.email);
        audit::record(&server::state()?.pool, &server::actor(&user), AuditKind::SignOut, &target, json!({})).await?;
        tracing::info!(target: "foghorn::audit", user_id = user.id.0, "signed out");
    }
    // Signed in through the identity provider: sign out there too, when it offers that.
    let leave_to = sessions::provider_sign_out(&session).await?;
    sessions::end(&session).await?;
    leptos_axum::redirect(leave_to.as_deref().unwrap_or("/login"));
    Ok(())
}

/// Creates the first administrator — only while Foghorn has no user at all, and only
/// for someone who has the setup code from the server's log — and signs them in.
#[server(endpoint = "create_first_admin")]
pub async fn create_first_admin(
    setup_code: String,
    email: String,
    display_name: String,
    password: String,
) -> Result<(), AppError> {
    let state = server::state()?;
    if db::users::any_exist(&state.pool).await? {
        return Err(AppError::Forbidden);
    }
    let email = crate::model::parse_email(&email)?;
    let display_name = crate::model::parse_display_name(&display_name)?;
    passwords::check_password_policy(&password)?;
    let hash = state.passwords.hash(&password).await?;
    let mut tx = state.pool.begin().await?;
    let id = db::users::insert_first_admin(&mut tx, &setup_code, &email, &display_name, &hash).await?;
    let me = Actor {
        user_id: Some(crate::model::UserId(id)),
        label: audit::person(&display_name, &email),
        ip: server::client_ip(),
    };
    let target = format!("user {}", me.label);
    audit::record(&mut *tx, &me, AuditKind::FirstAdminCreated, &target, json!({ "user_id": id })).await?;
    tx.commit().await?;
    let user = db::users::find_by_id(&state.pool, id).await?.ok_or(AppError::Internal)?;
    sessions::start(&server::session().await?, &user).await?;
    tracing::info!(target: "foghorn::audit", user_id = id, "first administrator created");
    leptos_axum::redirect("/");
    Ok(())
}

/// Changes the caller's own password; their other sessions end, this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let state = server::state()?;
    let me = server::signed_in_user().await?;
    let user = db::users::find_by_id(&state.pool, me.id.0).await?.ok_or(AppError::Unauthenticated)?;
    // A stolen session must not become a password oracle: the sign-in limits apply.
    let attempt = throttle::admit(&state.pool, &user.email, &server::client_ip()).await?;
    let matched = state.passwords.verify(&current_password, Some(&user.password_hash)).await;
    throttle::settle(&state.pool, attempt, matched).await?;
    if !matched {
        return Err(AppError::invalid("current_password", "That is not your current password."));
    }
    passwords::check_password_policy(&new_password).map_err(|e| AppError::invalid("new_password", e.to_string()))?;
    let hash = state.passwords.hash(&new_password).await?;
    let mut tx = state.pool.begin().await?;
    let epoch = db::users::set_password(&mut tx, me.id, &hash).await?;
    let target = audit::user_target_of(&me.display_name, &me.email);
    let details = json!({ "other_sessions_ended": true });
    audit::record(&mut *tx, &server::actor(&me), AuditKind::PasswordChanged, &target, details).await?;
    tx.commit().await?;
    sessions::refresh_epoch(&server::session().await?, epoch).await?;
    tracing::info!(target: "foghorn::audit", user_id = me.id.0, "password changed; other sessions ended");
    Ok(())
}
