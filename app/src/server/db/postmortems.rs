//! Postmortems: started from an incident, saved as versions under optimistic
//! concurrency (a save names the version it was based on), reviewed and published.
//!
//! Viewers read published postmortems only; the callers pass whether the reader may
//! edit, and every read here honours it.
//!
//! Version history, decided: a reader who may not edit reads the published version
//! and the corrections saved after it, each diffed against the one before it (the
//! published version against nothing). The drafts before publishing — wording that
//! was argued over and changed, and who wrote it — are the responders' working
//! history and stay with those who may edit.

use super::timeline;
use super::{incidents, person, severity_of};
use crate::error::AppError;
use crate::model::*;
use crate::server::markdown;
use sqlx::{PgConnection, PgPool, QueryBuilder};
use time::OffsetDateTime;

/// Per section: generous for a long report, small enough that a paste accident is caught.
pub const MAX_SECTION_CHARS: usize = 50_000;
pub const MAX_PLACE_CHARS: usize = 500;
pub const MAX_REASON_CHARS: usize = 2_000;

/// The postmortem of an incident, locked for a change.
pub(super) struct Locked {
    pub(super) id: i64,
    incident_id: i64,
    status: PostmortemStatus,
    version: i32,
    sections: Sections,
    updated_by: Option<String>,
}

fn parse_sections(json: &str) -> Result<Sections, AppError> {
    serde_json::from_str(json).map_err(|err| {
        tracing::error!(error = %err, "stored postmortem sections do not parse");
        AppError::Internal
    })
}

fn to_json(sections: &Sections) -> String {
    serde_json::to_string(sections).expect("sections serialise")
}

fn not_found(number: i64) -> AppError {
    AppError::NotFound(format!("A postmortem for {}", incident_ref(number)))
}

pub(super) async fn lock(tx: &mut PgConnection, number: i64) -> Result<Locked, AppError> {
    let row: Option<(i64, i64, String, i32, String, Option<String>)> = sqlx::query_as(
        "SELECT p.id, p.incident_id, p.status, p.version, p.sections::text, u.display_name
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           LEFT JOIN users u ON u.id = p.updated_by
          WHERE i.number = $1 FOR UPDATE OF p",
    )
    .bind(number)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, incident_id, status, version, sections, updated_by) = row.ok_or_else(|| not_found(number))?;
    Ok(Locked {
        id,
        incident_id,
        status: status.parse().map_err(|_| AppError::Internal)?,
        version,
        sections: parse_sections(&sections)?,
        updated_by,
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
pub async fn start(pool: &PgPool, by: &Caller, number: i64) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let incident = incidents::lock(&mut tx, number).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM postmortems WHERE incident_id = $1)")
        .bind(incident.id)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        return Err(AppError::Conflict(format!("{} already has a postmortem.", incident_ref(number))));
    }
    let sections = check_sections(Sections {
        impact: impact_import(&mut tx, incident.id).await?,
        timeline: timeline_import(&mut tx, incident.id).await?,
        ..Sections::default()
    })?;
    let json = to_json(&sections);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO postmortems (incident_id, team_id, sections, created_by, updated_by)
         SELECT id, team_id, $2::jsonb, $3, $3 FROM incidents WHERE id = $1 RETURNING id",
    )
    .bind(incident.id)
    .bind(&json)
    .bind(by.id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO postmortem_versions (postmortem_id, version, sections, author_id, note)
         VALUES ($1, 1, $2::jsonb, $3, 'started from the template')",
    )
    .bind(id)
    .bind(&json)
    .bind(by.id)
    .execute(&mut *tx)
    .await?;
    let body = format!("{} started the postmortem", by.display_name);
    timeline::append(&mut tx, incident.id, EntryKind::Postmortem, Some(by.id), &body).await?;
    tx.commit().await?;
    Ok(())
}

