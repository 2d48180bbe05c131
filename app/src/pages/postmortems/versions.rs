//! Every saved version of a postmortem: who changed which sections when, what exactly
//! changed, and restoring an old one (as a new version).

use super::editor::Draft;
use crate::api::postmortems::{get_postmortem_version, list_postmortem_versions, restore_postmortem_version};
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::IncidentNumber;
use crate::model::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn History(number: IncidentNumber, can_edit: bool, draft: Draft, on_restore: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(false);
    let versions = RwSignal::new(None::<Vec<VersionSummary>>);
    // Read when opened, and again whenever this page saves a new version.
    Effect::new(move |_| {
        let (is_open, _) = (open.get(), draft.version());
        if is_open {
            spawn_local(async move {
                if let Ok(list) = list_postmortem_versions(number).await {
                    versions.set(Some(list));
                }
            });
        }
    });
    let shown = RwSignal::new(None::<VersionDetail>);
    let error = RwSignal::new(None::<AppError>);
    let show = move |version: i32| {
        spawn_local(async move {
            match get_postmortem_version(number, version).await {
                Ok(v) => shown.set(Some(v)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let restore = move |version: i32| {
        let Some(base) = draft.version() else { return };
        spawn_local(async move {
            match restore_postmortem_version(number, version, base).await {
                Ok(_) => {
                    // Nothing was unsaved (restore is offered only then): take the new text.
                    draft.base.set(None);
                    shown.set(None);
                    on_restore.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card history" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <button type="button" class="secondary small" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                {move || if open.get() { "Hide versions" } else { "Show versions" }}
            </button>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
            <Show when=move || open.get()>
                {move || {
                        let list = versions.get().unwrap_or_default();
                        view! {
                            <ol class="versions">
                                {list.into_iter().map(|v| {
                                    let version = v.version;
                                    view! {
                                        <li>
                                            <strong>{format!("Version {version}")}</strong>" · "
                                            {v.author.map(|a| a.display_name).unwrap_or_else(|| "someone".into())}" · "
                                            <Time at=v.saved_at />
                                            <div class="muted">
                                                {if v.changed.is_empty() { "No text changes".to_owned() } else {
                                                    format!("Changed: {}", v.changed.iter().map(|s| s.title()).collect::<Vec<_>>().join(", "))
                                                }}
                                                {(!v.note.is_empty()).then(|| format!(" ({})", v.note))}
                                            </div>
                                            <button type="button" class="link small" on:click=move |_| show(version)>"View changes"</button>
                                            {(can_edit && Some(version) != draft.version()).then(|| view! {
                                                <button type="button" class="link small" disabled=move || draft.is_dirty()
                                                    on:click=move |_| restore(version)>"Restore this version"</button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }
                }}
                {move || shown.get().map(|v| view! { <VersionDiff detail=v /> })}
            </Show>
        </section>
    }
}

#[component]
fn VersionDiff(detail: VersionDetail) -> impl IntoView {
    view! {
        <div class="version-diff">
            <h3>{format!("What version {} changed", detail.summary.version)}</h3>
            {detail.diffs.into_iter().map(|(section, lines)| view! {
                <h4>{section.title()}</h4>
                <pre class="diff">
                    {lines.into_iter().map(|line| match line {
                        DiffLine::Same(t) => view! { <span class="same">{format!("  {t}\n")}</span> }.into_any(),
                        DiffLine::Added(t) => view! { <ins>{format!("+ {t}\n")}</ins> }.into_any(),
                        DiffLine::Removed(t) => view! { <del>{format!("- {t}\n")}</del> }.into_any(),
                    }).collect_view()}
                </pre>
            }).collect_view()}
        </div>
    }
}
