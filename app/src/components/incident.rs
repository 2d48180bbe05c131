//! Pieces every incident view shares: badges, people, lists.

use crate::model::{IncidentSummary, Person, Severity, Status, format_duration, incident_ref};
use leptos::prelude::*;

/// Severity as text and colour (colour is never the only signal).
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=severity.css_class() title=severity.description()>{severity.label()}</span> }
}

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! { <span class=format!("status status-{}", status.as_str())>{status.label()}</span> }
}

/// A role holder, or a visible warning that nobody holds it.
#[component]
pub fn Holder(person: Option<Person>) -> impl IntoView {
    match person {
        Some(p) => view! { <span class="holder">{p.display_name}</span> }.into_any(),
        None => view! { <span class="unassigned">"⚠ Unassigned"</span> }.into_any(),
    }
}

/// A table of incidents, for the dashboard and the history.
#[component]
pub fn IncidentTable(
    incidents: Vec<IncidentSummary>,
    #[prop(into)] caption: String,
    now: ReadSignal<time::OffsetDateTime>,
) -> impl IntoView {
    view! {
        <table class="list incidents">
            <caption class="visually-hidden">{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">"Incident"</th>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Duration"</th>
                    <th scope="col">"Point"</th>
                    <th scope="col">"Comms"</th>
                    <th scope="col">"Last update"</th>
                </tr>
            </thead>
            <tbody>
                {incidents.into_iter().map(|i| {
                    let declared = i.declared_at;
                    let resolved = i.resolved_at;
                    let updated = i.updated_at;
                    view! {
                        <tr>
                            <td>
                                <a href=format!("/incidents/{}", incident_ref(i.number))>
                                    <strong>{incident_ref(i.number)}</strong>" "{i.title.clone()}
                                </a>
                                {i.is_drill.then(|| view! { " "<span class="drill-tag">"DRILL"</span> })}
                            </td>
                            <td><SeverityBadge severity=i.severity /></td>
                            <td><StatusBadge status=i.status /></td>
                            <td>{move || format_duration(resolved.unwrap_or_else(|| now.get()) - declared)}</td>
                            <td><Holder person=i.point.clone() /></td>
                            <td><Holder person=i.comms.clone() /></td>
                            <td>{move || format!("{} ago", format_duration(now.get() - updated))}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
