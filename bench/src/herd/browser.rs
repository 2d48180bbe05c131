//! The herd's simulated browser: one kept-alive HTTP/1.1 connection per person, the
//! bytes it receives counted as they cross the socket, and a cache that honours
//! `Cache-Control` the way a browser's does.

use super::{ENTRIES, ms};
use crate::BoxError;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The files the page links (stylesheet, script, wasm), as a browser finds them in
/// the `<head>`: every page links the same ones, so they are read once.
pub(super) async fn linked_assets(port: u16, page: &str, cookie: &str) -> Result<Vec<String>, BoxError> {
    let mut conn = Connection::open(port).await?;
    let response = conn.get(page, &[("cookie", cookie), ("accept", "text/html")]).await?;
    let body = response.into_body().collect().await?.to_bytes();
    let html = String::from_utf8_lossy(&body);
    let head = html.split("</head>").next().unwrap_or_default();
    let mut assets = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for piece in head.split(attribute).skip(1) {
            let url = piece.split('"').next().unwrap_or_default();
            if url.starts_with("/pkg/") && !assets.iter().any(|a| a == url) {
                assets.push(url.to_owned());
            }
        }
    }
    // The script loads the wasm by a name computed in JavaScript, not always preloaded.
    if !assets.iter().any(|a| a.ends_with(".wasm")) {
        return Err(format!("the page links no wasm: {assets:?}").into());
    }
    Ok(assets)
}

pub(super) struct Person {
    pub(super) port: u16,
    pub(super) page: String,
    pub(super) cookie: String,
    pub(super) assets: Arc<Vec<String>>,
}

/// A browser's cache entry: the validators and whether it may be used without asking.
#[derive(Clone, Default)]
pub(super) struct Cached {
    pub(super) fresh: bool,
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
}

pub(super) struct Visit {
    pub(super) html_ms: f64,
    pub(super) open_ms: f64,
    pub(super) bytes: u64,
    pub(super) cache: Vec<(String, Cached)>,
    /// Each probe note seen on the stream: its number and its post-to-screen time.
    pub(super) probes: Vec<(usize, f64)>,
}

pub(super) const ACCEPT_ENCODING: (&str, &str) = ("accept-encoding", "gzip, deflate, br, zstd");

impl Person {
    pub(super) async fn first_visit(
        self,
        epoch: Instant,
        opened: tokio::sync::mpsc::UnboundedSender<()>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Visit, BoxError> {
        let arrived = Instant::now();
        let mut conn = Connection::open(self.port).await?;
        let cookie = self.cookie.as_str();
        let page = conn.get(&self.page, &[("cookie", cookie), ("accept", "text/html"), ACCEPT_ENCODING]).await?;
        expect_ok(&page, &self.page)?;
        page.into_body().collect().await?;
        let html_ms = ms(arrived.elapsed());

        let mut cache = Vec::new();
        for asset in self.assets.iter() {
            let response = conn.get(asset, &[("cookie", cookie), ACCEPT_ENCODING]).await?;
            expect_ok(&response, asset)?;
            cache.push((asset.clone(), cached(&response)));
            response.into_body().collect().await?;
        }
        let bytes = conn.read.load(Ordering::Relaxed);

        let live = format!("/api/live?incident={}&after={ENTRIES}", self.page.trim_start_matches("/incidents/INC-"));
        let response = conn.get(&live, &[("cookie", cookie), ("accept", "text/event-stream"), ACCEPT_ENCODING]).await?;
        expect_ok(&response, &live)?;
        let open_ms = ms(arrived.elapsed());
        let _ = opened.send(());

        // Each line of the stream that carries a probe: `herd-probe-<k>-<µs since epoch>`.
        let mut body = response.into_body();
        let mut pending = String::new();
        let mut probes = Vec::new();
        loop {
            let frame = tokio::select! {
                frame = body.frame() => frame,
                _ = stop.wait_for(|s| *s) => break,
            };
            let Some(frame) = frame else { break };
            let Ok(data) = frame?.into_data() else { continue };
            let now = epoch.elapsed().as_micros();
            pending.push_str(&String::from_utf8_lossy(&data));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                if let Some(rest) = line.split("herd-probe-").nth(1) {
                    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
                    if let (Some(Ok(k)), Some(Ok(sent))) =
                        (parts.next().map(str::parse::<usize>), parts.next().map(str::parse::<u128>))
                    {
                        probes.push((k, now.saturating_sub(sent) as f64 / 1000.0));
                    }
                }
            }
        }
        Ok(Visit { html_ms, open_ms, bytes, cache, probes })
    }

    /// The same page again with the first visit's cache: returns bytes and requests.
    pub(super) async fn repeat_visit(&self, cache: &[(String, Cached)]) -> Result<(u64, usize), BoxError> {
        let mut conn = Connection::open(self.port).await?;
        let cookie = self.cookie.as_str();
        let page = conn.get(&self.page, &[("cookie", cookie), ("accept", "text/html"), ACCEPT_ENCODING]).await?;
        expect_ok(&page, &self.page)?;
        page.into_body().collect().await?;
        let mut requests = 1;
        for (asset, entry) in cache {
            if entry.fresh {
                continue;
            }
            let mut headers = vec![("cookie", cookie), ACCEPT_ENCODING];
            if let Some(etag) = &entry.etag {
                headers.push(("if-none-match", etag));
            }
            if let Some(date) = &entry.last_modified {
                headers.push(("if-modified-since", date));
            }
            let response = conn.get(asset, &headers).await?;
            requests += 1;
            response.into_body().collect().await?;
        }
        Ok((conn.read.load(Ordering::Relaxed), requests))
    }
}

pub(super) fn expect_ok(response: &Response<Incoming>, what: &str) -> Result<(), BoxError> {
    if response.status().is_success() { Ok(()) } else { Err(format!("{what} answered {}", response.status()).into()) }
}

/// What a browser's cache keeps of a response (RFC 9111, the parts that matter here).
pub(super) fn cached(response: &Response<Incoming>) -> Cached {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let control = header("cache-control").unwrap_or_default();
    let max_age = control
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    Cached {
        fresh: max_age > 0 && !control.contains("no-cache") && !control.contains("no-store"),
        etag: header("etag"),
        last_modified: header("last-modified"),
    }
}

/// One browser connection (HTTP/1.1, kept alive), counting the bytes it receives.
pub(super) struct Connection {
    sender: Option<SendRequest<Empty<Bytes>>>,
    io: Option<TokioIo<Counted>>,
    read: Arc<AtomicU64>,
}

impl Connection {
    async fn open(port: u16) -> Result<Self, BoxError> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let read = Arc::new(AtomicU64::new(0));
        Ok(Connection { sender: None, io: Some(TokioIo::new(Counted { inner: stream, read: read.clone() })), read })
    }

    async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<Response<Incoming>, BoxError> {
        if self.sender.is_none() {
            let io = self.io.take().ok_or("connection already used for a body")?;
            let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("handshake done");
        sender.ready().await?;
        let mut request = Request::get(path).header("host", "127.0.0.1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Ok(sender.send_request(request.body(Empty::new())?).await?)
    }
}

/// A socket that counts the bytes read from it.
pub(super) struct Counted {
    inner: TcpStream,
    read: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read.fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        result
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
