//! The postmortem editor: one page, a section at a time, saved explicitly and every few
//! seconds, and never losing text to someone else's save.
//!
//! Each save names the version it was based on. When someone saved in between, the
//! server refuses with their version; sections only one side changed merge by
//! themselves, and sections both changed are shown side by side (yours stays in the
//! editor) until the writer saves the merge.

use crate::api::postmortems::{get_postmortem_timeline_import, preview_markdown, save_postmortem};
use crate::error::AppError;
use crate::model::IncidentNumber;
use crate::model::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How often unsaved text is saved while someone types.
const AUTOSAVE_SECONDS: u64 = 3;

/// Someone else's version that clashes with unsaved text.
#[derive(Debug, Clone, PartialEq)]
pub struct Clash {
    pub version: i32,
    pub author: String,
    pub theirs: Sections,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SaveState {
    Saved,
    Saving,
    Failed(String),
}

/// What the writer is typing, kept by the page across reloads of the postmortem, so
/// neither a status change nor a refresh drops unsaved text.
#[derive(Clone, Copy)]
pub struct Draft {
    pub number: RwSignal<IncidentNumber>,
    pub text: RwSignal<Sections>,
    /// The version the text was based on, and that version's text.
    pub base: RwSignal<Option<(i32, Sections)>>,
    pub clash: RwSignal<Option<Clash>>,
    pub state: RwSignal<SaveState>,
    /// What the last save did, for the writer ("merged Alice's changes to Impact").
    pub notice: RwSignal<Option<String>>,
}

impl Draft {
    pub fn new() -> Self {
        Self {
            number: RwSignal::new(IncidentNumber(0)),
            text: RwSignal::new(Sections::default()),
            base: RwSignal::new(None),
            clash: RwSignal::new(None),
            state: RwSignal::new(SaveState::Saved),
            notice: RwSignal::new(None),
        }
    }

    /// Takes the server's copy when there is nothing unsaved (first load, or someone
    /// else saved while this writer was idle).
    pub fn load(&self, number: IncidentNumber, version: i32, sections: &Sections) {
        let same_doc = self.number.get_untracked() == number;
        let base = self.base.get_untracked();
        let newer = base.as_ref().is_none_or(|(v, _)| *v < version);
        if !same_doc || (newer && !self.is_dirty_untracked()) {
            self.number.set(number);
            self.text.set(sections.clone());
            self.base.set(Some((version, sections.clone())));
            self.clash.set(None);
        }
    }

    fn is_dirty_untracked(&self) -> bool {
        self.base.with_untracked(|b| b.as_ref().is_some_and(|(_, s)| *s != self.text.get_untracked()))
    }

    pub fn is_dirty(&self) -> bool {
        self.base.with(|b| b.as_ref().is_some_and(|(_, s)| self.text.with(|t| t != s)))
    }

    pub fn version(&self) -> Option<i32> {
        self.base.with(|b| b.as_ref().map(|(v, _)| *v))
    }

    /// Saves now if there is unsaved text, no save in flight and no clash to settle.
    pub fn save(self) {
        if self.state.get_untracked() == SaveState::Saving
            || self.clash.get_untracked().is_some()
            || !self.is_dirty_untracked()
        {
            return;
        }
        let Some((base_version, base_text)) = self.base.get_untracked() else { return };
        let number = self.number.get_untracked();
        let sent = self.text.get_untracked();
        self.state.set(SaveState::Saving);
        spawn_local(async move {
            let result = save_postmortem(number, base_version, sent.clone()).await;
            // The page may be gone by now (the writer navigated away): nothing to update.
            if self.base.try_get_untracked().is_none() {
                return;
            }
            match result {
                Ok(saved) => {
                    self.base.set(Some((saved.version, sent)));
                    self.state.set(SaveState::Saved);
                }
                Err(AppError::EditConflict { version, author, content }) => {
                    let Ok(theirs) = serde_json::from_str::<Sections>(&content) else {
                        self.state.set(SaveState::Failed("Could not read the other version; reload the page.".into()));
                        return;
                    };
                    let mine = self.text.get_untracked();
                    let (merged, clashes) = Sections::merge(&base_text, &mine, &theirs);
                    let took: Vec<&str> = theirs
                        .changed_from(&base_text)
                        .into_iter()
                        .filter(|s| !clashes.contains(s))
                        .map(|s| s.title())
                        .collect();
                    self.text.set(merged);
                    self.base.set(Some((version, theirs.clone())));
                    self.notice
                        .set((!took.is_empty()).then(|| format!("Merged {author}'s changes to {}.", took.join(", "))));
                    if !clashes.is_empty() {
                        self.clash.set(Some(Clash { version, author, theirs, sections: clashes }));
                    }
                    self.state.set(SaveState::Saved);
                }
                Err(err) => self.state.set(SaveState::Failed(err.to_string())),
            }
        });
    }

