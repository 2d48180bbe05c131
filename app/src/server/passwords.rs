//! Password hashing (argon2id, OWASP parameters) and the password policy.
//!
//! Each hash holds 19 MiB for its duration, so hashing runs on the blocking pool
//! behind a semaphore of about one permit per core: a burst of sign-ins queues
//! instead of exhausting memory or starving the async executor.

use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Passwords from the most common leaked-password lists that meet the length rule;
/// they are the first guesses of every attacker.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

pub struct PasswordHasher {
    permits: Semaphore,
    /// Verified against when the email is unknown, so that costs what a wrong password costs.
    dummy_hash: String,
}

fn argon2() -> Argon2<'static> {
    // OWASP: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|err| {
        tracing::error!(error = %err, "password hashing failed");
        AppError::Internal
    })
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(err) => {
            tracing::error!(error = %err, "stored password hash is malformed");
            false
        }
    }
}

impl PasswordHasher {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let dummy_hash =
            hash_blocking("foghorn dummy password for unknown accounts").expect("argon2 works at start-up");
        Self { permits: Semaphore::new(cores), dummy_hash }
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.map_err(|_| AppError::Internal)?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(|_| AppError::Internal)?
    }

    /// Checks `password` against `hash`, or against a dummy hash when there is none,
    /// so an unknown account cannot be told apart by timing.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        let known = hash.is_some();
        let password = password.to_owned();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let matched = tokio::task::spawn_blocking(move || verify_blocking(&password, &hash)).await.unwrap_or(false);
        known && matched
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The password rules (NIST SP 800-63B): length only, no composition rules,
/// never truncated, and not one of the most common passwords.
pub fn check_password_policy(password: &str) -> Result<(), AppError> {
    crate::model::Password::parse(password)?;
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|common| common == lowered) {
        return Err(AppError::invalid("password", "This is one of the most common passwords; choose another."));
    }
    Ok(())
}
