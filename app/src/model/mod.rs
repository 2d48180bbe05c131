//! Wire types shared by server and browser.

#[macro_use]
mod words;
mod action_item;
mod comms;
mod dates;
mod incident;
mod org;
mod postmortem;
mod runbook;
mod user;

pub use action_item::*;
pub use comms::*;
pub use dates::{check_date, check_time, datetime_input_bounds, input_bounds};
pub use incident::*;
pub use org::{Service, Team, TeamMember};
pub use postmortem::*;
pub use runbook::*;
pub use user::{Caller, Role, UserSummary, parse_display_name, parse_email};
