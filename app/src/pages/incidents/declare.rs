//! `/incidents/new`: declaring takes seconds; only the title and severity are required.

use crate::api::admin::{list_services, list_teams};
use crate::api::incidents::{Declaration, DeclareIncident, list_responders};
use crate::components::form::{FieldError, FormError, described_by, invalid, last_error};
use crate::components::incident::{ServiceChecks, set_chosen};
use crate::error::AppError;
use crate::model::{Privacy, Severity, incident_ref};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn DeclarePage() -> impl IntoView {
    let options = Resource::new(
        || (),
        |_| async { Ok::<_, AppError>((list_services().await?, list_teams().await?, list_responders().await?)) },
    );
    let action = ServerAction::<DeclareIncident>::new();
    let error = last_error(action);

    let title = RwSignal::new(String::new());
    let severity = RwSignal::new(String::new());
    let summary = RwSignal::new(String::new());
    let services = RwSignal::new(Vec::<crate::model::ServiceId>::new());
    let team = RwSignal::new(String::new());
    let point = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let team_can_see = RwSignal::new(false);

    // `autofocus` works on a page load only; arriving from another page, focus goes to
    // the first field here too.
    let title_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = title_input.get() {
            let _ = input.focus();
        }
    });

    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(number)) = action.value().get() {
            navigate(&format!("/incidents/{}", incident_ref(number)), Default::default());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(DeclareIncident {
            declaration: Declaration {
                title: title.get_untracked(),
                severity: severity.get_untracked(),
                summary: summary.get_untracked(),
                service_ids: services.get_untracked(),
                team_id: team.get_untracked().parse().ok(),
                point_user_id: point.get_untracked().parse().ok(),
                privacy: Privacy { private: private.get_untracked(), team_can_see: team_can_see.get_untracked() },
            },
        });
    };

    view! {
        <Title text="Declare incident" />
        <h1>"Declare an incident"</h1>
        <form class="card declare" on:submit=submit>
            <FormError error=error inline=&["title", "severity", "summary", "team_can_see"] />
            <div class="field">
                <label for="title">"Title"</label>
                <input id="title" name="title" required maxlength=crate::model::IncidentTitle::MAX placeholder="What is broken, for whom?"
                    bind:value=title autofocus node_ref=title_input
                    aria-describedby=described_by(error, "title", "title") aria-invalid=invalid(error, "title") />
                <FieldError error field="title" id="title" />
            </div>
            <fieldset class="field severities" id="severity" aria-describedby=described_by(error, "severity", "severity")>
                <legend>"Severity"</legend>
                {Severity::ALL.into_iter().map(|s| {
                    let id = format!("severity-{}", s.label());
                    let label_for = id.clone();
                    view! {
                        <label class="severity-choice" for=label_for>
                            <input type="radio" id=id name="severity" value=s.label()
                                on:change=move |_| severity.set(s.label().to_owned()) />
                            <span class=s.css_class()>{s.label()}</span>
                            <span class="hint">{s.description()}</span>
                        </label>
                    }
                }).collect_view()}
                <FieldError error field="severity" id="severity" />
            </fieldset>
            <div class="field">
                <label for="summary">"Summary (optional, markdown)"</label>
                <textarea id="summary" name="summary" rows="4" maxlength=crate::model::Summary::MAX bind:value=summary
                    aria-describedby=described_by(error, "summary", "summary") aria-invalid=invalid(error, "summary")></textarea>
                <FieldError error field="summary" id="summary" />
            </div>
            <Suspense>
                {move || Suspend::new(async move {
                    let (service_list, teams, people) = options.await.unwrap_or_default();
                    view! {
                        <fieldset class="field">
                            <legend>"Affected services (optional)"</legend>
                            {service_list.is_empty().then(|| view! { <p class="hint">"No services defined yet."</p> })}
                            <ServiceChecks services=service_list id_prefix="service-" selected=services
                                toggle=Callback::new(move |(id, on)| services.update(|v| set_chosen(v, id, on))) />
                        </fieldset>
                        <div class="row">
                            <div class="field">
                                <label for="team_id">"Owning team (optional)"</label>
                                <select id="team_id" on:change=move |ev| team.set(event_target_value(&ev))>
                                    <option value="">"Not set"</option>
                                    {teams.into_iter().map(|t| view! { <option value=t.id.0>{t.name}</option> }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="point">"Point"</label>
                                <select id="point" on:change=move |ev| point.set(event_target_value(&ev))>
                                    <option value="">"Me: I take point"</option>
                                    {people.into_iter().map(|p| view! { <option value=p.id.0>{p.display_name}</option> }).collect_view()}
                                </select>
                            </div>
                        </div>
                    }
                })}
            </Suspense>
            <fieldset class="field privacy">
                <legend>"Who can see it"</legend>
                <label class="check">
                    <input type="checkbox" id="private" bind:checked=private />
                    " Private: only the people in the response and admins (a security or personnel matter)"
                </label>
                <label class="check" class:muted=move || !private.get()>
                    <input type="checkbox" id="team_can_see" bind:checked=team_can_see disabled=move || !private.get()
                        aria-describedby=described_by(error, "team_can_see", "team_can_see") />
                    " …and the owning team's members"
                </label>
                <FieldError error field="team_can_see" id="team_can_see" />
            </fieldset>
            <button type="submit" class="danger" disabled=move || action.pending().get()>"Declare incident"</button>
        </form>
    }
}
