//! Postmortems: started from an incident, saved as versions under optimistic
//! concurrency (a save names the version it was based on), reviewed and published.
//!
//! Viewers read published postmortems only; the callers pass whether the reader may
//! edit, and every read here honours it. What is imported from the incident when one
//! starts: [`super::postmortem_imports`]; the version history: [`super::postmortem_versions`].
//!
//! About 400 lines on purpose: the lifecycle (start, save, review, publish) and the two
//! reads (one postmortem, the index) share the stored row, its section limit and the
//! rule of who reads drafts; split further, each half would repeat them.

use super::IncidentId;
use super::timeline;
use super::{incidents, person, severity_of};
use crate::error::AppError;
use crate::model::*;
use crate::server::markdown;
use sqlx::{PgConnection, PgPool, QueryBuilder};
use time::OffsetDateTime;

/// Per section: generous for a long report, small enough that a paste accident is caught.
pub const MAX_SECTION_CHARS: usize = 50_000;

/// The postmortem of an incident, locked for a change.
pub(super) struct Locked {
    pub(super) id: i64,
    incident_id: IncidentId,
    status: PostmortemStatus,
    version: i32,
    sections: Sections,
    updated_by: Option<String>,
}

pub(super) fn parse_sections(json: &str) -> Result<Sections, AppError> {
    serde_json::from_str(json).map_err(|err| {
        tracing::error!(error = %err, "stored postmortem sections do not parse");
        AppError::Internal
    })
}

fn to_json(sections: &Sections) -> String {
    serde_json::to_string(sections).expect("sections serialise")
}

pub(super) fn not_found(number: IncidentNumber) -> AppError {
    AppError::NotFound(format!("A postmortem for {}", incident_ref(number)))
}

pub(super) async fn lock(tx: &mut PgConnection, number: IncidentNumber) -> Result<Locked, AppError> {
    let row = sqlx::query!(
        r#"SELECT p.id, p.incident_id, p.status, p.version, p.sections::text AS "sections!",
                  u.display_name AS "updated_by?"
             FROM postmortems p JOIN incidents i ON i.id = p.incident_id
             LEFT JOIN users u ON u.id = p.updated_by
            WHERE i.number = $1 FOR UPDATE OF p"#,
        number.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(number))?;
    Ok(Locked {
        id: row.id,
        incident_id: IncidentId(row.incident_id),
        status: row.status.parse().map_err(|_| AppError::Internal)?,
        version: row.version,
        sections: parse_sections(&row.sections)?,
        updated_by: row.updated_by,
    })
}

/// Enforces the size limit. Text is stored exactly as written (trimming it would make
/// the editor's copy differ from the saved one and look like someone else's change).
pub fn check_sections(sections: Sections) -> Result<Sections, AppError> {
    for s in Section::ALL {
        if sections.get(s).chars().count() > MAX_SECTION_CHARS {
            return Err(AppError::invalid(
                s.key(),
                format!("{} is over {MAX_SECTION_CHARS} characters; move detail to a linked document.", s.title()),
            ));
        }
    }
    Ok(sections)
}

/// Starts the postmortem of an incident from the template; one per incident.
pub async fn start(pool: &PgPool, by: &Caller, number: IncidentNumber) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, number).await?;
    let exists: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM postmortems WHERE incident_id = $1) AS "exists!""#,
        incident.id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    if exists {
        return Err(AppError::Conflict(format!("{} already has a postmortem.", incident_ref(number))));
    }
    let sections = check_sections(Sections {
        impact: super::postmortem_imports::impact(&mut tx, incident.id).await?,
        timeline: super::postmortem_imports::timeline(&mut tx, incident.id).await?,
        ..Sections::default()
    })?;
    let json = to_json(&sections);
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO postmortems (incident_id, team_id, sections, created_by, updated_by)
         SELECT id, team_id, $2::text::jsonb, $3, $3 FROM incidents WHERE id = $1 RETURNING id",
        incident.id.0,
        &json,
        by.id.0
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO postmortem_versions (postmortem_id, version, sections, author_id, note)
         VALUES ($1, 1, $2::text::jsonb, $3, 'started from the template')",
        id,
        &json,
        by.id.0
    )
    .execute(&mut *tx)
    .await?;
    let body = format!("{} started the postmortem", by.display_name);
    timeline::append(&mut tx, incident.id, EntryKind::Postmortem, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(())
}

