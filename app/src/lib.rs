//! The Foghorn web application, shared by the server (SSR) and the browser (hydration).
//!
//! - [`model`]: wire types both sides agree on.
//! - [`api`]: server functions, thin: authorize, call the data layer.
//! - [`pages`] and [`components`]: what people see.
//! - [`server`] (SSR only): state, queries, sessions, the policy of who may do what.
//!
//! # Where things are
//!
//! Each feature has one name, used in every layer: `model/<feature>.rs` (its types),
//! `api/<feature>.rs` (its server functions), `server/db/<feature>.rs` (its queries and
//! transactions), `pages/<feature>` (its pages). For example, "assign point":
//! `api::incidents::assign_role` → `server::db::incident_people::assign_role`, shown by
//! the `Controls` of `pages/incidents/controls.rs`.
//!
//! | feature | model | api | data layer | pages |
//! | --- | --- | --- | --- | --- |
//! | incidents, roles, timeline, history | `incident`, `timeline` | `incidents` | `incidents` (changes), `incident_people` (roles, who sees it), `incident_pages` (reads), `timeline`, `history` | `incidents/` (declare, detail with its controls and timeline, access, history), `dashboard` |
//! | comms, notifications, status page | `comms` | `comms` | `comms`, `outbox`, `notifications`, `status` | `admin_notifications`; `components/comms` |
//! | postmortems, meetings | `postmortem` | `postmortems` | `postmortems`, `postmortem_imports` (what a new one starts with), `postmortem_versions`, `meetings` | `postmortems/` (index, page, editor, versions) |
//! | action items | `action_item` | `action_items` | `action_items` (changes), `tracker` (lists, counts, CSV, summary) | `actions`; `components/action_items` |
//! | runbooks, drills | `runbook` | `runbooks` | `runbooks` | `runbooks/` (list, new, page); `components/runbooks` |
//! | users, teams, services | `user`, `org` | `admin`, `auth` | `users`, `teams`, `services` | `admin`, `account`, `sign_in`, `setup` |
//! | audit log | `audit` | `audit` | `audit` | `audit` |
//! | API tokens, chat id, alert routing | `token`, `alert` | `integrations` | `api_tokens`, `alerts` (receiving), `alert_routes`, `users` | `integrations`, `account`; `components/tokens` |
//!
//! Closed sets of words (roles, statuses, timeline kinds, delivery channels…) are
//! declared with `word_enum!` in `model/words.rs`; text people type (titles, notes,
//! names, emails, passwords) is parsed by its kind in `model/text.rs`, which holds every
//! length limit; ids, one type each (`IncidentNumber`, `UserId`, `TeamId`…):
//! `model/ids.rs`; the lists' filters and the typed criteria they parse into:
//! `model/filters.rs`; people and services as records mention them: `model/refs.rs`; dates and
//! durations as people read them: `model/dates.rs`. The SQL: `server/db/`, checked at
//! compile time (see its module note). Who may do what, and who may see which incident
//! (private incidents): `server/policy.rs`. Files that
//! leave Foghorn (CSV, Markdown):
//! `server/exports.rs`. Sessions: `server/sessions.rs`. Sign-in
//! throttling: `server/throttle.rs`. Form fields and their errors:
//! `components/form.rs`. Live updates in the browser: `components/live.rs`; focus
//! through them: `components/focus.rs`. The HTTP side (router, live streams, delivery,
//! the public status snapshot, downloads, single sign-on in `sso.rs`, the audit log's
//! exports and pruning in `audit.rs`, the REST API `/api/v1` with its alert and chat
//! doors in `rest/`) is the `foghorn` crate in `server/`.

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
