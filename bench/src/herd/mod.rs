//! The all-hands SEV1: a SEV1 link is posted in the company-wide channel and, within
//! seconds, everyone opens it and keeps it open.
//!
//! `people` simulated people, each signed in with a session of their own (a viewer
//! each, as most of a company is), arrive within [`ARRIVAL_WINDOW`] (Poisson
//! arrivals). Each does what a browser does on a first visit: fetches the incident
//! page's HTML on a new connection, then the stylesheet, script and wasm the page links
//! (on the same kept-alive connection, accepting Brotli and gzip as Chromium does),
//! then opens the live stream. Once everyone is in, a responder posts [`POSTS`] notes,
//! one every [`POST_EVERY`], and every person's stream is watched for each one:
//! post-to-screen latency, and whether each note arrived exactly once and in order.
//! Last, a sample of people visit again with what their first visit cached, honouring
//! `Cache-Control` (a fresh entry is not asked for; a stale one is revalidated).
//!
//! Bytes are counted as they cross the socket (headers included), so they are what a
//! phone would download. The load generator runs on the same cores as the server.

mod browser;
mod table;

pub use table::print;

use crate::post_note;
use crate::{BoxError, free_port, rss_kib, sign_in_as, wait_healthy};
use browser::{Person, linked_assets};
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Everyone arrives within this window.
const ARRIVAL_WINDOW: Duration = Duration::from_secs(10);
/// Notes the responder posts once everyone is in, one every [`POST_EVERY`].
const POSTS: usize = 20;
const POST_EVERY: Duration = Duration::from_secs(2);
/// Timeline entries on the incident before the herd arrives.
const ENTRIES: i64 = 300;
/// How many people make the repeat visit (all of them would only repeat the same bytes).
const REPEAT_SAMPLE: usize = 200;
/// Cheap to verify: 5 000 sign-ins before the measurement should take seconds, not
/// minutes (the herd is already signed in when the link is posted).
const HERD_PASSWORD: &str = "herd passphrase";
const HERD_TITLE: &str = "All hands: payments failing in every region";

