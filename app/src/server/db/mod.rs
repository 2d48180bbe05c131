//! Queries, grouped by the aggregate they serve. Multi-step writes are one transaction.
//!
//! Static SQL goes through sqlx's macros (`query!`, `query_as!`, `query_scalar!`), which
//! check it against the migrated schema at compile time: a renamed column or a wrong type
//! does not build. Builds read the checked metadata from `.sqlx/` (`SQLX_OFFLINE`, set in
//! `.cargo/config.toml`); after changing a query or a migration, run
//! `cargo sqlx prepare --workspace -- -p foghorn -p foghorn-bench` against a migrated
//! database and commit `.sqlx/` (the test command fails while it is stale). SQL that is assembled at run time
//! says so with a `// Dynamic:` note: queries that splice in the visibility rule
//! ([`crate::server::policy::incident_visible`]) and the optional filters of the lists.

pub mod action_items;
pub mod alert_routes;
pub mod alerts;
pub mod api_tokens;
pub mod audit;
pub mod comms;
pub mod history;
pub mod incident_pages;
pub mod incident_people;
pub mod incidents;
pub mod meetings;
pub mod notifications;
pub mod outbox;
pub mod postmortem_imports;
pub mod postmortem_versions;
pub mod postmortems;
pub mod runbook_incidents;
pub mod runbooks;
pub mod services;
pub mod status;
pub mod teams;
pub mod timeline;
pub mod tracker;
pub mod users;

use crate::error::AppError;
use crate::model::UserId;
use crate::model::{Person, Severity};

/// An incident's row id: what the database joins on, never shown to people. A type of
/// its own, so that passing it where an incident's number (`INC-42`, what people see
/// and type) is meant, or the other way round, does not compile. Checked queries take
/// it as `id.0` (their parameters must be the column's own type); where a row's id is
/// read, it is wrapped at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct IncidentId(pub i64);

/// Stored values are constrained by the schema; these readings cannot fail in practice,
/// and fall back to the least alarming reading rather than failing a whole page.
pub(crate) fn severity_of(level: i16) -> Severity {
    Severity::from_level(level).unwrap_or(Severity::Sev4)
}

/// The rule of every versioned document (postmortems, runbooks): a save names the
/// version it was based on. If someone saved since, nothing is overwritten: the save is
/// refused with the current version, its author and its content, so the editor can
/// show them beside the text the user kept. Saving unchanged text changes nothing
/// (`None`); otherwise the new version's number.
pub(crate) fn next_version<T: PartialEq + serde::Serialize>(
    current: &T,
    current_version: i32,
    current_author: Option<String>,
    base_version: i32,
    new: &T,
) -> Result<Option<i32>, AppError> {
    if current_version != base_version {
        return Err(AppError::EditConflict {
            version: current_version,
            author: current_author.unwrap_or_else(|| "Someone".into()),
            content: serde_json::to_string(current).map_err(|_| AppError::Internal)?,
        });
    }
    Ok((new != current).then_some(current_version + 1))
}

/// A person from a nullable join (`id`, `display_name`).
pub(crate) fn person(id: Option<i64>, name: Option<String>) -> Option<Person> {
    id.zip(name).map(|(id, display_name)| Person { id: UserId(id), display_name })
}

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
