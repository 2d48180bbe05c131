//! The incident page's "Who can see it" card: public or private, and (for point and
//! admins) the controls that change it and add people to the response.

use crate::api::incidents::{AddParticipant, SetIncidentPrivacy, list_people};
use crate::components::form::{FormError, last_error};
use crate::model::{IncidentDetail, IncidentNumber, Privacy};
use leptos::prelude::*;

#[component]
pub fn AccessCard(incident: IncidentDetail, can_manage: bool) -> impl IntoView {
    let number = incident.number;
    let Privacy { private, team_can_see } = incident.privacy;
    let who = match (private, team_can_see) {
        (false, _) => "Public: everyone signed in to Foghorn can see this incident.",
        (true, false) => "Private: only the people in the response and admins can see it.",
        (true, true) => "Private: only the people in the response, the owning team and admins can see it.",
    };
    view! {
        <section class="card access" aria-labelledby="access-heading">
            <h2 id="access-heading">"Who can see it"</h2>
            <p>{private.then(|| view! { <span class="badge private">"Private"</span>" " })}{who}</p>
            {can_manage.then(|| view! {
                <PrivacyForm number privacy=incident.privacy has_team=incident.team_id.is_some() is_drill=incident.is_drill />
                <AddPerson number />
            })}
        </section>
    }
}

#[component]
fn PrivacyForm(number: IncidentNumber, privacy: Privacy, has_team: bool, is_drill: bool) -> impl IntoView {
    let action = ServerAction::<SetIncidentPrivacy>::new();
    let error = last_error(action);
    if is_drill {
        return view! { <p class="hint">"A drill is a rehearsal for everyone: it cannot be private."</p> }.into_any();
    }
    // Each choice is one small form: (private, visible to the team, what the button says).
    let mut choices = Vec::new();
    if privacy.private {
        choices.push((false, false, "Make public"));
        if has_team {
            let label = if privacy.team_can_see { "Hide from the owning team" } else { "Show to the owning team" };
            choices.push((true, !privacy.team_can_see, label));
        }
    } else {
        choices.push((true, false, "Make private"));
        if has_team {
            choices.push((true, true, "Make private, visible to the owning team"));
        }
    }
    view! {
        <div class="row">
            {choices.into_iter().map(|(private, team_can_see, label)| view! {
                <ActionForm action attr:class="inline">
                    <input type="hidden" name="number" value=number.0 />
                    <input type="hidden" name="private" value=private.to_string() />
                    <input type="hidden" name="team_can_see" value=team_can_see.to_string() />
                    <button type="submit" class="secondary">{label}</button>
                </ActionForm>
            }).collect_view()}
        </div>
        <FormError error />
    }
    .into_any()
}

#[component]
fn AddPerson(number: IncidentNumber) -> impl IntoView {
    let action = ServerAction::<AddParticipant>::new();
    let error = last_error(action);
    // Loaded after hydration: not every render of the page needs the whole directory.
    let people = crate::components::load_in_browser(list_people);
    view! {
        <ActionForm action attr:class="add-person">
            <input type="hidden" name="number" value=number.0 />
            <div class="row">
                <div class="field">
                    <label for="add-person">"Add to the response"</label>
                    <select id="add-person" name="user_id">
                        {move || people.get().and_then(Result::ok).unwrap_or_default().into_iter()
                            .map(|p| view! { <option value=p.id.0>{p.display_name}</option> })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" class="secondary">"Add"</button>
            </div>
        </ActionForm>
        <FormError error />
    }
}
