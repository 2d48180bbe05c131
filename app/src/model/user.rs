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
