//! Wire types shared by server and browser.

mod incident;
mod org;
mod user;

pub use incident::*;
pub use org::{Service, Team, TeamMember};
pub use user::{Role, UserSummary, Viewer, parse_display_name, parse_email};
