use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. "<a href="/">"Go to the dashboard"</a>"."</p>
        </main>
    }
}

/// Why a page about one thing (an incident, a postmortem) could not be shown, answered
/// with the error's status: a private incident's page is the same 404 as a missing one.
#[component]
pub fn LoadError(err: AppError, #[prop(into)] title: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response
            .set_status(http::StatusCode::from_u16(err.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    view! {
        <Title text=title.clone() />
        <h1>{title}</h1>
        <p class="form-error" role="alert">{err.to_string()}</p>
    }
}

/// Shown when the signed-in person's role does not allow the page (answered with 403).
#[component]
pub fn Forbidden(#[prop(into)] reason: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text="Not allowed" />
        <section class="notice" role="alert">
            <h1>"403 — Not allowed"</h1>
            <p>{reason}</p>
            <p><a href="/">"Back to the dashboard"</a></p>
        </section>
    }
}
