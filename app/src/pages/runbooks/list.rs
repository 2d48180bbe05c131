//! `/runbooks`: every runbook, searched and filtered by review and drill dates.

use crate::api::runbooks::*;
use crate::components::loaded::Loaded;
use crate::components::time::Time;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn RunbooksPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        RunbookFilter {
            q: q.get("q").unwrap_or_default(),
            service_id: q.get("service_id").unwrap_or_default(),
            team_id: q.get("team_id").unwrap_or_default(),
            drilled: q.get("drilled").unwrap_or_default(),
            review_overdue: q.get("review_overdue").is_some_and(|v| v == "true"),
        }
    });
    let index = Resource::new(move || filter.get(), list_runbooks);
    view! {
        <Title text="Runbooks" />
        <div class="page-head">
            <h1>"Runbooks"</h1>
            <a class="button" href="/runbooks/new">"New runbook"</a>
        </div>
        <Form method="GET" action="" attr:class="card filters">
            <div class="field">
                <label for="rb-q">"Search"</label>
                <input id="rb-q" name="q" type="search" prop:value=move || filter.get().q />
            </div>
            <div class="field">
                <label for="rb-drilled">"Drills"</label>
                <select id="rb-drilled" name="drilled">
                    <option value="">"Any"</option>
                    {DrillFilter::ALL.into_iter().map(|d| view! {
                        <option value=d.as_str() selected=move || filter.get().drilled == d.as_str()>{d.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <label class="check"><input type="checkbox" name="review_overdue" value="true" prop:checked=move || filter.get().review_overdue />" Review overdue"</label>
            <button type="submit">"Filter"</button>
        </Form>
        <Loaded resource=index render=move |index| if index.runbooks.is_empty() {
            view! { <p class="muted">"No runbooks match."</p> }.into_any()
        } else {
            view! {
                        <table class="list runbooks">
                            <thead><tr>
                                <th scope="col">"Runbook"</th><th scope="col">"Services"</th><th scope="col">"Team"</th>
                                <th scope="col">"Last reviewed"</th><th scope="col">"Last drilled"</th>
                            </tr></thead>
                            <tbody>
                                {index.runbooks.into_iter().map(|r| view! {
                                    <tr>
                                        <td><a href=format!("/runbooks/{}", r.id)>{r.title.clone()}</a>
                                            {r.review_overdue.then(|| view! { " "<span class="flag overdue">"Review overdue"</span> })}</td>
                                        <td>{r.services.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{r.team_name.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{r.last_reviewed_at.map(|at| view! { <Time at /> }.into_any()).unwrap_or_else(|| "never".into_any())}</td>
                                        <td>{r.last_drilled_at.map(|at| view! { <Time at /> }.into_any()).unwrap_or_else(|| "never".into_any())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
            }.into_any()
        } />
        <p class="hint">"Administrators can download every runbook as an offline site: "<a href="/api/runbooks/export.zip">"runbooks.zip"</a></p>
    }
}