fn utc_minute(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The Impact section's facts, from the incident's timestamps, severity and services.
async fn impact_import(tx: &mut PgConnection, incident_id: i64) -> Result<String, AppError> {
    #[allow(clippy::type_complexity)]
    let (severity, started, declared, mitigated, resolved, services): (
        i16,
        Option<OffsetDateTime>,
        OffsetDateTime,
        Option<OffsetDateTime>,
        Option<OffsetDateTime>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT i.severity, i.started_at, i.declared_at, i.mitigated_at, i.resolved_at,
                (SELECT string_agg(s.name, ', ' ORDER BY lower(s.name))
                   FROM incident_services x JOIN services s ON s.id = x.service_id WHERE x.incident_id = i.id)
           FROM incidents i WHERE i.id = $1",
    )
    .bind(incident_id)
    .fetch_one(&mut *tx)
    .await?;
    let severity = severity_of(severity);
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
async fn timeline_import(tx: &mut PgConnection, incident_id: i64) -> Result<String, AppError> {
    let rows: Vec<(OffsetDateTime, String, String)> = sqlx::query_as(
        "SELECT created_at, kind, body FROM timeline_entries
          WHERE incident_id = $1
            AND (is_key_event OR kind IN ('declared', 'status_change', 'severity_change', 'role_change'))
          ORDER BY seq",
    )
    .bind(incident_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut text = String::new();
    for (at, kind, body) in rows {
        // A note may span lines; the list item keeps its first line whole and indents the rest.
        let body = body.trim().replace('\n', "\n  ");
        let key = if kind == "note" { " ★" } else { "" };
        text += &format!("- **{}**{key} — {body}\n", utc_minute(at));
    }
    Ok(text)
}

/// A fresh import of the incident's timeline, for "refresh from incident": the editor
/// puts it into the Timeline section only, so edits elsewhere are untouched.
pub async fn refreshed_timeline(pool: &PgPool, number: i64) -> Result<String, AppError> {
    let mut conn = pool.acquire().await?;
    let incident_id = incidents::id_of(pool, number).await?;
    timeline_import(&mut conn, incident_id).await
}

/// Saves a new version if `base_version` is still the current one; otherwise refuses
/// with the current version so nothing is overwritten. Saving unchanged text is a no-op.
pub async fn save(
    pool: &PgPool,
    by: &Caller,
    number: i64,
    base_version: i32,
    sections: Sections,
    note: &str,
) -> Result<Saved, AppError> {
    let sections = check_sections(sections)?;
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    if current.version != base_version {
        return Err(AppError::EditConflict {
            version: current.version,
            author: current.updated_by.unwrap_or_else(|| "Someone".into()),
            content: to_json(&current.sections),
        });
    }
    if sections == current.sections {
        return Ok(Saved { version: current.version });
    }
    let version = current.version + 1;
    let json = to_json(&sections);
    sqlx::query(
        "UPDATE postmortems SET sections = $2::jsonb, version = $3, updated_by = $4, updated_at = now(),
                corrected_at = CASE WHEN status = 'published' THEN now() ELSE corrected_at END
          WHERE id = $1",
    )
    .bind(current.id)
    .bind(&json)
    .bind(version)
    .bind(by.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO postmortem_versions (postmortem_id, version, sections, author_id, note) VALUES ($1, $2, $3::jsonb, $4, $5)",
    )
    .bind(current.id)
    .bind(version)
    .bind(&json)
    .bind(by.id)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Saved { version })
}

/// Makes an old version the current text again, as a new version.
pub async fn restore(
    pool: &PgPool,
    by: &Caller,
    number: i64,
    version: i32,
    base_version: i32,
) -> Result<Saved, AppError> {
    let old = version_sections(pool, number, version).await?;
    save(pool, by, number, base_version, old, &format!("restored version {version}")).await
}

/// Any version's text, whoever reads: callers check the reader first
/// ([`versions`] for readers, the write permission for a restore).
async fn version_sections(pool: &PgPool, number: i64, version: i32) -> Result<Sections, AppError> {
    let json: String = sqlx::query_scalar(
        "SELECT v.sections::text FROM postmortem_versions v
           JOIN postmortems p ON p.id = v.postmortem_id JOIN incidents i ON i.id = p.incident_id
          WHERE i.number = $1 AND v.version = $2",
    )
    .bind(number)
    .bind(version)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("Version {version} of the postmortem for {}", incident_ref(number))))?;
    parse_sections(&json)
}

