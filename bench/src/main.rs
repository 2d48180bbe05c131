//! `foghorn-bench`: measures Foghorn against a bare axum + sqlx ceiling on the same
//! machine and database, and prints a table. Run it through `scripts/bench.sh`.
//!
//! It seeds a realistic database (100 000 incidents, 1 000 000 timeline entries,
//! 50 active incidents), starts `foghorn serve` and, in this process, a bare handler
//! running the same queries without pages, sessions or middleware; then drives both
//! with `wrk` and measures live fan-out with many SSE subscribers. Last, a public flood:
//! a responder's incident page and timeline posts are measured alone, then while 64
//! connections fetch `/status/banner.js` flat out (`--only public-flood` runs just that).
//! Then the all-hands herd (see `herd.rs`; `--only herd` runs just that).

mod fanout;
mod flood;
mod herd;
mod pages;

use fanout::memory_per_subscriber;
use flood::{print_flood, public_flood};
use pages::run;

use app::model::{Caller, Role};
use app::server::db;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const PASSWORD: &str = "benchmark passphrase";
const INCIDENTS: i64 = 100_000;
const ENTRIES_PER_INCIDENT: i64 = 10;
const ACTIVE: i64 = 50;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    foghorn: String,
    database_url: String,
    subscribers: usize,
    posts: usize,
    duration: String,
    connections: usize,
    /// `public-flood` or `herd`: skip everything but that.
    only: Option<String>,
    /// Herd sizes, smallest first.
    people: Vec<usize>,
    /// `--herd-cache warm`: the herd arrives with the bundle already cached.
    warm: bool,
}

