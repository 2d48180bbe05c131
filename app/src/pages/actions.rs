//! `/actions`: the action-item tracker. Views answer a lead's questions: everything
//! (filtered), mine, my team's, and a summary per team with a 12-week chart.

use crate::api::action_items::{list_action_items, list_team_summaries};
use crate::api::admin::list_teams;
use crate::api::incidents::list_responders;
use crate::components::action_items::{ItemFlags, ItemRights, ItemTable, NewItemForm, browser_offset_minutes};
use crate::components::form::IdSelect;
use crate::components::layout::use_caller;
use crate::components::loaded::Loaded;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

/// The reader's UTC offset: 0 while rendering on the server, theirs once the page is live
/// (which re-reads the items, so "overdue" means their own date).
fn use_offset() -> RwSignal<i32> {
    let offset = RwSignal::new(0);
    Effect::new(move |_| offset.set(browser_offset_minutes()));
    offset
}

#[component]
pub fn ActionsPage() -> impl IntoView {
    let query = use_query_map();
    let view_name = Memo::new(move |_| query.read().get("view").unwrap_or_default());
    view! {
        <Title text="Action items" />
        <h1>"Action items"</h1>
        <nav class="tabs" aria-label="Views">
            {[("", "All"), ("mine", "Mine"), ("team", "My team"), ("summary", "Team summary")].into_iter().map(|(key, label)| view! {
                <a href=if key.is_empty() { "/actions".to_owned() } else { format!("/actions?view={key}") }
                    aria-current=move || (view_name.get() == key).then_some("page")>{label}</a>
            }).collect_view()}
        </nav>
        {move || match view_name.get().as_str() {
            "mine" => view! { <Mine /> }.into_any(),
            "team" => view! { <MyTeam /> }.into_any(),
            "summary" => view! { <Summary /> }.into_any(),
            _ => view! { <All /> }.into_any(),
        }}
    }
}

