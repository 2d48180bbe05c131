//! The Content-Security-Policy of server-rendered pages.
//!
//! Scripts run only from our origin or with this response's nonce (the hydration
//! scripts carry it); WebAssembly may compile (`wasm-unsafe-eval`); nothing may frame us.
//! Other responses get a strict default policy from the server's header middleware.

use leptos::prelude::*;

pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

pub fn set_page_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
