//! `/runbooks/new`: writing a runbook.

use crate::api::admin::{list_services, list_teams};
use crate::api::runbooks::*;
use crate::components::form::{FieldError, FormError, described_by, invalid, last_error};
use crate::components::incident::{ServiceChecks, TeamChoice, set_chosen};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// The team, services and review interval fields, shared by the new and edit forms.
#[component]
fn DetailsFields(form: RwSignal<RunbookForm>) -> impl IntoView {
    let options = crate::components::load_in_browser(|| async {
        Ok::<_, AppError>((list_teams().await?, list_services().await?))
    });
    view! {
        {move || {
                let (teams, services) = options.get().and_then(Result::ok).unwrap_or_default();
                view! {
                    <TeamChoice id="rb-team" teams selected=Signal::derive(move || form.with(|f| f.team_id))
                        on_change=Callback::new(move |team| form.update(|f| f.team_id = team)) />
                    <fieldset class="field">
                        <legend>"Services"</legend>
                        <ServiceChecks services id_prefix="rb-service-"
                            selected=Signal::derive(move || form.with(|f| f.service_ids.clone()))
                            toggle=Callback::new(move |(id, on)| form.update(|f| set_chosen(&mut f.service_ids, id, on))) />
                    </fieldset>
                }
        }}
        <div class="field">
            <label for="rb-interval">"Review every (days)"</label>
            <input id="rb-interval" type="number" min="1" max="3650"
                prop:value=move || form.with(|f| f.review_interval_days.unwrap_or(DEFAULT_REVIEW_DAYS).to_string())
                on:input=move |ev| form.update(|f| f.review_interval_days = event_target_value(&ev).parse().ok()) />
        </div>
    }
}

#[component]
pub fn NewRunbookPage() -> impl IntoView {
    let create = ServerAction::<CreateRunbook>::new();
    let error = last_error(create);
    let form = RwSignal::new(RunbookForm { review_interval_days: Some(DEFAULT_REVIEW_DAYS), ..Default::default() });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/runbooks/{id}"), Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateRunbook { runbook: form.get_untracked() });
    };
    view! {
        <Title text="New runbook" />
        <h1>"New runbook"</h1>
        <form class="card runbook-form" on:submit=submit>
            <FormError error inline=&["title"] id_prefix="rb-" />
            <div class="field">
                <label for="rb-title">"Title"</label>
                <input id="rb-title" type="text" required prop:value=move || form.with(|f| f.title.clone())
                    aria-describedby=described_by(error, "title", "rb-title") aria-invalid=invalid(error, "title")
                    on:input=move |ev| form.update(|f| f.title = event_target_value(&ev)) />
                <FieldError error field="title" id="rb-title" />
            </div>
            <div class="field">
                <label for="rb-body">"Runbook (markdown)"</label>
                <textarea id="rb-body" rows="16" prop:value=move || form.with(|f| f.body.clone())
                    on:input=move |ev| form.update(|f| f.body = event_target_value(&ev))></textarea>
            </div>
            <DetailsFields form />
            <button type="submit">"Create runbook"</button>
        </form>
    }
}
