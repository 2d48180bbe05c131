//! The audit trail, for administrators.

use crate::error::AppError;
use crate::model::{AuditFilter, AuditPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::server::{self, db, policy::Permission};

/// The newest audit events matching `filter`, a page at a time.
#[server(endpoint = "list_audit_events", input = Json)]
pub async fn list_audit_events(filter: AuditFilter) -> Result<AuditPage, AppError> {
    let (state, _) = server::authorized(Permission::ReadAudit).await?;
    db::audit::page(&state.pool, &filter).await
}
