//! `/postmortems/INC-N`: one incident's postmortem — read it, write it, review and
//! publish it, and plan the meeting.

use super::editor::{Draft, Editor};
use super::versions::History;
use crate::api::admin::list_teams;
use crate::api::postmortems::*;
use crate::components::action_items::IncidentItems;
use crate::components::form::{FormError, last_error};
use crate::components::incident::SeverityBadge;
use crate::components::live::use_live;
use crate::components::loaded::Loaded;
use crate::components::time::{Time, local_input_to_rfc3339};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn PostmortemPage() -> impl IntoView {
    let params = use_params_map();
    let number = Memo::new(move |_| params.read().get("id").and_then(|id| parse_incident_ref(&id)));
    let refresh = RwSignal::new(0u32);
    let postmortem = Resource::new(
        move || (number.get(), refresh.get()),
        |(number, _)| async move {
            match number {
                Some(n) => get_postmortem(n).await,
                None => Err(AppError::NotFound("That postmortem".into())),
            }
        },
    );
    let draft = Draft::new();
    view! {
        <Loaded resource=postmortem page="Postmortem" render=move |pm| view! { <PostmortemScreen pm refresh draft /> } />
    }
}

#[component]
fn PostmortemScreen(pm: Postmortem, refresh: RwSignal<u32>, draft: Draft) -> impl IntoView {
    let number = pm.incident_number;
    let reference = incident_ref(number);
    draft.load(number, pm.version, &pm.sections);
    // Published postmortems open for reading; a correction is one click away.
    let editing = RwSignal::new(pm.can_edit && pm.status != PostmortemStatus::Published);
    let reload = move || refresh.update(|n| *n += 1);
    let can_edit = pm.can_edit;

    view! {
        <Title text=format!("Postmortem {reference}") />
        {pm.is_drill.then(|| view! {
            <div class="drill-banner" role="note">"DRILL — this postmortem reviews a rehearsal"</div>
        })}
        <header class="pm-head">
            <p class="crumbs"><a href="/postmortems">"Postmortems"</a>" / "<a href=format!("/incidents/{reference}")>{reference.clone()}</a></p>
            <h1>"Postmortem: "<span class="ref">{reference.clone()}</span>" "{pm.incident_title.clone()}</h1>
            <div class="badges">
                <SeverityBadge severity=pm.severity />
                <span class=format!("pm-status pm-{}", pm.status.as_str())>{pm.status.label()}</span>
                {pm.corrected_at.map(|at| view! { <span class="updated-mark">"Updated "<Time at /></span> })}
                <span class="team">"Team: "{pm.team_name.clone().unwrap_or_else(|| "not set".into())}</span>
                <span class="muted">
                    {format!("Version {}", pm.version)}
                    {pm.updated_by.clone().map(|p| format!(" by {}", p.display_name))}" · "<Time at=pm.updated_at />
                </span>
                <a href=format!("/api/postmortems/{reference}/markdown") download>"Download Markdown"</a>
            </div>
        </header>

        <div class="pm-grid">
            <article class="pm-doc" aria-label="Postmortem">
                {can_edit.then(|| view! {
                    <div class="mode-switch">
                        <button type="button" class="secondary small" on:click=move |_| editing.update(|e| *e = !*e)>
                            {move || if editing.get() { "Read view" } else if pm.status == PostmortemStatus::Published { "Correct it" } else { "Edit" }}
                        </button>
                    </div>
                })}
                <div>{
                    let pm = pm.clone();
                    move || if editing.get() {
                        view! { <Editor draft /> }.into_any()
                    } else {
                        view! { <ReadView pm=pm.clone() /> }.into_any()
                    }
                }</div>
                <ActionItemsCard pm=pm.clone() on_change=Callback::new(move |_| reload()) />
            </article>
            <aside class="side-col">
                {can_edit.then(|| view! { <Review pm=pm.clone() draft on_change=Callback::new(move |_| reload()) /> })}
                <MeetingCard pm=pm.clone() on_change=Callback::new(move |_| reload()) />
                <History number can_edit draft on_restore=Callback::new(move |_| reload()) />
            </aside>
        </div>
    }
}

