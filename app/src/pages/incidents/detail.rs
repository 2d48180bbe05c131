//! `/incidents/INC-N`: the one place an incident is worked, live for everyone.
//!
//! Drafts (the note composer, the edit form) live in the page, above the part that is
//! re-rendered when the incident changes, so a live update never loses what someone
//! is typing.

use super::controls::{Controls, EditDetails, EditDraft, Milestones, PostmortemCard, RoleHistory};
use super::timeline::{Composer, EarlierEntries, Timeline};
use crate::api::incidents::*;
use crate::components::action_items::IncidentItems;
use crate::components::comms::{CommsCard, CommsDraft, PublicStateCard};
use crate::components::focus::FocusKeeper;
use crate::components::incident::{Holder, SeverityBadge, StatusBadge};
use crate::components::live::{Announcements, Announcer, LiveIndicator, use_live, use_now};
use crate::components::loaded::Loaded;
use crate::components::runbooks::IncidentRunbooks;
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
            let from = shown_from.get().filter(|(of, _)| Some(*of) == number.map(|v| v.0)).map(|(_, seq)| seq);
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
        <Loaded resource=view page="Incident" render=move |v| view! { <IncidentScreen v refresh shown_from draft edit_draft comms_draft focus announcer /> } />
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
