//! Reusable pieces of the interface.

pub mod action_items;
pub mod comms;
pub mod form;
pub mod incident;
pub mod live;
pub mod time;
pub mod layout;
