//! API tokens: created (the secret shown once), recognised by the SHA-256 of their
//! secret, rate-limited per token, revoked at once.
//!
//! A service token acts as a bot user of its own (see the `integrations` migration), so
//! every rule and every timeline entry treats it like a person with its role.

use super::{audit, on_unique};
use crate::error::AppError;
use crate::model::*;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sqlx::PgPool;
use time::OffsetDateTime;

/// Tokens start with this, so that secret scanners (and people) recognise them.
pub const SECRET_PREFIX: &str = "fhn_";
/// How many characters of the secret are kept to recognise it.
const SHOWN_CHARS: usize = 12;

/// Whose rights a new token carries.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Person(i64),
    /// A new bot user with this role.
    Service(Role),
}

/// The caller behind a valid token.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub token_id: i64,
    pub name: String,
    pub read_only: bool,
    pub caller: Caller,
    /// Requests made with it in the current one-minute window (this one included), and
    /// the seconds left in that window.
    pub window_count: i32,
    pub window_left_secs: i64,
}

/// 256 random bits, hex-encoded behind [`SECRET_PREFIX`].
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{SECRET_PREFIX}{hex}")
}

/// A token row with its owner's name, as the lists and the creation show it.
struct TokenRow {
    id: i64,
    name: String,
    service: bool,
    role: String,
    owner: String,
    read_only: bool,
    prefix: String,
    expires_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
    last_used_ip: Option<String>,
    revoked_at: Option<OffsetDateTime>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: r.id,
            name: r.name,
            service: r.service,
            role: super::users::role_of(&r.role),
            owner: r.owner,
            read_only: r.read_only,
            prefix: r.prefix,
            expires_at: r.expires_at,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip,
            revoked_at: r.revoked_at,
        }
    }
}

/// Creates a token for `owner`; `by` is who asked (recorded in the audit trail).
pub async fn create(
    pool: &PgPool,
    by: &audit::Actor,
    owner: Owner,
    request: &TokenRequest,
) -> Result<NewToken, AppError> {
    let name = TokenName::parse(&request.name)?.into_inner();
    if let Some(days) = request.expires_days
        && !(1..=MAX_TOKEN_DAYS).contains(&days)
    {
        return Err(AppError::invalid("expires_days", format!("Choose between 1 and {MAX_TOKEN_DAYS} days.")));
    }
    let secret = new_secret();
    let mut tx = pool.begin().await?;
    let (user_id, service) = match owner {
        Owner::Person(user_id) => {
            let active: Option<bool> =
                sqlx::query_scalar!("SELECT active FROM users WHERE id = $1 AND NOT is_bot", user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match active {
                Some(true) => (user_id, false),
                Some(false) => return Err(AppError::invalid("user", "That user is deactivated.")),
                None => return Err(AppError::NotFound("That user".into())),
            }
        }
        Owner::Service(role) => {
            let mut tag = [0u8; 8];
            OsRng.fill_bytes(&mut tag);
            let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
            let id: i64 = sqlx::query_scalar!(
                "INSERT INTO users (email, display_name, password_hash, role, is_bot)
                 VALUES ($1, $2, '', $3, true) RETURNING id",
                format!("bot-{tag}@bots.invalid"),
                format!("bot: {name}"),
                role.as_str()
            )
            .fetch_one(&mut *tx)
            .await?;
            (id, true)
        }
    };
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO api_tokens (name, user_id, service, read_only, prefix, secret_sha256, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, sha256(convert_to($6, 'UTF8')), now() + make_interval(days => $7), $8)
         RETURNING id",
        &name,
        user_id,
        service,
        request.read_only,
        &secret[..SHOWN_CHARS],
        &secret,
        request.expires_days.map(|d| d as i32),
        by.user_id.map(|v| v.0)
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        on_unique(e, "api_tokens_live_name", "name", "A token with this name already exists; choose another name.")
    })?;
    let token: ApiToken = sqlx::query_as!(
        TokenRow,
        "SELECT t.id, t.name, t.service, u.role, u.display_name AS owner, t.read_only, t.prefix,
                             t.expires_at, t.created_at, t.last_used_at, t.last_used_ip, t.revoked_at
                        FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.id = $1",
        id
    )
    .fetch_one(&mut *tx)
    .await?
    .into();
    let details = serde_json::json!({
        "owner": token.owner, "service": service, "role": token.role, "read_only": token.read_only,
        "expires_at": token.expires_at.map(|t| t.unix_timestamp()), "prefix": token.prefix,
    });
    audit::record(&mut *tx, by, AuditKind::TokenCreated, &format!("token {name}"), details).await?;
    tx.commit().await?;
    Ok(NewToken { token, secret })
}

