//! The Foghorn web application, shared by the server (SSR) and the browser (hydration).
//!
//! - [`model`]: wire types both sides agree on.
//! - [`api`]: server functions, thin: authorize, call the data layer.
//! - [`pages`] and [`components`]: what people see.
//! - [`server`] (SSR only): state, queries, sessions, the policy of who may do what.

// Leptos views are deeply nested types; release builds (no type erasure) need room.
#![recursion_limit = "512"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

pub use app::{App, shell};