/// The rendered document, as readers see it.
#[component]
fn ReadView(pm: Postmortem) -> impl IntoView {
    view! {
        {Section::ALL.into_iter().zip(pm.sections_html).map(|(section, html)| view! {
            <section class="pm-section read">
                <h2>{section.title()}</h2>
                {if html.trim().is_empty() {
                    view! { <p class="muted">"Nothing written yet."</p> }.into_any()
                } else {
                    view! { <div class="prose" inner_html=html></div> }.into_any()
                }}
            </section>
        }).collect_view()}
    }
}

/// Status moves, their record, and the owning team.
#[component]
fn Review(pm: Postmortem, draft: Draft, on_change: Callback<()>) -> impl IntoView {
    let number = pm.incident_number;
    let moving = ServerAction::<MovePostmortem>::new();
    let team = ServerAction::<SetPostmortemTeam>::new();
    let move_error = last_error(moving);
    let team_error = last_error(team);
    Effect::new(move |_| {
        if matches!(moving.value().get(), Some(Ok(()))) || matches!(team.value().get(), Some(Ok(()))) {
            on_change.run(());
        }
    });
    let teams = crate::components::load_in_browser(list_teams);
    let next: Vec<(PostmortemStatus, &'static str)> = match pm.status {
        PostmortemStatus::Draft => vec![(PostmortemStatus::InReview, "Send for review")],
        PostmortemStatus::InReview => {
            vec![(PostmortemStatus::Published, "Publish"), (PostmortemStatus::Draft, "Back to draft")]
        }
        PostmortemStatus::Published => vec![],
    };
    let team_id = pm.team_id;
    view! {
        <section class="card" aria-labelledby="review-heading">
            <h2 id="review-heading">"Review"</h2>
            <p>"Status: "<strong>{pm.status.label()}</strong></p>
            {(!next.is_empty()).then(|| view! {
                <div class="row">
                    {next.into_iter().map(|(to, label)| view! {
                        <ActionForm action=moving attr:class="inline">
                            <input type="hidden" name="number" value=number.0 />
                            <input type="hidden" name="status" value=to.as_str() />
                            <button type="submit" class=if to == PostmortemStatus::Draft { "secondary" } else { "" }
                                disabled=move || draft.is_dirty()>{label}</button>
                        </ActionForm>
                    }).collect_view()}
                </div>
                <div>{move || draft.is_dirty().then(|| view! { <p class="hint">"Save your changes first."</p> })}</div>
            })}
            <FormError error=move_error />
            {(!pm.moves.is_empty()).then(|| view! {
                <ul class="moves">
                    {pm.moves.iter().map(|m| view! {
                        <li>{format!("{} → {}", m.from.label(), m.to.label())}" by "
                            {m.by.as_ref().map(|p| p.display_name.clone()).unwrap_or_else(|| "someone".into())}
                            ", "<Time at=m.at />
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <ActionForm action=team attr:class="team-form">
                <input type="hidden" name="number" value=number.0 />
                <div class="field">
                    <label for="pm-team">"Owning team"</label>
                    <select id="pm-team" name="team_id">
                        <option value="" selected=team_id.is_none()>"Not set"</option>
                        {move || teams.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| view! {
                            <option value=t.id.0 selected=Some(t.id) == team_id>{t.name}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="secondary small">"Change team"</button>
                <FormError error=team_error />
            </ActionForm>
        </section>
    }
}

/// When and where the team talks it through; anyone may come.
#[component]
fn MeetingCard(pm: Postmortem, on_change: Callback<()>) -> impl IntoView {
    let number = pm.incident_number;
    let schedule = ServerAction::<SchedulePostmortemMeeting>::new();
    let attend = ServerAction::<AttendPostmortem>::new();
    let error = Signal::derive(move || {
        schedule.value().get().and_then(|r| r.err()).or_else(|| attend.value().get().and_then(|r| r.err()))
    });
    Effect::new(move |_| {
        if matches!(schedule.value().get(), Some(Ok(()))) || matches!(attend.value().get(), Some(Ok(()))) {
            on_change.run(());
        }
    });
    let attending = pm.attendees.iter().any(|p| p.id == pm.viewer_id);
    let when = RwSignal::new(String::new());
    let place = RwSignal::new(pm.meeting_place.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        schedule.dispatch(SchedulePostmortemMeeting {
            number,
            at: local_input_to_rfc3339(&when.get_untracked()),
            place: place.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="meeting-heading">
            <h2 id="meeting-heading">"Meeting"</h2>
            {match pm.meeting_at {
                Some(at) => view! {
                    <p class="meeting"><Time at />{(!pm.meeting_place.is_empty()).then(|| format!(" · {}", pm.meeting_place))}</p>
                }.into_any(),
                None => view! { <p class="muted">"Not scheduled."</p> }.into_any(),
            }}
            <p class="attendees">
                {if pm.attendees.is_empty() { "Nobody has said they will attend yet.".to_owned() } else {
                    format!("Attending: {}", pm.attendees.iter().map(|p| p.display_name.clone()).collect::<Vec<_>>().join(", "))
                }}
            </p>
            {pm.can_edit.then(|| view! {
                {pm.meeting_at.is_some().then(|| view! {
                    <ActionForm action=attend attr:class="inline">
                        <input type="hidden" name="number" value=number.0 />
                        <input type="hidden" name="attending" value=(!attending).to_string() />
                        <button type="submit" class="secondary small">{if attending { "I can't attend" } else { "I'll attend" }}</button>
                    </ActionForm>
                })}
                <form class="schedule" on:submit=submit>
                    <div class="field">
                        <label for="meeting-at">"Time (your time zone; empty cancels)"</label>
                        <input id="meeting-at" type="datetime-local" min=datetime_input_bounds().0 max=datetime_input_bounds().1 bind:value=when />
                    </div>
                    <div class="field">
                        <label for="meeting-place">"Room or video link"</label>
                        <input id="meeting-place" type="text" bind:value=place />
                    </div>
                    <button type="submit" class="secondary small">"Schedule"</button>
                </form>
            })}
            <FormError error />
        </section>
    }
}

/// The work that prevents a repeat, or the reason there is none.
#[component]
fn ActionItemsCard(pm: Postmortem, on_change: Callback<()>) -> impl IntoView {
    let number = pm.incident_number;
    let reason = ServerAction::<SetNoActionItemsReason>::new();
    let error = last_error(reason);
    Effect::new(move |_| {
        if matches!(reason.value().get(), Some(Ok(()))) {
            on_change.run(());
        }
    });
    // The linked items, live: any item change is an entry on the incident's timeline.
    let changed = RwSignal::new(0u32);
    let last_seq = pm.incident_last_seq;
    let _live = use_live(format!("/api/live?incident={number}&after={last_seq}"), move |name, data| {
        if name == "timeline" && data.contains("\"kind\":\"action_item\"") {
            changed.update(|n| *n += 1);
        }
    });
    view! {
        <section class="pm-section" aria-labelledby="actions-heading">
            <h2 id="actions-heading">"Action items"</h2>
            <IncidentItems number reload=changed />
            {if pm.no_action_items_reason.is_empty() {
                ().into_any()
            } else {
                view! { <p>"No action items: "{pm.no_action_items_reason.clone()}</p> }.into_any()
            }}
            {pm.can_edit.then(|| view! {
                <ActionForm action=reason attr:class="reason-form">
                    <input type="hidden" name="number" value=number.0 />
                    <div class="field">
                        <label for="no-items-reason">"Publishing without action items? Say why"</label>
                        <textarea id="no-items-reason" name="reason" rows="2" maxlength=NoActionItemsReason::MAX prop:value=pm.no_action_items_reason.clone()></textarea>
                    </div>
                    <button type="submit" class="secondary small">"Save reason"</button>
                    <FormError error />
                </ActionForm>
            })}
        </section>
    }
}
