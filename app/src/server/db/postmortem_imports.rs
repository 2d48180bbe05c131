//! What a new postmortem starts with, imported from its incident: the Impact facts and
//! the Timeline, both as Markdown the authors then edit.

use super::IncidentId;
use super::{incidents, severity_of};
use crate::error::AppError;
use crate::model::IncidentNumber;
use crate::model::*;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

fn utc_minute(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The Impact section's facts, from the incident's timestamps, severity and services.
pub(super) async fn impact(tx: &mut PgConnection, incident_id: IncidentId) -> Result<String, AppError> {
    let incident = sqlx::query!(
        r#"SELECT i.severity, i.started_at, i.declared_at, i.mitigated_at, i.resolved_at,
                  (SELECT string_agg(s.name, ', ' ORDER BY lower(s.name))
                     FROM incident_services x JOIN services s ON s.id = x.service_id WHERE x.incident_id = i.id)
                  AS "services?"
             FROM incidents i WHERE i.id = $1"#,
        incident_id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    let (started, declared, mitigated, resolved, services) =
        (incident.started_at, incident.declared_at, incident.mitigated_at, incident.resolved_at, incident.services);
    let severity = severity_of(incident.severity);
    let began = started.unwrap_or(declared);
    let mut text = format!(
        "- **Severity:** {} ({})\n- **Services affected:** {}\n- **Began:** {}{}\n",
        severity.label(),
        severity.description(),
        services.as_deref().unwrap_or("none recorded"),
        utc_minute(began),
        if started.is_none() { " (declared; the start time was not recorded)" } else { "" },
    );
    if let Some(m) = mitigated {
        text += &format!("- **Mitigated:** {} ({} after it began)\n", utc_minute(m), format_duration(m - began));
    }
    match resolved {
        Some(r) => {
            text += &format!("- **Resolved:** {} ({} after it began)\n", utc_minute(r), format_duration(r - began))
        }
        None => text += "- **Resolved:** not yet\n",
    }
    text += "\nWho was affected, and how:\n";
    Ok(text)
}

/// The Timeline section: key events and every status, severity and role change, with times.
pub(super) async fn timeline(tx: &mut PgConnection, incident_id: IncidentId) -> Result<String, AppError> {
    let rows = sqlx::query!(
        "SELECT created_at, kind, body FROM timeline_entries
          WHERE incident_id = $1
            AND (is_key_event OR kind IN ('declared', 'status_change', 'severity_change', 'role_change'))
          ORDER BY seq",
        incident_id.0
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut text = String::new();
    for entry in rows {
        let (at, kind, body) = (entry.created_at, entry.kind, entry.body);
        // A note may span lines; the list item keeps its first line whole and indents the rest.
        let body = body.trim().replace('\n', "\n  ");
        let key = if kind == "note" { " ★" } else { "" };
        text += &format!("- **{}**{key} — {body}\n", utc_minute(at));
    }
    Ok(text)
}

/// A fresh import of the incident's timeline, for "refresh from incident": the editor
/// puts it into the Timeline section only, so edits elsewhere are untouched.
pub async fn refreshed_timeline(pool: &PgPool, number: IncidentNumber) -> Result<String, AppError> {
    let mut conn = pool.acquire().await?;
    let incident_id = incidents::id_of(pool, number).await?;
    timeline(&mut conn, incident_id).await
}
