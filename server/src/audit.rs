//! The audit trail outside the pages: its exports (CSV, JSON Lines) and the pruning of
//! events older than the retention.

use app::model::{AuditEvent, AuditFilter, AuditKind};
use app::server::db::audit::{self, Actor};
use app::server::exports;
use app::server::policy::{Permission, role_allows};
use app::server::{AppState, ClientIp, CurrentUser};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sqlx::PgPool;
use std::time::Duration;

/// The formats the trail is exported in.
#[derive(Clone, Copy)]
enum Format {
    Csv,
    JsonLines,
}

impl Format {
    fn lines(self, events: &[AuditEvent], first: bool) -> String {
        match self {
            Format::Csv if first => exports::audit_csv_header() + &exports::audit_csv_rows(events),
            Format::Csv => exports::audit_csv_rows(events),
            Format::JsonLines => exports::audit_json_lines(events),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.to_owned()).into_response()
}

/// `GET /api/audit.csv?…`: the filtered trail as CSV (columns in the order of
/// [`exports::AUDIT_CSV_COLUMNS`]).
pub async fn csv(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Extension(ip): Extension<ClientIp>,
    Query(filter): Query<AuditFilter>,
) -> Response {
    export(state, user, ip, filter, Format::Csv).await
}

/// `GET /api/audit.jsonl?…`: the filtered trail as JSON Lines.
pub async fn json_lines(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Extension(ip): Extension<ClientIp>,
    Query(filter): Query<AuditFilter>,
) -> Response {
    export(state, user, ip, filter, Format::JsonLines).await
}

async fn export(state: AppState, user: CurrentUser, ip: ClientIp, filter: AuditFilter, format: Format) -> Response {
    let Some(me) = user.0 else {
        return failure(StatusCode::UNAUTHORIZED, "Sign in to export the audit log.");
    };
    if !role_allows(me.role, Permission::ReadAudit) {
        let details =
            serde_json::json!({ "permission": "ReadAudit", "endpoint": format!("/api/audit.{}", format.word()) });
        let _ =
            audit::record(&state.pool, &Actor::user(&me, &ip.0), AuditKind::AccessRefused, "audit log", details).await;
        return failure(StatusCode::FORBIDDEN, "Only administrators export the audit log.");
    }
    // The first batch is read before answering, so a bad filter gets its error status.
    let (first, next) = match audit::export_batch(&state.pool, &filter, None).await {
        Ok(first) => first,
        Err(err) => {
            return failure(
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &err.to_string(),
            );
        }
    };
    // Taking the trail out is itself on the trail, with the filter it used.
    let details = serde_json::json!({ "format": format.word(), "filter": filter });
    if audit::record(&state.pool, &Actor::user(&me, &ip.0), AuditKind::AuditExported, "audit log", details)
        .await
        .is_err()
    {
        return failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not record the export; try again.");
    }
    let first = format.lines(&first, true);
    let pool = state.pool;
    let rest = futures::stream::unfold(next, move |after| {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            Some(match audit::export_batch(&pool, &filter, Some(after?)).await {
                Ok((events, next)) => (Ok(format.lines(&events, false)), next),
                // Cut the download short, so it cannot pass for complete.
                Err(err) => (Err(std::io::Error::other(err.to_string())), None),
            })
        }
    });
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest);
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "foghorn-audit.csv"),
        Format::JsonLines => ("application/jsonl; charset=utf-8", "foghorn-audit.jsonl"),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// Prunes events older than `keep_days` now and then every `every`, until `stop`.
/// Every instance runs it; the database serialises them (see `audit_prune`).
pub async fn prune_schedule(
    pool: PgPool,
    keep_days: i32,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match audit::prune(&pool, keep_days).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(target: "foghorn::audit", removed, keep_days, "audit log pruned"),
            Err(err) => tracing::error!(target: "foghorn::audit", error = %err, "audit log pruning failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
