//! The incident page's card for the alert that declared it: the labels and annotations
//! it arrived with, and (once every alert of its group has resolved) the suggestion to
//! move to monitoring. Foghorn never resolves an incident on an alert's word.

use crate::model::{AlertOrigin, Status};
use leptos::prelude::*;

#[component]
pub fn AlertCard(alert: Option<AlertOrigin>, status: Status) -> impl IntoView {
    alert.map(|alert| {
        let suggest = alert.all_resolved && matches!(status, Status::Investigating | Status::Identified);
        let pairs = |items: Vec<(String, String)>| {
            items
                .into_iter()
                .map(|(k, v)| view! { <div><dt><code>{k}</code></dt><dd>{v}</dd></div> })
                .collect_view()
        };
        view! {
            <section class="card" aria-labelledby="alert-heading">
                <h2 id="alert-heading">{format!("Declared by an alert ({})", alert.source.label())}</h2>
                {suggest.then(|| view! {
                    <p class="success" role="status">"Every alert of this group has resolved. If the service has recovered, move the incident to monitoring."</p>
                })}
                <h3>"Labels"</h3>
                <dl class="labels">{pairs(alert.labels)}</dl>
                {(!alert.annotations.is_empty()).then(|| view! {
                    <h3>"Annotations"</h3>
                    <dl class="labels">{pairs(alert.annotations)}</dl>
                })}
            </section>
        }
    })
}
