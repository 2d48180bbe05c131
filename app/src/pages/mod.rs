//! Route components, by feature.

pub mod account;
pub mod actions;
pub mod admin;
pub mod admin_notifications;
pub mod audit;
pub mod dashboard;
pub mod errors;
pub mod incidents;
pub mod integrations;
pub mod postmortems;
pub mod runbooks;
pub mod setup;
pub mod sign_in;
