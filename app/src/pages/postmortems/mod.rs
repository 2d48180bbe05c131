//! Postmortems: the list with its meetings, and one postmortem's page.

mod editor;
mod history;
pub mod index;
pub mod page;
