//! Server functions: the public HTTP endpoints of the app (`/api/<name>`).
//!
//! Each one is thin: find the caller, ask the policy, call the data layer.
//! Any client can call them, so none trusts the page that called it.

pub mod action_items;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod comms;
pub mod incidents;
pub mod integrations;
pub mod postmortems;
pub mod runbooks;
