//! Live updates: every write NOTIFYs `foghorn_events`; each instance LISTENs and fans
//! the change out to its browsers over Server-Sent Events.
//!
//! One stream per browser tab (`GET /api/live`, or `?incident=N&after=SEQ` on an
//! incident page) carries everything the tab shows. Timeline events carry the entry's
//! per-incident sequence number as the SSE id, so a reconnecting browser
//! (`Last-Event-ID`) is sent exactly what it missed, from the database.

use app::model::TimelineEntry;
use app::server::{AppState, CurrentUser, db, sessions};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
use tower_sessions::Session;

/// How often an open stream re-checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub enum Change {
    /// A new timeline entry (fetched once by the listener, shared by all subscribers).
    Entry(Arc<TimelineEntry>, i64),
    /// Something about the incident changed without a new entry (a note edited…).
    Incident(i64),
    /// Notifications may have been missed (listener reconnected, subscriber lagged):
    /// every subscriber catches up from the database.
    Resync,
}

/// This instance's fan-out point.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Change>,
    closing: tokio::sync::watch::Sender<bool>,
    /// Bumped whenever what the public sees may have changed (a `foghorn_public`
    /// notification, or a reconnect that may have lost some): the public status
    /// snapshot is stale when it was taken at an older value.
    public_changes: Arc<AtomicU64>,
}

impl Hub {
    /// Ends every open stream, so a graceful shutdown is not held open by them.
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// How many public changes this instance has heard of so far.
    pub fn public_generation(&self) -> u64 {
        self.public_changes.load(Ordering::Acquire)
    }
}

/// Connects the LISTEN connection (returning once it listens, so no write after
/// start-up goes unheard) and spawns the task that fans notifications out.
pub async fn start(pool: PgPool) -> Result<Hub, sqlx::Error> {
    // Its own connection, outside the pool: LISTEN holds it for the process's life.
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(pool.connect_options().as_ref().clone());
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen_all([db::timeline::CHANNEL, db::status::CHANNEL]).await?;
    let (sender, _) = broadcast::channel(1024);
    let public_changes = Arc::new(AtomicU64::new(0));
    let hub = Hub { sender: sender.clone(), closing: tokio::sync::watch::Sender::new(false), public_changes: public_changes.clone() };
    let public_changed = move || {
        public_changes.fetch_add(1, Ordering::AcqRel);
    };
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) if notification.channel() == db::status::CHANNEL => public_changed(),
                Ok(Some(notification)) => {
                    let change = decode(&pool, notification.payload()).await;
                    let _ = sender.send(change);
                }
                // The connection dropped and was re-established: anything sent in
                // between is lost to LISTEN, so everyone catches up from the database.
                Ok(None) => {
                    public_changed();
                    let _ = sender.send(Change::Resync);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "live listener lost its connection; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    public_changed();
                    let _ = sender.send(Change::Resync);
                }
            }
        }
    });
    Ok(hub)
}

async fn decode(pool: &PgPool, payload: &str) -> Change {
    let parsed = payload
        .split_once(':')
        .and_then(|(incident, seq)| Some((incident.parse::<i64>().ok()?, seq.parse::<i64>().ok()?)));
    match parsed {
        Some((incident_id, 0)) => Change::Incident(incident_id),
        Some((incident_id, seq)) => match db::timeline::after(pool, incident_id, seq - 1).await {
            Ok(entries) => match entries.into_iter().find(|e| e.seq == seq) {
                Some(entry) => Change::Entry(Arc::new(entry), incident_id),
                None => Change::Resync,
            },
            Err(_) => Change::Resync,
        },
        None => Change::Resync,
    }
}

#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    /// The incident number this tab shows, if any.
    incident: Option<i64>,
    /// The last timeline sequence number the page already has.
    after: Option<i64>,
}

struct Subscriber {
    state: AppState,
    session: Session,
    changes: broadcast::Receiver<Change>,
    /// `(incident id, last sequence sent)` for an incident page.
    incident: Option<(i64, i64)>,
    pending: VecDeque<Event>,
    check: tokio::time::Interval,
    closing: tokio::sync::watch::Receiver<bool>,
}

