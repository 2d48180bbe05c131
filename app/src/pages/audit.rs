//! `/admin/audit`: who did what, newest first, filtered, a page at a time, and the
//! filtered view as CSV or JSON Lines. Administrators only.

use crate::api::audit::list_audit_events;
use crate::components::form::DateRange;
use crate::components::loaded::Loaded;
use crate::components::time::Time;
use crate::model::{AuditFilter, AuditKind};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        AuditFilter {
            actor: get("actor"),
            kind: get("kind"),
            target: get("target"),
            from: get("from"),
            to: get("to"),
            cursor: get("cursor"),
        }
    });
    let page = Resource::new(move || filter.get(), list_audit_events);
    // The exports cover the whole filtered view, not just this page.
    let export = move |format: &str| {
        let whole = AuditFilter { cursor: String::new(), ..filter.get() };
        format!("/api/audit.{format}?{}", whole.query_string())
    };

    view! {
        <Title text="Audit log" />
        <div class="page-head">
            <h1>"Audit log"</h1>
            <p>
                <a href=move || export("csv") download>"Download CSV"</a>
                " · "
                <a href=move || export("jsonl") download>"Download JSON Lines"</a>
            </p>
        </div>
        <Form method="GET" action="" attr:class="card filters">
            <div class="field">
                <label for="a-actor">"Actor"</label>
                <input id="a-actor" name="actor" type="search" prop:value=move || filter.get().actor />
            </div>
            <div class="field">
                <label for="a-kind">"Event"</label>
                <select id="a-kind" name="kind">
                    <option value="">"Any"</option>
                    {AuditKind::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str() selected=move || filter.get().kind == k.as_str()>{k.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="a-target">"Target"</label>
                <input id="a-target" name="target" type="search" prop:value=move || filter.get().target />
            </div>
            <DateRange id_prefix="a-" from_label="From" from=Signal::derive(move || filter.get().from)
                to=Signal::derive(move || filter.get().to) />
            <button type="submit">"Filter"</button>
        </Form>
        <Loaded resource=page forbidden="Only administrators can read the audit log." render=move |p| {
            if p.events.is_empty() {
                return view! { <p class="muted">"No events match."</p> }.into_any();
            }
            let next = p.next_cursor.map(|cursor| {
                let older = AuditFilter { cursor, ..filter.get_untracked() };
                format!("/admin/audit?{}", older.query_string())
            });
            view! {
                <section class="card">
                    <table class="list audit">
                        <caption class="visually-hidden">"Audit events, newest first"</caption>
                        <thead><tr>
                            <th>"When"</th><th>"Actor"</th><th>"Event"</th><th>"Target"</th>
                            <th>"Address"</th><th>"Details"</th>
                        </tr></thead>
                        <tbody>
                            {p.events.into_iter().map(|e| {
                                let kind = e.kind_label();
                                view! {
                                    <tr>
                                        <td><Time at=e.at /></td>
                                        <td>{e.actor}</td>
                                        <td>{kind}</td>
                                        <td>{e.target}</td>
                                        <td>{e.ip}</td>
                                        <td><code>{e.details}</code></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {next.map(|href| view! { <p><a href=href rel="next">"Older events →"</a></p> })}
                </section>
            }.into_any()
        } />
    }
}
