//! The append-only timeline of an incident, and the live notification of each write.

use super::IncidentId;
use crate::error::AppError;
use crate::model::{EntryKind, IncidentNumber, Person, TimelineEntry, UserId};
use crate::server::markdown;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// The channel every instance LISTENs on; the payload names the incident and sequence.
pub const CHANNEL: &str = "foghorn_events";

struct EntryRow {
    id: i64,
    number: IncidentNumber,
    seq: i64,
    kind: String,
    author_id: Option<UserId>,
    author_name: Option<String>,
    body: String,
    is_key_event: bool,
    created_at: OffsetDateTime,
    edited_at: Option<OffsetDateTime>,
}

impl From<EntryRow> for TimelineEntry {
    fn from(r: EntryRow) -> Self {
        let body_html = markdown::render(&r.body);
        TimelineEntry {
            id: r.id,
            incident_number: r.number,
            seq: r.seq,
            // Only a newer Foghorn writes a kind this one does not know.
            kind: r.kind.parse().unwrap_or(EntryKind::Edit),
            author: r.author_id.zip(r.author_name).map(|(id, display_name)| Person { id, display_name }),
            body: r.body,
            body_html,
            is_key_event: r.is_key_event,
            created_at: r.created_at,
            edited_at: r.edited_at,
        }
    }
}

/// Tells every instance that `incident_id` changed; delivered when the transaction commits.
/// `seq` is the new entry, or 0 when an existing entry was edited.
pub async fn notify(tx: &mut PgConnection, incident_id: IncidentId, seq: i64) -> Result<(), AppError> {
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, format!("{}:{seq}", incident_id.0)).execute(&mut *tx).await?;
    Ok(())
}

/// Appends an entry inside the caller's transaction (which holds the incident's row
/// lock, so sequence order is commit order) and notifies live subscribers.
pub async fn append(
    tx: &mut PgConnection,
    incident_id: IncidentId,
    kind: EntryKind,
    author_id: Option<UserId>,
    body: &str,
) -> Result<i64, AppError> {
    let seq: i64 = sqlx::query_scalar!(
        "UPDATE incidents SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq",
        incident_id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO timeline_entries (incident_id, seq, kind, author_id, body) VALUES ($1, $2, $3, $4, $5)",
        incident_id.0,
        seq,
        kind.as_str(),
        author_id.map(|v| v.0),
        body
    )
    .execute(&mut *tx)
    .await?;
    notify(tx, incident_id, seq).await?;
    Ok(seq)
}

/// The first `limit` entries of an incident with a sequence number above `after`,
/// oldest first.
pub async fn after(
    pool: &PgPool,
    incident_id: IncidentId,
    after: i64,
    limit: i64,
) -> Result<Vec<TimelineEntry>, AppError> {
    let rows = sqlx::query_as!(
        EntryRow,
        r#"SELECT e.id, i.number, e.seq, e.kind, e.author_id AS "author_id: UserId", u.display_name AS "author_name?",
                  e.body, e.is_key_event, e.created_at, e.edited_at
             FROM timeline_entries e
             JOIN incidents i ON i.id = e.incident_id
             LEFT JOIN users u ON u.id = e.author_id
            WHERE e.incident_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"#,
        incident_id.0,
        after,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The newest `limit` entries numbered `from_seq` or later, oldest first.
pub async fn latest(
    pool: &PgPool,
    incident_id: IncidentId,
    from_seq: i64,
    limit: i64,
) -> Result<Vec<TimelineEntry>, AppError> {
    let mut rows = sqlx::query_as!(
        EntryRow,
        r#"SELECT e.id, i.number, e.seq, e.kind, e.author_id AS "author_id: UserId", u.display_name AS "author_name?",
                  e.body, e.is_key_event, e.created_at, e.edited_at
             FROM timeline_entries e
             JOIN incidents i ON i.id = e.incident_id
             LEFT JOIN users u ON u.id = e.author_id
            WHERE e.incident_id = $1 AND e.seq >= $2 ORDER BY e.seq DESC LIMIT $3"#,
        incident_id.0,
        from_seq,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows.into_iter().map(Into::into).collect())
}

/// 404 unless the entry belongs to an incident `viewer` may see.
pub async fn ensure_entry_visible(pool: &PgPool, entry_id: i64, viewer: UserId) -> Result<(), AppError> {
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let visible: bool = sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM timeline_entries e JOIN incidents i ON i.id = e.incident_id
                         WHERE e.id = $1 AND {})",
        crate::server::policy::incident_visible("i", "$2")
    ))
    .bind(entry_id)
    .bind(viewer)
    .fetch_one(pool)
    .await?;
    if visible { Ok(()) } else { Err(AppError::NotFound("That timeline entry".into())) }
}

/// Edits a note; only its author may. The previous text is kept as a revision.
pub async fn edit_note(pool: &PgPool, entry_id: i64, editor_id: UserId, body: &str) -> Result<(), AppError> {
    let body = crate::model::NoteBody::parse(body)?.into_inner();
    let mut tx = pool.begin().await?;
    let entry = sqlx::query!(
        "SELECT incident_id, kind, author_id, body FROM timeline_entries WHERE id = $1 FOR UPDATE",
        entry_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|e| (e.incident_id, e.kind, e.author_id, e.body));
    let Some((incident_id, kind, author_id, old_body)) = entry else {
        return Err(AppError::NotFound("That timeline entry".into()));
    };
    if kind != EntryKind::Note.as_str() {
        return Err(AppError::invalid("body", "Only notes can be edited; changes are recorded as they happened."));
    }
    if author_id != Some(editor_id.0) {
        return Err(AppError::Forbidden);
    }
    if old_body == body {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO timeline_entry_revisions (entry_id, body, edited_by) VALUES ($1, $2, $3)",
        entry_id,
        &old_body,
        editor_id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE timeline_entries SET body = $2, edited_at = now() WHERE id = $1", entry_id, &body)
        .execute(&mut *tx)
        .await?;
    notify(&mut tx, IncidentId(incident_id), 0).await?;
    tx.commit().await?;
    Ok(())
}

/// The earlier texts of an edited note, oldest first.
pub async fn revisions(pool: &PgPool, entry_id: i64) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!("SELECT body FROM timeline_entry_revisions WHERE entry_id = $1 ORDER BY id", entry_id)
        .fetch_all(pool)
        .await?)
}

/// Marks (or unmarks) an entry as a key event, which the postmortem imports.
pub async fn set_key_event(pool: &PgPool, entry_id: i64, key: bool) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident_id: Option<i64> = sqlx::query_scalar!(
        "UPDATE timeline_entries SET is_key_event = $2 WHERE id = $1 RETURNING incident_id",
        entry_id,
        key
    )
    .fetch_optional(&mut *tx)
    .await?;
    let incident_id = incident_id.ok_or_else(|| AppError::NotFound("That timeline entry".into()))?;
    notify(&mut tx, IncidentId(incident_id), 0).await?;
    tx.commit().await?;
    Ok(())
}
