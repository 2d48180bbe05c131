//! Comms on the incident page: the structured update form, the updates so far, the
//! public services' state, and the site-wide banner for major incidents.

use crate::api::comms::*;
use crate::components::form::{FieldError, FormError, described_by, invalid};
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::IncidentNumber;
use crate::model::*;
use leptos::prelude::*;

/// What someone is writing in the comms form, kept by the incident page above the part
/// that live updates re-render, so nothing typed is lost when the incident changes.
#[derive(Clone, Copy)]
pub struct CommsDraft {
    pub open: RwSignal<bool>,
    pub form: RwSignal<CommsForm>,
}

impl CommsDraft {
    pub fn new() -> Self {
        Self { open: RwSignal::new(false), form: RwSignal::new(blank()) }
    }
}

fn blank() -> CommsForm {
    CommsForm { internal: true, next_update_minutes: "30".into(), ..Default::default() }
}

/// The incident's comms: what was said, and (for responders) the form to say more.
/// It is re-created with the incident page, so it re-reads when anything changes.
#[component]
pub fn CommsCard(number: IncidentNumber, can_respond: bool, overdue: Signal<bool>, draft: CommsDraft) -> impl IntoView {
    // Read by the browser once the page is live (the card is re-created with every change).
    let updates = RwSignal::new(None::<Vec<CommsUpdate>>);
    Effect::new(move |_| {
        leptos::task::spawn_local(
            async move { updates.set(Some(list_comms_updates(number).await.unwrap_or_default())) },
        );
    });
    view! {
        <section class="card comms" aria-labelledby="comms-heading">
            <h2 id="comms-heading">"Comms updates"</h2>
            <div>{move || overdue.get().then(|| view! {
                <p class="comms-overdue" role="alert">"Comms update overdue: the promised time has passed."</p>
            })}</div>
            {can_respond.then(|| view! { <CommsForm number draft /> })}
            {move || {
                    let Some(list) = updates.get() else {
                        return view! { <p class="muted">"Loading…"</p> }.into_any();
                    };
                    if list.is_empty() {
                        return view! { <p class="muted">"No updates yet."</p> }.into_any();
                    }
                    view! {
                        <ol class="updates">
                            {list.into_iter().map(|u| view! {
                                <li>
                                    <div class="meta">
                                        <Time at=u.posted_at />" · "{u.author.map(|a| a.display_name).unwrap_or_default()}" · "
                                        {match (u.internal, u.public_text.is_some()) {
                                            (true, true) => "internal and public",
                                            (false, true) => "public",
                                            _ => "internal",
                                        }}
                                    </div>
                                    {(!u.affected.is_empty()).then(|| view! { <p><strong>"Affected: "</strong>{u.affected.clone()}</p> })}
                                    {(!u.known.is_empty()).then(|| view! { <p><strong>"What we know: "</strong>{u.known.clone()}</p> })}
                                    {(!u.doing.is_empty()).then(|| view! { <p><strong>"What we are doing: "</strong>{u.doing.clone()}</p> })}
                                    {u.public_text.map(|t| view! { <p class="public-text"><strong>"Public: "</strong>{t}</p> })}
                                    {u.next_update_at.map(|at| view! { <p class="muted">"Next update by "<Time at /></p> })}
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
            }}
        </section>
    }
}

#[component]
fn CommsForm(number: IncidentNumber, draft: CommsDraft) -> impl IntoView {
    let post = ServerAction::<PostCommsUpdate>::new();
    let error = crate::components::form::last_error(post);
    let form = draft.form;
    Effect::new(move |_| {
        if let Some(Ok(())) = post.value().get() {
            form.set(blank());
            draft.open.set(false);
        }
    });
    let text = move |get: fn(&CommsForm) -> String| move || form.with(get);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        post.dispatch(PostCommsUpdate { update: CommsForm { number, ..form.get_untracked() } });
    };
    view! {
        <div class="comms-form">
            <button type="button" class="secondary" aria-expanded=move || draft.open.get().to_string()
                on:click=move |_| draft.open.update(|o| *o = !*o)>"Post a comms update"</button>
            <div>{move || draft.open.get().then(|| view! {
            <form on:submit=submit>
                <FormError error inline=&["known", "next_update_minutes", "audience", "public_text"] id_prefix="comms-" />
                <div class="field">
                    <label for="comms-affected">"What is affected"</label>
                    <input id="comms-affected" type="text" maxlength=crate::model::CommsAffected::MAX prop:value=text(|f| f.affected.clone())
                        on:input=move |ev| form.update(|f| f.affected = event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="comms-known">"What we know"</label>
                    <textarea id="comms-known" rows="2" maxlength=crate::model::CommsKnown::MAX prop:value=text(|f| f.known.clone())
                        aria-describedby=described_by(error, "known", "comms-known") aria-invalid=invalid(error, "known")
                        on:input=move |ev| form.update(|f| f.known = event_target_value(&ev))></textarea>
                    <FieldError error field="known" id="comms-known" />
                </div>
                <div class="field">
                    <label for="comms-doing">"What we are doing"</label>
                    <textarea id="comms-doing" rows="2" maxlength=crate::model::CommsDoing::MAX prop:value=text(|f| f.doing.clone())
                        on:input=move |ev| form.update(|f| f.doing = event_target_value(&ev))></textarea>
                </div>
                <div class="field">
                    <label for="comms-next_update_minutes">"Next update in (minutes)"</label>
                    <input id="comms-next_update_minutes" type="number"
                        aria-describedby=described_by(error, "next_update_minutes", "comms-next_update_minutes")
                        aria-invalid=invalid(error, "next_update_minutes") min="1" max="1440" prop:value=text(|f| f.next_update_minutes.clone())
                        on:input=move |ev| form.update(|f| f.next_update_minutes = event_target_value(&ev)) />
                    <FieldError error field="next_update_minutes" id="comms-next_update_minutes" />
                </div>
                <fieldset class="field" id="comms-audience" aria-describedby=described_by(error, "audience", "comms-audience")>
                    <legend>"Audience"</legend>
                    <label class="check"><input type="checkbox" prop:checked=move || form.with(|f| f.internal)
                        on:change=move |ev| form.update(|f| f.internal = event_target_checked(&ev)) />" Internal (email lists and chat)"</label>
                    <label class="check"><input type="checkbox" id="comms-public" prop:checked=move || form.with(|f| f.public)
                        on:change=move |ev| form.update(|f| f.public = event_target_checked(&ev)) />" Public (status page)"</label>
                    <FieldError error field="audience" id="comms-audience" />
                </fieldset>
                <div>{move || form.with(|f| f.public).then(|| view! {
                    <div class="field">
                        <label for="comms-public_text">"Public wording (customers read this)"</label>
                        <textarea id="comms-public_text" rows="2" maxlength=crate::model::PublicWording::MAX
                            aria-describedby=described_by(error, "public_text", "comms-public_text")
                            aria-invalid=invalid(error, "public_text") prop:value=text(|f| f.public_text.clone())
                            on:input=move |ev| form.update(|f| f.public_text = event_target_value(&ev))></textarea>
                        <FieldError error field="public_text" id="comms-public_text" />
                    </div>
                })}</div>
                <button type="submit" disabled=move || post.pending().get()>"Post update"</button>
            </form>
            })}</div>
        </div>
    }
}

/// Public services' state on the status page, and the override of it by incident
/// `number`'s point or comms.
#[component]
pub fn PublicStateCard(number: IncidentNumber) -> impl IntoView {
    let set = ServerAction::<OverrideServiceState>::new();
    let error = crate::components::form::last_error(set);
    let status = crate::components::load_in_browser(move || {
        let _ = set.version().get();
        get_public_status()
    });
    view! {
        <section class="card" aria-labelledby="public-heading">
            <h2 id="public-heading">"Status page"</h2>
            {move || {
                    let Some(status) = status.get() else { return ().into_any() };
                    let services = status.map(|s| s.services).unwrap_or_default();
                    if services.is_empty() {
                        return view! { <p class="muted">"No public services (an administrator marks services public)."</p> }.into_any();
                    }
                    services.into_iter().map(|s| view! {
                        <ActionForm action=set attr:class="inline override">
                            <input type="hidden" name="number" value=number.0 />
                            <input type="hidden" name="service_id" value=s.id />
                            <label for=format!("state-{}", s.id)>{s.name.clone()}</label>
                            <select id=format!("state-{}", s.id) name="state">
                                <option value="" selected=!s.overridden>{format!("From incidents ({})", if s.overridden { "override on" } else { s.state.label() })}</option>
                                {ServiceState::ALL.into_iter().map(|st| view! {
                                    <option value=st.as_str() selected=s.overridden && s.state == st>{st.label()}</option>
                                }).collect_view()}
                            </select>
                            <button type="submit" class="secondary small">"Set"</button>
                        </ActionForm>
                    }).collect_view().into_any()
            }}
            <FormError error />
            <p class="small"><a href="/status">"Open the public status page"</a></p>
        </section>
    }
}

/// Every signed-in page: a banner while a SEV1 or SEV2 is active. Read by the browser
/// once the page is live, which keeps the query off every server render.
#[component]
pub fn MajorIncidentBanner() -> impl IntoView {
    let majors = crate::components::load_in_browser(list_major_incidents);
    view! {
        <div>
            {move || {
                let list = majors.get().and_then(|r: Result<_, AppError>| r.ok()).unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <div class="major-banner" role="alert">
                        <strong>"Major incident in progress: "</strong>
                        {list.into_iter().map(|m| view! {
                            <a href=format!("/incidents/{}", incident_ref(m.number))>
                                {format!("{} {} {}", m.severity.label(), incident_ref(m.number), m.title)}
                            </a>
                        }).collect_view()}
                    </div>
                })
            }}
        </div>
    }
}
