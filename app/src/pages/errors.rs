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
