//! Action items wherever they appear: the tracker, the incident page, the postmortem.
//! Rows change in place (status, owner, due date) for those allowed; others read.

use crate::api::action_items::*;
use crate::api::incidents::list_responders;
use crate::components::form::{FieldError, FormError, described_by, invalid};
use crate::components::load_in_browser;
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the reader may do to items.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRights {
    /// Responders and admins: everything.
    pub can_edit: bool,
    /// Teams the reader leads: they may reassign those teams' items.
    pub leads: Vec<crate::model::TeamId>,
}

impl ItemRights {
    fn may_reassign(&self, item: &ActionItem) -> bool {
        self.can_edit || item.team_id.is_some_and(|t| self.leads.contains(&t))
    }
}

/// The reader's UTC offset in minutes (0 on the server, which cannot know it).
pub fn browser_offset_minutes() -> i32 {
    #[cfg(feature = "hydrate")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

/// Flags a person scanning the list must not miss, in words (not only colour).
#[component]
pub fn ItemFlags(item: ActionItem) -> impl IntoView {
    view! {
        {item.overdue.then(|| view! { <span class="flag overdue">"Overdue"</span> })}
        {item.unscheduled.then(|| view! {
            <span class="flag unscheduled" title="No owner or no due date">"Unscheduled"</span>
        })}
        {item.late_to_schedule.then(|| view! {
            <span class="flag late" title="P1 items must get an owner and a due date quickly">"P1 not scheduled in time"</span>
        })}
    }
}

/// A table of items with in-place changes. `on_change` runs after each change is saved.
#[component]
pub fn ItemTable(
    items: Vec<ActionItem>,
    rights: ItemRights,
    on_change: Callback<()>,
    #[prop(optional)] show_incident: bool,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">"No action items."</p> }.into_any();
    }
    let error = RwSignal::new(None::<AppError>);
    // The owner list is loaded by the browser, once per table, and only for editors.
    let people = load_in_browser(|| async { list_responders().await.unwrap_or_default() });
    view! {
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
        <table class="list items">
            <thead><tr>
                <th scope="col">"Item"</th>
                {show_incident.then(|| view! { <th scope="col">"Incident"</th> })}
                <th scope="col">"Priority"</th><th scope="col">"Status"</th><th scope="col">"Owner"</th>
                <th scope="col">"Due"</th><th scope="col">"Team"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|item| view! {
                    <ItemRow item=item.clone() rights=rights.clone() people error on_change show_incident />
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn save(
    error: RwSignal<Option<AppError>>,
    on_change: Callback<()>,
    call: impl std::future::Future<Output = Result<(), AppError>> + 'static,
) {
    spawn_local(async move {
        match call.await {
            Ok(()) => {
                error.set(None);
                on_change.run(());
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

#[component]
fn ItemRow(
    item: ActionItem,
    rights: ItemRights,
    people: RwSignal<Option<Vec<Person>>>,
    error: RwSignal<Option<AppError>>,
    on_change: Callback<()>,
    show_incident: bool,
) -> impl IntoView {
    let id = item.id;
    let reassign = rights.may_reassign(&item);
    let edit = rights.can_edit;
    let wont_do = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let history = RwSignal::new(None::<Vec<ItemChange>>);
    let show_history = move |_| {
        if history.get_untracked().is_some() {
            history.set(None);
            return;
        }
        spawn_local(async move {
            match get_action_item_history(id).await {
                Ok(h) => history.set(Some(h)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let status = item.status;
    let owner_id = item.owner.as_ref().map(|p| p.id);
    let owner_name = item.owner.as_ref().map(|p| p.display_name.clone());
    let due = item.due_date.map(format_date).unwrap_or_default();
    let reference = incident_ref(item.incident_number);
    view! {
        <tr class:overdue=item.overdue class:unscheduled=item.unscheduled data-item=id.0>
            <td class="item-title">
                <span class="item-id">{format!("#{id}")}</span>" "<strong>{item.title.clone()}</strong>
                " "<ItemFlags item=item.clone() />
                {(!item.description.trim().is_empty()).then(|| view! {
                    <details class="item-description">
                        <summary>"Description"</summary>
                        <div class="prose" inner_html=item.description_html.clone()></div>
                    </details>
                })}
                {(!item.wont_do_reason.is_empty()).then(|| view! { <div class="muted">"Won't do: "{item.wont_do_reason.clone()}</div> })}
                <div class="item-links">
                    <button type="button" class="link small" on:click=show_history>"History"</button>
                    {item.has_postmortem.then(|| view! { <a class="small" href=format!("/postmortems/{reference}")>"Postmortem"</a> })}
                </div>
                {move || history.get().map(|changes| view! {
                    <ul class="item-history">
                        <li>"Created "<Time at=item.created_at /></li>
                        {changes.into_iter().map(|c| view! {
                            <li>
                                {c.by.map(|p| p.display_name).unwrap_or_else(|| "someone".into())}" changed "{c.field}
                                {format!(" from “{}” to “{}”, ", c.old_value, c.new_value)}<Time at=c.at />
                            </li>
                        }).collect_view()}
                    </ul>
                })}
            </td>
            {show_incident.then(|| view! {
                <td><a href=format!("/incidents/{reference}")>{reference.clone()}</a>" "<span class="muted">{item.incident_title.clone()}</span></td>
            })}
            <td title=item.priority.meaning()>{item.priority.label()}</td>
            <td>
                {if edit {
                    view! {
                        <label class="visually-hidden" for=format!("status-{id}")>{format!("Status of #{id}")}</label>
                        <select id=format!("status-{id}") on:change=move |ev| {
                            let to = event_target_value(&ev);
                            if to == ItemStatus::WontDo.as_str() {
                                wont_do.set(true);
                            } else {
                                save(error, on_change, set_item_status(id, to, String::new()));
                            }
                        }>
                            {ItemStatus::ALL.into_iter().filter(|s| *s == status || status.can_move_to(*s).is_ok()).map(|s| view! {
                                <option value=s.as_str() selected=s == status>{s.label()}</option>
                            }).collect_view()}
                        </select>
                        <Show when=move || wont_do.get()>
                            <form class="wont-do" on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                save(error, on_change, set_item_status(id, "wont_do".into(), reason.get_untracked()));
                            }>
                                <label for=format!("reason-{id}")>"Why won't it be done?"</label>
                                <input id=format!("reason-{id}") type="text" bind:value=reason />
                                <button type="submit" class="small">"Save"</button>
                            </form>
                        </Show>
                    }.into_any()
                } else {
                    view! { <span class=format!("item-status item-{}", status.as_str())>{status.label()}</span> }.into_any()
                }}
            </td>
            <td>
                {if reassign {
                    view! {
                        <label class="visually-hidden" for=format!("owner-{id}")>{format!("Owner of #{id}")}</label>
                        <select id=format!("owner-{id}") on:change=move |ev| save(error, on_change, set_item_owner(id, event_target_value(&ev)))>
                            <option value="" selected=owner_id.is_none()>"Nobody"</option>
                            // The current owner is always an option, even before the list loads.
                            {owner_id.zip(owner_name.clone()).map(|(oid, name)| view! { <option value=oid.0 selected=true>{name}</option> })}
                            {move || people.get().unwrap_or_default().into_iter().filter(|p| Some(p.id) != owner_id).map(|p| view! {
                                <option value=p.id.0>{p.display_name}</option>
                            }).collect_view()}
                        </select>
                    }.into_any()
                } else {
                    view! { <span>{owner_name.clone().unwrap_or_else(|| "Nobody".into())}</span> }.into_any()
                }}
            </td>
            <td>
                {if edit {
                    view! {
                        <label class="visually-hidden" for=format!("due-{id}")>{format!("Due date of #{id}")}</label>
                        <input id=format!("due-{id}") type="date" min=input_bounds().0 max=input_bounds().1 value=due.clone()
                            on:change=move |ev| save(error, on_change, set_item_due_date(id, event_target_value(&ev))) />
                    }.into_any()
                } else {
                    view! { <span>{if due.is_empty() { "—".to_owned() } else { due.clone() }}</span> }.into_any()
                }}
            </td>
            <td>{item.team_name.clone().unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}

/// Adds an item to an incident (from its page, its postmortem or the tracker).
#[component]
pub fn NewItemForm(
    /// The incident, when the form belongs to one; otherwise the form asks for it.
    incident_number: Option<IncidentNumber>,
    on_created: Callback<()>,
) -> impl IntoView {
    let create = ServerAction::<CreateActionItem>::new();
    let error = crate::components::form::last_error(create);
    let draft = RwSignal::new(NewActionItem {
        incident_number: incident_number.unwrap_or(IncidentNumber(0)),
        priority: "P2".into(),
        ..Default::default()
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            draft.update(|d| {
                d.title.clear();
                d.description.clear();
                d.due_date.clear();
            });
            on_created.run(());
        }
    });
    let people = load_in_browser(|| async { list_responders().await.unwrap_or_default() });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateActionItem { item: draft.get_untracked() });
    };
    view! {
        <form class="new-item" on:submit=submit>
            <FormError error inline=&["title", "description", "due_date"] id_prefix="new-item-" />
            {incident_number.is_none().then(|| view! {
                <div class="field">
                    <label for="new-item-incident">"Incident (e.g. INC-12)"</label>
                    <input id="new-item-incident" type="text" required
                        on:input=move |ev| {
                            let n = parse_incident_ref(&event_target_value(&ev)).unwrap_or_default();
                            draft.update(|d| d.incident_number = n);
                        } />
                </div>
            })}
            <div class="field">
                <label for="new-item-title">"What needs doing"</label>
                <input id="new-item-title" type="text" required prop:value=move || draft.with(|d| d.title.clone())
                    aria-describedby=described_by(error, "title", "new-item-title") aria-invalid=invalid(error, "title")
                    on:input=move |ev| draft.update(|d| d.title = event_target_value(&ev)) />
                <FieldError error field="title" id="new-item-title" />
            </div>
            <div class="field">
                <label for="new-item-description">"Description (markdown, optional)"</label>
                <textarea id="new-item-description" rows="3" prop:value=move || draft.with(|d| d.description.clone())
                    aria-describedby=described_by(error, "description", "new-item-description") aria-invalid=invalid(error, "description")
                    on:input=move |ev| draft.update(|d| d.description = event_target_value(&ev))></textarea>
                <FieldError error field="description" id="new-item-description" />
            </div>
            <div class="row">
                <div class="field">
                    <label for="new-item-priority">"Priority"</label>
                    <select id="new-item-priority" on:change=move |ev| draft.update(|d| d.priority = event_target_value(&ev))>
                        {Priority::ALL.into_iter().map(|p| view! {
                            <option value=p.label() selected=p == Priority::P2>{format!("{} — {}", p.label(), p.meaning())}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="new-item-owner">"Owner"</label>
                    <select id="new-item-owner" on:change=move |ev| draft.update(|d| d.owner_id = event_target_value(&ev).parse().ok())>
                        <option value="">"Nobody yet"</option>
                        {move || people.get().unwrap_or_default().into_iter().map(|p| view! { <option value=p.id.0>{p.display_name}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="new-item-due_date">"Due"</label>
                    <input id="new-item-due_date" type="date" aria-describedby=described_by(error, "due_date", "new-item-due_date")
                        aria-invalid=invalid(error, "due_date") min=input_bounds().0 max=input_bounds().1 prop:value=move || draft.with(|d| d.due_date.clone())
                        on:change=move |ev| draft.update(|d| d.due_date = event_target_value(&ev)) />
                    <FieldError error field="due_date" id="new-item-due_date" />
                </div>
            </div>
            <button type="submit" class="secondary" disabled=move || create.pending().get()>"Add action item"</button>
        </form>
    }
}

/// An incident's items with the form to add one: for its page and its postmortem.
#[component]
pub fn IncidentItems(number: IncidentNumber, #[prop(into)] reload: Signal<u32>) -> impl IntoView {
    let added = RwSignal::new(0u32);
    // Read by the browser (in the reader's zone) once the page is live, and again after
    // every change; the server renders the placeholder.
    let items = RwSignal::new(None::<Result<Tracker, AppError>>);
    Effect::new(move |_| {
        let _ = (reload.get(), added.get());
        spawn_local(async move {
            let filter = ItemFilter {
                incident: number.to_string(),
                tz_offset_minutes: browser_offset_minutes(),
                ..Default::default()
            };
            items.set(Some(list_action_items(filter).await));
        });
    });
    let on_change = Callback::new(move |_| added.update(|n| *n += 1));
    view! {
        <div class="incident-items">
            {move || match items.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Ok(t)) => {
                        let rights = ItemRights { can_edit: t.can_edit, leads: t.leads.clone() };
                        view! {
                            <ItemTable items=t.items rights on_change />
                            {t.can_edit.then(|| view! {
                                <details class="add-item">
                                    <summary>"Add an action item"</summary>
                                    <NewItemForm incident_number=Some(number) on_created=on_change />
                                </details>
                            })}
                            // The first page only; the tracker pages through the rest.
                            <p class="small"><a href=format!("/actions?incident={number}")>
                                {if t.next_cursor.is_some() { "See all of them in the tracker" } else { "Open in the tracker" }}
                            </a></p>
                        }.into_any()
                    }
                    Some(Err(e)) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
            }}
        </div>
    }
}
