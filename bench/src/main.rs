//! `foghorn-bench`: measures Foghorn against a bare axum + sqlx ceiling on the same
//! machine and database, and prints a table. Run it through `scripts/bench.sh`.
//!
//! It seeds a realistic database (100 000 incidents, 1 000 000 timeline entries,
//! 50 active incidents), starts `foghorn serve` and, in this process, a bare handler
//! running the same queries without pages, sessions or middleware; then drives both
//! with `wrk` and measures live fan-out with many SSE subscribers. Last, a public flood:
//! a responder's incident page and timeline posts are measured alone, then while 64
//! connections fetch `/status/banner.js` flat out (`--only public-flood` runs just that).

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
    /// `public-flood`: skip everything but the public flood.
    only: Option<String>,
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
            "--only" if value == "public-flood" => a.only = Some(value),
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
    let active: i64 =
        sqlx::query_scalar("SELECT max(number) FROM incidents WHERE status <> 'resolved'").fetch_one(&pool).await?;

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
    Ok(())
}

fn print_flood(rows: &[String]) {
    println!();
    println!("| public flood (64 connections on `/status/banner.js`) | without flood | with flood | change |");
    println!("| --- | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
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

async fn run(args: &Args, pool: &PgPool, user: &Caller, active: i64, port: u16) -> Result<Vec<String>, BoxError> {
    wait_healthy(port).await?;
    let cookie = sign_in(port, &user.email).await?;
    let bare_port = free_port();
    tokio::spawn(bare_server(pool.clone(), user.clone(), bare_port));
    wait_healthy(bare_port).await?;

    let mut rows = Vec::new();
    let c = args.connections;
    // Each page twice: flat out (throughput; latency there is queueing, since a closed
    // loop of `c` connections waits c ÷ throughput on average), then with the `c`
    // connections together offering 40 % of the bare handler's throughput — the
    // throughput target — where latency is what a user waits at that load.
    let page = |name: &str, ours_url: &str, bare_url: &str| -> Result<Vec<String>, BoxError> {
        eprintln!("{name}…");
        let ours = wrk(ours_url, &cookie, None, c, &args.duration)?;
        let bare = wrk(bare_url, "", None, c, &args.duration)?;
        let rate = 0.4 * bare.rps;
        let paced = paced_script(c, rate)?;
        let ours_paced = wrk(ours_url, &cookie, Some(&paced), c, &args.duration)?;
        let bare_paced = wrk(bare_url, "", Some(&paced), c, &args.duration)?;
        Ok(vec![
            format!(
                "| {name}: throughput at {c} connections | {:.0} req/s | {:.0} req/s | {:.0} % |",
                ours.rps,
                bare.rps,
                100.0 * ours.rps / bare.rps
            ),
            format!(
                "| {name}: p50 latency, flat out | {:.2} ms | {:.2} ms | {:.1}× |",
                ours.p50,
                bare.p50,
                ours.p50 / bare.p50
            ),
            format!(
                "| {name}: p99 latency, flat out | {:.2} ms | {:.2} ms | {:.1}× |",
                ours.p99,
                bare.p99,
                ours.p99 / bare.p99
            ),
            format!(
                "| {name}: p50 latency at {c} connections, {rate:.0} req/s offered ({:.0} / {:.0} served) | {:.2} ms | {:.2} ms | {:.1}× |",
                ours_paced.rps,
                bare_paced.rps,
                ours_paced.p50,
                bare_paced.p50,
                ours_paced.p50 / bare_paced.p50
            ),
            format!(
                "| {name}: p99 latency at {c} connections, {rate:.0} req/s offered ({:.0} / {:.0} served) | {:.2} ms | {:.2} ms | {:.1}× |",
                ours_paced.rps,
                bare_paced.rps,
                ours_paced.p99,
                bare_paced.p99,
                ours_paced.p99 / bare_paced.p99
            ),
        ])
    };

    rows.extend(page(
        "dashboard page",
        &format!("http://127.0.0.1:{port}/"),
        &format!("http://127.0.0.1:{bare_port}/dashboard"),
    )?);
    rows.extend(page(
        "incident page",
        &format!("http://127.0.0.1:{port}/incidents/INC-{active}"),
        &format!("http://127.0.0.1:{bare_port}/incident/{active}"),
    )?);
    rows.extend(page(
        "history search page",
        &format!("http://127.0.0.1:{port}/incidents?q=checkout"),
        &format!("http://127.0.0.1:{bare_port}/history"),
    )?);

    eprintln!("timeline posts…");
    let busy = active - 1;
    let script = std::env::temp_dir().join("foghorn-bench-post.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"number={busy}&body=benchmark+note\"\n\
             wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             wrk.headers[\"Accept\"] = \"application/json\"\n\
             wrk.headers[\"Sec-Fetch-Site\"] = \"same-origin\"\n"
        ),
    )?;
    let ours = wrk(&format!("http://127.0.0.1:{port}/api/post_note"), &cookie, Some(&script), 16, &args.duration)?;
    let bare = wrk(&format!("http://127.0.0.1:{bare_port}/post/{busy}"), "", Some(&script), 16, &args.duration)?;
    rows.push(format!(
        "| timeline posts at 16 connections | {:.0} posts/s | {:.0} posts/s | {:.0} % |",
        ours.rps,
        bare.rps,
        100.0 * ours.rps / bare.rps
    ));

    eprintln!("live fan-out to {} subscribers…", args.subscribers);
    let fanout = fanout(pool, port, &cookie, busy, args.subscribers, args.posts).await?;
    rows.push(format!("| post-to-screen p50, {} live subscribers | {:.2} ms | | |", args.subscribers, fanout.p50));
    rows.push(format!("| post-to-screen p99, {} live subscribers | {:.2} ms | | |", args.subscribers, fanout.p99));
    Ok(rows)
}

/// A responder's load during the flood: the incident page and timeline posts, each
/// paced (as people click, not flat out) so latency is what they wait.
const RESPONDER_PAGES_PER_S: f64 = 20.0;
const RESPONDER_POSTS_PER_S: f64 = 10.0;

/// The responder's incident page and posts measured alone, then while `connections`
/// connections fetch `/status/banner.js` as fast as they can. Rows of the flood table.
async fn public_flood(
    args: &Args,
    pool: &PgPool,
    user: &Caller,
    active: i64,
    port: u16,
) -> Result<Vec<String>, BoxError> {
    wait_healthy(port).await?;
    let cookie = sign_in(port, &user.email).await?;
    let busy = active - 1;
    // A public incident, so the banner has something to say.
    sqlx::query(
        "INSERT INTO comms_updates (incident_id, author_id, known, internal, public_text)
         SELECT id, $2, 'bench', false, 'We are investigating errors.' FROM incidents WHERE number = $1
           AND NOT EXISTS (SELECT 1 FROM comms_updates c WHERE c.incident_id = incidents.id)",
    )
    .bind(active)
    .bind(user.id)
    .execute(pool)
    .await?;
    let page_url = format!("http://127.0.0.1:{port}/incidents/INC-{active}");
    let post_url = format!("http://127.0.0.1:{port}/api/post_note");
    let banner_url = format!("http://127.0.0.1:{port}/status/banner.js");
    let page_script = paced_script(4, RESPONDER_PAGES_PER_S)?;
    let post_script = std::env::temp_dir().join("foghorn-bench-paced-post.lua");
    std::fs::write(
        &post_script,
        format!(
            "{}wrk.method = \"POST\"\nwrk.body = \"number={busy}&body=flood+note\"\n\
             wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             wrk.headers[\"Accept\"] = \"application/json\"\n\
             wrk.headers[\"Sec-Fetch-Site\"] = \"same-origin\"\n",
            std::fs::read_to_string(paced_script(2, RESPONDER_POSTS_PER_S)?)?
        ),
    )?;
    let responder = |label: &str| -> Result<(Wrk, Wrk), BoxError> {
        eprintln!("responder {label}…");
        let (page_cookie, duration) = (cookie.clone(), args.duration.clone());
        let (page_url, page_script) = (page_url.clone(), page_script.clone());
        let pages = std::thread::spawn(move || {
            wrk_on(&page_url, &page_cookie, Some(&page_script), 4, 1, &duration).map_err(|e| e.to_string())
        });
        let posts = wrk_on(&post_url, &cookie, Some(&post_script), 2, 1, &args.duration)?;
        let pages = pages.join().map_err(|_| "wrk thread")??;
        Ok((pages, posts))
    };
    let (calm_pages, calm_posts) = responder("alone")?;

    // The flood runs a little longer than the measurement, on both sides of it.
    let flood_seconds = seconds(&args.duration) + 2;
    let (flood_url, connections) = (banner_url.clone(), args.connections);
    let flood = std::thread::spawn(move || {
        wrk_on(&flood_url, "", None, connections, 2, &format!("{flood_seconds}s")).map_err(|e| e.to_string())
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (flooded_pages, flooded_posts) = responder("during the public flood")?;
    let flood = flood.join().map_err(|_| "wrk thread")??;

    let change = |a: f64, b: f64| format!("{:+.0} %", 100.0 * (b - a) / a);
    Ok(vec![
        format!("| `/status/banner.js` throughput, {connections} connections flat out | | {:.0} req/s | |", flood.rps),
        format!("| `/status/banner.js` p99 latency | | {:.2} ms | |", flood.p99),
        format!(
            "| incident page p50, {RESPONDER_PAGES_PER_S:.0} req/s | {:.2} ms | {:.2} ms | {} |",
            calm_pages.p50,
            flooded_pages.p50,
            change(calm_pages.p50, flooded_pages.p50)
        ),
        format!(
            "| incident page p99, {RESPONDER_PAGES_PER_S:.0} req/s | {:.2} ms | {:.2} ms | {} |",
            calm_pages.p99,
            flooded_pages.p99,
            change(calm_pages.p99, flooded_pages.p99)
        ),
        format!(
            "| timeline post p50, {RESPONDER_POSTS_PER_S:.0} posts/s | {:.2} ms | {:.2} ms | {} |",
            calm_posts.p50,
            flooded_posts.p50,
            change(calm_posts.p50, flooded_posts.p50)
        ),
        format!(
            "| timeline post p99, {RESPONDER_POSTS_PER_S:.0} posts/s | {:.2} ms | {:.2} ms | {} |",
            calm_posts.p99,
            flooded_posts.p99,
            change(calm_posts.p99, flooded_posts.p99)
        ),
    ])
}

/// `10s`, `1m` → seconds.
fn seconds(duration: &str) -> u64 {
    let (number, unit) = duration.split_at(duration.find(|c: char| c.is_alphabetic()).unwrap_or(duration.len()));
    let n: u64 = number.parse().unwrap_or(10);
    match unit {
        "m" => n * 60,
        "h" => n * 3600,
        _ => n,
    }
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
    sqlx::query("DELETE FROM timeline_entries WHERE seq > $1").bind(ENTRIES_PER_INCIDENT).execute(pool).await?;
    sqlx::query("UPDATE incidents SET last_seq = $1 WHERE last_seq > $1")
        .bind(ENTRIES_PER_INCIDENT)
        .execute(pool)
        .await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents").fetch_one(pool).await?;
    if existing < INCIDENTS {
        eprintln!("seeding {INCIDENTS} incidents and {} timeline entries…", INCIDENTS * ENTRIES_PER_INCIDENT);
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query("TRUNCATE incidents CASCADE").execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO incidents (title, summary, severity, status, declared_at, resolved_at, last_seq, declared_by)
             SELECT (ARRAY['Database failover','Checkout errors','DNS resolution failing','Queue backlog','Latency spike'])[1 + g % 5] || ' ' || g,
                    'Customers see errors; we are investigating the ' || (ARRAY['database','payment provider','resolver','consumer','cache'])[1 + g % 5],
                    1 + g % 4,
                    CASE WHEN g > $1 - $2 THEN 'investigating' ELSE 'resolved' END,
                    now() - make_interval(mins => (($1 - g) * 7 + 5)::int),
                    CASE WHEN g > $1 - $2 THEN NULL ELSE now() - make_interval(mins => (($1 - g) * 7)::int) END,
                    $3, $4
               FROM generate_series(1, $1) g",
        )
        .bind(INCIDENTS)
        .bind(ACTIVE)
        .bind(ENTRIES_PER_INCIDENT)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO timeline_entries (incident_id, seq, kind, author_id, body, created_at)
             SELECT i.id, s, 'note', $1, 'Checked the dashboards; **step ' || s || '** of the runbook done.',
                    i.declared_at + make_interval(mins => s::int)
               FROM incidents i, generate_series(1, $2) s",
        )
        .bind(user.id)
        .bind(ENTRIES_PER_INCIDENT)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO incident_roles (incident_id, role, user_id, assigned_by)
             SELECT id, 'point', $1, $1 FROM incidents WHERE status <> 'resolved'",
        )
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        sqlx::query("ANALYZE").execute(pool).await?;
        eprintln!("seeded in {:.0?}", started.elapsed());
    }
    // Every run starts from the same clean tables (as pgbench does): the notes an
    // earlier run posted and deleted again would leave dead rows in the way.
    sqlx::raw_sql("VACUUM ANALYZE incidents, timeline_entries, incident_roles").execute(pool).await?;
    Ok(user)
}

