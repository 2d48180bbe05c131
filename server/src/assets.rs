//! The browser bundle (`/pkg/…`: wasm, JavaScript, CSS), served so that a visit costs
//! as few bytes as possible: during an all-hands incident thousands of people open the
//! same page at once, many on a phone.
//!
//! - cargo-leptos names each built file after its content (`foghorn.<hash>.wasm`), so a
//!   hashed file never changes: browsers keep it for a year without asking again.
//! - Release builds (`--precompress`) put Brotli and gzip copies beside each file; the
//!   one the browser accepts is sent as it is, with no compression work per request.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use std::path::Path;
use tower_http::services::ServeDir;

/// For a file whose name carries its content's hash.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For anything else: cache it, but ask before using it again.
const REVALIDATE: &str = "no-cache";

/// The service for the site's package directory.
pub fn pkg_service(options: &LeptosOptions) -> Router {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(axum::middleware::from_fn(cache_headers))
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = has_content_hash(req.uri().path());
    let mut response = next.run(req).await;
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let value = if hashed { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// `…/name.<hash>.ext` as cargo-leptos writes it: the part before the extension is a
/// base64url digest (at least 16 characters), never a word anyone would type.
fn has_content_hash(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplit('.');
    let (Some(_ext), Some(hash), Some(_stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether this server's build named its files by content: cargo-leptos then writes the
/// names into `hash.txt` beside the server binary, which Leptos reads to link them.
pub fn built_with_hashed_names() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|file| file.exists())
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(has_content_hash("/pkg/foghorn.q2X8m-fa_0pL3kZrYw1v.wasm"));
        assert!(has_content_hash("/pkg/foghorn.q2X8m-fa_0pL3kZrYw1v.css"));
        assert!(!has_content_hash("/pkg/foghorn.wasm"));
        assert!(!has_content_hash("/pkg/foghorn_bg.wasm"));
        assert!(!has_content_hash("/pkg/jquery.min.js"));
    }
}
