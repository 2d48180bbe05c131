//! The signed-in home page: active incidents by severity then age, mine, and the
//! recently resolved. Live: a declared or changed incident shows up without reload.

use crate::api::incidents::get_dashboard;
use crate::components::incident::IncidentTable;
use crate::components::live::{LiveIndicator, use_live, use_now};
use crate::components::loaded::Loaded;
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
        <Loaded resource=dashboard render=move |d| view! {
            <IncidentSection id="active" title="Active incidents" count=true incidents=d.active
                empty="No active incidents." now />
            <IncidentSection id="mine" title="Where I hold a role" count=false incidents=d.mine
                empty="You hold no role in an active incident." now />
            <IncidentSection id="resolved" title="Resolved in the last 7 days" count=false
                incidents=d.recently_resolved empty="Nothing resolved in the last 7 days." now />
        } />
    }
}

/// One titled list of the dashboard, with what to say when it is empty.
#[component]
fn IncidentSection(
    id: &'static str,
    title: &'static str,
    count: bool,
    incidents: Vec<crate::model::IncidentSummary>,
    empty: &'static str,
    now: ReadSignal<time::OffsetDateTime>,
) -> impl IntoView {
    let heading = format!("{id}-heading");
    let labelled_by = heading.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading>{title}" "{count.then(|| view! { <span class="count">{incidents.len()}</span> })}</h2>
            {if incidents.is_empty() {
                view! { <p class="muted">{empty}</p> }.into_any()
            } else {
                view! { <IncidentTable incidents caption=title now /> }.into_any()
            }}
        </section>
    }
}
