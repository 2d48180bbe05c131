//! The runbooks on an incident's page: those of its services and those attached by hand.

use crate::api::runbooks::*;
use crate::components::form::{FormError, last_error};
use crate::model::IncidentNumber;
use crate::model::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The incident page's side panel: the runbooks of its services, and attaching others.
#[component]
pub fn IncidentRunbooks(number: IncidentNumber, can_respond: bool) -> impl IntoView {
    let attach = ServerAction::<AttachRunbook>::new();
    let error = last_error(attach);
    // Read by the browser once the page is live (and after each attachment).
    let linked = RwSignal::new(None::<Vec<IncidentRunbook>>);
    let all = RwSignal::new(Vec::<RunbookSummary>::new());
    Effect::new(move |_| {
        let _ = attach.version().get();
        spawn_local(async move {
            linked.set(Some(list_incident_runbooks(number).await.unwrap_or_default()));
            if can_respond {
                all.set(list_runbooks(RunbookFilter::default()).await.map(|i| i.runbooks).unwrap_or_default());
            }
        });
    });
    view! {
        <section class="card" aria-labelledby="runbooks-heading">
            <h2 id="runbooks-heading">"Runbooks"</h2>
            {move || {
                    let Some(list) = linked.get() else {
                        return view! { <p class="muted">"Loading…"</p> }.into_any();
                    };
                    if list.is_empty() {
                        return view! { <p class="muted">"None for these services."</p> }.into_any();
                    }
                    view! {
                        <ul class="plain">
                            {list.into_iter().map(|r| view! {
                                <li><a href=format!("/runbooks/{}", r.id)>{r.title}</a>{r.attached.then_some(" (attached)")}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
            }}
            {can_respond.then(|| view! {
                <ActionForm action=attach attr:class="inline attach-runbook">
                    <input type="hidden" name="number" value=number.0 />
                    <label for="attach-runbook">"Attach"</label>
                    <select id="attach-runbook" name="runbook_id">
                        {move || all.get().into_iter().map(|r| view! { <option value=r.id.0>{r.title}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="secondary small">"Attach"</button>
                </ActionForm>
                <FormError error />
            })}
        </section>
    }
}
