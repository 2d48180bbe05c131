//! What a visit costs in bytes: the browser bundle is sent precompressed and kept by
//! browsers for a year when its name carries its content's hash; pages go out gzipped;
//! live streams are never held back by compression.

mod common;

use app::model::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use foghorn::WebSettings;
use sqlx::PgPool;
use std::io::Read;
use tower::ServiceExt;

const HASHED: &str = "foghorn.Qz3x-8mKfa_0pL3kZrYw1v.wasm";

/// A built site as cargo-leptos leaves it after `--release --precompress`.
fn site() -> String {
    let root = std::env::temp_dir().join(format!("foghorn-site-{}", std::process::id()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join(HASHED), b"plain wasm bytes").unwrap();
    std::fs::write(pkg.join(format!("{HASHED}.br")), b"brotli bytes").unwrap();
    std::fs::write(pkg.join(format!("{HASHED}.gz")), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("foghorn.css"), b"body{}").unwrap();
    root.to_string_lossy().into_owned()
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>, cookie: Option<&str>) -> common::TestResponse {
    let mut request = Request::get(path);
    if let Some(encoding) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, encoding);
    }
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

#[sqlx::test(migrations = false)]
async fn the_bundle_is_sent_precompressed_and_kept_for_a_year(pool: PgPool) {
    let app = TestApp::with_site(pool, common::test_auth(), WebSettings::default(), &site()).await;
    let path = format!("/pkg/{HASHED}");

    let brotli = get(&app, &path, Some("gzip, deflate, br"), None).await;
    assert_eq!(brotli.status, StatusCode::OK);
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    assert_eq!(brotli.body, "brotli bytes");
    assert_eq!(brotli.header("cache-control"), Some("public, max-age=31536000, immutable"));

    let gzip = get(&app, &path, Some("gzip"), None).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(gzip.body, "gzip bytes");

    let plain = get(&app, &path, None, None).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, "plain wasm bytes");
    assert_eq!(plain.header("cache-control"), Some("public, max-age=31536000, immutable"));

    // A name without a content hash may change under the same name: revalidate it.
    let unhashed = get(&app, "/pkg/foghorn.css", None, None).await;
    assert_eq!(unhashed.status, StatusCode::OK);
    assert_eq!(unhashed.header("cache-control"), Some("no-cache"));
    assert_eq!(get(&app, "/pkg/missing.js", None, None).await.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = false)]
async fn pages_go_out_gzipped_and_live_streams_uncompressed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    let number = app.declare(&cookie, "Checkout is down", "SEV1").await;

    let page = get(&app, &format!("/incidents/INC-{number}"), Some("gzip"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-encoding"), Some("gzip"));
    let bytes = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/incidents/INC-{number}"))
                .header(header::ACCEPT_ENCODING, "gzip")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let compressed = http_body_util::BodyExt::collect(bytes.into_body()).await.unwrap().to_bytes();
    let mut html = String::new();
    flate2::read::GzDecoder::new(&compressed[..]).read_to_string(&mut html).unwrap();
    assert!(html.contains("Checkout is down"), "{html}");

    // The live stream: its headers arrive at once, with no compression to buffer events.
    let stream = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/live?incident={number}&after=0"))
                .header(header::ACCEPT_ENCODING, "gzip")
                .header(header::ACCEPT, "text/event-stream")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers().get(header::CONTENT_ENCODING).is_none());
}
