//! Live fan-out: post-to-screen latency over many open streams, and the server's
//! memory per idle stream.

use super::*;

/// Opens one live stream; reports each probe note's travel time (ms) on `latencies`
/// and answers on the returned channel once the stream's headers arrived.
pub(crate) async fn subscribe(
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

pub(crate) struct Fanout {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
}

/// The sequence number of incident `number`'s latest timeline entry.
pub(crate) async fn last_seq(pool: &PgPool, number: i64) -> Result<i64, BoxError> {
    Ok(sqlx::query_scalar!("SELECT last_seq FROM incidents WHERE number = $1", number).fetch_one(pool).await?)
}

/// Opens `count` live streams on incident `number` and waits until each has its headers.
pub(crate) async fn open_streams(
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
pub(crate) async fn fanout(
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
        crate::post_note(port, cookie, number, &format!("fanout-probe-{sent}")).await?;
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
pub(crate) async fn memory_per_subscriber(
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
