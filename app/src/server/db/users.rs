use super::on_unique;
use crate::error::AppError;
use crate::model::{Caller, Role, UserId, UserSummary, parse_display_name, parse_email};
use sqlx::{PgConnection, PgExecutor, PgPool};

/// A user row. Deliberately not `Serialize`: the password hash never leaves the server.
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub session_epoch: i32,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("active", &self.active)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

pub(super) fn role_of(stored: &str) -> Role {
    // The column has a CHECK constraint; an unknown value can only mean a newer schema,
    // and the least privilege is the safe reading of it.
    stored.parse().unwrap_or(Role::Viewer)
}

impl UserRecord {
    pub fn role(&self) -> Role {
        role_of(&self.role)
    }

    pub fn caller(&self) -> Caller {
        Caller {
            id: UserId(self.id),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
        }
    }
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<UserRecord>, AppError> {
    Ok(sqlx::query_as!(UserRecord, "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE lower(email) = lower($1)", email)
        .fetch_optional(pool)
        .await?)
}

pub async fn find_by_id(pool: &PgPool, id: i64) -> Result<Option<UserRecord>, AppError> {
    Ok(sqlx::query_as!(
        UserRecord,
        "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// The active person whose chat (Slack, Mattermost) user id is `chat_user_id`.
pub async fn find_by_chat_user_id(pool: &PgPool, chat_user_id: &str) -> Result<Option<UserRecord>, AppError> {
    if chat_user_id.is_empty() {
        return Ok(None);
    }
    Ok(sqlx::query_as!(UserRecord, "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE chat_user_id = $1 AND active AND NOT is_bot", chat_user_id)
        .fetch_optional(pool)
        .await?)
}

/// Sets (or, with `None`, clears) the chat user id slash commands know `user_id` by.
pub async fn set_chat_user_id(pool: &PgPool, user_id: UserId, chat_user_id: Option<&str>) -> Result<(), AppError> {
    sqlx::query!("UPDATE users SET chat_user_id = $2, updated_at = now() WHERE id = $1", user_id.0, chat_user_id)
        .execute(pool)
        .await
        .map_err(|e| {
            on_unique(e, "users_chat_user_id", "chat_user_id", "Another person already uses this chat user id.")
        })?;
    Ok(())
}

/// The chat user id `user_id` set, if any.
pub async fn chat_user_id(pool: &PgPool, user_id: UserId) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar!("SELECT chat_user_id FROM users WHERE id = $1", user_id.0)
        .fetch_optional(pool)
        .await?
        .flatten())
}

pub async fn any_exist(pool: &PgPool) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#).fetch_one(pool).await?)
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    email: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "INSERT INTO users (email, display_name, role, password_hash) VALUES ($1, $2, $3, $4) RETURNING id",
        email,
        display_name,
        role.as_str(),
        password_hash
    )
    .fetch_one(db)
    .await
    .map_err(|e| on_unique(e, "users_email_key", "email", "A user with this email already exists."))
}

/// Creates the first administrator, only while there are no users at all.
/// The advisory lock makes two simultaneous first visits create one admin, not two.
/// Issues a one-time setup code while Foghorn has no user, for the person who started it
/// to create the first administrator: whoever merely reaches a fresh instance first
/// (another site's page, by DNS rebinding) cannot. `None` once a user exists.
/// The code is kept only as its SHA-256; each starting instance adds its own.
pub async fn issue_setup_code(pool: &PgPool) -> Result<Option<String>, AppError> {
    // 80 random bits from PostgreSQL's CSPRNG, in groups of four to read out and type.
    let code: Option<String> = sqlx::query_scalar!(r#"WITH code AS (
             SELECT upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 20)) AS code
         ), issued AS (
             INSERT INTO setup_codes (code_sha256)
             SELECT encode(sha256(convert_to(code, 'UTF8')), 'hex') FROM code
              WHERE NOT EXISTS (SELECT 1 FROM users)
             RETURNING 1
         )
         SELECT regexp_replace(code, '(.{4})(?!$)', '\1-', 'g') AS "code!" FROM code WHERE EXISTS (SELECT 1 FROM issued)"#)
    .fetch_optional(pool)
    .await?;
    Ok(code)
}

