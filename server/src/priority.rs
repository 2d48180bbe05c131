//! Responders first. The public status surfaces are served from memory, but during an
//! outage they can be asked for thousands of times a second (the banner is embedded in
//! customers' sites) — exactly when responders need the server. Served flat out they
//! would take the machine's CPU from the responders' pages and posts. So while any
//! other request is being served, a public status request waits for it to finish, for
//! at most [`GIVE_WAY_MAX`]: the public side is slowed under responder load, never
//! stopped.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The longest a public status request waits for responders' requests to finish.
pub const GIVE_WAY_MAX: Duration = Duration::from_millis(20);

/// How many requests other than public status ones are being served.
#[derive(Clone, Default)]
pub struct Work {
    in_flight: Arc<watch::Sender<usize>>,
}

/// Ends a request's count when the request ends, however it ends.
struct Counted(Work);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n -= 1);
    }
}

/// Paths that do not count as responder work: the public status surfaces themselves,
/// open live streams (they last for hours and cost nothing while idle) and static files.
fn is_background(path: &str) -> bool {
    is_public_status(path) || path == "/api/live" || path.starts_with("/pkg/") || path == "/healthz"
}

fn is_public_status(path: &str) -> bool {
    path == "/status" || path == "/status.json" || path.starts_with("/status/")
}

/// Counts the requests public status requests give way to.
pub async fn count(State(work): State<Work>, req: Request, next: Next) -> Response {
    if is_background(req.uri().path()) {
        return next.run(req).await;
    }
    work.in_flight.send_modify(|n| *n += 1);
    let _counted = Counted(work);
    next.run(req).await
}

/// Lets a public status request through once no responder request is being served,
/// or after [`GIVE_WAY_MAX`].
pub async fn give_way(State(work): State<Work>, req: Request, next: Next) -> Response {
    if *work.in_flight.borrow() > 0 {
        let mut idle = work.in_flight.subscribe();
        let _ = tokio::time::timeout(GIVE_WAY_MAX, idle.wait_for(|n| *n == 0)).await;
    }
    next.run(req).await
}
