//! What people take out of Foghorn: the postmortem-meeting calendar feed and a
//! postmortem as a Markdown file.

use crate::WebSettings;
use crate::links::base_url;
use app::error::AppError;
use app::model::IncidentNumber;
use app::model::ItemFilter;
use app::model::{AuditKind, Caller};
use app::model::{incident_ref, parse_incident_ref};
use app::server::db::audit::{self, Actor};
use app::server::db::meetings::{self, FeedEvent};
use app::server::db::postmortems;
use app::server::db::tracker;
use app::server::policy::{Permission, role_allows};
use app::server::{AppState, ClientIp, CurrentUser};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use icalendar::{Calendar, Component, Event, EventLike};
use serde::Deserialize;

/// How long a meeting is booked for in calendars.
const MEETING_MINUTES: i64 = 60;

#[derive(Deserialize)]
pub struct FeedQuery {
    key: Option<String>,
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.to_owned()).into_response()
}

/// `GET /api/calendar/postmortems.ics?key=…`: every postmortem meeting, for calendar
/// apps. They cannot sign in, so the address carries a per-person secret; a signed-in
/// browser may fetch it without one.
pub async fn meetings_feed(
    State((state, web)): State<(AppState, WebSettings)>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<FeedQuery>,
    headers: HeaderMap,
) -> Response {
    let viewer = match (&user.0, query.key.as_deref()) {
        (Some(me), _) => Ok(Some(me.id)),
        (None, Some(key)) => meetings::calendar_key_user(&state.pool, key).await,
        (None, None) => Ok(None),
    };
    let viewer = match viewer {
        Ok(Some(viewer)) => viewer,
        Ok(None) => {
            return failure(
                StatusCode::UNAUTHORIZED,
                "This calendar address is not valid; copy it again from Postmortems in Foghorn.",
            );
        }
        Err(_) => return failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not read the meetings; try again."),
    };
    let events = match meetings::feed_events(&state.pool, viewer).await {
        Ok(events) => events,
        Err(_) => return failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not read the meetings; try again."),
    };
    let base = base_url(&web, &headers);
    let body = calendar(&events, &base, &uid_domain(&web));
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "inline; filename=\"foghorn-postmortems.ics\""),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The right-hand side of event UIDs. It must not depend on the request (calendars
/// match events by UID), so it is the configured public host or a fixed name.
fn uid_domain(web: &WebSettings) -> String {
    web.public_origin
        .as_deref()
        .and_then(|o| o.split_once("://").map(|(_, rest)| rest.trim_end_matches('/').to_owned()))
        .unwrap_or_else(|| "foghorn".to_owned())
}

/// One VEVENT per meeting. The UID is fixed per postmortem, and SEQUENCE grows with
/// every reschedule, so calendars move the event instead of adding another.
pub fn calendar(events: &[FeedEvent], base: &str, uid_domain: &str) -> String {
    let mut cal = Calendar::new();
    cal.name("Foghorn postmortem meetings");
    for e in events {
        let link = format!("{base}/postmortems/{}", incident_ref(e.incident_number));
        // Checked: a meeting stored at the end of time (before dates were bounded) ends
        // where it starts rather than taking the feed down for everyone.
        let ends = e.at.checked_add(time::Duration::minutes(MEETING_MINUTES)).unwrap_or(e.at);
        let event = Event::new()
            .uid(&format!("postmortem-{}@{uid_domain}", e.postmortem_id))
            .summary(&format!("Postmortem: {} {}", incident_ref(e.incident_number), e.incident_title))
            .description(&format!(
                "Blameless review of {}. Everyone is welcome.\n{link}",
                incident_ref(e.incident_number)
            ))
            .location(&e.place)
            .url(&link)
            .starts(e.at)
            .ends(ends)
            .sequence(u32::try_from(e.sequence).unwrap_or(0))
            .add_property("LAST-MODIFIED", ical_utc(e.updated_at))
            .done();
        cal.push(event);
    }
    cal.done().to_string()
}

fn ical_utc(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Downloads of a private incident's data are in the audit log.
pub(crate) async fn record_private_export(
    state: &AppState,
    actor: &Actor,
    number: IncidentNumber,
) -> Result<(), AppError> {
    let details = serde_json::json!({ "incident": number, "what": "postmortem markdown" });
    let target = format!("{} (private)", incident_ref(number));
    audit::record(&state.pool, actor, AuditKind::PrivateDataExported, &target, details).await
}

/// An action item export that includes private incidents' items is in the audit log.
async fn record_private_csv(state: &AppState, me: &Caller, ip: &ClientIp, filter: &ItemFilter) -> Result<(), AppError> {
    let details = serde_json::json!({ "what": "action items CSV", "filter": filter });
    let actor = Actor::user(me, &ip.0);
    audit::record(&state.pool, &actor, AuditKind::PrivateDataExported, "action items (private incidents)", details)
        .await
}

/// `GET /api/postmortems/INC-N/markdown`: the postmortem as one Markdown file.
pub async fn markdown(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Extension(ip): Extension<ClientIp>,
    Path(reference): Path<String>,
) -> Response {
    let Some(me) = user.0 else {
        return failure(StatusCode::UNAUTHORIZED, "Sign in to download postmortems.");
    };
    let Some(number) = parse_incident_ref(&reference) else {
        return failure(StatusCode::NOT_FOUND, "No such incident.");
    };
    let can_edit = role_allows(me.role, Permission::WritePostmortems);
    match postmortems::view(&state.pool, number, &me, can_edit).await {
        Ok(pm) if pm.private && record_private_export(&state, &Actor::user(&me, &ip.0), number).await.is_err() => {
            failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not record the download; try again.")
        }
        Ok(pm) => (
            [
                (header::CONTENT_TYPE, "text/markdown; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-postmortem.md\"", incident_ref(number)),
                ),
            ],
            app::server::exports::to_markdown(&pm),
        )
            .into_response(),
        Err(err) => {
            failure(StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &err.to_string())
        }
    }
}

/// `GET /api/action_items.csv?…`: the tracker's current filtered view as CSV, columns in
/// the order of [`app::server::exports::CSV_COLUMNS`] (documented in the README).
pub async fn action_items_csv(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Extension(ip): Extension<ClientIp>,
    Query(filter): Query<ItemFilter>,
) -> Response {
    let Some(me) = user.0 else {
        return failure(StatusCode::UNAUTHORIZED, "Sign in to export action items.");
    };
    let judgement = tracker::Judgement::now(&state, filter.tz_offset_minutes);
    // The filter is parsed and the first batch read before answering, so a bad filter
    // gets its error status.
    let viewer = me.id;
    let criteria = match filter.parse() {
        Ok(criteria) => criteria,
        Err(err) => return failure(StatusCode::UNPROCESSABLE_ENTITY, &err.to_string()),
    };
    let (first, next) = match tracker::csv_batch(&state.pool, &criteria, &judgement, viewer, None).await {
        Ok(first) => first,
        Err(err) => {
            return failure(
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &err.to_string(),
            );
        }
    };
    let private = tracker::export_has_private(&state.pool, &criteria, &judgement, viewer).await;
    if private.is_err() || (private == Ok(true) && record_private_csv(&state, &me, &ip, &filter).await.is_err()) {
        return failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not record the export; try again.");
    }
    let pool = state.pool;
    let rest = futures::stream::unfold(next, move |after| {
        let (pool, criteria) = (pool.clone(), criteria.clone());
        async move {
            Some(match tracker::csv_batch(&pool, &criteria, &judgement, viewer, Some(after?)).await {
                Ok((lines, next)) => (Ok(lines), next),
                // Cut the download short, so it cannot pass for complete.
                Err(err) => (Err(std::io::Error::other(err.to_string())), None),
            })
        }
    });
    let body = futures::stream::once(async move { Ok(first) }).chain(rest);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"foghorn-action-items.csv\""),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// `GET /api/runbooks/export.zip`: the offline runbook site, for administrators.
pub async fn runbooks_zip(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Response {
    let Some(me) = user.0 else {
        return failure(StatusCode::UNAUTHORIZED, "Sign in to export runbooks.");
    };
    if !role_allows(me.role, Permission::ExportRunbooks) {
        return failure(StatusCode::FORBIDDEN, "Only administrators export the runbooks.");
    }
    let bundle = match crate::runbook_export::current_bundle(&state.pool).await {
        Ok(files) => crate::runbook_export::zip(&files),
        Err(_) => return failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not read the runbooks; try again."),
    };
    match bundle {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/zip"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"foghorn-runbooks.zip\""),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "runbook zip failed");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "Could not build the archive.")
        }
    }
}