/// Setup codes are typed by hand: case, spaces and dashes do not matter.
fn normalise_setup_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase()
}

/// Creates the first administrator if `setup_code` is a code [`issue_setup_code`] gave
/// and there is still no user; every setup code is spent with it. In the caller's
/// transaction, which must commit for any of it to count.
pub async fn insert_first_admin(
    tx: &mut PgConnection,
    setup_code: &str,
    email: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<i64, AppError> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('foghorn.first_admin'))").execute(&mut *tx).await?;
    let exists: bool =
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#).fetch_one(&mut *tx).await?;
    if exists {
        return Err(AppError::Conflict(
            "Foghorn already has users: sign in, or ask an administrator for an account.".into(),
        ));
    }
    let known: bool = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM setup_codes WHERE code_sha256 = encode(sha256(convert_to($1, 'UTF8')), 'hex')) AS "exists!""#, normalise_setup_code(setup_code))
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(AppError::invalid(
            "setup_code",
            "That is not the setup code. Foghorn prints it to its log (and standard output) when it starts with no users.",
        ));
    }
    let id = insert(&mut *tx, email, display_name, Role::Admin, password_hash).await?;
    sqlx::query!("DELETE FROM setup_codes").execute(&mut *tx).await?;
    Ok(id)
}

pub async fn list(pool: &PgPool) -> Result<Vec<UserSummary>, AppError> {
    let rows = sqlx::query!(
        "SELECT id, email, display_name, role, active FROM users WHERE NOT is_bot
          ORDER BY active DESC, lower(display_name), id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UserSummary {
            id: UserId(r.id),
            email: r.email,
            display_name: r.display_name,
            role: role_of(&r.role),
            active: r.active,
        })
        .collect())
}

/// Refuses a change that would leave no active administrator: nobody could manage Foghorn then.
async fn ensure_other_active_admin(tx: &mut PgConnection, user_id: UserId) -> Result<(), AppError> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('foghorn.admins'))").execute(&mut *tx).await?;
    let others: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users WHERE role = 'admin' AND active AND NOT is_bot AND id <> $1"#,
        user_id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    if others == 0 {
        return Err(AppError::Conflict(
            "This is the last active administrator; make someone else an administrator first.".into(),
        ));
    }
    Ok(())
}

/// Changes a user's role (in the caller's transaction); returns the role they had.
pub async fn set_role(tx: &mut PgConnection, user_id: UserId, role: Role) -> Result<Role, AppError> {
    let current = sqlx::query!("SELECT role, active FROM users WHERE id = $1 FOR UPDATE", user_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| (r.role, r.active));
    let Some((current, active)) = current else { return Err(AppError::NotFound("That user".into())) };
    let previous = role_of(&current);
    if previous == Role::Admin && role != Role::Admin && active {
        ensure_other_active_admin(tx, user_id).await?;
    }
    sqlx::query!("UPDATE users SET role = $2, updated_at = now() WHERE id = $1", user_id.0, role.as_str())
        .execute(&mut *tx)
        .await?;
    Ok(previous)
}

/// Deactivating also ends every session of the user (their epoch moves on). In the
/// caller's transaction; returns whether anything changed.
pub async fn set_active(tx: &mut PgConnection, user_id: UserId, active: bool) -> Result<bool, AppError> {
    let current = sqlx::query!("SELECT role, active FROM users WHERE id = $1 FOR UPDATE", user_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| (r.role, r.active));
    let Some((role, was_active)) = current else { return Err(AppError::NotFound("That user".into())) };
    if !active && was_active && role_of(&role) == Role::Admin {
        ensure_other_active_admin(tx, user_id).await?;
    }
    sqlx::query!(
        "UPDATE users
            SET active = $2,
                session_epoch = session_epoch + CASE WHEN $2 THEN 0 ELSE 1 END,
                updated_at = now()
          WHERE id = $1",
        user_id.0,
        active
    )
    .execute(&mut *tx)
    .await?;
    Ok(was_active != active)
}

