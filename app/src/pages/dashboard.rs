use crate::components::layout::use_viewer;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <Transition>
            {move || Suspend::new(async move {
                let name = match viewer {
                    Some(v) => v.await.ok().flatten().map(|v| v.display_name),
                    None => None,
                };
                name.map(|n| view! { <p class="welcome">"Signed in as "<strong>{n}</strong>"."</p> })
            })}
        </Transition>
        <section class="card" aria-labelledby="active-heading">
            <h2 id="active-heading">"Active incidents"</h2>
            <p class="muted">"No active incidents. Declaring and working incidents is coming soon."</p>
        </section>
    }
}