/// Revokes the live token `id` (one of `owner`'s personal tokens, when `owner` is
/// given; any token for an admin). A service token's bot user is deactivated with it.
pub async fn revoke(pool: &PgPool, by: &audit::Actor, id: i64, owner: Option<UserId>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let revoked = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now()
          WHERE id = $1 AND revoked_at IS NULL AND ($2::bigint IS NULL OR (user_id = $2 AND NOT service))
          RETURNING name, user_id, service",
        id,
        owner.map(|v| v.0)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("That token".into()))?;
    let (name, user_id, service) = (revoked.name, revoked.user_id, revoked.service);
    if service {
        sqlx::query!("UPDATE users SET active = false, updated_at = now() WHERE id = $1 AND is_bot", user_id)
            .execute(&mut *tx)
            .await?;
    }
    let details = serde_json::json!({ "service": service });
    audit::record(&mut *tx, by, AuditKind::TokenRevoked, &format!("token {name}"), details).await?;
    tx.commit().await?;
    Ok(())
}

/// The live token called `name` (any owner), for the command line.
pub async fn live_id_by_name(pool: &PgPool, name: &str) -> Result<i64, AppError> {
    sqlx::query_scalar!("SELECT id FROM api_tokens WHERE lower(name) = lower($1) AND revoked_at IS NULL", name.trim())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("A live token named \"{}\"", name.trim())))
}

/// `user`'s personal tokens, or (`None`) every token; live ones first, newest first.
pub async fn list(pool: &PgPool, user: Option<i64>) -> Result<Vec<ApiToken>, AppError> {
    let rows = sqlx::query_as!(
        TokenRow,
        "SELECT t.id, t.name, t.service, u.role, u.display_name AS owner, t.read_only, t.prefix,
                             t.expires_at, t.created_at, t.last_used_at, t.last_used_ip, t.revoked_at
                        FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE ($1::bigint IS NULL OR (t.user_id = $1 AND NOT t.service))
          ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC LIMIT 500",
        user
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The token whose secret is `secret`, if it is live (not revoked, not expired, its
/// user active): notes its use (time, address, the rate limit's window) in the same
/// statement, so recognising a token costs one round trip.
pub async fn authenticate(pool: &PgPool, secret: &str, ip: &str) -> Result<Option<Bearer>, AppError> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    let row = sqlx::query!(
        r#"UPDATE api_tokens t
            SET last_used_at = now(), last_used_ip = $2,
                window_start = CASE WHEN t.window_start > now() - interval '1 minute' THEN t.window_start ELSE now() END,
                window_count = CASE WHEN t.window_start > now() - interval '1 minute' THEN t.window_count + 1 ELSE 1 END
           FROM users u
          WHERE t.secret_sha256 = sha256(convert_to($1, 'UTF8')) AND t.revoked_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.id = t.user_id AND u.active
      RETURNING t.id, t.name, t.read_only, t.window_count,
                extract(epoch FROM t.window_start + interval '1 minute' - now())::float8 AS "window_left!",
                u.id AS user_id, u.email, u.display_name, u.role"#,
        secret,
        ip
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Bearer {
        token_id: r.id,
        name: r.name,
        read_only: r.read_only,
        caller: Caller {
            id: UserId(r.user_id),
            email: r.email,
            display_name: r.display_name,
            role: super::users::role_of(&r.role),
        },
        window_count: r.window_count,
        window_left_secs: r.window_left.ceil().max(1.0) as i64,
    }))
}
