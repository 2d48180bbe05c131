//! Live updates: every write NOTIFYs `foghorn_events`; each instance LISTENs and fans
//! the change out to its browsers over Server-Sent Events.
//!
//! One stream per browser tab (`GET /api/live`, or `?incident=N&after=SEQ` on an
//! incident page) carries everything the tab shows. Timeline events carry the entry's
//! per-incident sequence number as the SSE id, so a reconnecting browser
//! (`Last-Event-ID`) is sent exactly what it missed, from the database — a page at a
//! time, as the browser takes it, however much that is.
//!
//! Each stream holds a connection and memory for as long as it is open, so one person
//! may hold [`StreamLimits::per_user`] of them and the instance [`StreamLimits::overall`];
//! beyond that a new stream is answered 429.
//!
//! One file of about 420 lines on purpose: the listener, the per-stream state and the
//! limits share the subscription types, and the order of their events is the contract.

use app::error::AppError;
use app::model::{EntryKind, IncidentNumber, TimelineEntry, UserId};
use app::server::{AppState, CurrentUser, db, sessions};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tower_sessions::Session;

/// How often an open stream re-checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(15);

/// Timeline entries a catching-up stream reads (and holds) at once.
pub const CATCH_UP_PAGE: i64 = 500;

/// Open streams one person may hold by default (tabs, windows, devices).
pub const DEFAULT_STREAMS_PER_USER: usize = 20;

/// Open streams this instance serves by default, everyone together.
pub const DEFAULT_STREAMS: usize = 10_000;

/// How many live streams may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub per_user: usize,
    pub overall: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits { per_user: DEFAULT_STREAMS_PER_USER, overall: DEFAULT_STREAMS }
    }
}

/// The streams open on this instance, by user.
#[derive(Default)]
struct OpenStreams {
    limits: StreamLimits,
    total: usize,
    by_user: HashMap<app::model::UserId, usize>,
}

/// A place among the open streams, given back when the stream ends.
struct StreamPermit {
    open: Arc<Mutex<OpenStreams>>,
    user_id: UserId,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(count) = open.by_user.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                open.by_user.remove(&self.user_id);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub enum Change {
    /// A new timeline entry (fetched once by the listener, shared by all subscribers).
    Entry(Arc<TimelineEntry>, db::IncidentId),
    /// Something about the incident changed without a new entry (a note edited…).
    Incident(db::IncidentId),
    /// Notifications may have been missed (listener reconnected, subscriber lagged):
    /// every subscriber catches up from the database.
    Resync,
}

/// This instance's fan-out point.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Change>,
    closing: tokio::sync::watch::Sender<bool>,
    open: Arc<Mutex<OpenStreams>>,
    /// Bumped whenever what the public sees may have changed (a `foghorn_public`
    /// notification, or a reconnect that may have lost some): the public status
    /// snapshot is stale when it was taken at an older value.
    public_changes: Arc<AtomicU64>,
    /// Signalled when messages were queued in the outbox (or may have been, after a
    /// reconnect): the delivery worker waits on it beside its poll.
    outbox_queued: Arc<tokio::sync::Notify>,
}

impl Hub {
    /// What the delivery worker waits on to start sending at once.
    pub fn outbox_queued(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_queued.clone()
    }

    /// Ends every open stream, so a graceful shutdown is not held open by them.
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Sets how many streams may be open (configuration; applies to new streams).
    pub fn limit_streams(&self, limits: StreamLimits) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).limits = limits;
    }

    /// A place for one more stream of `user_id`, if the limits leave one.
    fn admit(&self, user_id: UserId) -> Option<StreamPermit> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.by_user.get(&user_id).copied().unwrap_or(0);
        if open.total >= open.limits.overall || mine >= open.limits.per_user {
            return None;
        }
        open.total += 1;
        *open.by_user.entry(user_id).or_insert(0) += 1;
        Some(StreamPermit { open: self.open.clone(), user_id })
    }

    /// How many public changes this instance has heard of so far.
    pub fn public_generation(&self) -> u64 {
        self.public_changes.load(Ordering::Acquire)
    }
}

/// Pause between attempts to get the LISTEN connection back after losing it.
const RELISTEN_PAUSE: Duration = Duration::from_secs(1);
/// Bound on one such attempt (connecting and issuing LISTEN).
const RELISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects the LISTEN connection (returning once it listens, so no write after
/// start-up goes unheard) and spawns the task that fans notifications out.
pub async fn start(pool: PgPool) -> Result<Hub, sqlx::Error> {
    let mut listener = listen(&pool).await?;
    let (sender, _) = broadcast::channel(1024);
    let public_changes = Arc::new(AtomicU64::new(0));
    let outbox_queued = Arc::new(tokio::sync::Notify::new());
    let hub = Hub {
        sender: sender.clone(),
        closing: tokio::sync::watch::Sender::new(false),
        open: Arc::default(),
        public_changes: public_changes.clone(),
        outbox_queued: outbox_queued.clone(),
    };
    let public_changed = move || {
        public_changes.fetch_add(1, Ordering::AcqRel);
    };
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) if notification.channel() == db::status::CHANNEL => public_changed(),
                Ok(Some(notification)) if notification.channel() == db::outbox::CHANNEL => outbox_queued.notify_one(),
                Ok(Some(notification)) => {
                    let change = decode(&pool, notification.payload()).await;
                    let _ = sender.send(change);
                }
                // The connection dropped (`Ok(None)`) or failed. Anything notified until
                // LISTEN is back is lost, so: a fresh connection first — sqlx's own
                // reconnect can stall for good after a long outage — then everyone
                // catches up from the database.
                lost => {
                    if let Err(err) = lost {
                        tracing::warn!(error = %err, "live listener lost its connection; reconnecting");
                    }
                    listener = loop {
                        tokio::time::sleep(RELISTEN_PAUSE).await;
                        match tokio::time::timeout(RELISTEN_TIMEOUT, listen(&pool)).await {
                            Ok(Ok(listener)) => break listener,
                            Ok(Err(err)) => tracing::debug!(error = %err, "live listener: database still unreachable"),
                            Err(_) => tracing::debug!("live listener: reconnecting timed out"),
                        }
                    };
                    tracing::info!("live listener reconnected");
                    public_changed();
                    outbox_queued.notify_one();
                    let _ = sender.send(Change::Resync);
                }
            }
        }
    });
    Ok(hub)
}

