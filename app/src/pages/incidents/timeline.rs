//! The incident page's timeline: the entries (newest or oldest first, key events,
//! note edits), the way to earlier entries, and the note composer.

use crate::api::incidents::*;
use crate::components::form::{FormError, last_error};
use crate::components::time::Time;
use crate::model::*;
use leptos::prelude::*;

/// Under a long timeline: how much of it is shown, and the way to the rest. Entries are
/// numbered 1, 2, … without gaps, so the earlier ones are the numbers below `oldest`.
#[component]
pub(super) fn EarlierEntries(
    number: IncidentNumber,
    oldest: i64,
    total: i64,
    shown_from: RwSignal<Option<(i64, i64)>>,
) -> impl IntoView {
    let hidden = oldest - 1;
    let shown = total - hidden;
    (hidden > 0).then(|| {
        let more = hidden.min(TIMELINE_PAGE);
        view! {
            <div class="timeline-more">
                <p class="muted">{format!("Showing the latest {shown} of {total} entries.")}</p>
                <button type="button" class="secondary small" on:click=move |_| shown_from.set(Some((number.0, oldest - more)))>
                    {if more == 1 { "Show 1 earlier entry".to_owned() } else { format!("Show {more} earlier entries") }}
                </button>
                {(hidden > more).then(|| view! {
                    <button type="button" class="link small" on:click=move |_| shown_from.set(Some((number.0, 1)))>
                        {format!("Show all {total}")}
                    </button>
                })}
            </div>
        }
    })
}

#[component]
pub(super) fn Composer(number: IncidentNumber, draft: RwSignal<String>) -> impl IntoView {
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
            <textarea id="note" name="body" rows="3" maxlength=NoteBody::MAX bind:value=draft placeholder="What do we know? What are we trying?"></textarea>
            <FormError error=error />
            <button type="submit" disabled=move || post.pending().get()>"Post note"</button>
        </form>
    }
}

#[component]
pub(super) fn Timeline(entries: RwSignal<Vec<TimelineEntry>>, can_respond: bool, viewer_id: UserId) -> impl IntoView {
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
