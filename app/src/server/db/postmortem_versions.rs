//! A postmortem's version history: reading old versions, their diffs, and restoring one.
//!
//! Version history, decided: a reader who may not edit reads the published version
//! and the corrections saved after it, each diffed against the one before it (the
//! published version against nothing). The drafts before publishing — wording that
//! was argued over and changed, and who wrote it — are the responders' working
//! history and stay with those who may edit.

use super::person;
use super::postmortems::{not_found, parse_sections, save};
use crate::error::AppError;
use crate::model::IncidentNumber;
use crate::model::*;
use sqlx::PgPool;

/// Makes an old version the current text again, as a new version.
pub async fn restore(
    pool: &PgPool,
    by: &Caller,
    number: IncidentNumber,
    version: i32,
    base_version: i32,
) -> Result<Saved, AppError> {
    let old = version_sections(pool, number, version).await?;
    save(pool, by, number, base_version, old, &format!("restored version {version}")).await
}

/// Any version's text, whoever reads: callers check the reader first
/// ([`versions`] for readers, the write permission for a restore).
async fn version_sections(pool: &PgPool, number: IncidentNumber, version: i32) -> Result<Sections, AppError> {
    let json: String = sqlx::query_scalar!(
        r#"SELECT v.sections::text AS "sections!" FROM postmortem_versions v
           JOIN postmortems p ON p.id = v.postmortem_id JOIN incidents i ON i.id = p.incident_id
          WHERE i.number = $1 AND v.version = $2"#,
        number.0,
        version
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("Version {version} of the postmortem for {}", incident_ref(number))))?;
    parse_sections(&json)
}

/// The first version the reader may read (see the module's note): 1 for those who may
/// edit, the published version for everyone else, and none before publishing.
async fn first_readable_version(pool: &PgPool, number: IncidentNumber, can_edit: bool) -> Result<i32, AppError> {
    let published: Option<Option<i32>> = sqlx::query_scalar!(
        "SELECT p.published_version FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
        number.0
    )
    .fetch_optional(pool)
    .await?;
    match published {
        Some(_) if can_edit => Ok(1),
        Some(Some(version)) => Ok(version),
        _ => Err(not_found(number)),
    }
}

/// Every version the reader may read, newest first, with the sections each changed.
pub async fn versions(pool: &PgPool, number: IncidentNumber, can_edit: bool) -> Result<Vec<VersionSummary>, AppError> {
    let first = first_readable_version(pool, number, can_edit).await?;
    let rows = sqlx::query!(
        r#"SELECT v.version, v.author_id, u.display_name AS "author_name?", v.saved_at, v.note,
                ARRAY(SELECT e.key FROM jsonb_each(v.sections) e
                       WHERE prev.sections IS NULL OR e.value IS DISTINCT FROM prev.sections -> e.key) AS "changed!"
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           JOIN postmortem_versions v ON v.postmortem_id = p.id
           LEFT JOIN postmortem_versions prev ON prev.postmortem_id = p.id AND prev.version = v.version - 1 AND prev.version >= $2
           LEFT JOIN users u ON u.id = v.author_id
          WHERE i.number = $1 AND v.version >= $2
          ORDER BY v.version DESC"#,
        number.0,
        first
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| VersionSummary {
            version: r.version,
            author: person(r.author_id, r.author_name),
            saved_at: r.saved_at,
            note: r.note,
            changed: Section::ALL.into_iter().filter(|s| r.changed.iter().any(|k| k == s.key())).collect(),
        })
        .collect())
}

/// One version in full, with line diffs of what it changed against the one before
/// (for the first version the reader may read, against nothing).
pub async fn version_detail(
    pool: &PgPool,
    number: IncidentNumber,
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
