//! Pages and posts, measured with `wrk` against Foghorn and against a bare axum + sqlx
//! handler running the same queries (the machine's ceiling), flat out and paced.

use super::*;

pub(crate) async fn run(
    args: &Args,
    pool: &PgPool,
    user: &Caller,
    active: i64,
    port: u16,
) -> Result<Vec<String>, BoxError> {
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
    let fanout = crate::fanout::fanout(pool, port, &cookie, busy, args.subscribers, args.posts).await?;
    rows.push(format!("| post-to-screen p50, {} live subscribers | {:.2} ms | | |", args.subscribers, fanout.p50));
    rows.push(format!("| post-to-screen p99, {} live subscribers | {:.2} ms | | |", args.subscribers, fanout.p99));
    Ok(rows)
}

/// The ceiling: the same queries, answered as JSON, with nothing else around them.
pub(crate) async fn bare_server(pool: PgPool, user: Caller, port: u16) {
    let state = Arc::new((pool, user));
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/dashboard",
            get(|State(s): State<Arc<(PgPool, Caller)>>| async move {
                axum::Json(db::incident_pages::dashboard(&s.0, s.1.id).await.ok())
            }),
        )
        .route(
            "/incident/{number}",
            get(|State(s): State<Arc<(PgPool, Caller)>>, Path(n): Path<app::model::IncidentNumber>| async move {
                axum::Json(db::incident_pages::view(&s.0, n, None, s.1.id).await.ok().map(|(d, (t, _), _)| (d, t)))
            }),
        )
        .route(
            "/history",
            get(|State(s): State<Arc<(PgPool, Caller)>>| async move {
                let filter = app::model::IncidentFilter { q: "checkout".into(), ..Default::default() };
                axum::Json(db::history::history(&s.0, &filter.parse().expect("a valid filter"), s.1.id).await.ok())
            }),
        )
        .route(
            "/post/{number}",
            post(|State(s): State<Arc<(PgPool, Caller)>>, Path(n): Path<app::model::IncidentNumber>| async move {
                axum::Json(db::incidents::post_note(&s.0, n, s.1.id, "benchmark note").await.ok())
            }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind bare server");
    foghorn::serve::serve(listener, app, std::future::pending()).await;
}

/// A wrk script that paces each of `connections` connections so that together they
/// offer about `rate` requests/s: each waits a random, exponentially distributed
/// pause between requests (arrivals like independent users', not lock-step bursts).
pub(crate) fn paced_script(connections: usize, rate: f64) -> Result<std::path::PathBuf, BoxError> {
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

pub(crate) struct Wrk {
    pub(crate) rps: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
}

/// Runs wrk and reads requests/s and the latency percentiles (in ms) from its report.
pub(crate) fn wrk(
    url: &str,
    cookie: &str,
    script: Option<&std::path::Path>,
    connections: usize,
    duration: &str,
) -> Result<Wrk, BoxError> {
    wrk_on(url, cookie, script, connections, 2, duration)
}

/// [`wrk`] with `threads` client threads.
pub(crate) fn wrk_on(
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