/// Moves the postmortem along `draft → in review → published` (or back to draft from
/// review). Publishing needs the required sections and action items or a reason for none.
pub async fn move_status(pool: &PgPool, by: &Caller, number: i64, to: PostmortemStatus) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    current.status.can_move_to(to).map_err(|m| AppError::invalid("status", m))?;
    if to == PostmortemStatus::Published {
        let missing = current.sections.missing_required();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.title()).collect();
            return Err(AppError::invalid("status", format!("Before publishing, fill in: {}.", names.join(", "))));
        }
        let (items, reason): (i64, String) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM action_items a WHERE a.incident_id = p.incident_id), p.no_action_items_reason
               FROM postmortems p WHERE p.id = $1",
        )
        .bind(current.id)
        .fetch_one(&mut *tx)
        .await?;
        if items == 0 && reason.trim().is_empty() {
            return Err(AppError::invalid(
                "status",
                "Before publishing, add at least one action item, or say why none are needed.",
            ));
        }
    }
    sqlx::query(
        "UPDATE postmortems SET status = $2, updated_at = now(),
                published_at = CASE WHEN $2 = 'published' THEN now() ELSE published_at END,
                published_version = CASE WHEN $2 = 'published' THEN version ELSE published_version END
          WHERE id = $1",
    )
    .bind(current.id)
    .bind(to.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO postmortem_status_moves (postmortem_id, from_status, to_status, moved_by) VALUES ($1, $2, $3, $4)",
    )
    .bind(current.id)
    .bind(current.status.as_str())
    .bind(to.as_str())
    .bind(by.id)
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

pub async fn set_team(pool: &PgPool, number: i64, team_id: Option<i64>) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    if let Some(team) = team_id {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1)")
            .bind(team)
            .fetch_one(&mut *tx)
            .await?;
        if !exists {
            return Err(AppError::invalid("team_id", "Choose an existing team."));
        }
    }
    sqlx::query("UPDATE postmortems SET team_id = $2, updated_at = now() WHERE id = $1")
        .bind(current.id)
        .bind(team_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_no_action_items_reason(pool: &PgPool, number: i64, reason: &str) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid("reason", format!("Keep it under {MAX_REASON_CHARS} characters.")));
    }
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, number).await?;
    sqlx::query("UPDATE postmortems SET no_action_items_reason = $2, updated_at = now() WHERE id = $1")
        .bind(current.id)
        .bind(reason)
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
    team_id: Option<i64>,
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
pub async fn view(pool: &PgPool, number: i64, reader: &Caller, can_edit: bool) -> Result<Postmortem, AppError> {
    // A private incident's postmortem is as private as the incident.
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
    let moves: Vec<(String, String, Option<i64>, Option<String>, OffsetDateTime)> = sqlx::query_as(
        "SELECT m.from_status, m.to_status, m.moved_by, u.display_name, m.moved_at
           FROM postmortem_status_moves m LEFT JOIN users u ON u.id = m.moved_by
          WHERE m.postmortem_id = $1 ORDER BY m.moved_at, m.id",
    )
    .bind(row.id)
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
            .filter_map(|(from, to, by_id, by_name, at)| {
                Some(StatusMove { from: from.parse().ok()?, to: to.parse().ok()?, by: person(by_id, by_name), at })
            })
            .collect(),
        can_edit,
        viewer_id: reader.id,
    })
}

/// The first version the reader may read (see the module's note): 1 for those who may
/// edit, the published version for everyone else, and none before publishing.
async fn first_readable_version(pool: &PgPool, number: i64, can_edit: bool) -> Result<i32, AppError> {
    let published: Option<Option<i32>> = sqlx::query_scalar(
        "SELECT p.published_version FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    match published {
        Some(_) if can_edit => Ok(1),
        Some(Some(version)) => Ok(version),
        _ => Err(not_found(number)),
    }
}

