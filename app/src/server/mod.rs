//! Server-only code: state, data layer, sessions, and the policy of who may do what.
//!
//! Server functions in [`crate::api`] stay thin: they fetch the caller with
//! [`current_user`], ask [`policy`] whether the caller may act, and call [`db`].

use crate::model::IncidentNumber;
pub mod csp;
pub mod db;
pub mod exports;
pub mod markdown;
pub mod passwords;
pub mod policy;
pub mod sessions;
pub mod throttle;

use crate::error::AppError;
use crate::model::{AuditKind, Caller};
use leptos::prelude::*;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

/// Settings that change how accounts and sessions behave.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_absolute: Duration,
    /// Use `X-Forwarded-For` for the client address (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// "Sign in with <label>" on the sign-in page, when single sign-on is configured.
    pub sso_label: Option<String>,
    /// Whether people may sign in with a password (off: single sign-on only).
    pub password_sign_in: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(12 * 3600),
            session_absolute: Duration::from_secs(12 * 3600),
            trust_proxy: false,
            sso_label: None,
            password_sign_in: true,
        }
    }
}

pub const DEFAULT_P1_SCHEDULE_DAYS: i64 = 2;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub passwords: Arc<passwords::PasswordHasher>,
    pub auth: Arc<AuthSettings>,
    /// Days a P1 action item may stay without an owner or a due date before the
    /// tracker flags it.
    pub p1_schedule_days: i64,
}

impl AppState {
    pub fn new(pool: PgPool, auth: AuthSettings) -> Self {
        Self::new_with_hasher(pool, auth, Arc::new(passwords::PasswordHasher::new()))
    }

    /// With a shared hasher (building one computes the dummy hash, which takes a moment).
    pub fn new_with_hasher(pool: PgPool, auth: AuthSettings, passwords: Arc<passwords::PasswordHasher>) -> Self {
        Self { pool, passwords, auth: Arc::new(auth), p1_schedule_days: DEFAULT_P1_SCHEDULE_DAYS }
    }

    pub fn with_p1_schedule_days(mut self, days: i64) -> Self {
        self.p1_schedule_days = days;
        self
    }
}

/// The signed-in user resolved for this request (by the server's session middleware),
/// stored in the request's extensions. `None` when nobody is signed in.
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<Caller>);

/// The client's address, resolved once per request by the server's middleware.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server-function context");
        AppError::Internal
    })
}

/// The caller, whoever they are (possibly nobody).
pub async fn current_user() -> Result<Option<Caller>, AppError> {
    let parts = use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
    Ok(parts.extensions.get::<CurrentUser>().and_then(|c| c.0.clone()))
}

/// The caller, who must be signed in and allowed to `permission`, with the app state:
/// how every server function that acts starts.
/// A signed-in caller's refusal is recorded in the audit trail (an anonymous one only in
/// the log: anyone can send those, and they would flood the trail).
pub async fn authorized(permission: policy::Permission) -> Result<(AppState, Caller), AppError> {
    let user = current_user().await?;
    match policy::authorize(user.clone(), permission) {
        Ok(me) => Ok((state()?, me)),
        Err(AppError::Forbidden) => {
            if let Some(user) = user {
                let path = use_context::<http::request::Parts>().map(|p| p.uri.path().to_owned()).unwrap_or_default();
                let details = serde_json::json!({ "permission": format!("{permission:?}"), "endpoint": path });
                db::audit::record(&state()?.pool, &actor(&user), AuditKind::AccessRefused, &path, details).await?;
            }
            Err(AppError::Forbidden)
        }
        Err(err) => Err(err),
    }
}

/// [`authorized`], for reading or acting on incident `number`: when the caller may not
/// see it (a private incident), the same 404 as for a number never used.
pub async fn authorized_on(
    permission: policy::Permission,
    number: IncidentNumber,
) -> Result<(AppState, Caller), AppError> {
    let (state, me) = authorized(permission).await?;
    db::incident_people::visible_id(&state.pool, number, Some(me.id)).await?;
    Ok((state, me))
}

/// The caller as the audit trail records them: who, from which address.
pub fn actor(me: &Caller) -> db::audit::Actor {
    db::audit::Actor::user(me, &client_ip())
}

/// The caller, who must be signed in.
pub async fn signed_in_user() -> Result<Caller, AppError> {
    current_user().await?.ok_or(AppError::Unauthenticated)
}

pub fn client_ip() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<ClientIp>().map(|ip| ip.0.clone()))
        .unwrap_or_else(|| "unknown".to_owned())
}

pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>().await.map_err(|err| {
        tracing::error!(error = %err, "session layer missing");
        AppError::Internal
    })
}