/// The ceiling: the same queries, answered as JSON, with nothing else around them.
async fn bare_server(pool: PgPool, user: Caller, port: u16) {
    let state = Arc::new((pool, user));
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/dashboard",
            get(|State(s): State<Arc<(PgPool, Caller)>>| async move {
                axum::Json(db::incidents::dashboard(&s.0, s.1.id).await.ok())
            }),
        )
        .route(
            "/incident/{number}",
            get(|State(s): State<Arc<(PgPool, Caller)>>, Path(n): Path<i64>| async move {
                axum::Json(db::incidents::view(&s.0, n, None).await.ok().map(|(d, (t, _), _)| (d, t)))
            }),
        )
        .route(
            "/history",
            get(|State(s): State<Arc<(PgPool, Caller)>>| async move {
                let filter = app::model::IncidentFilter { q: "checkout".into(), ..Default::default() };
                axum::Json(db::history::history(&s.0, &filter).await.ok())
            }),
        )
        .route(
            "/post/{number}",
            post(|State(s): State<Arc<(PgPool, Caller)>>, Path(n): Path<i64>| async move {
                axum::Json(db::incidents::post_note(&s.0, n, s.1.id, "benchmark note").await.ok())
            }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind bare server");
    foghorn::serve::serve(listener, app, std::future::pending()).await;
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
    let body = format!("email={}&password={}", email.replace('@', "%40"), PASSWORD.replace(' ', "+"));
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

/// A wrk script that paces each of `connections` connections so that together they
/// offer about `rate` requests/s: each waits a random, exponentially distributed
/// pause between requests (arrivals like independent users', not lock-step bursts).
fn paced_script(connections: usize, rate: f64) -> Result<std::path::PathBuf, BoxError> {
    let mean_ms = connections as f64 * 1000.0 / rate;
    let script = std::env::temp_dir().join(format!("foghorn-bench-paced-{connections}-{rate:.0}.lua"));
    std::fs::write(
        &script,
        format!(
            "local mean = {mean_ms:.3}\nfunction delay()\n  return math.floor(-math.log(1 - math.random()) * mean)\nend\n"
        ),
    )?;
    Ok(script)
}

struct Wrk {
    rps: f64,
    p50: f64,
    p99: f64,
}

/// Runs wrk and reads requests/s and the latency percentiles (in ms) from its report.
fn wrk(
    url: &str,
    cookie: &str,
    script: Option<&std::path::Path>,
    connections: usize,
    duration: &str,
) -> Result<Wrk, BoxError> {
    wrk_on(url, cookie, script, connections, 2, duration)
}

/// [`wrk`] with `threads` client threads.
fn wrk_on(
    url: &str,
    cookie: &str,
    script: Option<&std::path::Path>,
    connections: usize,
    threads: usize,
    duration: &str,
) -> Result<Wrk, BoxError> {
    let mut command = Command::new("wrk");
    command.args([&format!("-t{threads}"), &format!("-c{connections}"), &format!("-d{duration}"), "--latency"]);
    if !cookie.is_empty() {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output()?;
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if report.contains("Non-2xx") {
        return Err(format!("{url} answered errors:\n{report}").into());
    }
    let value = |prefix: &str| -> Option<String> {
        report.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    let ms = |v: String| -> f64 {
        let (number, unit) = v.split_at(v.find(|c: char| c.is_alphabetic()).unwrap_or(v.len()));
        let n: f64 = number.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            _ => f64::NAN,
        }
    };
    Ok(Wrk {
        rps: value("Requests/sec:").and_then(|v| v.parse().ok()).ok_or_else(|| format!("no wrk report:\n{report}"))?,
        p50: value("50%").map(ms).unwrap_or(f64::NAN),
        p99: value("99%").map(ms).unwrap_or(f64::NAN),
    })
}

fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(f64::NAN)
}

/// Opens one live stream; reports each probe note's travel time (ms) on `latencies`
/// and answers on the returned channel once the stream's headers arrived.
async fn subscribe(
    mut stream: TcpStream,
    number: i64,
    after: i64,
    cookie: &str,
    epoch: Instant,
    latencies: tokio::sync::mpsc::UnboundedSender<f64>,
) -> Result<tokio::sync::oneshot::Receiver<()>, BoxError> {
    let request = format!(
        "GET /api/live?incident={number}&after={after} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        let mut ready_tx = Some(ready_tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if line.is_empty() {
                if let Some(r) = ready_tx.take() {
                    let _ = r.send(());
                }
            }
            // The note's text carries when it was sent, in µs since `epoch`.
            if let Some(rest) = line.split("fanout-probe-").nth(1) {
                if let Some(sent) =
                    rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|v| v.parse::<u128>().ok())
                {
                    let now = epoch.elapsed().as_micros();
                    let _ = latencies.send((now.saturating_sub(sent)) as f64 / 1000.0);
                }
            }
        }
    });
    Ok(ready_rx)
}

