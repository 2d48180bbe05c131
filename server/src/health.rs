//! `GET /healthz`: for load balancers and monitors. 200 when the database answers, 503 when not.

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

pub async fn healthz(pool: PgPool) -> (StatusCode, Json<Value>) {
    let ping = tokio::time::timeout(Duration::from_secs(2), sqlx::query!("SELECT 1 AS up").fetch_one(&pool)).await;
    match ping {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({ "status": "ok", "database": "up" }))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: database error");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": "down" })))
        }
        Err(_) => {
            tracing::warn!("health check: database timed out");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": "timeout" })))
        }
    }
}
