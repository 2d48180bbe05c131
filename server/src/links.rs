//! Absolute links in what Foghorn writes for others (status page, feeds, calendar, mail
//! bodies built per request): where they point, and when a response built from the
//! request's `Host` must stay private.

use crate::WebSettings;
use axum::http::{HeaderMap, header};

/// Where absolute links point: the configured public address; without one, the
/// request's `Host` if it is a plain host name or address (anything else — quotes,
/// markup, spaces — is no host, and `localhost` stands in). Responses built from the
/// `Host` are for the asker alone: see [`links_follow_the_request`].
pub(crate) fn base_url(web: &WebSettings, headers: &HeaderMap) -> String {
    if let Some(origin) = &web.public_origin {
        return origin.trim_end_matches('/').to_owned();
    }
    let host =
        headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| is_plain_host(h)).unwrap_or("localhost");
    let scheme = if web.secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Whether [`base_url`] depends on the request: then a shared cache must not keep the
/// response, or one visitor's `Host` would reach everyone.
pub(crate) fn links_follow_the_request(web: &WebSettings) -> bool {
    web.public_origin.is_none()
}

fn is_plain_host(host: &str) -> bool {
    !host.is_empty() && host.len() <= 255 && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}
