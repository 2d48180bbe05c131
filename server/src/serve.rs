//! Accepting connections and speaking HTTP/1.1 on them.
//!
//! Foghorn serves HTTP/1.1 straight from hyper; TLS and HTTP/2 belong to the proxy in
//! front of it. `axum::serve` would instead detect the protocol of each connection
//! by reading its first 24 bytes ahead of hyper, after which hyper's read buffer
//! grows to 16 KiB instead of 8 KiB — held for as long as the connection is open,
//! which for a live stream is as long as the tab is: a third of an idle subscriber's
//! memory (measured with heaptrack on 1 000 open streams).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and
/// waits for the open connections to finish their requests. Handlers see the peer
/// address as axum's `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = accept(&listener) => match accepted {
                Ok(accepted) => accepted,
                // That one client gave up before we took its connection: take the next.
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            tower::Service::call(&mut app.clone(), request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            // Needed for the default 30 s limit on reading a request's head.
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Errors about the one connection being accepted, not about the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset)
}

/// The next connection, with Nagle's algorithm off. A page is streamed in chunks, and
/// the last (the few bytes that end the chunked body) would otherwise wait for the
/// browser's delayed acknowledgement of the one before: 40 ms added to a page that
/// took 2 ms, and under load a server idling while requests wait.
async fn accept(listener: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(error = %err, "could not set TCP_NODELAY");
    }
    Ok((stream, peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(TcpStream::connect(addr));
        let (stream, _) = accept(&listener).await.unwrap();
        assert!(stream.nodelay().unwrap(), "TCP_NODELAY must be set on accepted connections");
        client.await.unwrap().unwrap();
    }

    /// Handlers see who connected, and a request in flight when shutdown begins still
    /// gets its answer before `serve` returns.
    #[tokio::test]
    async fn serves_peer_address_and_drains_on_shutdown() {
        let (release_tx, release_rx) = tokio::sync::watch::channel(false);
        let app = Router::new()
            .route("/peer", get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }))
            .route(
                "/slow",
                get(move || {
                    let mut release = release_rx.clone();
                    async move {
                        let _ = release.wait_for(|r| *r).await;
                        "finished"
                    }
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, async move {
            let _ = stop_rx.await;
        }));

        async fn get_path(stream: &mut TcpStream, path: &str) {
            let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
        }
        let mut client = TcpStream::connect(addr).await.unwrap();
        get_path(&mut client, "/peer").await;
        let mut response = String::new();
        client.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with(&client.local_addr().unwrap().to_string()), "peer address in {response}");

        let mut slow = TcpStream::connect(addr).await.unwrap();
        get_path(&mut slow, "/slow").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop_tx.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!server.is_finished(), "serve must wait for the request in flight");
        assert!(TcpStream::connect(addr).await.is_err(), "no new connections after shutdown began");
        release_tx.send(true).unwrap();
        let mut response = String::new();
        slow.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("finished"), "{response}");
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("serve returns once drained").unwrap();
    }
}
