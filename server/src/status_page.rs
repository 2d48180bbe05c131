//! The public status surfaces, without sign-in: `/status` (HTML, no JavaScript),
//! `/status.json`, `/status/feed.atom` and `/status/banner.js` (one `<script>` tag on
//! another site shows a dismissible banner while a public incident is active).
//!
//! Plain handlers rather than Leptos pages: they must be small, fast and cacheable.
//! Every response carries an `ETag` (a hash of the body) and `Last-Modified` (the
//! latest public change), and answers a matching conditional GET with 304.
//!
//! `banner.js` is embedded in customers' sites, whose traffic peaks exactly during an
//! outage, so no public request reaches the database: all four are served from this
//! instance's [`Snapshot`], read again only when the database announces a public
//! change (see [`crate::live::Hub::public_generation`]) or after [`SNAPSHOT_MAX_AGE`],
//! by one request while the others keep being served.

use crate::WebSettings;
use crate::links::{base_url, links_follow_the_request};
use crate::live::Hub;
use app::model::{PublicStatus, PublicUpdate, ServiceState, incident_ref};
use app::server::db::status;
use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Text};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::fmt::Write;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

type StatusState = State<(Arc<Snapshot>, WebSettings)>;

/// How long a snapshot is served without a change being announced: the bound on
/// staleness for what changes with time alone (the 90-day history, a missed notice).
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(5);

/// Entries in the Atom feed.
const FEED_ENTRIES: i64 = 50;

/// What the public surfaces show, as read at one moment.
struct Published {
    status: PublicStatus,
    feed: Vec<PublicUpdate>,
    /// The hub's public generation when the read began: a later change makes it stale.
    generation: u64,
    taken_at: Instant,
}

/// This instance's copy of the public status (one query however many visitors ask).
pub struct Snapshot {
    pool: PgPool,
    hub: Hub,
    current: RwLock<Option<Arc<Published>>>,
    /// Held by the one request reading the database (single flight).
    refreshing: tokio::sync::Mutex<()>,
}

impl Snapshot {
    pub fn new(pool: PgPool, hub: Hub) -> Self {
        Snapshot { pool, hub, current: RwLock::new(None), refreshing: tokio::sync::Mutex::new(()) }
    }

    fn fresh(&self) -> Result<Arc<Published>, Option<Arc<Published>>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner()).clone();
        match current {
            Some(p) if p.generation == self.hub.public_generation() && p.taken_at.elapsed() < SNAPSHOT_MAX_AGE => Ok(p),
            other => Err(other),
        }
    }

    /// What the status page shows, from this copy (the REST API's `/status` too).
    pub(crate) async fn public_status(&self) -> Option<PublicStatus> {
        self.get().await.map(|p| p.status.clone())
    }

    /// The current public status. When it is stale, one request reads the database
    /// while the others are answered from the previous copy (they wait only when there
    /// is none yet). If the database cannot be read, the previous copy stays in service:
    /// the status page is needed most when things are failing.
    async fn get(&self) -> Option<Arc<Published>> {
        let stale = match self.fresh() {
            Ok(p) => return Some(p),
            Err(stale) => stale,
        };
        let _flight = match (self.refreshing.try_lock(), &stale) {
            (Ok(flight), _) => flight,
            (Err(_), Some(stale)) => return Some(stale.clone()),
            (Err(_), None) => self.refreshing.lock().await,
        };
        // Another request may have refreshed it while this one waited.
        let stale = match self.fresh() {
            Ok(p) => return Some(p),
            Err(stale) => stale,
        };
        let generation = self.hub.public_generation();
        let now = OffsetDateTime::now_utc();
        let read = async {
            Ok::<_, app::error::AppError>((
                status::current(&self.pool, now).await?,
                status::recent_updates(&self.pool, FEED_ENTRIES).await?,
            ))
        };
        let published = match (read.await, stale) {
            (Ok((status, feed)), _) => Published { status, feed, generation, taken_at: Instant::now() },
            (Err(err), Some(stale)) => {
                tracing::warn!(error = %err, "public status not refreshed; serving the previous copy");
                Published {
                    status: stale.status.clone(),
                    feed: stale.feed.clone(),
                    generation,
                    taken_at: Instant::now(),
                }
            }
            (Err(err), None) => {
                tracing::warn!(error = %err, "public status unavailable");
                return None;
            }
        };
        let published = Arc::new(published);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(published.clone());
        Some(published)
    }
}

/// The page's own policy: inline styles only, nothing else.
const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "10")], "The status page is briefly unavailable.")
        .into_response()
}

fn http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc2822)
        .map(|s| s.replace("+0000", "GMT"))
        .unwrap_or_default()
}

/// Marks a response whose links were built from the request's `Host` (no public URL
/// configured) as the asker's alone: a shared cache must not hand one visitor's
/// `Host` to everyone.
fn links_for(web: &WebSettings, mut response: Response) -> Response {
    if links_follow_the_request(web) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=15"));
    }
    response
}

