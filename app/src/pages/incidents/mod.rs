//! Incident pages: declare, the incident itself, and the history.

pub mod access;
pub mod alert;
mod controls;
pub mod declare;
pub mod detail;
pub mod history;
mod timeline;
