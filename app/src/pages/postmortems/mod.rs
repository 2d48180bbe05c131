//! Postmortems: the list with its meetings, and one postmortem's page.

mod editor;
pub mod index;
pub mod page;
mod versions;
