//! `/runbooks`, `/runbooks/new` and `/runbooks/:id`: what to do when a service breaks,
//! kept reviewed, rehearsed in drills, and exported where an outage cannot reach it.

use crate::api::admin::{list_services, list_teams};
use crate::api::postmortems::preview_markdown;
use crate::api::runbooks::*;
use crate::components::form::{FieldError, FormError, described_by, invalid, last_error};
use crate::components::incident::{ServiceChecks, set_chosen};
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn RunbooksPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        RunbookFilter {
            q: q.get("q").unwrap_or_default(),
            service_id: q.get("service_id").and_then(|v| v.parse().ok()),
            team_id: q.get("team_id").and_then(|v| v.parse().ok()),
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
                    <option value="never" selected=move || filter.get().drilled == "never">"Never drilled"</option>
                    <option value="stale" selected=move || filter.get().drilled == "stale">"Not drilled in 6 months"</option>
                </select>
            </div>
            <label class="check"><input type="checkbox" name="review_overdue" value="true" prop:checked=move || filter.get().review_overdue />" Review overdue"</label>
            <button type="submit">"Filter"</button>
        </Form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match index.await {
                    Ok(index) if index.runbooks.is_empty() => view! { <p class="muted">"No runbooks match."</p> }.into_any(),
                    Ok(index) => view! {
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
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <p class="hint">"Administrators can download every runbook as an offline site: "<a href="/api/runbooks/export.zip">"runbooks.zip"</a></p>
    }
}

/// The team, services and review interval fields, shared by the new and edit forms.
#[component]
fn DetailsFields(form: RwSignal<RunbookForm>) -> impl IntoView {
    let options = crate::components::load_in_browser(|| async {
        Ok::<_, AppError>((list_teams().await?, list_services().await?))
    });
    view! {
        {move || {
                let (teams, services) = options.get().and_then(Result::ok).unwrap_or_default();
                let team = move || form.with(|f| f.team_id);
                view! {
                    <div class="field">
                        <label for="rb-team">"Owning team"</label>
                        <select id="rb-team" on:change=move |ev| form.update(|f| f.team_id = event_target_value(&ev).parse().ok())>
                            <option value="" selected=move || team().is_none()>"Not set"</option>
                            {teams.into_iter().map(|t| {
                                let id = t.id;
                                view! { <option value=id selected=move || team() == Some(id)>{t.name}</option> }
                            }).collect_view()}
                        </select>
                    </div>
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
            <FormError error inline=&["title"] id_prefix="rb-" />
            <button type="submit">"Create runbook"</button>
        </form>
    }
}

#[component]
pub fn RunbookPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()));
    let refresh = RwSignal::new(0u32);
    let runbook = Resource::new(
        move || (id.get(), refresh.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_runbook(id).await,
                None => Err(AppError::NotFound("That runbook".into())),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match runbook.await {
                    Ok(r) => view! { <RunbookScreen r refresh /> }.into_any(),
                    Err(e) => view! { <Title text="Runbook" /><h1>"Runbook"</h1><p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RunbookScreen(r: Runbook, refresh: RwSignal<u32>) -> impl IntoView {
    let id = r.id;
    let reload = move || refresh.update(|n| *n += 1);
    let editing = RwSignal::new(false);
    let reviewed = ServerAction::<MarkRunbookReviewed>::new();
    let drill = ServerAction::<StartDrill>::new();
    let errors = Signal::derive(move || {
        reviewed.value().get().and_then(|r| r.err()).or_else(|| drill.value().get().and_then(|r| r.err()))
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(number)) = drill.value().get() {
            navigate(&format!("/incidents/{}", incident_ref(number)), Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = reviewed.value().get() {
            reload();
        }
    });
    let text = r.text.clone();
    view! {
        <Title text=r.text.title.clone() />
        <header class="pm-head">
            <p class="crumbs"><a href="/runbooks">"Runbooks"</a></p>
            <h1>{r.text.title.clone()}</h1>
            <div class="badges">
                <span class="team">"Team: "{r.team_name.clone().unwrap_or_else(|| "not set".into())}</span>
                <span>"Services: "{r.services.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")}</span>
                <span class="muted">{format!("Version {}", r.version)}" · "<Time at=r.updated_at /></span>
                {r.review_overdue.then(|| view! { <span class="flag overdue">"Review overdue"</span> })}
            </div>
        </header>
        <div class="pm-grid">
            <article class="pm-doc">
                {r.can_edit.then(|| view! {
                    <div class="mode-switch">
                        <button type="button" class="secondary small" on:click=move |_| editing.update(|e| *e = !*e)>
                            {move || if editing.get() { "Read view" } else { "Edit" }}
                        </button>
                    </div>
                })}
                <Show when=move || editing.get() fallback={
                    let html = r.body_html.clone();
                    move || view! { <div class="prose runbook-body" inner_html=html.clone()></div> }
                }>
                    <RunbookEditor id version=r.version text=text.clone() on_saved=Callback::new(move |_| { editing.set(false); reload(); }) />
                </Show>
            </article>
            <aside class="side-col">
                <section class="card" aria-labelledby="review-heading">
                    <h2 id="review-heading">"Review"</h2>
                    <p>{match r.last_reviewed_at {
                        Some(at) => view! { "Last reviewed "<Time at />{r.last_reviewed_by.clone().map(|p| format!(" by {}", p.display_name))} }.into_any(),
                        None => "Never reviewed.".into_any(),
                    }}</p>
                    <p class="muted">{format!("Reviewed every {} days.", r.review_interval_days)}</p>
                    {r.can_edit.then(|| view! {
                        <ActionForm action=reviewed attr:class="inline">
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="secondary">"Mark reviewed"</button>
                        </ActionForm>
                    })}
                </section>
                <section class="card" aria-labelledby="drills-heading">
                    <h2 id="drills-heading">"Drills"</h2>
                    {r.can_edit.then(|| view! {
                        <ActionForm action=drill attr:class="drill-form">
                            <input type="hidden" name="runbook_id" value=id />
                            <div class="field">
                                <label for="drill-severity">"Severity to rehearse"</label>
                                <select id="drill-severity" name="severity">
                                    {Severity::ALL.into_iter().map(|s| view! { <option value=s.label() selected=s == Severity::Sev2>{s.label()}</option> }).collect_view()}
                                </select>
                            </div>
                            <button type="submit">"Start a drill"</button>
                        </ActionForm>
                    })}
                    {if r.drills.is_empty() {
                        view! { <p class="muted">"Never drilled."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="plain">
                                {r.drills.iter().map(|d| view! {
                                    <li><a href=format!("/incidents/{}", incident_ref(d.incident_number))>{incident_ref(d.incident_number)}</a>
                                        " · "<Time at=d.started_at />{d.started_by.clone().map(|p| format!(" · {}", p.display_name))}
                                        {if d.resolved { " · done" } else { " · in progress" }}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </section>
                <FormError error=errors />
                <Versions id can_edit=r.can_edit version=r.version on_restore=Callback::new(move |_| reload()) />
            </aside>
        </div>
    }
}

/// Title and body, saved as a new version if nobody saved in between; otherwise their
/// text is shown beside yours (kept) until you save the merge.
#[component]
fn RunbookEditor(id: i64, version: i32, text: RunbookText, on_saved: Callback<()>) -> impl IntoView {
    let base = RwSignal::new(version);
    let title = RwSignal::new(text.title.clone());
    let body = RwSignal::new(text.body.clone());
    let theirs = RwSignal::new(None::<(String, RunbookText)>);
    let error = RwSignal::new(None::<AppError>);
    let preview = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let save = move |_| {
        saving.set(true);
        spawn_local(async move {
            let result = save_runbook(id, base.get_untracked(), title.get_untracked(), body.get_untracked()).await;
            saving.set(false);
            match result {
                Ok(_) => {
                    theirs.set(None);
                    on_saved.run(());
                }
                Err(AppError::EditConflict { version, author, content }) => {
                    if let Ok(text) = serde_json::from_str::<RunbookText>(&content) {
                        base.set(version);
                        theirs.set(Some((format!("{author} (version {version})"), text)));
                    }
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let show_preview = move |_| {
        if preview.get_untracked().is_some() {
            preview.set(None);
            return;
        }
        spawn_local(async move { preview.set(Some(preview_markdown(body.get_untracked()).await.unwrap_or_default())) });
    };
    view! {
        {move || theirs.get().map(|(who, text)| view! {
            <div class="clash" role="alert">
                <p><strong>{format!("{who} saved while you were editing.")}</strong>" Your text is kept below; theirs is beside it. Merge, then save."</p>
                <label for="rb-theirs">{format!("Their text: {}", text.title)}</label>
                <textarea id="rb-theirs" readonly rows="10" prop:value=text.body.clone()></textarea>
            </div>
        })}
        <div class="field">
            <label for="rb-edit-title">"Title"</label>
            <input id="rb-edit-title" type="text" bind:value=title />
        </div>
        <div class="field">
            <label for="rb-edit-body">"Runbook (markdown)"</label>
            <Show when=move || preview.with(|p| p.is_none())
                fallback=move || view! { <div class="preview prose" inner_html=move || preview.get().unwrap_or_default()></div> }>
                <textarea id="rb-edit-body" rows="20" bind:value=body></textarea>
            </Show>
        </div>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
        <div class="row">
            <button type="button" on:click=save disabled=move || saving.get()>
                {move || if theirs.with(|t| t.is_some()) { "Save merged version" } else { "Save" }}
            </button>
            <button type="button" class="secondary" on:click=show_preview>{move || if preview.with(|p| p.is_some()) { "Write" } else { "Preview" }}</button>
        </div>
    }
}

#[component]
fn Versions(id: i64, can_edit: bool, version: i32, on_restore: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(false);
    let restore = ServerAction::<RestoreRunbookVersion>::new();
    let error = last_error(restore);
    Effect::new(move |_| {
        if let Some(Ok(_)) = restore.value().get() {
            on_restore.run(());
        }
    });
    let list = crate::components::load_in_browser(move || {
        let open = open.get();
        async move { if open { runbook_versions(id).await.unwrap_or_default() } else { Vec::new() } }
    });
    view! {
        <section class="card" aria-labelledby="rb-history-heading">
            <h2 id="rb-history-heading">"History"</h2>
            <button type="button" class="secondary small" on:click=move |_| open.update(|o| *o = !*o)>
                {move || if open.get() { "Hide versions" } else { "Show versions" }}
            </button>
            <FormError error />
            {move || {
                    view! {
                        <ol class="versions">
                            {list.get().unwrap_or_default().into_iter().map(|v| view! {
                                <li>
                                    <strong>{format!("Version {}", v.version)}</strong>" · "
                                    {v.author.map(|a| a.display_name).unwrap_or_default()}" · "<Time at=v.saved_at />
                                    {(!v.note.is_empty()).then(|| format!(" ({})", v.note))}
                                    {(can_edit && v.version != version).then(|| view! {
                                        <ActionForm action=restore attr:class="inline">
                                            <input type="hidden" name="id" value=id />
                                            <input type="hidden" name="version" value=v.version />
                                            <input type="hidden" name="base_version" value=version />
                                            <button type="submit" class="link small">"Restore"</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }).collect_view()}
                        </ol>
                    }
            }}
        </section>
    }
}

/// The incident page's side panel: the runbooks of its services, and attaching others.
#[component]
pub fn IncidentRunbooks(number: i64, can_respond: bool) -> impl IntoView {
    let attach = ServerAction::<AttachRunbook>::new();
    let error = last_error(attach);
    // Read by the browser once the page is live (and after each attachment).
    let linked = RwSignal::new(None::<Vec<IncidentRunbook>>);
    let all = RwSignal::new(Vec::<RunbookSummary>::new());
    Effect::new(move |_| {
        let _ = attach.version().get();
        spawn_local(async move {
            linked.set(Some(incident_runbooks(number).await.unwrap_or_default()));
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
                    <input type="hidden" name="number" value=number />
                    <label for="attach-runbook">"Attach"</label>
                    <select id="attach-runbook" name="runbook_id">
                        {move || all.get().into_iter().map(|r| view! { <option value=r.id>{r.title}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="secondary small">"Attach"</button>
                </ActionForm>
                <FormError error />
            })}
        </section>
    }
}