/// Every version the reader may read, newest first, with the sections each changed.
pub async fn versions(pool: &PgPool, number: i64, can_edit: bool) -> Result<Vec<VersionSummary>, AppError> {
    let first = first_readable_version(pool, number, can_edit).await?;
    let rows: Vec<(i32, Option<i64>, Option<String>, OffsetDateTime, String, Vec<String>)> = sqlx::query_as(
        "SELECT v.version, v.author_id, u.display_name, v.saved_at, v.note,
                ARRAY(SELECT e.key FROM jsonb_each(v.sections) e
                       WHERE prev.sections IS NULL OR e.value IS DISTINCT FROM prev.sections -> e.key)
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           JOIN postmortem_versions v ON v.postmortem_id = p.id
           LEFT JOIN postmortem_versions prev ON prev.postmortem_id = p.id AND prev.version = v.version - 1 AND prev.version >= $2
           LEFT JOIN users u ON u.id = v.author_id
          WHERE i.number = $1 AND v.version >= $2
          ORDER BY v.version DESC",
    )
    .bind(number)
    .bind(first)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, author_id, author_name, saved_at, note, changed)| VersionSummary {
            version,
            author: person(author_id, author_name),
            saved_at,
            note,
            changed: Section::ALL.into_iter().filter(|s| changed.iter().any(|k| k == s.key())).collect(),
        })
        .collect())
}

/// One version in full, with line diffs of what it changed against the one before
/// (for the first version the reader may read, against nothing).
pub async fn version_detail(
    pool: &PgPool,
    number: i64,
    version: i32,
    can_edit: bool,
) -> Result<VersionDetail, AppError> {
    let first = first_readable_version(pool, number, can_edit).await?;
    let summary =
        versions(pool, number, can_edit).await?.into_iter().find(|v| v.version == version).ok_or_else(|| {
            AppError::NotFound(format!("Version {version} of the postmortem for {}", incident_ref(number)))
        })?;
    let sections = version_sections(pool, number, version).await?;
    let previous =
        if version > first { version_sections(pool, number, version - 1).await? } else { Sections::default() };
    let diffs = summary.changed.iter().map(|s| (*s, line_diff(previous.get(*s), sections.get(*s)))).collect();
    Ok(VersionDetail { summary, sections, diffs })
}

fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| {
            let line = change.value().trim_end_matches('\n').to_owned();
            match change.tag() {
                similar::ChangeTag::Equal => DiffLine::Same(line),
                similar::ChangeTag::Insert => DiffLine::Added(line),
                similar::ChangeTag::Delete => DiffLine::Removed(line),
            }
        })
        .collect()
}

/// `/postmortems`: newest first, filtered; readers who may not edit see published ones only.
pub async fn list(
    pool: &PgPool,
    filter: &PostmortemFilter,
    can_edit: bool,
    viewer: i64,
) -> Result<Vec<PostmortemSummary>, AppError> {
    let status = match filter.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<PostmortemStatus>().map_err(|m| AppError::invalid("status", m))?),
        None => None,
    };
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
    if let Some(status) = status {
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
    let text = filter.q.trim();
    if !text.is_empty() {
        q.push(" AND (p.search || i.search) @@ websearch_to_tsquery('english', ").push_bind(text).push(")");
    }
    q.push(" ORDER BY p.created_at DESC, p.id DESC LIMIT 500");
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        String,
        i16,
        Option<String>,
        String,
        OffsetDateTime,
        OffsetDateTime,
        Option<OffsetDateTime>,
        Option<OffsetDateTime>,
    )> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(number, title, severity, team_name, status, created_at, updated_at, published_at, meeting_at)| {
            PostmortemSummary {
                incident_number: number,
                incident_title: title,
                severity: severity_of(severity),
                team_name,
                status: status.parse().unwrap_or(PostmortemStatus::Draft),
                created_at,
                updated_at,
                published_at,
                meeting_at,
            }
        })
        .collect())
}
