//! Wire types shared by server and browser.

#[macro_use]
mod words;
mod action_item;
mod alert;
mod audit;
mod comms;
mod dates;
mod filters;
mod ids;
mod incident;
mod org;
mod postmortem;
mod refs;
mod runbook;
mod text;
mod timeline;
mod token;
mod user;

pub use action_item::*;
pub use alert::*;
pub use audit::*;
pub use comms::*;
pub use dates::{check_date, check_time, datetime_input_bounds, format_duration, format_time, input_bounds};
pub use filters::*;
pub use ids::*;
pub use incident::*;
pub use org::{Service, Team, TeamMember};
pub use postmortem::*;
pub use refs::*;
pub use runbook::*;
pub use text::*;
pub use timeline::*;
pub use token::*;
pub use user::{Caller, Role, UserSummary, parse_display_name, parse_email};

/// Percent-encodes a value for a URL query (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
