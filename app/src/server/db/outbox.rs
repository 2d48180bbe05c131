//! The outbox: messages written in the same transaction as the change that caused them,
//! so a change never waits on (or fails with) a mail server or a chat service, and no
//! message is lost when `foghorn` stops. The server's delivery worker sends them.
//!
//! Who gets what: admins' notification policies (severities × events → addresses, and
//! optionally the owning team) and webhooks (severities × events). A drill notifies
//! only its own participants, by email, marked `[DRILL]`. So does a private incident
//! (no company lists), plus the webhooks an admin allowed for private incidents.

use super::IncidentId;
use crate::error::AppError;
use crate::model::IncidentNumber;
use crate::model::*;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

/// Notified when messages are queued (or requeued), so delivery workers start at once.
pub const CHANNEL: &str = "foghorn_outbox";

/// What a message says; rendered into mail and webhook bodies when it is sent (with the
/// server's public address for links).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub event: NotifyEvent,
    pub incident_number: IncidentNumber,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub is_drill: bool,
    /// One line: what happened.
    pub headline: String,
    /// Any detail (the comms update's text).
    pub details: String,
}

impl Payload {
    /// `[DRILL] [SEV2] INC-42 Checkout failing: resolved`
    pub fn subject(&self) -> String {
        format!(
            "{}[{}] {} {}: {}",
            if self.is_drill { "[DRILL] " } else { "" },
            self.severity.label(),
            incident_ref(self.incident_number),
            self.title,
            self.event.label().to_lowercase()
        )
    }
}

/// Queues the messages `event` causes for the incident, inside the caller's transaction.
pub async fn enqueue(
    tx: &mut PgConnection,
    incident_id: IncidentId,
    event: NotifyEvent,
    headline: &str,
    details: &str,
) -> Result<(), AppError> {
    let incident = sqlx::query!(
        "SELECT number, title, severity, status, is_drill, private, team_id FROM incidents WHERE id = $1",
        incident_id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    let (number, title, severity, status, is_drill, private, team_id) = (
        incident.number,
        incident.title,
        incident.severity,
        incident.status,
        incident.is_drill,
        incident.private,
        incident.team_id,
    );
    let payload = Payload {
        event,
        incident_number: IncidentNumber(number),
        title,
        severity: Severity::from_level(severity).ok_or(AppError::Internal)?,
        status: status.parse().map_err(|_| AppError::Internal)?,
        is_drill,
        headline: headline.to_owned(),
        details: details.to_owned(),
    };
    let json = serde_json::to_string(&payload).map_err(|_| AppError::Internal)?;
    let subject = payload.subject();

    let emails: Vec<String> = if is_drill || private {
        // A rehearsal must not page the company, and a private incident must not reach
        // it: only the people in it hear about it.
        sqlx::query_scalar!(
            "SELECT DISTINCT u.email FROM incident_roles r JOIN users u ON u.id = r.user_id
              WHERE r.incident_id = $1 AND r.ended_at IS NULL AND u.active ORDER BY u.email",
            incident_id.0
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        sqlx::query_scalar!(
            r#"SELECT DISTINCT lower(email) AS "email!" FROM (
                 SELECT unnest(p.recipients) AS email FROM notification_policies p
                  WHERE $1 = ANY (p.severities) AND $2 = ANY (p.events)
                 UNION
                 SELECT u.email FROM notification_policies p
                   JOIN team_members m ON m.team_id = $3 JOIN users u ON u.id = m.user_id
                  WHERE p.owning_team AND $1 = ANY (p.severities) AND $2 = ANY (p.events) AND u.active
             ) r ORDER BY 1"#,
            severity,
            event.as_str(),
            team_id
        )
        .fetch_all(&mut *tx)
        .await?
    };
    for email in emails {
        sqlx::query!(
            "INSERT INTO outbox (incident_id, event, channel, recipient, subject, body_json)
             VALUES ($1, $2, 'email', $3, $4, $5)",
            incident_id.0,
            event.as_str(),
            email,
            &subject,
            &json
        )
        .execute(&mut *tx)
        .await?;
    }
    if !is_drill {
        sqlx::query!(
            "INSERT INTO outbox (incident_id, event, channel, recipient, webhook_id, subject, body_json)
             SELECT $1, $2, 'webhook', w.name, w.id, $3, $4 FROM webhooks w
              WHERE $5 = ANY (w.severities) AND $2 = ANY (w.events) AND (w.private_incidents OR NOT $6)",
            incident_id.0,
            event.as_str(),
            &subject,
            &json,
            severity,
            private
        )
        .execute(&mut *tx)
        .await?;
    }
    // Wake the delivery workers (every instance's, through its live listener) now,
    // at commit, rather than at their next poll.
    sqlx::query!("SELECT pg_notify($1, '')", CHANNEL).execute(&mut *tx).await?;
    Ok(())
}

/// A message the worker is about to send, claimed (row-locked) in its transaction.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    /// Fixed per row: a resend after a crash carries the same id.
    pub message_id: String,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body_json: String,
    pub attempts: i32,
    pub webhook_url: Option<String>,
    pub webhook_format: Option<WebhookFormat>,
    pub webhook_secret: Option<String>,
}

/// Claims up to `limit` due messages; other workers skip them until this transaction ends.
pub async fn claim(tx: &mut PgConnection, limit: i64) -> Result<Vec<Pending>, AppError> {
    Ok(sqlx::query_as!(
        Pending,
        r#"SELECT o.id, o.message_id::text AS "message_id!", o.channel AS "channel: Channel", o.recipient, o.subject,
                  o.body_json, o.attempts, w.url AS "webhook_url?", w.format AS "webhook_format?: WebhookFormat",
                  w.secret AS "webhook_secret?"
             FROM outbox o LEFT JOIN webhooks w ON w.id = o.webhook_id
            WHERE o.status = 'pending' AND o.next_attempt_at <= now()
            ORDER BY o.id
              FOR UPDATE OF o SKIP LOCKED
            LIMIT $1"#,
        limit
    )
    .fetch_all(&mut *tx)
    .await?)
}

pub async fn mark_sent(tx: &mut PgConnection, id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = '' WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after `retry_in`, or failed for good when `None`.
pub async fn mark_failed(
    tx: &mut PgConnection,
    id: i64,
    error: &str,
    retry_in: Option<time::Duration>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                status = CASE WHEN $3::float8 IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => coalesce($3::float8, 0))
          WHERE id = $1",
        id,
        error,
        retry_in.map(|d| d.as_seconds_f64())
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The latest deliveries, for the admin page.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Delivery>, AppError> {
    Ok(sqlx::query_as!(
        Delivery,
        r#"SELECT o.id, o.message_id::text AS "message_id!", i.number AS "incident_number?: IncidentNumber", o.event, o.channel AS "channel: Channel",
                  o.recipient, o.subject, o.status, o.attempts, o.last_error, o.created_at, o.sent_at, o.next_attempt_at
             FROM outbox o LEFT JOIN incidents i ON i.id = o.incident_id
            ORDER BY o.id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await?)
}

/// Puts a failed (or waiting) message back in the queue, due now.
pub async fn retry(pool: &PgPool, id: i64) -> Result<(), AppError> {
    let done = sqlx::query!(
        "UPDATE outbox SET status = 'pending', next_attempt_at = now() WHERE id = $1 AND status <> 'sent'",
        id
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::invalid("id", "Only unsent messages can be retried."));
    }
    sqlx::query!("SELECT pg_notify($1, '')", CHANNEL).execute(pool).await?;
    Ok(())
}
