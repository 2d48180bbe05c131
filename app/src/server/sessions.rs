//! What a Foghorn session holds, and the rules that end it.
//!
//! The session id is replaced at sign-in (no fixation) and the session destroyed at
//! sign-out. A session also ends when it is older than the absolute lifetime, when
//! its user is deactivated, or when the user's `session_epoch` moves on (password
//! changed, deactivated): every request re-reads the user, so that takes effect at once.

use super::db::audit::{self, Actor};
use super::{AppState, db};
use crate::error::AppError;
use crate::model::{AuditKind, Caller, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;

const USER_KEY: &str = "user";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionUser {
    user_id: UserId,
    epoch: i32,
    /// Unix seconds; the absolute lifetime counts from here.
    signed_in_at: i64,
    /// Unix seconds of the last write of this session, which pushed its idle expiry out.
    #[serde(default)]
    touched_at: i64,
}

/// How often activity is written back to extend the idle expiry: often enough to be
/// accurate, rarely enough that reading pages does not mean a write per request.
fn touch_interval(state: &AppState) -> i64 {
    (state.auth.session_idle.as_secs() as i64 / 4).clamp(0, 60)
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    use tower_sessions::{session::Error, session_store::Error as StoreError};
    // The store is the database: its backend failing means the database is unreachable.
    if let Error::Store(StoreError::Backend(_)) = err {
        tracing::warn!(error = %err, "session store unavailable");
        return AppError::Unavailable;
    }
    tracing::error!(error = %err, "session store error");
    AppError::Internal
}

/// Signs `user` in on this session, under a fresh session id.
pub async fn start(session: &Session, user: &db::users::UserRecord) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let record =
        SessionUser { user_id: UserId(user.id), epoch: user.session_epoch, signed_in_at: now, touched_at: now };
    session.insert(USER_KEY, record).await.map_err(session_error)
}

/// Keeps this session valid after the user's epoch moved (their own password change).
pub async fn refresh_epoch(session: &Session, epoch: i32) -> Result<(), AppError> {
    if let Some(mut record) = session.get::<SessionUser>(USER_KEY).await.map_err(session_error)? {
        record.epoch = epoch;
        session.insert(USER_KEY, record).await.map_err(session_error)?;
    }
    Ok(())
}

const PROVIDER_SIGN_OUT_KEY: &str = "provider_sign_out";

/// Remembers where signing out of this session also signs out of the identity provider
/// (its end-session address, with this sign-in's ID token as the hint).
pub async fn set_provider_sign_out(session: &Session, url: String) -> Result<(), AppError> {
    session.insert(PROVIDER_SIGN_OUT_KEY, url).await.map_err(session_error)
}

/// Where to send the browser to sign out of the identity provider too, if anywhere.
pub async fn provider_sign_out(session: &Session) -> Result<Option<String>, AppError> {
    session.get::<String>(PROVIDER_SIGN_OUT_KEY).await.map_err(session_error)
}

/// Destroys the session: the cookie's id is worthless afterwards.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// The user this session belongs to, if it is still valid; ends it otherwise.
pub async fn resolve(state: &AppState, session: &Session) -> Result<Option<Caller>, AppError> {
    let Some(mut record) = session.get::<SessionUser>(USER_KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let age = now - record.signed_in_at;
    if age < 0 || age as u64 >= state.auth.session_absolute.as_secs() {
        tracing::info!(target: "foghorn::audit", user_id = record.user_id.0, "session reached its absolute lifetime");
        end(session).await?;
        return Ok(None);
    }
    match db::users::find_by_id(&state.pool, record.user_id.0).await? {
        Some(user) if user.active && user.session_epoch == record.epoch => {
            if now - record.touched_at >= touch_interval(state) {
                record.touched_at = now;
                session.insert(USER_KEY, record).await.map_err(session_error)?;
            }
            Ok(Some(user.caller()))
        }
        user => {
            tracing::info!(target: "foghorn::audit", user_id = record.user_id.0, "session ended: user deactivated or credentials changed");
            let reason = match &user {
                Some(user) if !user.active => "user deactivated",
                Some(_) => "password changed",
                None => "user gone",
            };
            let target = match &user {
                Some(user) => audit::user_target_of(&user.display_name, &user.email),
                None => format!("user #{}", record.user_id),
            };
            let details = serde_json::json!({ "reason": reason });
            audit::record(&state.pool, &Actor::server("Foghorn"), AuditKind::SessionEnded, &target, details).await?;
            end(session).await?;
            Ok(None)
        }
    }
}

/// When this session ends if nothing else ends it first: its absolute lifetime, or its
/// idle lifetime counted from its last recorded activity. `None` when signed out.
pub async fn ends_at(state: &AppState, session: &Session) -> Result<Option<OffsetDateTime>, AppError> {
    let Some(record) = session.get::<SessionUser>(USER_KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let absolute = record.signed_in_at.saturating_add(state.auth.session_absolute.as_secs() as i64);
    let idle = record.touched_at.max(record.signed_in_at).saturating_add(state.auth.session_idle.as_secs() as i64);
    Ok(OffsetDateTime::from_unix_timestamp(absolute.min(idle)).ok())
}

/// The longest return path a sign-in link carries; a longer one goes to the dashboard.
pub const MAX_RETURN_PATH_CHARS: usize = 2000;

/// Where to go after sign-in: `next` if it is a local path of sensible length, else the
/// dashboard. Nothing is stored for a signed-out visitor: the path travels in the URL.
pub fn return_path(next: Option<&str>) -> String {
    next.filter(|p| is_return_path(p)).unwrap_or("/").to_owned()
}

/// Only same-site paths: never `//host` or `https://…` (no open redirect).
pub fn is_return_path(path: &str) -> bool {
    path.len() <= MAX_RETURN_PATH_CHARS
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// Whether a session that was valid when a live stream opened still is: not signed out
/// (its record still in the store), not expired, its user still active and unchanged.
pub async fn still_valid(state: &AppState, session: &Session) -> bool {
    let Some(id) = session.id() else { return false };
    // Not compile-checked: the table is tower-sessions' own, made by its store at start-up.
    let stored: Result<bool, sqlx::Error> = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tower_sessions.session WHERE id = $1 AND expiry_date > now())",
    )
    .bind(id.to_string())
    .fetch_one(&state.pool)
    .await;
    matches!(stored, Ok(true)) && matches!(resolve(state, session).await, Ok(Some(_)))
}