/// Stores a new password hash, ends the user's sessions and retires their calendar
/// address (in the caller's transaction); returns the new epoch.
pub async fn set_password(tx: &mut PgConnection, user_id: UserId, password_hash: &str) -> Result<i32, AppError> {
    let epoch = sqlx::query_scalar!(
        "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1, updated_at = now()
          WHERE id = $1 RETURNING session_epoch",
        user_id.0,
        password_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    super::meetings::reset_calendar_key(&mut *tx, user_id).await?;
    Ok(epoch)
}

/// Who the identity provider says signed in, with what its claims mean for Foghorn.
#[derive(Debug, Clone)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub display_name: String,
    /// The role their groups give them, when a role map is configured: re-applied at
    /// every sign-in.
    pub mapped_role: Option<Role>,
    /// The role of a user created at their first sign-in when no mapping applies.
    pub default_role: Role,
}

/// Whom single sign-on signed in, and what it changed on the way.
#[derive(Debug)]
pub struct SsoSignIn {
    pub user: UserRecord,
    /// The account was made at this sign-in.
    pub created: bool,
    /// The role the provider's groups replaced.
    pub role_was: Option<Role>,
}

/// Why single sign-on let someone in as no user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoRefusal {
    /// The provider's email matches a local account, but it has not verified it.
    UnverifiedEmail,
    Deactivated(i64),
}

/// The user an identity signs in as (in the caller's transaction): the one linked to
/// its subject; else the local account with its email, linked now, but only when the
/// provider verified the email; else a new user. The mapped role, if any, is applied.
pub async fn sign_in_by_sso(
    tx: &mut PgConnection,
    who: &SsoIdentity,
) -> Result<Result<SsoSignIn, SsoRefusal>, AppError> {
    let mut created = false;
    let linked: Option<UserRecord> =
        sqlx::query_as!(UserRecord, "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2 FOR UPDATE", &who.issuer, &who.subject)
            .fetch_optional(&mut *tx)
            .await?;
    let user = match linked {
        Some(user) => user,
        None => {
            let by_email: Option<UserRecord> =
                sqlx::query_as!(UserRecord, "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE lower(email) = lower($1) FOR UPDATE", &who.email)
                    .fetch_optional(&mut *tx)
                    .await?;
            match by_email {
                Some(_) if !who.email_verified => return Ok(Err(SsoRefusal::UnverifiedEmail)),
                Some(user) => {
                    sqlx::query!(
                        "UPDATE users SET oidc_issuer = $2, oidc_subject = $3, updated_at = now() WHERE id = $1",
                        user.id,
                        &who.issuer,
                        &who.subject
                    )
                    .execute(&mut *tx)
                    .await?;
                    user
                }
                None => {
                    let email = parse_email(&who.email)?;
                    let name = parse_display_name(&who.display_name).unwrap_or_else(|_| email.clone());
                    let role = who.mapped_role.unwrap_or(who.default_role);
                    let id: i64 = sqlx::query_scalar!(
                        "INSERT INTO users (email, display_name, role, password_hash, oidc_issuer, oidc_subject)
                         VALUES ($1, $2, $3, '', $4, $5) RETURNING id",
                        &email,
                        &name,
                        role.as_str(),
                        &who.issuer,
                        &who.subject
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    created = true;
                    sqlx::query_as!(UserRecord, "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE id = $1", id)
                        .fetch_one(&mut *tx)
                        .await?
                }
            }
        }
    };
    if !user.active {
        return Ok(Err(SsoRefusal::Deactivated(user.id)));
    }
    if let Some(role) = who.mapped_role.filter(|r| *r != user.role()) {
        // The provider's groups decide the role, except that they never leave Foghorn
        // without an active administrator.
        let role_was = match set_role(tx, UserId(user.id), role).await {
            Ok(was) => Some(was),
            Err(AppError::Conflict(_)) => None,
            Err(err) => return Err(err),
        };
        let user: UserRecord = sqlx::query_as!(
            UserRecord,
            "SELECT id, email, display_name, password_hash, role, active, session_epoch FROM users WHERE id = $1",
            user.id
        )
        .fetch_one(&mut *tx)
        .await?;
        return Ok(Ok(SsoSignIn { user, created, role_was }));
    }
    Ok(Ok(SsoSignIn { user, created, role_was: None }))
}
