//! Queries, grouped by the aggregate they serve. Multi-step writes are one transaction.

pub mod action_items;
pub mod audit;
pub mod comms;
pub mod history;
pub mod incidents;
pub mod meetings;
pub mod notifications;
pub mod outbox;
pub mod postmortems;
pub mod runbooks;
pub mod services;
pub mod status;
pub mod teams;
pub mod timeline;
pub mod users;

use crate::error::AppError;

/// The name of the unique constraint a failed write violated, if that is what happened.
pub(crate) fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}

/// Turns a unique-constraint violation into a field error; anything else is internal.
pub(crate) fn on_unique(err: sqlx::Error, constraint: &str, field: &str, message: &str) -> AppError {
    if violated_constraint(&err) == Some(constraint) { AppError::invalid(field, message) } else { AppError::from(err) }
}
