//! Incident pages: declare, the incident itself, and the history.

pub mod declare;
pub mod detail;
pub mod history;
