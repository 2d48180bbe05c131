//! `/runbooks/:id`: one runbook, its editor, versions, reviews and drills.

use crate::api::postmortems::preview_markdown;
use crate::api::runbooks::*;
use crate::components::form::{FormError, last_error};
use crate::components::loaded::Loaded;
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn RunbookPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<RunbookId>().ok()));
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
        <Loaded resource=runbook page="Runbook" render=move |r| view! { <RunbookScreen r refresh /> } />
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
                            <input type="hidden" name="id" value=id.0 />
                            <button type="submit" class="secondary">"Mark reviewed"</button>
                        </ActionForm>
                    })}
                </section>
                <section class="card" aria-labelledby="drills-heading">
                    <h2 id="drills-heading">"Drills"</h2>
                    {r.can_edit.then(|| view! {
                        <ActionForm action=drill attr:class="drill-form">
                            <input type="hidden" name="runbook_id" value=id.0 />
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
fn RunbookEditor(id: RunbookId, version: i32, text: RunbookText, on_saved: Callback<()>) -> impl IntoView {
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
fn Versions(id: RunbookId, can_edit: bool, version: i32, on_restore: Callback<()>) -> impl IntoView {
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
        async move { if open { list_runbook_versions(id).await.unwrap_or_default() } else { Vec::new() } }
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
                                            <input type="hidden" name="id" value=id.0 />
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