/// A LISTEN connection of its own, outside the pool (LISTEN holds it for as long as
/// it lasts). It does not reconnect by itself: the fan-out task replaces it.
async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(RELISTEN_TIMEOUT)
        .connect_lazy_with(pool.connect_options().as_ref().clone());
    let mut listener = PgListener::connect_with(&own).await?;
    listener.eager_reconnect(false);
    listener.listen_all([db::timeline::CHANNEL, db::status::CHANNEL, db::outbox::CHANNEL]).await?;
    Ok(listener)
}

async fn decode(pool: &PgPool, payload: &str) -> Change {
    let parsed = payload
        .split_once(':')
        .and_then(|(incident, seq)| Some((db::IncidentId(incident.parse().ok()?), seq.parse::<i64>().ok()?)));
    match parsed {
        Some((incident_id, 0)) => Change::Incident(incident_id),
        Some((incident_id, seq)) => match db::timeline::after(pool, incident_id, seq - 1, 1).await {
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
    incident: Option<IncidentNumber>,
    /// The last timeline sequence number the page already has.
    after: Option<i64>,
}

struct Subscriber {
    state: AppState,
    session: Session,
    changes: broadcast::Receiver<Change>,
    /// `(incident id, last sequence sent)` for an incident page.
    incident: Option<(db::IncidentId, i64)>,
    /// The incident page's number and who is reading it: re-checked whenever the
    /// incident's access changes, so the stream ends for whoever may no longer see it.
    reader: (Option<IncidentNumber>, i64),
    /// The last catch-up read a full page: there may be more to send before going live.
    behind: bool,
    pending: VecDeque<Event>,
    check: tokio::time::Interval,
    closing: tokio::sync::watch::Receiver<bool>,
    _permit: StreamPermit,
}

fn entry_event(entry: &TimelineEntry) -> Event {
    Event::default().event("timeline").id(entry.seq.to_string()).data(serde_json::to_string(entry).unwrap_or_default())
}

impl Subscriber {
    /// Queues the next page of entries after the last one sent, from the database (the
    /// rest follows once the browser has taken these). After missed notifications
    /// (`resync`), also tells the page to reload what it shows, since edits that add no
    /// entry may have been missed too.
    async fn catch_up(&mut self, resync: bool) -> Result<(), ()> {
        if let Some((incident_id, last)) = self.incident.as_mut() {
            let entries =
                db::timeline::after(&self.state.pool, *incident_id, *last, CATCH_UP_PAGE).await.map_err(|_| ())?;
            self.behind = entries.len() as i64 == CATCH_UP_PAGE;
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
                if entry.kind == EntryKind::Access && !self.may_still_see().await {
                    return Err(());
                }
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

    /// Whether the reader may still see the incident this stream follows (a private
    /// incident's stream ends for whoever is no longer allowed to see it).
    async fn may_still_see(&self) -> bool {
        match self.reader {
            (Some(number), viewer) => {
                db::incident_people::visible_id(&self.state.pool, number, Some(UserId(viewer))).await.is_ok()
            }
            (None, _) => true,
        }
    }

    /// The next event for the browser; `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.behind {
                self.catch_up(false).await.ok()?;
                continue;
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
    let Some(me) = user.0 else {
        return AppError::Unauthenticated.into_response();
    };
    let Some(permit) = hub.admit(me.id) else {
        tracing::warn!(user_id = me.id.0, "refused: too many open live streams");
        let err = AppError::TooManyRequests("Too many live views are open; close some tabs and reload.".into());
        return ([(header::RETRY_AFTER, "30")], err).into_response();
    };
    // Subscribe before reading the database, so nothing falls between the two.
    let changes = hub.subscribe();
    let incident = match query.incident {
        Some(number) => match db::incident_people::visible_id(&state.pool, number, Some(me.id)).await {
            Ok(id) => {
                let resume = headers
                    .get("last-event-id")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok());
                Some((id, resume.or(query.after).unwrap_or(0)))
            }
            Err(err) => {
                return (StatusCode::from_u16(err.status()).unwrap_or(StatusCode::NOT_FOUND), err.to_string())
                    .into_response();
            }
        },
        None => None,
    };
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.reset();
    let closing = hub.closing.subscribe();
    let mut subscriber = Subscriber {
        state,
        session,
        changes,
        incident,
        reader: (query.incident, me.id.0),
        behind: false,
        pending: VecDeque::new(),
        check,
        closing,
        _permit: permit,
    };
    if subscriber.incident.is_some() && subscriber.catch_up(false).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let events = stream::unfold(subscriber, Subscriber::next);
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response()
}
