//! The incident page's side: roles, status and severity, milestones, the postmortem
//! card, role history, and the details form.

use crate::api::admin::{list_services, list_teams};
use crate::api::incidents::*;
use crate::components::form::{FieldError, FormError, described_by, invalid, last_error};
use crate::components::incident::{ServiceChecks, TeamChoice, set_chosen};
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[component]
pub(super) fn Controls(incident: IncidentDetail, viewer_id: UserId) -> impl IntoView {
    let number = incident.number;
    let status_action = ServerAction::<ChangeStatus>::new();
    let severity_action = ServerAction::<ChangeSeverity>::new();
    let role_action = ServerAction::<AssignRole>::new();
    let join_action = ServerAction::<JoinIncident>::new();
    // Loaded by the browser after hydration: the hand-off list is not worth a query
    // and serialised payload on every server render of a busy incident page.
    let people = crate::components::load_in_browser(list_responders);
    let status_error = last_error(status_action);
    let severity_error = last_error(severity_action);
    let role_error = Signal::derive(move || {
        role_action.value().get().and_then(|r| r.err()).or_else(|| join_action.value().get().and_then(|r| r.err()))
    });
    let current = incident.status;
    let next_statuses: Vec<Status> = Status::ALL.into_iter().filter(|s| current.can_move_to(*s).is_ok()).collect();
    let holds_point = incident.point.as_ref().is_some_and(|p| p.id == viewer_id);
    let holds_comms = incident.comms.as_ref().is_some_and(|p| p.id == viewer_id);
    let participates = incident.participants.iter().any(|p| p.id == viewer_id) || holds_point || holds_comms;

    view! {
        <section class="card controls" aria-labelledby="respond-heading">
            <h2 id="respond-heading" tabindex="-1">"Respond"</h2>
            <div class="row">
                {(!holds_point).then(|| view! { <TakeRole action=role_action number viewer_id role=IncidentRole::Point /> })}
                {(!holds_comms).then(|| view! { <TakeRole action=role_action number viewer_id role=IncidentRole::Comms /> })}
                {(!participates).then(|| view! {
                    <ActionForm action=join_action attr:class="inline">
                        <input type="hidden" name="number" value=number.0 />
                        <button type="submit" class="secondary">"Join as participant"</button>
                    </ActionForm>
                })}
            </div>
            <ActionForm action=role_action attr:class="handoff">
                <input type="hidden" name="number" value=number.0 />
                <div class="row">
                    <div class="field">
                        <label for="handoff-role">"Hand off"</label>
                        <select id="handoff-role" name="role">
                            <option value="point">"Point"</option>
                            <option value="comms">"Comms"</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="handoff-user">"To"</label>
                        <select id="handoff-user" name="user_id">
                            {move || people.get().and_then(Result::ok).unwrap_or_default().into_iter()
                                .map(|p| view! { <option value=p.id.0>{p.display_name}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="secondary">"Hand off"</button>
                </div>
            </ActionForm>
            <FormError error=role_error />

            <ActionForm action=status_action attr:class="status-form">
                <input type="hidden" name="number" value=number.0 />
                <div class="field">
                    <label for="status">"Status"</label>
                    <select id="status" name="status">
                        {next_statuses.into_iter().map(|s| view! {
                            <option value=s.as_str()>{if current == Status::Resolved { "Reopen (investigating)" } else { s.label() }}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="resolution">"Resolution summary (required to resolve)"</label>
                    <textarea id="resolution" name="resolution" rows="2" maxlength=Resolution::MAX aria-describedby=described_by(status_error, "resolution", "resolution")
                        aria-invalid=invalid(status_error, "resolution")></textarea>
                    <FieldError error=status_error field="resolution" id="resolution" />
                </div>
                <FormError error=status_error inline=&["resolution"] />
                <button type="submit">"Update status"</button>
            </ActionForm>

            <ActionForm action=severity_action attr:class="inline severity-form">
                <input type="hidden" name="number" value=number.0 />
                <label for="severity">"Severity"</label>
                <select id="severity" name="severity">
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.label() selected=s == incident.severity>{format!("{} — {}", s.label(), s.description())}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="secondary">"Change severity"</button>
            </ActionForm>
            <FormError error=severity_error />
        </section>
    }
}

/// "Take point" / "Take comms": assigns the role to the caller.
#[component]
pub(super) fn TakeRole(
    action: ServerAction<AssignRole>,
    number: IncidentNumber,
    viewer_id: UserId,
    role: IncidentRole,
) -> impl IntoView {
    view! {
        <ActionForm action attr:class="inline">
            <input type="hidden" name="number" value=number.0 />
            <input type="hidden" name="role" value=role.as_str() />
            <input type="hidden" name="user_id" value=viewer_id.0 />
            <button type="submit" class="secondary" id=format!("take-{}", role.as_str())>{format!("Take {}", role.as_str())}</button>
        </ActionForm>
    }
}

/// The way to the incident's postmortem, or to starting it.
#[component]
pub(super) fn PostmortemCard(
    number: IncidentNumber,
    status: Option<PostmortemStatus>,
    can_respond: bool,
) -> impl IntoView {
    let start = ServerAction::<crate::api::postmortems::StartPostmortem>::new();
    let error = last_error(start);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = start.value().get() {
            navigate(&format!("/postmortems/{}", incident_ref(number)), Default::default());
        }
    });
    let link = format!("/postmortems/{}", incident_ref(number));
    view! {
        <section class="card" aria-labelledby="pm-heading">
            <h2 id="pm-heading">"Postmortem"</h2>
            {match status {
                Some(s) if can_respond || s == PostmortemStatus::Published => view! {
                    <p><a href=link>{format!("Open the postmortem ({})", s.label().to_lowercase())}</a></p>
                }.into_any(),
                Some(_) => view! { <p class="muted">"Being written; readable once published."</p> }.into_any(),
                None if can_respond => view! {
                    <ActionForm action=start attr:class="inline">
                        <input type="hidden" name="number" value=number.0 />
                        <button type="submit" class="secondary">"Start postmortem"</button>
                    </ActionForm>
                    <FormError error />
                }.into_any(),
                None => view! { <p class="muted">"Not started."</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
pub(super) fn Milestones(timestamps: Timestamps, number: IncidentNumber, can_respond: bool) -> impl IntoView {
    let correct = ServerAction::<CorrectTimestamp>::new();
    let error = last_error(correct);
    let metric = |d: Option<time::Duration>| d.map(format_duration).unwrap_or_else(|| "—".to_owned());
    view! {
        <section class="card" aria-labelledby="times-heading">
            <h2 id="times-heading">"Key times"</h2>
            <table class="list times">
                <tbody>
                    {Milestone::ALL.into_iter().map(|m| view! {
                        <tr>
                            <th scope="row">{m.label()}</th>
                            <td>{match timestamps.get(m) {
                                Some(at) => view! { <Time at /> }.into_any(),
                                None => "—".into_any(),
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <dl class="metrics">
                <div><dt>"Time to acknowledge"</dt><dd>{metric(timestamps.time_to_acknowledge())}</dd></div>
                <div><dt>"Time to mitigate"</dt><dd>{metric(timestamps.time_to_mitigate())}</dd></div>
                <div><dt>"Time to resolve"</dt><dd>{metric(timestamps.time_to_resolve())}</dd></div>
            </dl>
            {can_respond.then(|| view! {
                <ActionForm action=correct attr:class="correct-time">
                    <input type="hidden" name="number" value=number.0 />
                    <div class="row">
                        <div class="field">
                            <label for="milestone">"Correct"</label>
                            <select id="milestone" name="milestone">
                                {Milestone::ALL.into_iter().map(|m| view! { <option value=m.as_str()>{m.label()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="milestone-value">"to (UTC)"</label>
                            <input id="milestone-value" name="value" type="datetime-local" min=datetime_input_bounds().0 max=datetime_input_bounds().1 />
                        </div>
                        <button type="submit" class="secondary">"Correct time"</button>
                    </div>
                    <FormError error=error />
                </ActionForm>
            })}
        </section>
    }
}

#[component]
pub(super) fn RoleHistory(roles: Vec<RoleAssignment>) -> impl IntoView {
    let roles: Vec<_> = roles.into_iter().filter(|r| r.role != IncidentRole::Participant).collect();
    view! {
        <section class="card" aria-labelledby="roles-heading">
            <h2 id="roles-heading">"Who held which role"</h2>
            {if roles.is_empty() {
                view! { <p class="muted">"Nobody yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="role-history">
                        {roles.into_iter().map(|r| view! {
                            <li>
                                <strong>{r.role.label()}</strong>": "{r.person.display_name}
                                " from "<Time at=r.started_at />
                                {r.ended_at.map(|at| view! { " to "<Time at /> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// What someone is typing into the edit form, kept by the page across live refreshes.
/// `version` stays the one the editor started from, so a save over someone else's
/// change is refused instead of silently overwriting it.
#[derive(Clone, Copy, Default)]
pub struct EditDraft {
    pub open: RwSignal<bool>,
    pub edit: RwSignal<Option<IncidentEdit>>,
}

#[component]
pub(super) fn EditDetails(incident: IncidentDetail, draft: EditDraft) -> impl IntoView {
    let action = ServerAction::<EditIncident>::new();
    let error = last_error(action);
    if draft.edit.get_untracked().is_none_or(|e| e.number != incident.number) {
        draft.edit.set(Some(IncidentEdit {
            number: incident.number,
            version: incident.version,
            title: incident.title.clone(),
            summary: incident.summary.clone(),
            team_id: incident.team_id,
            service_ids: incident.services.iter().map(|s| s.id).collect(),
        }));
    }
    let edit = draft.edit;
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            edit.set(None);
            draft.open.set(false);
        }
    });
    let field = move |get: fn(&IncidentEdit) -> String| move || edit.get().map(|e| get(&e)).unwrap_or_default();
    let latest_version = incident.version;
    let stale = move || edit.get().is_some_and(|e| e.version != latest_version);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(e) = edit.get_untracked() {
            action.dispatch(EditIncident { edit: e });
        }
    };
    view! {
        <section class="card edit-details">
            <button type="button" class="secondary" aria-expanded=move || draft.open.get().to_string()
                on:click=move |_| draft.open.update(|o| *o = !*o)>
                "Edit title, summary, team and services"
            </button>
            <Show when=move || draft.open.get()>
            <form on:submit=submit>
                <div class="field">
                    <label for="edit-title">"Title"</label>
                    <input id="edit-title" maxlength=IncidentTitle::MAX prop:value=field(|e| e.title.clone())
                        on:input=move |ev| edit.update(|e| if let Some(e) = e { e.title = event_target_value(&ev) })
                        aria-describedby=described_by(error, "title", "edit-title") aria-invalid=invalid(error, "title") />
                    <FieldError error field="title" id="edit-title" />
                </div>
                <div class="field">
                    <label for="edit-summary">"Summary"</label>
                    <textarea id="edit-summary" rows="4" maxlength=Summary::MAX prop:value=field(|e| e.summary.clone())
                        on:input=move |ev| edit.update(|e| if let Some(e) = e { e.summary = event_target_value(&ev) })></textarea>
                </div>
                <Suspense>
                    {move || Suspend::new(async move {
                        // Loaded when the form opens, not with every page view.
                        let options = async { Ok::<_, AppError>((list_services().await?, list_teams().await?)) };
                        let (service_list, teams) = options.await.unwrap_or_default();
                        view! {
                            <TeamChoice id="edit-team" teams
                                selected=Signal::derive(move || edit.get().and_then(|e| e.team_id))
                                on_change=Callback::new(move |team| edit.update(|e| if let Some(e) = e { e.team_id = team })) />
                            <fieldset class="field">
                                <legend>"Affected services"</legend>
                                <ServiceChecks services=service_list id_prefix="edit-service-"
                                    selected=Signal::derive(move || edit.get().map(|e| e.service_ids).unwrap_or_default())
                                    toggle=Callback::new(move |(id, on)| edit.update(|e| if let Some(e) = e { set_chosen(&mut e.service_ids, id, on) })) />
                            </fieldset>
                        }
                    })}
                </Suspense>
                <FormError error=error inline=&["title"] id_prefix="edit-" />
                <Show when=stale>
                    <p class="notice-inline">
                        "The incident changed since you started editing. "
                        <button type="button" class="link" on:click=move |_| edit.update(|e| if let Some(e) = e { e.version = latest_version })>
                            "Keep my text and save over the latest version"
                        </button>
                    </p>
                </Show>
                <button type="submit">"Save changes"</button>
            </form>
            </Show>
        </section>
    }
}