struct Fanout {
    p50: f64,
    p99: f64,
}

/// The sequence number of incident `number`'s latest timeline entry.
async fn last_seq(pool: &PgPool, number: i64) -> Result<i64, BoxError> {
    Ok(sqlx::query_scalar("SELECT last_seq FROM incidents WHERE number = $1").bind(number).fetch_one(pool).await?)
}

/// Opens `count` live streams on incident `number` and waits until each has its headers.
async fn open_streams(
    port: u16,
    cookie: &str,
    number: i64,
    after: i64,
    count: usize,
    epoch: Instant,
    latencies: &tokio::sync::mpsc::UnboundedSender<f64>,
) -> Result<(), BoxError> {
    let mut ready = Vec::new();
    for _ in 0..count {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        ready.push(subscribe(stream, number, after, cookie, epoch, latencies.clone()).await?);
    }
    for r in ready {
        let _ = tokio::time::timeout(Duration::from_secs(30), r).await;
    }
    Ok(())
}

/// Opens `subscribers` live streams on one incident, posts `posts` notes one after
/// another, and measures how long each note takes to reach each subscriber.
async fn fanout(
    pool: &PgPool,
    port: u16,
    cookie: &str,
    number: i64,
    subscribers: usize,
    posts: usize,
) -> Result<Fanout, BoxError> {
    let epoch = Instant::now();
    let after = last_seq(pool, number).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    open_streams(port, cookie, number, after, subscribers, epoch, &tx).await?;
    drop(tx);

    let mut latencies = Vec::with_capacity(subscribers * posts);
    for _ in 0..posts {
        let sent = epoch.elapsed().as_micros();
        let body = format!("number={number}&body=fanout-probe-{sent}");
        let request = format!(
            "POST /api/post_note HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\nCookie: {cookie}\r\nAccept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        http(port, request).await?;
        // Collect this post's deliveries before the next one.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = 0;
        while got < subscribers && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
                Ok(Some(ms)) => {
                    latencies.push(ms);
                    got += 1;
                }
                _ => continue,
            }
        }
        if got < subscribers {
            return Err(format!("only {got} of {subscribers} subscribers received a post").into());
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Ok(Fanout { p50: pct(0.50), p99: pct(0.99) })
}

/// The server's resident memory per idle live stream: the least-squares slope of its
/// RSS over `subscribers / 2`, …, `2 × subscribers` open streams, opened in steps on
/// a server that has served nothing else. The first step is only the baseline: it
/// includes what the first streams cost once (buffers, pools growing).
async fn memory_per_subscriber(
    pool: &PgPool,
    user: &Caller,
    number: i64,
    port: u16,
    subscribers: usize,
    server: &Child,
) -> Result<f64, BoxError> {
    wait_healthy(port).await?;
    let cookie = sign_in(port, &user.email).await?;
    let after = last_seq(pool, number).await?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let step = (subscribers / 2).max(1);
    let mut points = Vec::new();
    for open in (1..=4).map(|i| i * step) {
        open_streams(port, &cookie, number, after, step, Instant::now(), &tx).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        points.push((open as f64, rss_kib(server.id())));
    }
    eprintln!("  RSS (KiB) by open streams: {points:?}");
    let n = points.len() as f64;
    let (mean_x, mean_y) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let covariance: f64 = points.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    Ok(covariance / variance)
}
