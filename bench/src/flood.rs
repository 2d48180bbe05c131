//! The public flood: a responder's page and posts alone, then while 64 connections
//! fetch `/status/banner.js` flat out.

use super::*;
use crate::pages::{Wrk, paced_script, wrk_on};

pub(crate) fn print_flood(rows: &[String]) {
    println!();
    println!("| public flood (64 connections on `/status/banner.js`) | without flood | with flood | change |");
    println!("| --- | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
}

/// A responder's load during the flood: the incident page and timeline posts, each
/// paced (as people click, not flat out) so latency is what they wait.
pub(crate) const RESPONDER_PAGES_PER_S: f64 = 20.0;
pub(crate) const RESPONDER_POSTS_PER_S: f64 = 10.0;

/// The responder's incident page and posts measured alone, then while `connections`
/// connections fetch `/status/banner.js` as fast as they can. Rows of the flood table.
pub(crate) async fn public_flood(
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
    sqlx::query!(
        "INSERT INTO comms_updates (incident_id, author_id, known, internal, public_text)
         SELECT id, $2, 'bench', false, 'We are investigating errors.' FROM incidents WHERE number = $1
           AND NOT EXISTS (SELECT 1 FROM comms_updates c WHERE c.incident_id = incidents.id)",
        active,
        user.id.0
    )
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
pub(crate) fn seconds(duration: &str) -> u64 {
    let (number, unit) = duration.split_at(duration.find(|c: char| c.is_alphabetic()).unwrap_or(duration.len()));
    let n: u64 = number.parse().unwrap_or(10);
    match unit {
        "m" => n * 60,
        "h" => n * 3600,
        _ => n,
    }
}