fn entry_event(entry: &TimelineEntry) -> Event {
    Event::default()
        .event("timeline")
        .id(entry.seq.to_string())
        .data(serde_json::to_string(entry).unwrap_or_default())
}

impl Subscriber {
    /// Queues the entries after the last one sent, from the database. After missed
    /// notifications (`resync`), also tells the page to reload what it shows, since
    /// edits that add no entry may have been missed too.
    async fn catch_up(&mut self, resync: bool) -> Result<(), ()> {
        if let Some((incident_id, last)) = self.incident.as_mut() {
            let entries = db::timeline::after(&self.state.pool, *incident_id, *last).await.map_err(|_| ())?;
            for entry in entries {
                *last = entry.seq;
                self.pending.push_back(entry_event(&entry));
            }
            if resync {
                self.pending.push_back(Event::default().event("incident").data("{}"));
            }
        } else if resync {
            self.pending.push_back(Event::default().event("incidents").data("{}"));
        }
        Ok(())
    }

    async fn apply(&mut self, change: Change) -> Result<(), ()> {
        match (change, self.incident) {
            (Change::Resync, _) => self.catch_up(true).await,
            (Change::Entry(entry, incident_id), Some((mine, last))) if incident_id == mine => {
                if entry.seq == last + 1 {
                    self.incident = Some((mine, entry.seq));
                    self.pending.push_back(entry_event(&entry));
                    Ok(())
                } else if entry.seq > last + 1 {
                    self.catch_up(false).await
                } else {
                    Ok(())
                }
            }
            (Change::Incident(incident_id), Some((mine, _))) if incident_id == mine => {
                self.pending.push_back(Event::default().event("incident").data("{}"));
                Ok(())
            }
            (_, Some(_)) => Ok(()),
            (_, None) => {
                // Dashboards refetch on any change; one queued notice is enough.
                if self.pending.is_empty() {
                    self.pending.push_back(Event::default().event("incidents").data("{}"));
                }
                Ok(())
            }
        }
    }

    /// The next event for the browser; `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            enum Woke {
                Change(Result<Change, broadcast::error::RecvError>),
                Closing,
                Check,
            }
            let woke = tokio::select! {
                change = self.changes.recv() => Woke::Change(change),
                _ = self.closing.wait_for(|closing| *closing) => Woke::Closing,
                _ = self.check.tick() => Woke::Check,
            };
            match woke {
                Woke::Change(Ok(change)) => self.apply(change).await.ok()?,
                Woke::Change(Err(broadcast::error::RecvError::Lagged(_))) => self.apply(Change::Resync).await.ok()?,
                Woke::Change(Err(broadcast::error::RecvError::Closed)) | Woke::Closing => return None,
                Woke::Check => {
                    if !sessions::still_valid(&self.state, &self.session).await {
                        return None;
                    }
                }
            }
        }
    }
}

/// `GET /api/live`: the tab's event stream. Signed-in people only.
pub async fn stream(
    State((state, hub)): State<(AppState, Hub)>,
    axum::Extension(user): axum::Extension<CurrentUser>,
    session: Session,
    headers: HeaderMap,
    Query(query): Query<LiveQuery>,
) -> Response {
    if user.0.is_none() {
        return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({
            "error": "unauthenticated", "message": "Sign in to follow incidents live."
        })))
            .into_response();
    }
    // Subscribe before reading the database, so nothing falls between the two.
    let changes = hub.subscribe();
    let incident = match query.incident {
        Some(number) => match db::incidents::id_of(&state.pool, number).await {
            Ok(id) => {
                let resume = headers
                    .get("last-event-id")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok());
                Some((id, resume.or(query.after).unwrap_or(0)))
            }
            Err(err) => return (StatusCode::from_u16(err.status()).unwrap_or(StatusCode::NOT_FOUND), err.to_string()).into_response(),
        },
        None => None,
    };
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.reset();
    let closing = hub.closing.subscribe();
    let mut subscriber = Subscriber { state, session, changes, incident, pending: VecDeque::new(), check, closing };
    if subscriber.incident.is_some() && subscriber.catch_up(false).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let events = stream::unfold(subscriber, Subscriber::next);
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response()
}
