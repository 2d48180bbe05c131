//! The offline copy of the runbooks: a self-contained static site that opens from
//! `file://` while Foghorn (or everything else) is down. An index page, one HTML page
//! per runbook (inline CSS, no JavaScript, relative links), each runbook's Markdown
//! source, and `manifest.json` (ids, services, versions, export time).
//!
//! The same files are written to a directory (`foghorn export runbooks --out DIR`, and
//! the optional scheduled export) or packed as a `.zip` for admins to download.

use app::server::db::runbooks::{self, Exported};
use sqlx::PgPool;
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// One file of the bundle: a path relative to the bundle's root, and its bytes.
pub struct File {
    pub path: String,
    pub content: Vec<u8>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d2330}\
a{color:#1f5fbf}.meta{color:#5b6475;font-size:.9rem}pre{background:#f1f3f6;padding:.6rem;overflow-x:auto}\
table{border-collapse:collapse}td,th{border:1px solid #d9dde5;padding:.3rem .6rem;text-align:left}\
.banner{background:#fde68a;padding:.5rem .8rem;border-radius:6px}";

/// `12-database-failover`: stable per runbook (the id), readable (the title).
fn slug(r: &Exported) -> String {
    let words: String =
        r.title.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let words: Vec<&str> = words.split('-').filter(|w| !w.is_empty()).collect();
    let mut slug = format!("{}-{}", r.id, words.join("-"));
    slug.truncate(80);
    slug.trim_end_matches('-').to_owned()
}

fn time_text(t: OffsetDateTime) -> String {
    app::model::format_time(t)
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        crate::escape_html(title)
    )
}

/// Every file of the bundle, for `runbooks` exported at `at`.
pub fn bundle(runbooks: &[Exported], at: OffsetDateTime) -> Vec<File> {
    let exported = time_text(at);
    let mut files = Vec::new();
    let mut rows = String::new();
    let mut manifest = Vec::new();
    for r in runbooks {
        let slug = slug(r);
        let html_path = format!("runbooks/{slug}.html");
        let md_path = format!("runbooks/{slug}.md");
        let services = if r.services.is_empty() { "—".to_owned() } else { r.services.join(", ") };
        let reviewed = r.last_reviewed_at.map(time_text).unwrap_or_else(|| "never".into());
        rows += &format!(
            "<tr><td><a href=\"{html_path}\">{}</a></td><td>{}</td><td>{}</td><td>{reviewed}</td><td>{}</td></tr>",
            crate::escape_html(&r.title),
            crate::escape_html(&services),
            crate::escape_html(r.team.as_deref().unwrap_or("—")),
            r.version
        );
        let body = format!(
            "<p class=\"banner\">Offline copy exported {exported}. The live version is in Foghorn.</p>\
             <p><a href=\"../index.html\">All runbooks</a> · <a href=\"{slug}.md\">Markdown source</a></p>\
             <h1>{}</h1><p class=\"meta\">Services: {} · Team: {} · Version {} · Last reviewed: {reviewed} · Updated {}</p>{}",
            crate::escape_html(&r.title),
            crate::escape_html(&services),
            crate::escape_html(r.team.as_deref().unwrap_or("—")),
            r.version,
            time_text(r.updated_at),
            r.body_html
        );
        files.push(File { path: html_path.clone(), content: page(&r.title, &body).into_bytes() });
        files.push(File {
            path: md_path.clone(),
            content: format!("# {}\n\n{}\n", r.title, r.body.trim_end()).into_bytes(),
        });
        manifest.push(serde_json::json!({
            "id": r.id,
            "title": r.title,
            "version": r.version,
            "services": r.services,
            "team": r.team,
            "html": html_path,
            "markdown": md_path,
            "updated_at": r.updated_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        }));
    }
    let index = format!(
        "<h1>Runbooks</h1><p class=\"meta\">Offline copy exported {exported}: {} runbooks.</p>\
         <table><thead><tr><th>Runbook</th><th>Services</th><th>Team</th><th>Last reviewed</th><th>Version</th></tr></thead><tbody>{rows}</tbody></table>",
        runbooks.len()
    );
    files.insert(0, File { path: "index.html".into(), content: page("Runbooks", &index).into_bytes() });
    let manifest = serde_json::json!({
        "exported_at": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "count": runbooks.len(),
        "runbooks": manifest,
    });
    files.push(File { path: "manifest.json".into(), content: serde_json::to_vec_pretty(&manifest).expect("JSON") });
    files
}

pub async fn current_bundle(pool: &PgPool) -> Result<Vec<File>, app::error::AppError> {
    let runbooks = runbooks::export_all(pool).await?;
    Ok(bundle(&runbooks, OffsetDateTime::now_utc()))
}

/// Writes the bundle to `out`, replacing what was there as a whole: it is built
/// beside it and swapped in, so a reader never sees half an export. Only a missing or
/// empty directory, or an earlier export, is replaced (see [`check_replaceable`]).
pub fn write_dir(out: &Path, files: &[File]) -> std::io::Result<()> {
    check_replaceable(out)?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "runbooks".into());
    let staging: PathBuf = parent.join(format!(".{name}.new"));
    let old: PathBuf = parent.join(format!(".{name}.old"));
    let _ = std::fs::remove_dir_all(&staging);
    for file in files {
        let path = staging.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, &file.content)?;
    }
    let _ = std::fs::remove_dir_all(&old);
    if out.exists() {
        std::fs::rename(out, &old)?;
    }
    std::fs::rename(&staging, out)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Refuses an `out` that holds anything but an earlier export: replacing "the export
/// directory" must never delete someone's files (`--out ~` once meant a lost home).
/// An earlier export is recognised by its `manifest.json`.
fn check_replaceable(out: &Path) -> std::io::Result<()> {
    let refuse = |why: &str| {
        std::io::Error::other(format!(
            "refusing to replace {}: {why}. Choose a new or empty directory for the export.",
            out.display()
        ))
    };
    match std::fs::symlink_metadata(out) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
        Ok(meta) if !meta.is_dir() => return Err(refuse("it is not a directory")),
        Ok(_) => {}
    }
    if std::fs::read_dir(out)?.next().is_none() {
        return Ok(());
    }
    let manifest: Option<serde_json::Value> =
        std::fs::read(out.join("manifest.json")).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let earlier_export = manifest.is_some_and(|m| {
        m.get("exported_at").is_some_and(|t| t.is_string()) && m.get("runbooks").is_some_and(|r| r.is_array())
    });
    if earlier_export {
        Ok(())
    } else {
        Err(refuse("it is not empty and holds no manifest.json from an earlier export"))
    }
}

/// The bundle as a `.zip` (stored, not compressed: it is small text).
pub fn zip(files: &[File]) -> zip::result::ZipResult<Vec<u8>> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for file in files {
        archive.start_file(format!("runbooks/{}", file.path), options)?;
        archive.write_all(&file.content)?;
    }
    Ok(archive.finish()?.into_inner())
}

/// Keeps an export fresh: every `every`, until `stop`.
pub async fn schedule(
    pool: PgPool,
    out: PathBuf,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match current_bundle(&pool).await {
            Ok(files) => match write_dir(&out, &files) {
                Ok(()) => {
                    tracing::info!(target: "foghorn::export", dir = %out.display(), files = files.len(), "runbooks exported")
                }
                Err(err) => {
                    tracing::error!(target: "foghorn::export", dir = %out.display(), error = %err, "runbook export failed")
                }
            },
            Err(err) => tracing::error!(target: "foghorn::export", error = %err, "runbook export failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
