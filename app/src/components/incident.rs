//! Pieces every incident view shares: badges, people, lists.

use crate::model::{IncidentSummary, Person, Severity, Status, Team, format_duration, incident_ref};
use crate::model::{ServiceId, TeamId};
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

/// A role in a list: the warning matters only while the incident is active.
#[component]
fn RoleCell(person: Option<Person>, active: bool) -> impl IntoView {
    match (person, active) {
        (None, false) => view! { <span class="muted">"—"</span> }.into_any(),
        (person, _) => view! { <Holder person /> }.into_any(),
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
                    let (active, next_update_at) = (i.status.is_active(), i.next_update_at);
                    view! {
                        <tr>
                            <td>
                                <a href=format!("/incidents/{}", incident_ref(i.number))>
                                    <strong>{incident_ref(i.number)}</strong>" "{i.title.clone()}
                                </a>
                                {i.is_drill.then(|| view! { " "<span class="drill-tag">"DRILL"</span> })}
                                {i.private.then(|| view! { " "<span class="private-tag">"PRIVATE"</span> })}
                                {move || crate::model::comms_overdue(active, next_update_at, now.get())
                                    .then(|| view! { " "<span class="flag overdue">"Comms update overdue"</span> })}
                            </td>
                            <td><SeverityBadge severity=i.severity /></td>
                            <td><StatusBadge status=i.status /></td>
                            <td>{move || format_duration(resolved.unwrap_or_else(|| now.get()) - declared)}</td>
                            <td><RoleCell person=i.point.clone() active=i.status.is_active() /></td>
                            <td><RoleCell person=i.comms.clone() active=i.status.is_active() /></td>
                            <td>{move || format!("{} ago", format_duration(now.get() - updated))}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Checkboxes for an incident's affected services.
#[component]
pub fn ServiceChecks(
    services: Vec<crate::model::Service>,
    id_prefix: &'static str,
    #[prop(into)] selected: Signal<Vec<ServiceId>>,
    /// Called with `(service id, checked)`.
    toggle: Callback<(ServiceId, bool)>,
) -> impl IntoView {
    view! {
        <div class="checks">
            {services.into_iter().map(|s| {
                let sid = s.id;
                let id = format!("{id_prefix}{sid}");
                let label_for = id.clone();
                view! {
                    <label for=label_for>
                        <input type="checkbox" id=id
                            prop:checked=move || selected.get().contains(&sid)
                            on:change=move |ev| toggle.run((sid, event_target_checked(&ev))) />
                        " "{s.name}
                    </label>
                }
            }).collect_view()}
        </div>
    }
}

/// Adds or removes `id` in a list of chosen ids.
pub fn set_chosen(ids: &mut Vec<ServiceId>, id: ServiceId, on: bool) {
    ids.retain(|x| *x != id);
    if on {
        ids.push(id);
    }
}

/// "Owning team": a labelled choice of team (or none) that follows `selected` and
/// reports each choice, for forms kept in signals (incident edit, new runbook).
#[component]
pub fn TeamChoice(
    id: &'static str,
    teams: Vec<Team>,
    #[prop(into)] selected: Signal<Option<TeamId>>,
    on_change: Callback<Option<TeamId>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>"Owning team"</label>
            <select id=id on:change=move |ev| on_change.run(event_target_value(&ev).parse().ok())>
                <option value="" selected=move || selected.get().is_none()>"Not set"</option>
                {teams.into_iter().map(|t| {
                    let team = t.id;
                    view! { <option value=team.0 selected=move || selected.get() == Some(team)>{t.name}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}
