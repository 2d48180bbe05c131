//! `/incidents`: every incident, newest first, filtered and searched, a page at a time.

use crate::api::incidents::list_incidents;
use crate::components::form::{DateRange, TeamServiceFilters};
use crate::components::incident::IncidentTable;
use crate::components::live::use_now;
use crate::components::loaded::Loaded;
use crate::model::{IncidentFilter, Severity, Status, url_encode};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        IncidentFilter {
            status: get("status"),
            severity: get("severity"),
            team_id: get("team_id"),
            service_id: get("service_id"),
            from: get("from"),
            to: get("to"),
            q: get("q"),
            // "yes" is what links made before the API's `true` used.
            from_alert: matches!(get("from_alert").as_str(), "true" | "yes"),
            cursor: get("cursor"),
        }
    });
    let page = Resource::new(move || filter.get(), list_incidents);
    let now = use_now();

    view! {
        <Title text="Incidents" />
        <div class="page-head">
            <h1>"Incidents"</h1>
            <a class="button danger" href="/incidents/new">"Declare incident"</a>
        </div>
        <Form method="GET" action="" attr:class="card filters">
            <div class="field">
                <label for="q">"Search title and summary"</label>
                <input id="q" name="q" type="search" prop:value=move || filter.get().q />
            </div>
            <div class="field">
                <label for="f-status">"Status"</label>
                <select id="f-status" name="status">
                    <option value="">"Any"</option>
                    <option value="active" selected=move || filter.get().status == "active">"Active"</option>
                    {Status::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || filter.get().status == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-severity">"Severity"</label>
                <select id="f-severity" name="severity">
                    <option value="">"Any"</option>
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.label() selected=move || filter.get().severity == s.label()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <TeamServiceFilters id_prefix="f-" team=Signal::derive(move || filter.get().team_id.parse().ok())
                service=Signal::derive(move || filter.get().service_id.parse().ok()) />
            <DateRange id_prefix="f-" from_label="Declared from" from=Signal::derive(move || filter.get().from)
                to=Signal::derive(move || filter.get().to) />
            <label class="check">
                <input type="checkbox" name="from_alert" value="true" prop:checked=move || filter.get().from_alert />
                " Declared from an alert"
            </label>
            <button type="submit">"Filter"</button>
        </Form>
        <Loaded resource=page render=move |p| {
            if p.items.is_empty() {
                return view! { <p class="muted">"No incidents match."</p> }.into_any();
            }
            let next = p.next_cursor.map(|cursor| {
                let f = IncidentFilter { cursor, ..filter.get_untracked() };
                let query: Vec<String> = f.query_pairs().into_iter().map(|(k, v)| format!("{k}={}", url_encode(&v))).collect();
                format!("/incidents?{}", query.join("&"))
            });
            view! {
                <section class="card">
                    <IncidentTable incidents=p.items caption="Incidents" now />
                    {next.map(|href| view! { <p><a href=href rel="next">"Older incidents →"</a></p> })}
                </section>
            }.into_any()
        } />
    }
}
