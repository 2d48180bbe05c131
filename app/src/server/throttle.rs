//! Slowing down and refusing password guessing, for every check of a password
//! (signing in, changing one's password).
//!
//! Counted over the last 15 minutes of failed attempts:
//! - 5 failures for one account from one address: that address is refused for that account;
//! - 30 failures from one address, whatever the accounts: from then on that address gets
//!   "too many" for every wrong password and every unknown account — but a right password
//!   for an account that has not itself used up its 5 still gets in, so everyone behind one
//!   office NAT (or one proxy) is not locked out by a colleague's typos or a guesser;
//! - more than 5 failures for one account from anywhere: every further attempt for that
//!   account waits (1 s per extra failure, at most 3 s) but is not refused, so an attacker
//!   cannot lock the real user out of their own account.
//!
//! An attempt is counted *before* the password is verified ([`reserve`]), as a failure
//! until [`settle`] says otherwise: 40 guesses sent at once are judged 5 at most, not 40.

use crate::error::AppError;
use sqlx::PgPool;
use std::time::Duration;

pub const WINDOW_MINUTES: i32 = 15;
pub const PAIR_LIMIT: i64 = 5;
pub const ADDRESS_LIMIT: i64 = 30;
pub const ACCOUNT_SLOWDOWN_AFTER: i64 = 5;
const MAX_DELAY_SECS: i64 = 3;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Verify the password (after `delay`), then [`settle`] the attempt.
    Allow {
        delay: Duration,
        attempt: Attempt,
    },
    Refuse,
}

/// An attempt that counts as a failure until it is settled as a success.
#[derive(Debug, PartialEq, Eq)]
pub struct Attempt {
    email: String,
    ip: String,
    /// The address has used up its own limit: only a right password may pass.
    pub address_exhausted: bool,
}

/// Counts this attempt against `email` and `ip` and says whether it may be judged.
pub async fn reserve(pool: &PgPool, email: &str, ip: &str) -> Result<Verdict, AppError> {
    let mut tx = pool.begin().await?;
    // Attempts from one address are counted one after the other, so parallel requests
    // cannot all read the same count. Held only for this short transaction, never
    // while a password is hashed.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('foghorn.sign_in ' || $1, 0))", ip)
        .execute(&mut *tx)
        .await?;
    let failures = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE email = $1 AND ip = $2) AS "pair!",
                  count(*) FILTER (WHERE ip = $2) AS "address!",
                  count(*) FILTER (WHERE email = $1) AS "account!"
             FROM sign_in_attempts
            WHERE NOT succeeded
              AND at > now() - make_interval(mins => $3)
              AND (email = $1 OR ip = $2)"#,
        email,
        ip,
        WINDOW_MINUTES
    )
    .fetch_one(&mut *tx)
    .await?;
    let (pair, address, account) = (failures.pair, failures.address, failures.account);
    if pair >= PAIR_LIMIT {
        return Ok(Verdict::Refuse);
    }
    sqlx::query!("INSERT INTO sign_in_attempts (email, ip, succeeded) VALUES ($1, $2, false)", email, ip)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let extra = (account - ACCOUNT_SLOWDOWN_AFTER + 1).clamp(0, MAX_DELAY_SECS);
    Ok(Verdict::Allow {
        delay: Duration::from_secs(extra as u64),
        attempt: Attempt { email: email.to_owned(), ip: ip.to_owned(), address_exhausted: address >= ADDRESS_LIMIT },
    })
}

/// Settles a reserved attempt. A failure stays counted; a success forgets this
/// account's failures from this address (the person there knows the password).
pub async fn settle(pool: &PgPool, attempt: Attempt, succeeded: bool) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if succeeded {
        sqlx::query!("DELETE FROM sign_in_attempts WHERE email = $1 AND ip = $2", &attempt.email, &attempt.ip)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query!("DELETE FROM sign_in_attempts WHERE at < now() - interval '1 day'").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Reserves an attempt and waits out its delay; `Err(TooManyRequests)` when refused.
pub async fn admit(pool: &PgPool, email: &str, ip: &str) -> Result<Attempt, AppError> {
    match reserve(pool, email, ip).await? {
        Verdict::Refuse => {
            tracing::warn!(target: "foghorn::audit", ?email, ?ip, "password check refused: too many failures");
            Err(too_many())
        }
        Verdict::Allow { delay, attempt } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok(attempt)
        }
    }
}

pub fn too_many() -> AppError {
    AppError::TooManyRequests("Too many failed attempts. Wait 15 minutes and try again.".into())
}
