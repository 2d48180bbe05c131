//! Postmortem meetings, open to every engineer: the time and place, who will attend,
//! the upcoming list, and the private iCalendar feed with its per-person key.

use super::postmortems::lock;
use crate::error::AppError;
use crate::model::*;
use crate::server::policy;
use sqlx::PgPool;
use time::OffsetDateTime;

/// Sets (or clears, with `at = None`) the meeting. Any change of time or place bumps
/// the iCalendar sequence so subscribed calendars replace the event.
pub async fn schedule(
    pool: &PgPool,
    number: IncidentNumber,
    at: Option<OffsetDateTime>,
    place: &str,
) -> Result<(), AppError> {
    let place = MeetingPlace::parse(place)?.into_inner();
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    sqlx::query!(
        "UPDATE postmortems SET meeting_sequence = meeting_sequence +
                CASE WHEN meeting_at IS DISTINCT FROM $2 OR meeting_place <> $3 THEN 1 ELSE 0 END,
                meeting_at = $2, meeting_place = $3, updated_at = now()
          WHERE id = $1",
        current.id,
        at,
        place
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn attend(pool: &PgPool, by: &Caller, number: IncidentNumber, attending: bool) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    if attending {
        sqlx::query!(
            "INSERT INTO postmortem_attendees (postmortem_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            current.id,
            by.id.0
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!("DELETE FROM postmortem_attendees WHERE postmortem_id = $1 AND user_id = $2", current.id, by.id.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Meetings from an hour ago on, soonest first: those of every incident `viewer` may see.
pub async fn upcoming_meetings(pool: &PgPool, viewer: UserId) -> Result<Vec<Meeting>, AppError> {
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let rows: Vec<(i64, i64, String, OffsetDateTime, String)> = sqlx::query_as(&format!(
        "SELECT p.id, i.number, i.title, p.meeting_at, p.meeting_place
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
          WHERE p.meeting_at >= now() - interval '1 hour' AND {}
          ORDER BY p.meeting_at LIMIT 100",
        policy::incident_visible("i", "$1")
    ))
    .bind(viewer)
    .fetch_all(pool)
    .await?;
    let mut meetings = Vec::with_capacity(rows.len());
    for (id, number, title, at, place) in rows {
        meetings.push(Meeting {
            incident_number: IncidentNumber(number),
            incident_title: title,
            at,
            place,
            attendees: attendees(pool, id).await?,
        });
    }
    Ok(meetings)
}

/// A meeting as the calendar feed publishes it.
pub struct FeedEvent {
    pub postmortem_id: i64,
    pub incident_number: IncidentNumber,
    pub incident_title: String,
    pub at: OffsetDateTime,
    pub place: String,
    pub sequence: i32,
    pub updated_at: OffsetDateTime,
}

/// Every meeting from 90 days ago on that `viewer` may see, for their iCalendar feed.
pub async fn feed_events(pool: &PgPool, viewer: UserId) -> Result<Vec<FeedEvent>, AppError> {
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`); sqlx's macros take one literal.
    let rows: Vec<(i64, i64, String, OffsetDateTime, String, i32, OffsetDateTime)> = sqlx::query_as(&format!(
        "SELECT p.id, i.number, i.title, p.meeting_at, p.meeting_place, p.meeting_sequence, p.updated_at
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
          WHERE p.meeting_at >= now() - interval '90 days' AND {}
          ORDER BY p.meeting_at",
        policy::incident_visible("i", "$1")
    ))
    .bind(viewer)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(postmortem_id, incident_number, incident_title, at, place, sequence, updated_at)| FeedEvent {
            postmortem_id,
            incident_number: IncidentNumber(incident_number),
            incident_title,
            at,
            place,
            sequence,
            updated_at,
        })
        .collect())
}

/// The secret of a person's calendar-feed address, made on first use.
pub async fn calendar_key(pool: &PgPool, user_id: UserId) -> Result<String, AppError> {
    // Two v4 UUIDs: 244 random bits from PostgreSQL's CSPRNG.
    let key: String = sqlx::query_scalar!(
        "INSERT INTO calendar_keys (user_id, key)
         VALUES ($1, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
         ON CONFLICT (user_id) DO UPDATE SET key = calendar_keys.key RETURNING key",
        user_id.0
    )
    .fetch_one(pool)
    .await?;
    Ok(key)
}

/// Forgets a person's calendar-feed key, so the address they had stops working; the
/// next request for their address makes a new one. Done on "Reset calendar address"
/// and with every password change (whoever knew the password may have copied it).
pub async fn reset_calendar_key(db: impl sqlx::PgExecutor<'_>, user_id: UserId) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM calendar_keys WHERE user_id = $1", user_id.0).execute(db).await?;
    Ok(())
}

/// The active user `key` belongs to, if any: the feed shows what they may see.
pub async fn calendar_key_user(pool: &PgPool, key: &str) -> Result<Option<UserId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT u.id AS "id: UserId" FROM calendar_keys k JOIN users u ON u.id = k.user_id WHERE k.key = $1 AND u.active"#,
        key
    )
    .fetch_optional(pool)
    .await?)
}

/// Who said they will attend, by name.
pub(super) async fn attendees(pool: &PgPool, postmortem_id: i64) -> Result<Vec<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT u.id, u.display_name FROM postmortem_attendees a JOIN users u ON u.id = a.user_id
          WHERE a.postmortem_id = $1 ORDER BY lower(u.display_name)",
        postmortem_id
    )
    .fetch_all(pool)
    .await?)
}
