//! API tokens: how automation (and people's scripts) reach the REST API.

use super::Role;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A token as its owner (or an admin) sees it; the secret itself is shown once, at
/// creation, and never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// Not tied to a person: acts as its own bot user, with `role`.
    pub service: bool,
    pub role: Role,
    /// "Name" for a personal token, "bot: name" for a service token.
    pub owner: String,
    pub read_only: bool,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub last_used_ip: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// What the account page (or an admin) asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TokenRequest {
    pub name: String,
    #[serde(default)]
    pub read_only: bool,
    /// Days until it stops working; `None`: until revoked.
    #[serde(default)]
    pub expires_days: Option<u32>,
    /// A service token's role (admins only); `None`: a personal token.
    #[serde(default)]
    pub service_role: Option<Role>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

/// A year and a little: longer-lived automation should use a service token without expiry.
pub const MAX_TOKEN_DAYS: u32 = 400;
