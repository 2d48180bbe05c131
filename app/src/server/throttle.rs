//! Slowing down and refusing password guessing.
//!
//! Counted over the last 15 minutes of failed sign-ins:
//! - 5 failures for one account from one address: that address is refused for that account;
//! - 30 failures from one address, whatever the accounts: that address is refused;
//! - more than 5 failures for one account from anywhere: every further attempt for that
//!   account waits (1 s per extra failure, at most 3 s) but is not refused, so an attacker
//!   cannot lock the real user out of their own account.

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
    Allow { delay: Duration },
    Refuse,
}

pub async fn check(pool: &PgPool, email: &str, ip: &str) -> Result<Verdict, AppError> {
    let (pair, address, account): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE email = $1 AND ip = $2),
                count(*) FILTER (WHERE ip = $2),
                count(*) FILTER (WHERE email = $1)
           FROM sign_in_attempts
          WHERE NOT succeeded
            AND at > now() - make_interval(mins => $3)
            AND (email = $1 OR ip = $2)",
    )
    .bind(email)
    .bind(ip)
    .bind(WINDOW_MINUTES)
    .fetch_one(pool)
    .await?;
    if pair >= PAIR_LIMIT || address >= ADDRESS_LIMIT {
        return Ok(Verdict::Refuse);
    }
    let extra = (account - ACCOUNT_SLOWDOWN_AFTER + 1).clamp(0, MAX_DELAY_SECS);
    Ok(Verdict::Allow { delay: Duration::from_secs(extra as u64) })
}

pub async fn record(pool: &PgPool, email: &str, ip: &str, succeeded: bool) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if succeeded {
        // The person at this address knows the password: forget their earlier typos.
        sqlx::query("DELETE FROM sign_in_attempts WHERE email = $1 AND ip = $2")
            .bind(email)
            .bind(ip)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("INSERT INTO sign_in_attempts (email, ip, succeeded) VALUES ($1, $2, false)")
            .bind(email)
            .bind(ip)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM sign_in_attempts WHERE at < now() - interval '1 day'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
