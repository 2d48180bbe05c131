//! Comms updates: written by the incident's comms person (or point), told on the
//! timeline, queued to internal audiences, and shown publicly when they have a public
//! part.

use super::{incidents, person, severity_of};
use super::{outbox, timeline};
use crate::error::AppError;
use crate::model::*;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// What the comms form sends.
#[derive(Debug, Clone, Default)]
pub struct UpdateInput {
    pub affected: String,
    pub known: String,
    pub doing: String,
    /// Minutes until the next update is promised (none: no promise).
    pub next_update_minutes: Option<i64>,
    pub internal: bool,
    /// The status-page wording; `Some` makes the update public.
    pub public_text: Option<String>,
}

impl UpdateInput {
    pub fn parse(
        affected: &str,
        known: &str,
        doing: &str,
        next_update_minutes: &str,
        internal: bool,
        public: bool,
        public_text: &str,
    ) -> Result<Self, AppError> {
        let input = UpdateInput {
            affected: CommsAffected::parse(affected)?.into_inner(),
            known: CommsKnown::parse(known)?.into_inner(),
            doing: CommsDoing::parse(doing)?.into_inner(),
            next_update_minutes: match next_update_minutes.trim() {
                "" => None,
                m => Some(m.parse::<i64>().ok().filter(|m| (1..=1440).contains(m)).ok_or_else(|| {
                    AppError::invalid("next_update_minutes", "Promise the next update in 1 to 1440 minutes.")
                })?),
            },
            internal,
            public_text: if public { Some(PublicWording::parse(public_text)?.into_inner()) } else { None },
        };
        if input.known.is_empty() && input.doing.is_empty() {
            return Err(AppError::invalid("known", "Say what we know or what we are doing."));
        }
        if !input.internal && !public {
            return Err(AppError::invalid("audience", "Choose who this update is for: internal, public, or both."));
        }
        if input.public_text.as_deref() == Some("") {
            return Err(AppError::invalid(
                "public_text",
                "Write the public wording: customers read this on the status page.",
            ));
        }
        Ok(input)
    }

    /// The update as the timeline and internal messages show it.
    pub fn as_text(&self) -> String {
        let mut text = String::new();
        for (label, value) in
            [("Affected", &self.affected), ("What we know", &self.known), ("What we are doing", &self.doing)]
        {
            if !value.is_empty() {
                text += &format!("**{label}:** {value}\n\n");
            }
        }
        text.trim_end().to_owned()
    }
}

/// Posts an update. Only the incident's current comms or point holder (or an admin)
/// speaks for it.
pub async fn post(pool: &PgPool, by: &Caller, number: IncidentNumber, input: &UpdateInput) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, number).await?;
    let holds: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM incident_roles WHERE incident_id = $1 AND user_id = $2
                         AND role IN ('comms', 'point') AND ended_at IS NULL) AS "exists!""#,
        incident.id.0,
        by.id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    if !holds && by.role != Role::Admin {
        return Err(AppError::Refused(
            "Only the person on comms (or point) posts comms updates: take comms first.".into(),
        ));
    }
    let private: bool =
        sqlx::query_scalar!("SELECT private FROM incidents WHERE id = $1", incident.id.0).fetch_one(&mut *tx).await?;
    if private && input.public_text.is_some() {
        return Err(AppError::invalid("public", "A private incident never appears on the public status page."));
    }
    let next = input.next_update_minutes.map(|m| OffsetDateTime::now_utc() + Duration::minutes(m));
    sqlx::query!("INSERT INTO comms_updates (incident_id, author_id, affected, known, doing, internal, public_text, next_update_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", incident.id.0, by.id.0, &input.affected, &input.known, &input.doing, input.internal, input.public_text.as_deref(), next)
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE incidents SET next_update_at = $2 WHERE id = $1", incident.id.0, next)
        .execute(&mut *tx)
        .await?;
    let audience = match (input.internal, input.public_text.is_some()) {
        (true, true) => "internal and public",
        (false, true) => "public",
        _ => "internal",
    };
    let mut body = format!("{} posted a comms update ({audience})\n\n{}", by.display_name, input.as_text());
    if let Some(public) = &input.public_text {
        body += &format!("\n\n**Public:** {public}");
    }
    if let Some(m) = input.next_update_minutes {
        body += &format!("\n\nNext update in {m} min.");
    }
    timeline::append(&mut tx, incident.id, EntryKind::CommsUpdate, Some(by.id), &body).await?;
    if input.internal {
        let headline = format!("Comms update from {}", by.display_name);
        let mut details = input.as_text();
        if let Some(m) = input.next_update_minutes {
            details += &format!("\n\nNext update in {m} minutes.");
        }
        outbox::enqueue(&mut tx, incident.id, NotifyEvent::CommsUpdate, &headline, &details).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An incident's updates, newest first.
pub async fn for_incident(pool: &PgPool, number: IncidentNumber) -> Result<Vec<CommsUpdate>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.author_id, u.display_name AS "author_name?", c.affected, c.known, c.doing, c.internal,
                  c.public_text, c.next_update_at, c.posted_at
             FROM comms_updates c JOIN incidents i ON i.id = c.incident_id LEFT JOIN users u ON u.id = c.author_id
            WHERE i.number = $1 ORDER BY c.posted_at DESC, c.id DESC"#,
        number.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CommsUpdate {
            id: r.id,
            author: person(r.author_id, r.author_name),
            affected: r.affected,
            known: r.known,
            doing: r.doing,
            internal: r.internal,
            public_text: r.public_text,
            next_update_at: r.next_update_at,
            posted_at: r.posted_at,
        })
        .collect())
}

/// Active SEV1 and SEV2 incidents (not drills) `viewer` may see, for the banner inside Foghorn.
pub async fn major_incidents(pool: &PgPool, viewer: UserId) -> Result<Vec<MajorIncident>, AppError> {
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let rows: Vec<(i64, String, i16)> = sqlx::query_as(&format!(
        "SELECT i.number, i.title, i.severity FROM incidents i
          WHERE i.status <> 'resolved' AND i.severity <= 2 AND NOT i.is_drill AND {}
          ORDER BY i.severity, i.declared_at",
        crate::server::policy::incident_visible("i", "$1")
    ))
    .bind(viewer)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(number, title, severity)| MajorIncident {
            number: IncidentNumber(number),
            title,
            severity: severity_of(severity),
        })
        .collect())
}
