use crate::model::UserId;
use serde::{Deserialize, Serialize};

word_enum! {
    /// A person's role in the organisation; it decides what they may change.
    pub enum Role ("role", "choose admin, responder or viewer") {
        /// Manages users, teams, services and settings; can do everything a responder can.
        Admin = "admin", "Admin";
        /// Declares and works incidents, writes postmortems, owns action items.
        Responder = "responder", "Responder";
        /// Reads everything, changes nothing (executives, sales, support).
        Viewer = "viewer", "Viewer";
    }
}

/// Who is making a request: the signed-in person (of any role — an admin too), as
/// the policy and the pages need to know them. Not to be confused with `Role::Viewer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// A user as the admin page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

/// An email address as Foghorn stores it (see [`super::Email`]).
pub fn parse_email(input: &str) -> Result<String, crate::error::AppError> {
    Ok(super::Email::parse(input)?.into_inner())
}

/// A display name (see [`super::DisplayName`]).
pub fn parse_display_name(input: &str) -> Result<String, crate::error::AppError> {
    Ok(super::DisplayName::parse(input)?.into_inner())
}