/// A cacheable response: 304 when the client's copy (`If-None-Match`) is current.
fn cached(
    request: &HeaderMap,
    content_type: &'static str,
    body: String,
    modified: Option<OffsetDateTime>,
    extra: &[(header::HeaderName, &'static str)],
) -> Response {
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=15"));
    if let Some(at) = modified.and_then(|t| HeaderValue::from_str(&http_date(t)).ok()) {
        headers.insert(header::LAST_MODIFIED, at);
    }
    if !matches {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    for (name, value) in extra {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
    response
}

/// A background for white text: each at least 4.5:1 against it.
fn colour(state: ServiceState) -> &'static str {
    match state {
        ServiceState::Operational => "#1a7f37",
        ServiceState::Degraded => "#8a6400",
        ServiceState::PartialOutage => "#c4540a",
        ServiceState::MajorOutage => "#b42318",
    }
}

fn utc(t: OffsetDateTime) -> String {
    app::model::format_time(t)
}

/// `GET /status`
pub async fn page(State((snapshot, web)): StatusState, headers: HeaderMap) -> Response {
    let Some(published) = snapshot.get().await else { return unavailable() };
    let s = &published.status;
    let base = base_url(&web, &headers);
    let mut html = String::with_capacity(8 * 1024);
    let headline = if s.overall == ServiceState::Operational {
        "All systems operational".to_owned()
    } else {
        s.overall.label().to_owned()
    };
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Status</title><link rel=\"alternate\" type=\"application/atom+xml\" href=\"{base}/status/feed.atom\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2330}}\
         .overall{{padding:1rem;border-radius:8px;color:#fff;font-size:1.3rem;font-weight:700}}\
         .state{{color:#fff;font-weight:600;padding:0 .5rem;border-radius:4px}}.svc{{display:flex;justify-content:space-between;gap:1rem;padding:.6rem 0;border-bottom:1px solid #d9dde5}}\
         .days{{display:flex;gap:1px;margin:.2rem 0 .8rem}}.days span{{flex:1;height:1.4rem;border-radius:2px}}\
         .incident{{border:1px solid #d9dde5;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}}time{{color:#5b6475;font-size:.9rem}}\
         @media(prefers-color-scheme:dark){{body{{background:#12151b;color:#e6e9ef}}time{{color:#a0a8b8}}a{{color:#6ea3ff}}}}</style></head><body>\
         <h1>Status</h1><p class=\"overall\" style=\"background:{}\">{}</p>",
        colour(s.overall),
        crate::escape_html(&headline)
    );
    if !s.active.is_empty() {
        html += "<h2>Active incidents</h2>";
        for incident in &s.active {
            let _ = write!(
                html,
                "<section class=\"incident\" id=\"{r}\"><h3>{} — {}</h3><p><time>Since {}</time></p><ul>",
                crate::escape_html(incident.state.label()),
                crate::escape_html(&if incident.services.is_empty() {
                    "our services".to_owned()
                } else {
                    incident.services.join(", ")
                }),
                utc(incident.started_at),
                r = incident_ref(incident.number)
            );
            for update in &incident.updates {
                let _ = write!(
                    html,
                    "<li><time>{}</time><p>{}</p></li>",
                    utc(update.posted_at),
                    crate::escape_html(&update.text)
                );
            }
            html += "</ul></section>";
        }
    }
    html += "<h2>Services</h2>";
    if s.services.is_empty() {
        html += "<p>No services are listed yet.</p>";
    }
    for service in &s.services {
        let _ = write!(
            html,
            "<div class=\"svc\"><strong>{}</strong><span class=\"state\" style=\"background:{}\">{}</span></div><div class=\"days\" aria-label=\"Last {} days\">",
            crate::escape_html(&service.name),
            colour(service.state),
            crate::escape_html(service.state.label()),
            status::HISTORY_DAYS
        );
        let first = OffsetDateTime::now_utc().date() - time::Duration::days(status::HISTORY_DAYS - 1);
        for (i, day) in service.days.iter().enumerate() {
            let date = first + time::Duration::days(i as i64);
            let _ =
                write!(html, "<span style=\"background:{}\" title=\"{date}: {}\"></span>", colour(*day), day.label());
        }
        html += "</div>";
    }
    let _ = write!(
        html,
        "<p><a href=\"{base}/status/feed.atom\">Atom feed</a> · <a href=\"{base}/status.json\">JSON</a>{}</p></body></html>",
        s.updated_at.map(|t| format!(" · <time>Updated {}</time>", utc(t))).unwrap_or_default()
    );
    let mut response = links_for(&web, cached(&headers, "text/html; charset=utf-8", html, s.updated_at, &[]));
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    response
}

/// `GET /status.json`: for other tools (and readable cross-origin).
pub async fn json(State((snapshot, _)): StatusState, headers: HeaderMap) -> Response {
    let Some(published) = snapshot.get().await else { return unavailable() };
    let s = &published.status;
    let body = serde_json::json!({
        "overall": s.overall,
        "updated_at": s.updated_at.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
        "services": s.services.iter().map(|svc| serde_json::json!({
            "name": svc.name, "description": svc.description, "state": svc.state, "overridden": svc.overridden,
        })).collect::<Vec<_>>(),
        "active_incidents": s.active.iter().map(|i| serde_json::json!({
            "id": incident_ref(i.number), "state": i.state, "services": i.services, "started_at": rfc3339(i.started_at),
            "updates": i.updates.iter().map(|u| serde_json::json!({ "text": u.text, "posted_at": rfc3339(u.posted_at) })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
    .to_string();
    cached(&headers, "application/json", body, s.updated_at, &[(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")])
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn atom_time(t: OffsetDateTime) -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339(&rfc3339(t)).unwrap_or_default()
}

/// `GET /status/feed.atom`: the latest public updates.
pub async fn feed(State((snapshot, web)): StatusState, headers: HeaderMap) -> Response {
    let Some(published) = snapshot.get().await else { return unavailable() };
    let updates = &published.feed;
    let base = base_url(&web, &headers);
    let mut feed = Feed::default();
    feed.set_title("Status updates");
    feed.set_id(format!("{base}/status"));
    let mut link = Link::default();
    link.set_href(format!("{base}/status"));
    feed.set_links(vec![link]);
    let newest = updates.first().map(|u| u.posted_at);
    feed.set_updated(atom_time(newest.unwrap_or(OffsetDateTime::UNIX_EPOCH)));
    feed.set_entries(
        updates
            .iter()
            .map(|u| {
                let mut entry = Entry::default();
                entry.set_id(format!("{base}/status#update-{}", u.id));
                entry.set_title(Text::from(format!("Update on {}", incident_ref(u.incident_number))));
                entry.set_updated(atom_time(u.posted_at));
                let mut content = Content::default();
                content.set_value(u.text.clone());
                content.set_content_type("text".to_owned());
                entry.set_content(content);
                let mut link = Link::default();
                link.set_href(format!("{base}/status#{}", incident_ref(u.incident_number)));
                entry.set_links(vec![link]);
                entry
            })
            .collect::<Vec<_>>(),
    );
    links_for(&web, cached(&headers, "application/atom+xml; charset=utf-8", feed.to_string(), newest, &[]))
}

/// `GET /status/banner.js`: shows a dismissible banner on the including page while a
/// public incident is active. The state is inside the script, so no cross-site request
/// is made; the short cache keeps it current.
pub async fn banner(State((snapshot, web)): StatusState, headers: HeaderMap) -> Response {
    let Some(published) = snapshot.get().await else { return unavailable() };
    let s = &published.status;
    let base = base_url(&web, &headers);
    let data = match s.active.first() {
        None => serde_json::Value::Null,
        Some(_) => {
            let services: Vec<String> = s.active.iter().flat_map(|i| i.services.clone()).collect();
            let latest = s.active.iter().flat_map(|i| i.updates.first()).max_by_key(|u| u.posted_at);
            serde_json::json!({
                // Dismissal lasts until something new is said.
                "key": format!("{}-{}", s.active.iter().map(|i| i.number.to_string()).collect::<Vec<_>>().join("."), latest.map(|u| u.id).unwrap_or(0)),
                "message": format!("{}{}{}",
                    s.overall.label(),
                    if services.is_empty() { String::new() } else { format!(": {}", services.join(", ")) },
                    latest.map(|u| format!(" — {}", u.text)).unwrap_or_default()),
                "url": format!("{base}/status"),
            })
        }
    };
    let script = format!("{BANNER_HEAD}{data}{BANNER_TAIL}");
    links_for(&web, cached(&headers, "text/javascript; charset=utf-8", script, s.updated_at, &[]))
}

const BANNER_HEAD: &str = "(function () {\n  var d = ";
const BANNER_TAIL: &str = ";
  if (!d) return;
  var key = 'foghorn-status-dismissed-' + d.key;
  try { if (window.localStorage.getItem(key)) return; } catch (e) {}
  function show() {
    var bar = document.createElement('div');
    bar.id = 'foghorn-status-banner';
    bar.setAttribute('role', 'status');
    bar.style.cssText = 'position:relative;z-index:2147483647;display:flex;gap:1rem;align-items:center;justify-content:center;padding:.6rem 1rem;background:#b42318;color:#fff;font:15px/1.4 system-ui,sans-serif';
    var text = document.createElement('span');
    text.textContent = d.message;
    var link = document.createElement('a');
    link.href = d.url;
    link.textContent = 'Status page';
    link.style.color = '#fff';
    var close = document.createElement('button');
    close.type = 'button';
    close.textContent = 'Dismiss';
    close.onclick = function () {
      bar.remove();
      try { window.localStorage.setItem(key, '1'); } catch (e) {}
    };
    bar.appendChild(text); bar.appendChild(link); bar.appendChild(close);
    document.body.insertBefore(bar, document.body.firstChild);
  }
  if (document.body) show(); else document.addEventListener('DOMContentLoaded', show);
})();
";