fn args() -> Args {
    let mut a = Args {
        foghorn: "target/release/foghorn".into(),
        database_url: std::env::var("DATABASE_URL").unwrap_or_default(),
        subscribers: 1000,
        posts: 100,
        duration: "10s".into(),
        connections: 64,
        only: None,
        people: vec![1000, 5000],
        warm: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--foghorn" => a.foghorn = value,
            "--database-url" => a.database_url = value,
            "--subscribers" => a.subscribers = value.parse().expect("--subscribers N"),
            "--posts" => a.posts = value.parse().expect("--posts N"),
            "--duration" => a.duration = value,
            "--connections" => a.connections = value.parse().expect("--connections N"),
            "--only" if value == "public-flood" || value == "herd" => a.only = Some(value),
            "--herd-cache" => a.warm = value == "warm",
            "--people" => a.people = value.split(',').map(|n| n.parse().expect("--people N,M")).collect(),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = args();
    let pool = foghorn::pool_options().connect(&args.database_url).await?;
    foghorn::migrate(&pool).await?;
    let user = seed(&pool).await?;
    // Pages are measured on one active incident, posts and live fan-out on another.
    let active: i64 = sqlx::query_scalar!(r#"SELECT max(number) AS "max!" FROM incidents WHERE status <> 'resolved'"#)
        .fetch_one(&pool)
        .await?;

    if args.only.as_deref() == Some("herd") {
        herd::print(&herds(&args, &pool, &user).await?);
        return Ok(());
    }
    let (mut server, foghorn_port) = start_foghorn(&args, &[])?;
    let flood = public_flood(&args, &pool, &user, active, foghorn_port).await;
    stop(&mut server);
    let flood = flood?;
    if args.only.is_some() {
        print_flood(&flood);
        return Ok(());
    }

    let (mut server, foghorn_port) = start_foghorn(&args, &[])?;
    let result = run(&args, &pool, &user, active, foghorn_port).await;
    stop(&mut server);
    let mut rows = result?;

    eprintln!("memory per idle live subscriber…");
    // The allocator returns freed pages to the system at once, so RSS counts memory
    // in use, not freed pages kept for reuse (start-up garbage released halfway
    // through would otherwise make streams look cheaper than they are).
    let (mut server, port) = start_foghorn(&args, &[("MIMALLOC_PURGE_DELAY", "0")])?;
    let memory = memory_per_subscriber(&pool, &user, active - 1, port, args.subscribers, &server).await;
    stop(&mut server);
    rows.push(format!(
        "| server memory per idle live subscriber ({} → {} streams, fresh server) | {:.1} KiB | | |",
        args.subscribers / 2,
        args.subscribers * 2,
        memory?
    ));

    println!();
    println!("| measurement | Foghorn | bare axum + sqlx | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
    print_flood(&flood);
    herd::print(&herds(&args, &pool, &user).await?);
    Ok(())
}

/// The herd at each size, each on a fresh server.
async fn herds(args: &Args, pool: &PgPool, user: &Caller) -> Result<Vec<herd::Herd>, BoxError> {
    let mut herds = Vec::new();
    for &people in &args.people {
        // Every run starts from the same 300 entries (the last run's notes removed).
        let number = herd::seed(pool, people, user.id.0).await?;
        eprintln!("all-hands herd of {people} on INC-{number}…");
        let figures = herd::run(&args.foghorn, &args.database_url, number, &user.email, people, args.warm).await?;
        herds.push(figures);
    }
    Ok(herds)
}

/// Starts `foghorn serve` on a free port, with extra environment `env`.
fn start_foghorn(args: &Args, env: &[(&str, &str)]) -> Result<(Child, u16), BoxError> {
    let port = free_port();
    let server = Command::new(&args.foghorn)
        .envs(env.iter().copied())
        .env("DATABASE_URL", &args.database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("FOGHORN_LOG", "warn")
        // The fan-out and memory measurements open every stream as the one bench user.
        .env("FOGHORN_LIVE_STREAMS_PER_USER", "100000")
        .env("FOGHORN_LIVE_STREAMS", "100000")
        .stdout(Stdio::null())
        .spawn()?;
    Ok((server, port))
}

fn stop(server: &mut Child) {
    let _ = server.kill();
    let _ = server.wait();
}

/// Seeds once: 100 000 incidents (the newest 50 active), 10 entries each.
async fn seed(pool: &PgPool) -> Result<Caller, BoxError> {
    let email = "bench@example.com";
    if db::users::find_by_email(pool, email).await?.is_none() {
        let hash = app::server::passwords::PasswordHasher::new().hash(PASSWORD).await?;
        db::users::insert(pool, email, "Bench Responder", Role::Responder, &hash).await?;
    }
    let user = db::users::find_by_email(pool, email).await?.ok_or("bench user")?.caller();
    // Undo the notes earlier runs posted, so every run measures the same data.
    sqlx::query!("DELETE FROM timeline_entries WHERE seq > $1", ENTRIES_PER_INCIDENT).execute(pool).await?;
    sqlx::query!("UPDATE incidents SET last_seq = $1 WHERE last_seq > $1", ENTRIES_PER_INCIDENT).execute(pool).await?;
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM incidents"#).fetch_one(pool).await?;
    if existing < INCIDENTS {
        eprintln!("seeding {INCIDENTS} incidents and {} timeline entries…", INCIDENTS * ENTRIES_PER_INCIDENT);
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query!("TRUNCATE incidents CASCADE").execute(&mut *tx).await?;
        sqlx::query!("INSERT INTO incidents (title, summary, severity, status, declared_at, resolved_at, last_seq, declared_by)
             SELECT (ARRAY['Database failover','Checkout errors','DNS resolution failing','Queue backlog','Latency spike'])[1 + g % 5] || ' ' || g,
                    'Customers see errors; we are investigating the ' || (ARRAY['database','payment provider','resolver','consumer','cache'])[1 + g % 5],
                    1 + g % 4,
                    CASE WHEN g > $1 - $2 THEN 'investigating' ELSE 'resolved' END,
                    now() - make_interval(mins => (($1 - g) * 7 + 5)::int),
                    CASE WHEN g > $1 - $2 THEN NULL ELSE now() - make_interval(mins => (($1 - g) * 7)::int) END,
                    $3, $4
               FROM generate_series(1, $1) g", INCIDENTS as i32, ACTIVE as i32, ENTRIES_PER_INCIDENT, user.id.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO timeline_entries (incident_id, seq, kind, author_id, body, created_at)
             SELECT i.id, s, 'note', $1, 'Checked the dashboards; **step ' || s || '** of the runbook done.',
                    i.declared_at + make_interval(mins => s::int)
               FROM incidents i, generate_series(1, $2) s",
            user.id.0,
            ENTRIES_PER_INCIDENT as i32
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by)
             SELECT id, 'point', $1, $1 FROM incidents WHERE status <> 'resolved'",
            user.id.0
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        sqlx::query!("ANALYZE").execute(pool).await?;
        eprintln!("seeded in {:.0?}", started.elapsed());
    }
    // Every run starts from the same clean tables (as pgbench does): the notes an
    // earlier run posted and deleted again would leave dead rows in the way.
    sqlx::raw_sql("VACUUM ANALYZE incidents, timeline_entries, incident_roles").execute(pool).await?;
    Ok(user)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn http(port: u16, request: String) -> Result<String, BoxError> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

async fn wait_healthy(port: u16) -> Result<(), BoxError> {
    for _ in 0..300 {
        let request = format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        if let Ok(response) = http(port, request).await {
            if response.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err("server did not become healthy".into())
}

async fn sign_in(port: u16, email: &str) -> Result<String, BoxError> {
    sign_in_as(port, email, PASSWORD).await
}

/// Posts a note as the signed-in `cookie`, as the page's form does.
async fn post_note(port: u16, cookie: &str, number: i64, body: &str) -> Result<(), BoxError> {
    let form = format!("number={number}&body={body}");
    let request = format!(
        "POST /api/post_note HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\nCookie: {cookie}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let response = http(port, request).await?;
    if !response.starts_with("HTTP/1.1 200") {
        return Err(format!("posting a note answered {}", response.lines().next().unwrap_or_default()).into());
    }
    Ok(())
}

/// Signs in through the sign-in form's endpoint; the session cookie (`name=value`).
async fn sign_in_as(port: u16, email: &str, password: &str) -> Result<String, BoxError> {
    let body = format!("email={}&password={}", email.replace('@', "%40"), password.replace(' ', "+"));
    let request = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = http(port, request).await?;
    response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .ok_or_else(|| format!("sign-in failed: {response}").into())
}
fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(f64::NAN)
}
