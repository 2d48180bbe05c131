//! Responders first. The public status surfaces are served from memory, but during an
//! outage they can be asked for thousands of times a second (the banner is embedded in
//! customers' sites) — exactly when responders need the server. Served flat out they
//! would take the machine's CPU from the responders' pages and posts. So while any
//! other request is being served, a public status request waits for it to finish, for
//! at most [`GIVE_WAY_MAX`]: the public side is slowed under responder load, never
//! stopped. And at most [`PUBLIC_CONCURRENCY`] public requests are worked on at once
//! (the rest wait, costing nothing), so a responder's request that arrives is not
//! queued behind a crowd of them for the machine's cores.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// The longest a public status request waits for responders' requests to finish.
pub const GIVE_WAY_MAX: Duration = Duration::from_millis(20);

/// Public status requests worked on at once.
pub const PUBLIC_CONCURRENCY: usize = 4;

/// How many requests other than public status ones are being served, and the places
/// for public ones.
#[derive(Clone)]
pub struct Work {
    in_flight: Arc<watch::Sender<usize>>,
    public: Arc<Semaphore>,
}

impl Default for Work {
    fn default() -> Self {
        Work { in_flight: Arc::default(), public: Arc::new(Semaphore::new(PUBLIC_CONCURRENCY)) }
    }
}

/// Ends a request's count when the request ends, however it ends.
struct Counted(Work);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n -= 1);
    }
}

fn is_public_status(path: &str) -> bool {
    path == "/status" || path == "/status.json" || path.starts_with("/status/") || path == "/api/v1/status"
}

/// Requests that neither give way nor are given way to: open live streams (they last
/// for hours and cost nothing while idle) and static files.
fn is_background(path: &str) -> bool {
    path == "/api/live" || path.starts_with("/pkg/") || path == "/healthz"
}

/// Outermost but for logging: a public status request waits until no responder
/// request is being served (or [`GIVE_WAY_MAX`]) and for one of the public places;
/// any other request is counted while it is served.
pub async fn schedule(State(work): State<Work>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if is_public_status(path) {
        if *work.in_flight.borrow() > 0 {
            let mut idle = work.in_flight.subscribe();
            let _ = tokio::time::timeout(GIVE_WAY_MAX, idle.wait_for(|n| *n == 0)).await;
        }
        let _place = work.public.acquire().await;
        return next.run(req).await;
    }
    if is_background(path) {
        return next.run(req).await;
    }
    work.in_flight.send_modify(|n| *n += 1);
    let _counted = Counted(work);
    next.run(req).await
}
