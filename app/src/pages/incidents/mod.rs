//! Incident pages: declare, the incident itself, and the history.

pub mod access;
pub mod alert;
pub mod declare;
pub mod detail;
pub mod history;