/// Every item, filtered and sorted from the query string (so a view can be shared).
#[component]
fn All() -> impl IntoView {
    let query = use_query_map();
    let offset = use_offset();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let text = |k: &str| q.get(k).unwrap_or_default();
        ItemFilter {
            team_id: text("team_id"),
            owner_id: text("owner_id"),
            status: text("status"),
            priority: text("priority"),
            incident: text("incident"),
            overdue: q.get("overdue").is_some_and(|v| v == "true"),
            unscheduled: q.get("unscheduled").is_some_and(|v| v == "true"),
            sort: q.get("sort").unwrap_or_default(),
            tz_offset_minutes: offset.get(),
            cursor: q.get("cursor").unwrap_or_default(),
        }
    });
    let changed = RwSignal::new(0u32);
    let tracker = Resource::new(move || (filter.get(), changed.get()), |(f, _)| list_action_items(f));
    let options =
        Resource::new(|| (), |_| async { Ok::<_, AppError>((list_teams().await?, list_responders().await?)) });
    let csv = move || {
        let f = filter.get();
        format!("/api/action_items.csv?tz_offset_minutes={}{}", f.tz_offset_minutes, filter_query(&f))
    };
    view! {
        <Form method="GET" action="" attr:class="card filters">
            <Suspense>
                {move || Suspend::new(async move {
                    let (teams, people) = options.await.unwrap_or_default();
                    view! {
                        <IdSelect id="f-team" name="team_id" label="Team" empty="Any"
                            options=teams.into_iter().map(|t| (t.id, t.name)).collect()
                            selected=Signal::derive(move || filter.get().team_id.parse().ok()) />
                        <IdSelect id="f-owner" name="owner_id" label="Owner" empty="Anyone"
                            options=people.into_iter().map(|p| (p.id, p.display_name)).collect()
                            selected=Signal::derive(move || filter.get().owner_id.parse().ok()) />
                    }
                })}
            </Suspense>
            <div class="field">
                <label for="f-status">"Status"</label>
                <select id="f-status" name="status">
                    <option value="">"Any"</option>
                    <option value="active" selected=move || filter.get().status == "active">"Open or in progress"</option>
                    {ItemStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || filter.get().status == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-priority">"Priority"</label>
                <select id="f-priority" name="priority">
                    <option value="">"Any"</option>
                    {Priority::ALL.into_iter().map(|p| view! {
                        <option value=p.label() selected=move || filter.get().priority == p.label()>{format!("{} — {}", p.label(), p.meaning())}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-incident">"Incident"</label>
                <input id="f-incident" name="incident" type="text" placeholder="INC-12"
                    prop:value=move || filter.get().incident />
            </div>
            <div class="field">
                <label for="f-sort">"Sort by"</label>
                <select id="f-sort" name="sort">
                    <option value="due">"Due date"</option>
                    <option value="priority" selected=move || filter.get().sort == "priority">"Priority"</option>
                    <option value="age" selected=move || filter.get().sort == "age">"Age (oldest first)"</option>
                </select>
            </div>
            <label class="check"><input type="checkbox" name="overdue" value="true" prop:checked=move || filter.get().overdue />" Overdue"</label>
            <label class="check"><input type="checkbox" name="unscheduled" value="true" prop:checked=move || filter.get().unscheduled />" Unscheduled"</label>
            <button type="submit">"Filter"</button>
        </Form>
        <Loaded resource=tracker render=move |t| {
                        let c = t.counts;
                        let rights = ItemRights { can_edit: t.can_edit, leads: t.leads.clone() };
                        view! {
                            <p class="counts" role="status">
                                {format!("{} items: {} open, {} in progress, {} done, {} won't do · {} overdue · {} unscheduled",
                                    c.total, c.open, c.in_progress, c.done, c.wont_do, c.overdue, c.unscheduled)}
                                " · "<a href=csv download>"Export CSV"</a>
                            </p>
                            <ItemTable items=t.items rights on_change=Callback::new(move |_| changed.update(|n| *n += 1)) show_incident=true />
                            <PageLinks filter=filter.get_untracked() next=t.next_cursor />
                            {t.can_edit.then(|| view! {
                                <details class="add-item card">
                                    <summary>"Add an action item"</summary>
                                    <NewItemForm incident_number=None on_created=Callback::new(move |_| changed.update(|n| *n += 1)) />
                                </details>
                            })}
                        }.into_any()
                    } />
    }
}

/// The filter as query parameters (`&k=v…`), without the page cursor and the reader's
/// offset (the page adds its own).
fn filter_query(f: &ItemFilter) -> String {
    f.query_pairs()
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "cursor" | "tz_offset_minutes"))
        .map(|(k, v)| format!("&{k}={}", url_encode(&v)))
        .collect()
}

/// The tracker is read a page at a time (keyset cursor, as the incident history):
/// links to the next page and back to the first.
#[component]
fn PageLinks(filter: ItemFilter, next: Option<String>) -> impl IntoView {
    let query = filter_query(&filter);
    let first = (!filter.cursor.is_empty()).then(|| format!("/actions?{}", query.trim_start_matches('&')));
    let next = next.map(|cursor| format!("/actions?cursor={cursor}{query}"));
    view! {
        <p class="pages">
            {first.map(|href| view! { <a href=href>"← First page"</a>" " })}
            {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
        </p>
    }
}

/// What I own, soonest due first.
#[component]
fn Mine() -> impl IntoView {
    let offset = use_offset();
    let viewer = use_caller();
    let changed = RwSignal::new(0u32);
    let tracker = Resource::new(
        move || (offset.get(), changed.get()),
        move |(offset, _)| async move {
            let me = match viewer {
                Some(v) => v.await?.ok_or(AppError::Unauthenticated)?,
                None => return Err(AppError::Unauthenticated),
            };
            list_action_items(ItemFilter {
                owner_id: me.id.to_string(),
                status: "active".into(),
                tz_offset_minutes: offset,
                ..Default::default()
            })
            .await
        },
    );
    view! {
        <Loaded resource=tracker render=move |t| {
                        let rights = ItemRights { can_edit: t.can_edit, leads: t.leads.clone() };
                        view! {
                            <p class="counts">{format!("You own {} open items; {} overdue.", t.counts.total, t.counts.overdue)}</p>
                            <ItemTable items=t.items rights on_change=Callback::new(move |_| changed.update(|n| *n += 1)) show_incident=true />
                            {t.next_cursor.map(|_| view! {
                                <p><a href=format!("/actions?owner_id={}&status=active", t.viewer_id)>"All of them, a page at a time →"</a></p>
                            })}
                        }.into_any()
                    } />
    }
}

/// Each of my teams: open items grouped by status, overdue first, unscheduled called
/// out, and who carries how much.
#[component]
fn MyTeam() -> impl IntoView {
    let offset = use_offset();
    let viewer = use_caller();
    let changed = RwSignal::new(0u32);
    let data = Resource::new(
        move || (offset.get(), changed.get()),
        move |(offset, _)| async move {
            let me = match viewer {
                Some(v) => v.await?.ok_or(AppError::Unauthenticated)?,
                None => return Err(AppError::Unauthenticated),
            };
            let teams: Vec<Team> = list_teams()
                .await?
                .into_iter()
                .filter(|t| {
                    t.members.iter().any(|m| m.user_id == me.id) || t.lead.as_ref().is_some_and(|l| l.user_id == me.id)
                })
                .collect();
            let mut out = Vec::new();
            for team in teams {
                let filter = ItemFilter {
                    team_id: team.id.to_string(),
                    status: "active".into(),
                    tz_offset_minutes: offset,
                    ..Default::default()
                };
                out.push((team, list_action_items(filter).await?));
            }
            Ok::<_, AppError>(out)
        },
    );
    view! {
        <Loaded resource=data render=move |teams| if teams.is_empty() {
            view! { <p class="muted">"You are not in a team yet: an administrator adds people to teams."</p> }.into_any()
        } else {
            teams.into_iter().map(|(team, t)| {
                        let on_change = Callback::new(move |_| changed.update(|n| *n += 1));
                        let rights = ItemRights { can_edit: t.can_edit, leads: t.leads.clone() };
                        let mut load: Vec<(String, usize)> = Vec::new();
                        for item in &t.items {
                            let name = item.owner.as_ref().map(|p| p.display_name.clone()).unwrap_or_else(|| "Nobody".into());
                            match load.iter_mut().find(|(n, _)| *n == name) {
                                Some(entry) => entry.1 += 1,
                                None => load.push((name, 1)),
                            }
                        }
                        load.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                        let unscheduled: Vec<ActionItem> = t.items.iter().filter(|i| i.unscheduled).cloned().collect();
                        let group = |status: ItemStatus| {
                            let mut items: Vec<ActionItem> = t.items.iter().filter(|i| i.status == status).cloned().collect();
                            // Overdue first, then by due date.
                            items.sort_by_key(|i| (!i.overdue, i.due_date.is_none(), i.due_date, i.priority));
                            items
                        };
                        let (open, in_progress) = (group(ItemStatus::Open), group(ItemStatus::InProgress));
                        view! {
                            <section class="card team-items" aria-label=format!("Team {}", team.name)>
                                <h2>{team.name.clone()}</h2>
                                <p class="counts">{format!("{} open · {} overdue · {} unscheduled", t.counts.total, t.counts.overdue, t.counts.unscheduled)}</p>
                                {(!unscheduled.is_empty()).then(|| view! {
                                    <div class="callout" role="note">
                                        <strong>"Unscheduled: "</strong>"these need an owner and a due date:"
                                        <ul>{unscheduled.into_iter().map(|i| view! {
                                            <li>{format!("#{} {}", i.id, i.title)}" "<ItemFlags item=i.clone() /></li>
                                        }).collect_view()}</ul>
                                    </div>
                                })}
                                <h3>"Load per owner"</h3>
                                <ul class="load">{load.into_iter().map(|(name, n)| view! { <li>{format!("{name}: {n}")}</li> }).collect_view()}</ul>
                                <h3>"In progress"</h3>
                                <ItemTable items=in_progress rights=rights.clone() on_change show_incident=true />
                                <h3>"Open"</h3>
                                <ItemTable items=open rights on_change show_incident=true />
                                {t.next_cursor.map(|_| view! {
                                    <p><a href=format!("/actions?team_id={}&status=active", team.id)>"All of the team's open items, a page at a time →"</a></p>
                                })}
                            </section>
                        }
                    }).collect_view().into_any()
        } />
    }
}

/// Per team: the figures, and open vs done over 12 weeks as an SVG chart (drawn on the
/// server, readable without JavaScript, with the numbers as its text alternative).
#[component]
fn Summary() -> impl IntoView {
    let offset = use_offset();
    let summary = Resource::new(move || offset.get(), list_team_summaries);
    view! {
        <Loaded resource=summary render=move |teams| if teams.is_empty() {
            view! { <p class="muted">"No action items yet."</p> }.into_any()
        } else {
            view! {
                        <table class="list summary">
                            <thead><tr>
                                <th scope="col">"Team"</th><th scope="col">"Open"</th><th scope="col">"Overdue"</th>
                                <th scope="col">"Unscheduled"</th><th scope="col">"Done (30 days)"</th>
                                <th scope="col">"Median days to done"</th><th scope="col">"Open vs done, 12 weeks"</th>
                            </tr></thead>
                            <tbody>
                                {teams.into_iter().map(|t| view! {
                                    <tr>
                                        <th scope="row">{t.team_name.clone()}</th>
                                        <td>{t.open}</td><td>{t.overdue}</td><td>{t.unscheduled}</td><td>{t.done_30_days}</td>
                                        <td>{t.median_days_to_done.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into())}</td>
                                        <td><WeeksChart team=t.team_name.clone() weeks=t.weeks.clone() /></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
            }.into_any()
        } />
    }
}

/// Two lines over 12 weeks: open items at each week's end, and items done that week.
#[component]
fn WeeksChart(team: String, weeks: Vec<(i64, i64)>) -> impl IntoView {
    const W: f64 = 240.0;
    const H: f64 = 60.0;
    let max = weeks.iter().map(|(o, d)| (*o).max(*d)).max().unwrap_or(0).max(1) as f64;
    let step = W / (weeks.len().max(2) - 1) as f64;
    let points = |pick: fn(&(i64, i64)) -> i64| {
        weeks
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{:.1},{:.1}", i as f64 * step, H - pick(w) as f64 / max * (H - 4.0) - 2.0))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = format!(
        "{team}, oldest week first. Open: {}. Done: {}.",
        weeks.iter().map(|w| w.0.to_string()).collect::<Vec<_>>().join(", "),
        weeks.iter().map(|w| w.1.to_string()).collect::<Vec<_>>().join(", ")
    );
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") width=W height=H role="img" aria-label=text.clone()>
                <title>{text.clone()}</title>
                <polyline class="open-line" fill="none" stroke-width="2" points=points(|w| w.0) />
                <polyline class="done-line" fill="none" stroke-width="2" stroke-dasharray="4 3" points=points(|w| w.1) />
            </svg>
            <figcaption class="legend"><span class="open-key">"— open"</span>" "<span class="done-key">"- - done"</span></figcaption>
        </figure>
    }
}
