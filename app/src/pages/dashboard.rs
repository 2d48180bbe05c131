//! The signed-in home page: active incidents by severity then age, mine, and the
//! recently resolved. Live: a declared or changed incident shows up without reload.

use crate::api::incidents::get_dashboard;
use crate::components::incident::IncidentTable;
use crate::components::live::{LiveIndicator, use_live, use_now};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let dashboard = Resource::new(move || refresh.get(), |_| get_dashboard());
    let live = use_live("/api/live".to_owned(), move |name, _| {
        if name == "incidents" {
            refresh.update(|n| *n += 1);
        }
    });
    let now = use_now();

    view! {
        <Title text="Dashboard" />
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <LiveIndicator state=live />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    Ok(d) => view! {
                        <section class="card" aria-labelledby="active-heading">
                            <h2 id="active-heading">"Active incidents " <span class="count">{d.active.len()}</span></h2>
                            {if d.active.is_empty() {
                                view! { <p class="muted">"No active incidents."</p> }.into_any()
                            } else {
                                view! { <IncidentTable incidents=d.active caption="Active incidents" now /> }.into_any()
                            }}
                        </section>
                        <section class="card" aria-labelledby="mine-heading">
                            <h2 id="mine-heading">"Where I hold a role"</h2>
                            {if d.mine.is_empty() {
                                view! { <p class="muted">"You hold no role in an active incident."</p> }.into_any()
                            } else {
                                view! { <IncidentTable incidents=d.mine caption="Incidents where I hold a role" now /> }.into_any()
                            }}
                        </section>
                        <section class="card" aria-labelledby="resolved-heading">
                            <h2 id="resolved-heading">"Resolved in the last 7 days"</h2>
                            {if d.recently_resolved.is_empty() {
                                view! { <p class="muted">"Nothing resolved in the last 7 days."</p> }.into_any()
                            } else {
                                view! { <IncidentTable incidents=d.recently_resolved caption="Recently resolved incidents" now /> }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
