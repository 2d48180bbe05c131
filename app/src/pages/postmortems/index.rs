//! `/postmortems`: every postmortem (drafts only for those who write them), filtered and
//! searched, and the upcoming meetings anyone may join.

use crate::api::postmortems::{AttendPostmortem, get_calendar_feed, list_postmortems};
use crate::components::form::{FormError, TeamServiceFilters, last_error};
use crate::components::incident::SeverityBadge;
use crate::components::loaded::Loaded;
use crate::components::time::Time;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PostmortemsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        PostmortemFilter {
            team_id: q.get("team_id").unwrap_or_default(),
            status: q.get("status").unwrap_or_default(),
            service_id: q.get("service_id").unwrap_or_default(),
            q: q.get("q").unwrap_or_default(),
        }
    });
    let attend = ServerAction::<AttendPostmortem>::new();
    let index = Resource::new(move || (filter.get(), attend.version().get()), |(f, _)| list_postmortems(f));

    view! {
        <Title text="Postmortems" />
        <h1>"Postmortems"</h1>
        <Loaded resource=index render=move |index| view! {
                        <Meetings meetings=index.meetings.clone() can_edit=index.can_edit viewer_id=index.viewer_id attend />
                        <Form method="GET" action="" attr:class="card filters">
                            <div class="field">
                                <label for="pm-q">"Search the text"</label>
                                <input id="pm-q" name="q" type="search" prop:value=move || filter.get().q />
                            </div>
                            <div class="field">
                                <label for="pm-f-status">"Status"</label>
                                <select id="pm-f-status" name="status">
                                    <option value="">"Any"</option>
                                    {PostmortemStatus::ALL.into_iter().filter(|s| index.can_edit || *s == PostmortemStatus::Published).map(|s| view! {
                                        <option value=s.as_str() selected=move || filter.get().status == s.as_str()>{s.label()}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <TeamServiceFilters id_prefix="pm-f-" team=Signal::derive(move || filter.get().team_id.parse().ok())
                                service=Signal::derive(move || filter.get().service_id.parse().ok()) />
                            <button type="submit">"Filter"</button>
                        </Form>
                        <PostmortemTable rows=index.postmortems />
                    } />
    }
}

#[component]
fn PostmortemTable(rows: Vec<PostmortemSummary>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No postmortems match."</p> }.into_any();
    }
    view! {
        <table class="list postmortems">
            <thead><tr>
                <th scope="col">"Incident"</th><th scope="col">"Severity"</th><th scope="col">"Status"</th>
                <th scope="col">"Team"</th><th scope="col">"Started"</th><th scope="col">"Published"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <td><a href=format!("/postmortems/{}", incident_ref(r.incident_number))>
                            <span class="ref">{incident_ref(r.incident_number)}</span>" "{r.incident_title}</a></td>
                        <td><SeverityBadge severity=r.severity /></td>
                        <td><span class=format!("pm-status pm-{}", r.status.as_str())>{r.status.label()}</span></td>
                        <td>{r.team_name.unwrap_or_else(|| "—".into())}</td>
                        <td><Time at=r.created_at /></td>
                        <td>{r.published_at.map(|at| view! { <Time at /> }.into_any()).unwrap_or_else(|| "—".into_any())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Upcoming meetings, with "I'll attend" and the address of the calendar feed.
#[component]
fn Meetings(
    meetings: Vec<Meeting>,
    can_edit: bool,
    viewer_id: UserId,
    attend: ServerAction<AttendPostmortem>,
) -> impl IntoView {
    let error = last_error(attend);
    let feed = RwSignal::new(None::<String>);
    let show_feed = move |_| {
        leptos::task::spawn_local(async move {
            let address = match get_calendar_feed().await {
                Ok(path) => {
                    let origin = window().location().origin().unwrap_or_default();
                    format!("{origin}{path}")
                }
                Err(e) => e.to_string(),
            };
            feed.set(Some(address));
        });
    };
    view! {
        <section class="card meetings" aria-labelledby="meetings-heading">
            <h2 id="meetings-heading">"Upcoming meetings"</h2>
            <p class="hint">"Postmortems are blameless and open: anyone may attend."</p>
            {if meetings.is_empty() {
                view! { <p class="muted">"No meetings scheduled."</p> }.into_any()
            } else {
                view! {
                    <ul class="meeting-list">
                        {meetings.into_iter().map(|m| {
                            let attending = m.attendees.iter().any(|p| p.id == viewer_id);
                            view! {
                                <li>
                                    <Time at=m.at />" · "
                                    <a href=format!("/postmortems/{}", incident_ref(m.incident_number))>
                                        {format!("{} {}", incident_ref(m.incident_number), m.incident_title)}</a>
                                    {(!m.place.is_empty()).then(|| format!(" · {}", m.place))}
                                    <span class="muted">{format!(" · {} attending", m.attendees.len())}</span>
                                    {can_edit.then(|| view! {
                                        <ActionForm action=attend attr:class="inline">
                                            <input type="hidden" name="number" value=m.incident_number.0 />
                                            <input type="hidden" name="attending" value=(!attending).to_string() />
                                            <button type="submit" class="secondary small">{if attending { "I can't attend" } else { "I'll attend" }}</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <FormError error />
            <button type="button" class="link small" on:click=show_feed>"Subscribe in your calendar"</button>
            {move || feed.get().map(|address| view! {
                <div class="field">
                    <label for="feed-address">"Your private calendar address (iCalendar)"</label>
                    <input id="feed-address" type="text" readonly value=address />
                </div>
            })}
        </section>
    }
}
