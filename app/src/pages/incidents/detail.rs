//! `/incidents/INC-N`: the one place an incident is worked, live for everyone.
//!
//! Drafts (the note composer, the edit form) live in the page, above the part that is
//! re-rendered when the incident changes, so a live update never loses what someone
//! is typing.

use crate::api::admin::{list_services, list_teams};
use crate::api::incidents::*;
use crate::components::action_items::IncidentItems;
use crate::components::comms::{CommsCard, CommsDraft, PublicStateCard};
use crate::components::focus::FocusKeeper;
use crate::components::form::{FieldError, FormError, described_by, invalid, last_error};
use crate::components::incident::{Holder, ServiceChecks, SeverityBadge, StatusBadge, TeamChoice, set_chosen};
use crate::components::live::{Announcements, Announcer, LiveIndicator, use_live, use_now};
use crate::components::runbooks::IncidentRunbooks;
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let number = Memo::new(move |_| params.read().get("id").and_then(|id| parse_incident_ref(&id)));
    let refresh = RwSignal::new(0u32);
    // The first timeline entry to show, and of which incident, once someone asked for
    // earlier entries: kept by the page, so live refreshes keep showing them.
    let shown_from = RwSignal::new(None::<(i64, i64)>);
    let view = Resource::new(
        move || {
            let number = number.get();
            let from = shown_from.get().filter(|(of, _)| Some(*of) == number).map(|(_, seq)| seq);
            (number, refresh.get(), from)
        },
        |(number, _, from)| async move {
            match number {
                Some(n) => get_incident(n, from).await,
                None => Err(AppError::NotFound("That incident".into())),
            }
        },
    );
    let draft = RwSignal::new(String::new());
    let edit_draft = EditDraft::default();
    let comms_draft = CommsDraft::new();
    // Both outlive the re-renders that live updates cause.
    let focus = FocusKeeper::install();
    let announcer = Announcer::new();

    view! {
        <Announcements announcer />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(v) => view! { <IncidentScreen v refresh shown_from draft edit_draft comms_draft focus announcer /> }.into_any(),
                    Err(err) => view! { <crate::pages::errors::LoadError err title="Incident" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn IncidentScreen(
    v: IncidentView,
    refresh: RwSignal<u32>,
    shown_from: RwSignal<Option<(i64, i64)>>,
    draft: RwSignal<String>,
    edit_draft: EditDraft,
    comms_draft: CommsDraft,
    focus: FocusKeeper,
    announcer: Announcer,
) -> impl IntoView {
    let incident = v.incident.clone();
    let number = incident.number;
    let entries = RwSignal::new(v.timeline.clone());
    let last_seq = StoredValue::new(incident.last_seq);
    let live = use_live(format!("/api/live?incident={number}&after={}", incident.last_seq), move |name, data| {
        match name {
            "timeline" => {
                let Ok(entry) = serde_json::from_str::<TimelineEntry>(&data) else { return };
                if entry.seq <= last_seq.get_value() {
                    return;
                }
                last_seq.set_value(entry.seq);
                let author = entry.author.as_ref().map_or("Foghorn", |a| a.display_name.as_str());
                announcer.arrived(format!("{} by {author}", entry.kind.label()));
                let is_note = entry.kind == EntryKind::Note;
                focus.hold_scroll();
                entries.update(|list| list.push(entry));
                // Notes only add to the timeline; any other entry changed the header.
                if is_note {
                    focus.settle_scroll();
                } else {
                    refresh.update(|n| *n += 1);
                }
            }
            "incident" => {
                focus.hold_scroll();
                refresh.update(|n| *n += 1)
            }
            _ => {}
        }
    });
    let now = use_now();
    let can_respond = v.can_respond;
    // A live update re-rendered this screen: the reader stays where they were.
    Effect::new(move |_| focus.restore(if can_respond { "respond-heading" } else { "timeline-heading" }));
    let ts = incident.timestamps.clone();
    let declared = ts.declared;
    let resolved = ts.resolved;
    let (active, next_update_at) = (incident.status.is_active(), incident.next_update_at);
    let comms_late = Signal::derive(move || comms_overdue(active, next_update_at, now.get()));

    view! {
        <Title text=format!("{} {}", incident_ref(number), incident.title) />
        {incident.is_drill.then(|| view! {
            <div class="drill-banner" role="note">"DRILL — this is a rehearsal, not a real incident"</div>
        })}
        <header class="incident-head">
            <div class="page-head">
                <h1><span class="ref">{incident_ref(number)}</span>" "{incident.title.clone()}</h1>
                <LiveIndicator state=live />
            </div>
            <div>{move || comms_late.get().then(|| view! { <p class="comms-overdue" role="alert">"Comms update overdue"</p> })}</div>
            <div class="badges">
                {incident.privacy.private.then(|| view! { <span class="badge private">"Private"</span> })}
                <SeverityBadge severity=incident.severity />
                <StatusBadge status=incident.status />
                <span class="open-for">
                    {move || match resolved {
                        Some(r) => format!("Resolved after {}", format_duration(r - declared)),
                        None => format!("Open for {}", format_duration(now.get() - declared)),
                    }}
                </span>
                {incident.team_name.clone().map(|t| view! { <span class="team">"Team: "{t}</span> })}
            </div>
            <dl class="roles">
                <div class:missing=incident.point.is_none()><dt>"Point"</dt><dd><Holder person=incident.point.clone() /></dd></div>
                <div class:missing=incident.comms.is_none()><dt>"Comms"</dt><dd><Holder person=incident.comms.clone() /></dd></div>
                <div>
                    <dt>"Participants"</dt>
                    <dd>{if incident.participants.is_empty() { "none".to_owned() } else {
                        incident.participants.iter().map(|p| p.display_name.clone()).collect::<Vec<_>>().join(", ")
                    }}</dd>
                </div>
            </dl>
            {(!incident.services.is_empty()).then(|| view! {
                <p class="services">"Affected: "{incident.services.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")}</p>
            })}
            {(!incident.summary.is_empty()).then(|| view! { <p class="summary">{incident.summary.clone()}</p> })}
            {(!incident.resolution.is_empty()).then(|| view! { <p class="resolution"><strong>"Resolution: "</strong>{incident.resolution.clone()}</p> })}
        </header>

        <div class="incident-grid">
            <section class="timeline-col" aria-labelledby="timeline-heading">
                <h2 id="timeline-heading" tabindex="-1">"Timeline"</h2>
                {can_respond.then(|| view! { <Composer number draft /> })}
                <Timeline entries can_respond viewer_id=v.viewer_id />
                <EarlierEntries number oldest=v.timeline.first().map_or(1, |e| e.seq) total=v.timeline_total shown_from />
            </section>
            <aside class="side-col">
                {can_respond.then(|| view! { <Controls incident=incident.clone() viewer_id=v.viewer_id /> })}
                <super::access::AccessCard incident=incident.clone() can_manage=v.can_manage_access />
                <super::alert::AlertCard alert=incident.alert.clone() status=incident.status />
                <CommsCard number can_respond overdue=comms_late draft=comms_draft />
                <IncidentRunbooks number can_respond />
                {can_respond.then(|| view! { <PublicStateCard number /> })}
                <PostmortemCard number status=incident.postmortem can_respond />
                <Milestones timestamps=ts.clone() number can_respond />
                <RoleHistory roles=v.roles.clone() />
                {can_respond.then(|| view! { <EditDetails incident=incident.clone() draft=edit_draft /> })}
            </aside>
        </div>
        <section class="card wide" aria-labelledby="items-heading">
            <h2 id="items-heading">"Action items"</h2>
            // Re-created (and so re-read) with the page whenever a change arrives live.
            <IncidentItems number reload=0u32 />
        </section>
    }
}

/// Under a long timeline: how much of it is shown, and the way to the rest. Entries are
/// numbered 1, 2, … without gaps, so the earlier ones are the numbers below `oldest`.
#[component]
fn EarlierEntries(number: i64, oldest: i64, total: i64, shown_from: RwSignal<Option<(i64, i64)>>) -> impl IntoView {
    let hidden = oldest - 1;
    let shown = total - hidden;
    (hidden > 0).then(|| {
        let more = hidden.min(TIMELINE_PAGE);
        view! {
            <div class="timeline-more">
                <p class="muted">{format!("Showing the latest {shown} of {total} entries.")}</p>
                <button type="button" class="secondary small" on:click=move |_| shown_from.set(Some((number, oldest - more)))>
                    {if more == 1 { "Show 1 earlier entry".to_owned() } else { format!("Show {more} earlier entries") }}
                </button>
                {(hidden > more).then(|| view! {
                    <button type="button" class="link small" on:click=move |_| shown_from.set(Some((number, 1)))>
                        {format!("Show all {total}")}
                    </button>
                })}
            </div>
        }
    })
}

#[component]
fn Composer(number: i64, draft: RwSignal<String>) -> impl IntoView {
    let post = ServerAction::<PostNote>::new();
    let error = last_error(post);
    // Clear the draft only once the server has the note.
    Effect::new(move |_| {
        if let Some(Ok(_)) = post.value().get() {
            draft.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        post.dispatch(PostNote { number, body: draft.get_untracked() });
    };
    view! {
        <form class="composer" on:submit=submit>
            <label for="note">"Post to the timeline (markdown)"</label>
            <textarea id="note" name="body" rows="3" bind:value=draft placeholder="What do we know? What are we trying?"></textarea>
            <FormError error=error />
            <button type="submit" disabled=move || post.pending().get()>"Post note"</button>
        </form>
    }
}

#[component]
fn Timeline(entries: RwSignal<Vec<TimelineEntry>>, can_respond: bool, viewer_id: i64) -> impl IntoView {
    let newest_first = RwSignal::new(true);
    let set_key = ServerAction::<SetKeyEvent>::new();
    let edit = ServerAction::<EditNote>::new();
    let errors = Signal::derive(move || {
        set_key.value().get().and_then(|r| r.err()).or_else(|| edit.value().get().and_then(|r| r.err()))
    });
    let editing = RwSignal::new(None::<i64>);
    let edit_text = RwSignal::new(String::new());
    let ordered = move || {
        let mut list = entries.get();
        if newest_first.get() {
            list.reverse();
        }
        list
    };
    view! {
        <div class="timeline-tools">
            <button type="button" class="secondary small" on:click=move |_| newest_first.update(|n| *n = !*n)>
                {move || if newest_first.get() { "Showing newest first" } else { "Showing oldest first" }}
            </button>
        </div>
        <FormError error=errors />
        // Not a live region itself: new entries are announced, throttled, by `Announcements`.
        <ol class="timeline">
            <For each=ordered key=|e| (e.id, e.edited_at, e.is_key_event) let:entry>
                {
                    let id = entry.id;
                    let own_note = entry.kind == EntryKind::Note && entry.author.as_ref().is_some_and(|a| a.id == viewer_id);
                    let key = entry.is_key_event;
                    let body = entry.body.clone();
                    view! {
                        <li class=format!("entry kind-{}", entry.kind) class:key=key data-seq=entry.seq>
                            <div class="meta">
                                <span class="kind">{entry.kind.label()}</span>
                                <span class="author">{entry.author.as_ref().map(|a| a.display_name.clone()).unwrap_or_else(|| "Foghorn".into())}</span>
                                <Time at=entry.created_at />
                                {entry.edited_at.map(|_| view! { <span class="edited">"edited"</span> })}
                                {key.then(|| view! { <span class="key-tag">"★ key event"</span> })}
                            </div>
                            <Show when=move || editing.get() == Some(id)
                                fallback=move || view! { <div class="body" inner_html=entry.body_html.clone()></div> }>
                                <form class="edit-note" on:submit=move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    edit.dispatch(EditNote { entry_id: id, body: edit_text.get_untracked() });
                                    editing.set(None);
                                }>
                                    <label for=format!("edit-{id}")>"Edit note"</label>
                                    <textarea id=format!("edit-{id}") rows="3" bind:value=edit_text></textarea>
                                    <button type="submit" class="small">"Save"</button>
                                    <button type="button" class="secondary small" on:click=move |_| editing.set(None)>"Cancel"</button>
                                </form>
                            </Show>
                            {can_respond.then(|| view! {
                                <div class="entry-actions">
                                    <button type="button" class="link small"
                                        on:click=move |_| { set_key.dispatch(SetKeyEvent { entry_id: id, key: !key }); }>
                                        {if key { "Unmark key event" } else { "Mark key event" }}
                                    </button>
                                    {own_note.then(|| {
                                        let body = body.clone();
                                        view! {
                                            <button type="button" class="link small"
                                                on:click=move |_| { edit_text.set(body.clone()); editing.set(Some(id)); }>
                                                "Edit"
                                            </button>
                                        }
                                    })}
                                </div>
                            })}
                        </li>
                    }
                }
            </For>
        </ol>
    }
}

#[component]
fn Controls(incident: IncidentDetail, viewer_id: i64) -> impl IntoView {
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
                        <input type="hidden" name="number" value=number />
                        <button type="submit" class="secondary">"Join as participant"</button>
                    </ActionForm>
                })}
            </div>
            <ActionForm action=role_action attr:class="handoff">
                <input type="hidden" name="number" value=number />
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
                                .map(|p| view! { <option value=p.id>{p.display_name}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="secondary">"Hand off"</button>
                </div>
            </ActionForm>
            <FormError error=role_error />

            <ActionForm action=status_action attr:class="status-form">
                <input type="hidden" name="number" value=number />
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
                    <textarea id="resolution" name="resolution" rows="2" aria-describedby=described_by(status_error, "resolution", "resolution")
                        aria-invalid=invalid(status_error, "resolution")></textarea>
                    <FieldError error=status_error field="resolution" id="resolution" />
                </div>
                <FormError error=status_error inline=&["resolution"] />
                <button type="submit">"Update status"</button>
            </ActionForm>

            <ActionForm action=severity_action attr:class="inline severity-form">
                <input type="hidden" name="number" value=number />
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
fn TakeRole(action: ServerAction<AssignRole>, number: i64, viewer_id: i64, role: IncidentRole) -> impl IntoView {
    view! {
        <ActionForm action attr:class="inline">
            <input type="hidden" name="number" value=number />
            <input type="hidden" name="role" value=role.as_str() />
            <input type="hidden" name="user_id" value=viewer_id />
            <button type="submit" class="secondary" id=format!("take-{}", role.as_str())>{format!("Take {}", role.as_str())}</button>
        </ActionForm>
    }
}

/// The way to the incident's postmortem, or to starting it.
#[component]
fn PostmortemCard(number: i64, status: Option<PostmortemStatus>, can_respond: bool) -> impl IntoView {
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
                        <input type="hidden" name="number" value=number />
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
fn Milestones(timestamps: Timestamps, number: i64, can_respond: bool) -> impl IntoView {
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
                    <input type="hidden" name="number" value=number />
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
fn RoleHistory(roles: Vec<RoleAssignment>) -> impl IntoView {
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
fn EditDetails(incident: IncidentDetail, draft: EditDraft) -> impl IntoView {
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
                    <input id="edit-title" prop:value=field(|e| e.title.clone())
                        on:input=move |ev| edit.update(|e| if let Some(e) = e { e.title = event_target_value(&ev) })
                        aria-describedby=described_by(error, "title", "edit-title") aria-invalid=invalid(error, "title") />
                    <FieldError error field="title" id="edit-title" />
                </div>
                <div class="field">
                    <label for="edit-summary">"Summary"</label>
                    <textarea id="edit-summary" rows="4" prop:value=field(|e| e.summary.clone())
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
