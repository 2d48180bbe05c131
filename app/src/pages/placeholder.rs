use leptos::prelude::*;
use leptos_meta::Title;

/// A section of Foghorn that is not built yet, said plainly.
#[component]
pub fn ComingSoon(title: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <p class="muted">"Coming soon."</p>
    }
}
