//! Reusable pieces of the interface.

pub mod form;
pub mod incident;
pub mod live;
pub mod time;
pub mod layout;
