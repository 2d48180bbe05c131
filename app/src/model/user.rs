use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A person's role in the organisation; it decides what they may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, teams, services and settings; can do everything a responder can.
    Admin,
    /// Declares and works incidents, writes postmortems, owns action items.
    Responder,
    /// Reads everything, changes nothing (executives, sales, support).
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Responder, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Responder => "responder",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Responder => "Responder",
            Role::Viewer => "Viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "responder" => Ok(Role::Responder),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("Unknown role \"{other}\": choose admin, responder or viewer.")),
        }
    }
}

/// Who is making a request: the signed-in person (of any role — an admin too), as
/// the policy and the pages need to know them. Not to be confused with `Role::Viewer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// A user as the admin page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

/// An email address as Foghorn stores it: trimmed and lower-cased, so that
/// `Ana@Example.com` and `ana@example.com` are one account.
pub fn parse_email(input: &str) -> Result<String, crate::error::AppError> {
    let email = input.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(crate::error::AppError::invalid("email", "Enter an email address like name@example.com."))
    }
}

/// A display name: what colleagues see on incidents and timelines.
pub fn parse_display_name(input: &str) -> Result<String, crate::error::AppError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(crate::error::AppError::invalid("display_name", "Enter a name."));
    }
    if name.chars().count() > 100 {
        return Err(crate::error::AppError::invalid("display_name", "Use at most 100 characters."));
    }
    Ok(name.to_owned())
}
