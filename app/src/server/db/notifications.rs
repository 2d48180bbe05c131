//! Admins' notification settings: email policies and chat webhooks.

use super::severity_of;
use crate::error::AppError;
use crate::model::*;
use sqlx::{PgExecutor, PgPool};

fn parse_severities(list: &[String]) -> Result<Vec<i16>, AppError> {
    let levels: Vec<i16> = list
        .iter()
        .map(|s| s.parse::<Severity>().map(Severity::level).map_err(|m| AppError::invalid("severities", m)))
        .collect::<Result<_, _>>()?;
    if levels.is_empty() {
        return Err(AppError::invalid("severities", "Choose at least one severity."));
    }
    Ok(levels)
}

fn parse_events(list: &[String]) -> Result<Vec<String>, AppError> {
    let events: Vec<String> = list
        .iter()
        .map(|e| e.parse::<NotifyEvent>().map(|e| e.as_str().to_owned()).map_err(|m| AppError::invalid("events", m)))
        .collect::<Result<_, _>>()?;
    if events.is_empty() {
        return Err(AppError::invalid("events", "Choose at least one event."));
    }
    Ok(events)
}

fn severities_of(levels: Vec<i16>) -> Vec<Severity> {
    levels.into_iter().map(severity_of).collect()
}

fn events_of(events: Vec<String>) -> Vec<NotifyEvent> {
    events.iter().filter_map(|e| e.parse().ok()).collect()
}

pub async fn policies(pool: &PgPool) -> Result<Vec<NotificationPolicy>, AppError> {
    let rows = sqlx::query!(
        "SELECT id, name, severities, events, recipients, owning_team FROM notification_policies ORDER BY lower(name), id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| NotificationPolicy {
            id: r.id,
            name: r.name,
            severities: severities_of(r.severities),
            events: events_of(r.events),
            recipients: r.recipients,
            owning_team: r.owning_team,
        })
        .collect())
}

pub async fn create_policy(
    db: impl PgExecutor<'_>,
    name: &str,
    severities: &[String],
    events: &[String],
    recipients: &str,
    owning_team: bool,
) -> Result<i64, AppError> {
    let name = NotificationName::parse(name)?.into_inner();
    let severities = parse_severities(severities)?;
    let events = parse_events(events)?;
    let recipients: Vec<String> = recipients
        .split([',', '\n', ';', ' '])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| parse_email(r).map_err(|m| AppError::invalid("recipients", format!("{r}: {m}"))))
        .collect::<Result<_, _>>()?;
    if recipients.is_empty() && !owning_team {
        return Err(AppError::invalid("recipients", "Add at least one address, or send to the owning team."));
    }
    Ok(sqlx::query_scalar!("INSERT INTO notification_policies (name, severities, events, recipients, owning_team) VALUES ($1, $2, $3, $4, $5) RETURNING id", name, &severities, &events, &recipients, owning_team)
    .fetch_one(db)
    .await?)
}

/// Deletes a policy; its name, when there was one to delete.
pub async fn delete_policy(db: impl PgExecutor<'_>, id: i64) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar!("DELETE FROM notification_policies WHERE id = $1 RETURNING name", id)
        .fetch_optional(db)
        .await?)
}

pub async fn webhooks(pool: &PgPool) -> Result<Vec<Webhook>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT id, name, url, format AS "format: WebhookFormat", severities, events, private_incidents, secret
             FROM webhooks ORDER BY lower(name), id"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Webhook {
            id: r.id,
            name: r.name,
            url: r.url,
            format: r.format,
            severities: severities_of(r.severities),
            events: events_of(r.events),
            private_incidents: r.private_incidents,
            secret: r.secret,
        })
        .collect())
}

/// Adds a webhook with a fresh signing secret (from PostgreSQL's CSPRNG).
pub async fn create_webhook(
    db: impl PgExecutor<'_>,
    name: &str,
    url: &str,
    format: &str,
    severities: &[String],
    events: &[String],
    private_incidents: bool,
) -> Result<i64, AppError> {
    let name = NotificationName::parse(name)?.into_inner();
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2000
        || url.contains(char::is_whitespace)
    {
        return Err(AppError::invalid("url", "Use an http:// or https:// address."));
    }
    let format: WebhookFormat =
        format.parse().map_err(|_| AppError::invalid("format", "Choose Slack-compatible or generic JSON."))?;
    let severities = parse_severities(severities)?;
    let events = parse_events(events)?;
    Ok(sqlx::query_scalar!(
        "INSERT INTO webhooks (name, url, format, severities, events, private_incidents, secret)
         VALUES ($1, $2, $3, $4, $5, $6, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
         RETURNING id",
        name,
        url,
        format.as_str(),
        &severities,
        &events,
        private_incidents
    )
    .fetch_one(db)
    .await?)
}

/// Deletes a webhook; its name, when there was one to delete.
pub async fn delete_webhook(db: impl PgExecutor<'_>, id: i64) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar!("DELETE FROM webhooks WHERE id = $1 RETURNING name", id).fetch_optional(db).await?)
}

/// Shows or hides a service on the public status page; returns its name.
pub async fn set_service_public(db: impl PgExecutor<'_>, id: ServiceId, public: bool) -> Result<String, AppError> {
    let name: Option<String> =
        sqlx::query_scalar!("UPDATE services SET public = $2 WHERE id = $1 RETURNING name", id.0, public)
            .fetch_optional(db)
            .await?;
    name.ok_or_else(|| AppError::NotFound("That service".into()))
}