    /// Saves the writer's merge over the clashing version they have now seen.
    pub fn save_merge(self) {
        self.clash.set(None);
        self.save();
    }
}

/// The editable document: save bar, clash panel, and every section.
#[component]
pub fn Editor(draft: Draft) -> impl IntoView {
    // In the browser only: save every few seconds, and warn before leaving unsaved text.
    Effect::new(move |_| {
        let timer =
            set_interval_with_handle(move || draft.save(), std::time::Duration::from_secs(AUTOSAVE_SECONDS)).ok();
        let warn = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if draft.is_dirty_untracked() {
                ev.prevent_default();
                ev.set_return_value("You have unsaved changes.");
            }
        });
        on_cleanup(move || {
            if let Some(t) = timer {
                t.clear();
            }
            warn.remove();
        });
    });
    // Leaving for another page of the app: save what is there on the way out.
    on_cleanup(move || draft.save());

    let refresh_timeline = move |_| {
        let number = draft.number.get_untracked();
        spawn_local(async move {
            match get_postmortem_timeline_import(number).await {
                Ok(text) => draft.text.update(|t| t.timeline = text),
                Err(err) => draft.state.set(SaveState::Failed(err.to_string())),
            }
        });
    };

    view! {
        <div class="save-bar" role="status">
            <span class="save-state">
                {move || match (draft.state.get(), draft.is_dirty()) {
                    (SaveState::Saving, _) => "Saving…".to_owned(),
                    (SaveState::Failed(m), _) => format!("Not saved: {m}"),
                    (SaveState::Saved, true) => "Unsaved changes".to_owned(),
                    (SaveState::Saved, false) => format!("Saved · version {}", draft.version().unwrap_or(0)),
                }}
            </span>
            // Always enabled: with nothing unsaved it does nothing, and while a clash is
            // open only the merge button below saves (so a stray click cannot skip it).
            <button type="button" on:click=move |_| draft.save()>"Save"</button>
        </div>
        <div>{move || draft.notice.get().map(|n| view! { <p class="notice-ok">{n}</p> })}</div>
        <div>{move || draft.clash.get().map(|c| view! {
            <div class="clash" role="alert">
                <p>
                    <strong>{format!("{} saved version {} while you were editing.", c.author, c.version)}</strong>
                    " You both changed "{c.sections.iter().map(|s| s.title()).collect::<Vec<_>>().join(", ")}
                    ". Your text is kept in the editor with theirs beside it: merge, then save."
                </p>
                <button type="button" on:click=move |_| draft.save_merge()>
                    {format!("Save merged version (over version {})", c.version)}
                </button>
            </div>
        })}</div>
        {Section::ALL.into_iter().map(|section| view! {
            <SectionEditor draft section on_refresh=(section == Section::Timeline).then_some(Callback::new(refresh_timeline)) />
        }).collect_view()}
    }
}

#[component]
fn SectionEditor(draft: Draft, section: Section, on_refresh: Option<Callback<()>>) -> impl IntoView {
    let id = format!("pm-{}", section.key());
    let preview = RwSignal::new(None::<String>);
    let text = move || draft.text.with(|t| t.get(section).to_owned());
    let show_preview = move |_| {
        if preview.get_untracked().is_some() {
            preview.set(None);
            return;
        }
        let source = draft.text.with_untracked(|t| t.get(section).to_owned());
        spawn_local(async move {
            let html = preview_markdown(source).await.unwrap_or_else(|e| format!("<p>{e}</p>"));
            preview.set(Some(html));
        });
    };
    let theirs = move || {
        draft
            .clash
            .get()
            .filter(|c| c.sections.contains(&section))
            .map(|c| (c.author.clone(), c.version, c.theirs.get(section).to_owned()))
    };
    let rows = move || draft.text.with(|t| t.get(section).lines().count() + 2).clamp(4, 30);
    let label_id = id.clone();
    view! {
        <section class="pm-section" class:clashing=move || theirs().is_some()>
            <div class="section-head">
                <h2>
                    <label for=label_id>{section.title()}</label>
                    {section.required().then(|| view! { <span class="required" title="Required to publish">" *"</span> })}
                </h2>
                <div class="section-tools">
                    {on_refresh.map(|cb| view! {
                        <button type="button" class="secondary small" on:click=move |_| cb.run(())>"Refresh from incident"</button>
                    })}
                    <button type="button" class="secondary small" on:click=show_preview>
                        {move || if preview.with(|p| p.is_some()) { "Write" } else { "Preview" }}
                    </button>
                </div>
            </div>
            <div>{move || theirs().map(|(author, version, text)| view! {
                <div class="theirs">
                    <p class="muted">{format!("{author}'s text (version {version})")}</p>
                    <textarea readonly rows="6" aria-label=format!("{author}'s {}", section.title()) prop:value=text.clone()></textarea>
                    <button type="button" class="secondary small"
                        on:click=move |_| draft.text.update(|t| *t.get_mut(section) = text.clone())>
                        "Use their text"
                    </button>
                </div>
            })}</div>
            <Show when=move || preview.with(|p| p.is_none())
                fallback=move || view! { <div class="preview prose" inner_html=move || preview.get().unwrap_or_default()></div> }>
                <textarea id=id.clone() rows=rows placeholder=section.hint() prop:value=text
                    on:input=move |ev| draft.text.update(|t| *t.get_mut(section) = event_target_value(&ev))></textarea>
            </Show>
        </section>
    }
}