/// Saves a new version if `base_version` is still the current one; otherwise refuses
/// with the current version so nothing is overwritten. Saving unchanged text is a no-op.
pub async fn save(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    base_version: i32,
    sections: Sections,
    note: &str,
) -> Result<Saved, AppError> {
    let sections = check_sections(sections)?;
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    let next = super::next_version(&current.sections, current.version, current.updated_by, base_version, &sections)?;
    let Some(version) = next else {
        return Ok(Saved { version: current.version });
    };
    let json = to_json(&sections);
    sqlx::query!(
        "UPDATE postmortems SET sections = $2::text::jsonb, version = $3, updated_by = $4, updated_at = now(),
                corrected_at = CASE WHEN status = 'published' THEN now() ELSE corrected_at END
          WHERE id = $1",
        current.id,
        &json,
        version,
        by.id.0
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("INSERT INTO postmortem_versions (postmortem_id, version, sections, author_id, note) VALUES ($1, $2, $3::text::jsonb, $4, $5)", current.id, version, &json, by.id.0, note)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Saved { version })
}

/// Moves the postmortem along `draft → in review → published` (or back to draft from
/// review). Publishing needs the required sections and action items or a reason for none.
pub async fn move_status(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    to: PostmortemStatus,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    current.status.can_move_to(to).map_err(|m| AppError::invalid("status", m))?;
    if to == PostmortemStatus::Published {
        let missing = current.sections.missing_required();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.title()).collect();
            return Err(AppError::invalid("status", format!("Before publishing, fill in: {}.", names.join(", "))));
        }
        let found = sqlx::query!(
            r#"SELECT (SELECT count(*) FROM action_items a WHERE a.incident_id = p.incident_id) AS "items!",
                      p.no_action_items_reason
                 FROM postmortems p WHERE p.id = $1"#,
            current.id
        )
        .fetch_one(&mut *tx)
        .await?;
        if found.items == 0 && found.no_action_items_reason.trim().is_empty() {
            return Err(AppError::invalid(
                "status",
                "Before publishing, add at least one action item, or say why none are needed.",
            ));
        }
    }
    sqlx::query!(
        "UPDATE postmortems SET status = $2, updated_at = now(),
                published_at = CASE WHEN $2 = 'published' THEN now() ELSE published_at END,
                published_version = CASE WHEN $2 = 'published' THEN version ELSE published_version END
          WHERE id = $1",
        current.id,
        to.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO postmortem_status_moves (postmortem_id, from_status, to_status, moved_by) VALUES ($1, $2, $3, $4)",
        current.id,
        current.status.as_str(),
        to.as_str(),
        by.id.0
    )
    .execute(&mut *tx)
    .await?;
    let body = match to {
        PostmortemStatus::Published => format!("{} published the postmortem", by.display_name),
        PostmortemStatus::InReview => format!("{} sent the postmortem for review", by.display_name),
        PostmortemStatus::Draft => format!("{} moved the postmortem back to draft", by.display_name),
    };
    timeline::append(&mut tx, current.incident_id, EntryKind::Postmortem, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_team(pool: &PgPool, number: IncidentNumber, team_id: Option<TeamId>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    super::teams::ensure_exists(&mut tx, team_id).await?;
    sqlx::query!(
        "UPDATE postmortems SET team_id = $2, updated_at = now() WHERE id = $1",
        current.id,
        team_id.map(|v| v.0)
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_no_action_items_reason(pool: &PgPool, number: IncidentNumber, reason: &str) -> Result<(), AppError> {
    let reason = NoActionItemsReason::parse(reason)?.into_inner();
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    sqlx::query!(
        "UPDATE postmortems SET no_action_items_reason = $2, updated_at = now() WHERE id = $1",
        current.id,
        reason
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PageRow {
    id: i64,
    last_seq: i64,
    title: String,
    severity: i16,
    is_drill: bool,
    private: bool,
    team_id: Option<TeamId>,
    team_name: Option<String>,
    status: String,
    version: i32,
    sections: String,
    no_action_items_reason: String,
    meeting_at: Option<OffsetDateTime>,
    meeting_place: String,
    updated_by_id: Option<i64>,
    updated_by_name: Option<String>,
    updated_at: OffsetDateTime,
    published_at: Option<OffsetDateTime>,
    corrected_at: Option<OffsetDateTime>,
}

/// The postmortem page. A reader who may not edit sees it only once published.
pub async fn view(
    pool: &PgPool,
    number: IncidentNumber,
    reader: &Caller,
    can_edit: bool,
) -> Result<Postmortem, AppError> {
    // A private incident's postmortem is as private as the incident.
    // Dynamic: the visibility rule is spliced in (see `policy::incident_visible`).
    let row: PageRow = sqlx::query_as(&format!(
        "SELECT p.id, i.last_seq, i.title, i.severity, i.is_drill, i.private, p.team_id, t.name AS team_name, p.status,
                p.version, p.sections::text AS sections, p.no_action_items_reason, p.meeting_at, p.meeting_place,
                p.updated_by AS updated_by_id, u.display_name AS updated_by_name, p.updated_at,
                p.published_at, p.corrected_at
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.updated_by
          WHERE i.number = $1 AND ($2 OR p.status = 'published') AND {}",
        crate::server::policy::incident_visible("i", "$3")
    ))
    .bind(number)
    .bind(can_edit)
    .bind(reader.id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| not_found(number))?;
    let sections = parse_sections(&row.sections)?;
    let attendees = super::meetings::attendees(pool, row.id).await?;
    let moves = sqlx::query!(
        r#"SELECT m.from_status, m.to_status, m.moved_by, u.display_name AS "moved_by_name?", m.moved_at
             FROM postmortem_status_moves m LEFT JOIN users u ON u.id = m.moved_by
            WHERE m.postmortem_id = $1 ORDER BY m.moved_at, m.id"#,
        row.id
    )
    .fetch_all(pool)
    .await?;
    Ok(Postmortem {
        incident_number: number,
        incident_last_seq: row.last_seq,
        incident_title: row.title,
        severity: severity_of(row.severity),
        is_drill: row.is_drill,
        private: row.private,
        team_id: row.team_id,
        team_name: row.team_name,
        status: row.status.parse().map_err(|_| AppError::Internal)?,
        version: row.version,
        sections_html: Section::ALL.iter().map(|s| markdown::render(sections.get(*s))).collect(),
        sections,
        no_action_items_reason: row.no_action_items_reason,
        meeting_at: row.meeting_at,
        meeting_place: row.meeting_place,
        attendees,
        updated_by: person(row.updated_by_id, row.updated_by_name),
        updated_at: row.updated_at,
        published_at: row.published_at,
        corrected_at: row.corrected_at,
        moves: moves
            .into_iter()
            .filter_map(|m| {
                Some(StatusMove {
                    from: m.from_status.parse().ok()?,
                    to: m.to_status.parse().ok()?,
                    by: person(m.moved_by, m.moved_by_name),
                    at: m.moved_at,
                })
            })
            .collect(),
        can_edit,
        viewer_id: reader.id,
    })
}

/// `/postmortems`: newest first, filtered; readers who may not edit see published ones only.
pub async fn list(
    pool: &PgPool,
    filter: &PostmortemCriteria,
    can_edit: bool,
    viewer: UserId,
) -> Result<Vec<PostmortemSummary>, AppError> {
    // Dynamic: each filter is optional, so the SQL is assembled from the ones given.
    let mut q = QueryBuilder::new(
        "SELECT i.number, i.title, i.severity, t.name AS team_name, p.status, p.created_at, p.updated_at,
                p.published_at, p.meeting_at
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id LEFT JOIN teams t ON t.id = p.team_id
          WHERE ",
    );
    crate::server::policy::push_incident_visible(&mut q, "i", Some(viewer));
    if !can_edit {
        q.push(" AND p.status = 'published'");
    }
    if let Some(status) = filter.status {
        q.push(" AND p.status = ").push_bind(status.as_str());
    }
    if let Some(team) = filter.team_id {
        q.push(" AND p.team_id = ").push_bind(team);
    }
    if let Some(service) = filter.service_id {
        q.push(" AND EXISTS (SELECT 1 FROM incident_services x WHERE x.incident_id = i.id AND x.service_id = ")
            .push_bind(service)
            .push(")");
    }
    let text = filter.q.as_str();
    if !text.is_empty() {
        q.push(" AND (p.search || i.search) @@ websearch_to_tsquery('english', ").push_bind(text).push(")");
    }
    q.push(" ORDER BY p.created_at DESC, p.id DESC LIMIT 500");
    #[derive(sqlx::FromRow)]
    struct Row {
        number: IncidentNumber,
        title: String,
        severity: i16,
        team_name: Option<String>,
        status: String,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
        published_at: Option<OffsetDateTime>,
        meeting_at: Option<OffsetDateTime>,
    }
    let rows: Vec<Row> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| PostmortemSummary {
            incident_number: r.number,
            incident_title: r.title,
            severity: severity_of(r.severity),
            team_name: r.team_name,
            status: r.status.parse().unwrap_or(PostmortemStatus::Draft),
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
            meeting_at: r.meeting_at,
        })
        .collect())
}