/// What one herd run measured.
pub struct Herd {
    pub people: usize,
    pub html_p50: f64,
    pub html_p99: f64,
    pub open_p50: f64,
    pub open_p99: f64,
    pub post_p50: f64,
    pub post_p99: f64,
    pub delivered: usize,
    pub duplicated: usize,
    pub out_of_order: usize,
    pub first_visit_bytes: f64,
    pub repeat_visit_bytes: f64,
    pub repeat_requests: f64,
    pub rss_before_kib: f64,
    pub rss_after_kib: f64,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl Herd {
    pub fn expected(&self) -> usize {
        self.people * POSTS
    }

    pub fn kib_per_stream(&self) -> f64 {
        (self.rss_after_kib - self.rss_before_kib) / self.people as f64
    }
}

/// Creates the herd's people and its incident once; every run resets the incident to
/// its [`ENTRIES`] timeline entries.
pub async fn seed(pool: &PgPool, people: usize, responder_id: i64) -> Result<i64, BoxError> {
    let existing: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users WHERE email LIKE 'herd-%@example.com'"#)
            .fetch_one(pool)
            .await?;
    if (existing as usize) < people {
        eprintln!("seeding {people} people…");
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let params = argon2::Params::new(8, 1, 1, None).map_err(|e| e.to_string())?;
        let hash = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(HERD_PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| e.to_string())?
            .to_string();
        sqlx::query!(
            "INSERT INTO users (email, display_name, role, password_hash)
             SELECT 'herd-' || g || '@example.com', 'Herd Person ' || g, 'viewer', $2
               FROM generate_series(1, $1) g
             ON CONFLICT DO NOTHING",
            people as i64,
            hash
        )
        .execute(pool)
        .await?;
    }
    let number: Option<i64> =
        sqlx::query_scalar!("SELECT number FROM incidents WHERE title = $1", HERD_TITLE).fetch_optional(pool).await?;
    let number = match number {
        Some(n) => n,
        None => {
            sqlx::query_scalar!("INSERT INTO incidents (title, summary, severity, status, declared_by)
                 VALUES ($1, 'Card payments fail with timeouts at the payment provider in every region.', 1, 'identified', $2)
                 RETURNING number", HERD_TITLE, responder_id)
            .fetch_one(pool)
            .await?
        }
    };
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar!("SELECT id FROM incidents WHERE number = $1", number).fetch_one(&mut *tx).await?;
    sqlx::query!("DELETE FROM timeline_entries WHERE incident_id = $1", id).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO timeline_entries (incident_id, seq, kind, author_id, body, created_at)
         SELECT $1, s, 'note', $2,
                'Checked the payment dashboards; **step ' || s || '** of the runbook done. Error rate still at 38 %, '
                || 'retries are not helping; next: fail over to the secondary provider.',
                now() - make_interval(mins => ($3 - s)::int)
           FROM generate_series(1, $3) s",
        id,
        responder_id,
        ENTRIES as i32
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE incidents SET last_seq = $2 WHERE id = $1", id, ENTRIES).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by) VALUES ($1, 'point', $2, $2)
         ON CONFLICT DO NOTHING",
        id,
        responder_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::raw_sql("VACUUM ANALYZE incidents, timeline_entries").execute(pool).await?;
    Ok(number)
}

/// Runs the herd of `people` against a fresh `foghorn serve`.
pub async fn run(
    foghorn: &str,
    database_url: &str,
    number: i64,
    responder: &str,
    people: usize,
    warm: bool,
) -> Result<Herd, BoxError> {
    let port = free_port();
    let mut server = Command::new(foghorn)
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("FOGHORN_LOG", "warn")
        // Freed pages go back to the system at once, so RSS counts memory in use (the
        // arrivals' pages and downloads would otherwise stay counted as the streams').
        .env("MIMALLOC_PURGE_DELAY", "0")
        .stdout(Stdio::null())
        .spawn()?;
    let result = herd(&server, port, number, responder, people, warm).await;
    stop(&mut server);
    result
}

fn stop(server: &mut Child) {
    let _ = server.kill();
    let _ = server.wait();
}

async fn herd(
    server: &Child,
    port: u16,
    number: i64,
    responder: &str,
    people: usize,
    warm: bool,
) -> Result<Herd, BoxError> {
    wait_healthy(port).await?;
    let page = format!("/incidents/INC-{number}");
    let assets = Arc::new(linked_assets(port, &page, &sign_in_as(port, responder, crate::PASSWORD).await?).await?);
    eprintln!("  the page links {assets:?}");
    // With the bundle already cached (everyone visited before), only the page and the
    // stream remain: the A/B that tells the bundle's cost from the rest.
    let first_visit_assets = if warm { Arc::new(Vec::new()) } else { assets.clone() };

    eprintln!("  signing in {people} people…");
    let cookies = sign_in_all(port, people).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before_kib = rss_kib(server.id());
    eprintln!("  arrivals (server pid {})…", server.id());

    // Poisson arrivals: exponential gaps with the mean that fits everyone in the window.
    let mean_gap = ARRIVAL_WINDOW.as_secs_f64() / people as f64;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (open_tx, mut open_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let epoch = Instant::now();
    let mut at = 0.0;
    let mut visits = Vec::with_capacity(people);
    for cookie in cookies {
        at += -(1.0 - pseudo_random()).ln() * mean_gap;
        let person = Person { port, page: page.clone(), cookie, assets: first_visit_assets.clone() };
        let (stop_rx, open_tx) = (stop_rx.clone(), open_tx.clone());
        let start = epoch + Duration::from_secs_f64(at);
        visits.push(tokio::spawn(async move {
            tokio::time::sleep_until(start.into()).await;
            person.first_visit(epoch, open_tx, stop_rx).await
        }));
    }
    drop(open_tx);
    // Everyone in (or given up): each stream open, or its visit ended with an error.
    let mut open = 0;
    let deadline = tokio::time::Instant::now() + ARRIVAL_WINDOW + Duration::from_secs(60);
    while open < people {
        match tokio::time::timeout_at(deadline, open_rx.recv()).await {
            Ok(Some(())) => open += 1,
            _ => break,
        }
    }
    eprintln!("  {open} of {people} streams open after {:.1?}", epoch.elapsed());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after_kib = rss_kib(server.id());

    let responder_cookie = sign_in_as(port, responder, crate::PASSWORD).await?;
    let mut post_errors = Vec::new();
    for k in 0..POSTS {
        let due = tokio::time::Instant::now() + POST_EVERY;
        let sent = epoch.elapsed().as_micros();
        if let Err(err) = post_note(port, &responder_cookie, number, &format!("herd-probe-{k}-{sent}")).await {
            post_errors.push(err.to_string());
        }
        tokio::time::sleep_until(due).await;
    }
    // The last note's deliveries, and any straggler's.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop_tx.send(true);

    let mut html = Vec::new();
    let mut opened = Vec::new();
    let mut post_to_screen = Vec::new();
    let (mut delivered, mut duplicated, mut out_of_order, mut errors) = (0, 0, 0, post_errors.len());
    let mut first_error = post_errors.into_iter().next();
    let mut first_bytes = Vec::new();
    let mut caches = Vec::new();
    for visit in visits {
        match visit.await? {
            Ok(v) => {
                html.push(v.html_ms);
                opened.push(v.open_ms);
                first_bytes.push(v.bytes as f64);
                let mut seen = vec![0usize; POSTS];
                let mut last = None;
                for (k, ms) in v.probes {
                    if k >= POSTS {
                        continue;
                    }
                    seen[k] += 1;
                    if seen[k] == 1 {
                        delivered += 1;
                        post_to_screen.push(ms);
                    } else {
                        duplicated += 1;
                    }
                    if last.is_some_and(|l| k <= l) {
                        out_of_order += 1;
                    }
                    last = Some(k);
                }
                caches.push(v.cache);
            }
            Err(err) => {
                errors += 1;
                first_error.get_or_insert(err.to_string());
            }
        }
    }

    eprintln!("  repeat visits…");
    let mut repeat_bytes = Vec::new();
    let mut repeat_requests = Vec::new();
    let responder_cookie = Arc::new(responder_cookie);
    for cache in caches.into_iter().take(REPEAT_SAMPLE) {
        let person = Person { port, page: page.clone(), cookie: responder_cookie.to_string(), assets: assets.clone() };
        match person.repeat_visit(&cache).await {
            Ok((bytes, requests)) => {
                repeat_bytes.push(bytes as f64);
                repeat_requests.push(requests as f64);
            }
            Err(err) => {
                errors += 1;
                first_error.get_or_insert(err.to_string());
            }
        }
    }

    let (html_p50, html_p99) = percentiles(&mut html);
    let (open_p50, open_p99) = percentiles(&mut opened);
    let (post_p50, post_p99) = percentiles(&mut post_to_screen);
    Ok(Herd {
        people,
        html_p50,
        html_p99,
        open_p50,
        open_p99,
        post_p50,
        post_p99,
        delivered,
        duplicated,
        out_of_order,
        first_visit_bytes: mean(&first_bytes),
        repeat_visit_bytes: mean(&repeat_bytes),
        repeat_requests: mean(&repeat_requests),
        rss_before_kib,
        rss_after_kib,
        errors,
        first_error,
    })
}

/// Signs everyone in before the measurement, a few at a time.
async fn sign_in_all(port: u16, people: usize) -> Result<Vec<String>, BoxError> {
    let next = Arc::new(AtomicU64::new(1));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut cookies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i > people as u64 {
                    return Ok::<_, BoxError>(cookies);
                }
                cookies.push(sign_in_as(port, &format!("herd-{i}@example.com"), HERD_PASSWORD).await?);
            }
        }));
    }
    let mut cookies = Vec::with_capacity(people);
    for worker in workers {
        cookies.extend(worker.await??);
    }
    Ok(cookies)
}

/// A uniform number in [0, 1) (xorshift; arrivals need no cryptography, and the
/// benchmark no extra crate).
fn pseudo_random() -> f64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) });
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// p50 and p99 (nearest rank); NaN when nothing was measured.
fn percentiles(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| values[((values.len() as f64 - 1.0) * p).round() as usize];
    (pct(0.50), pct(0.99))
}
