//! `/admin`: users, teams and services. Administrators only; everyone else gets a 403 page.

use crate::api::admin::*;
use crate::components::form::{Field, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::error::AppError;
use crate::model::{Role, Service, Team, UserSummary};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminPage() -> impl IntoView {
    let add_user = ServerAction::<AddUser>::new();
    let change_role = ServerAction::<ChangeRole>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let create_team = ServerAction::<CreateTeam>::new();
    let add_member = ServerAction::<AddTeamMember>::new();
    let remove_member = ServerAction::<RemoveTeamMember>::new();
    let set_lead = ServerAction::<SetTeamLead>::new();
    let create_service = ServerAction::<CreateService>::new();
    let update_service = ServerAction::<UpdateService>::new();
    let set_public = ServerAction::<crate::api::comms::SetServicePublic>::new();

    // Reload what the page shows after any change.
    let changes = move || {
        (
            add_user.version().get(),
            change_role.version().get(),
            set_active.version().get(),
            create_team.version().get(),
            add_member.version().get(),
            remove_member.version().get(),
            set_lead.version().get(),
            create_service.version().get(),
            update_service.version().get(),
            set_public.version().get(),
        )
    };
    let data = Resource::new(changes, |_| async {
        let users = list_users().await?;
        let teams = list_teams().await?;
        let services = list_services().await?;
        Ok::<_, AppError>((users, teams, services))
    });

    let row_error = Signal::derive(move || {
        [
            change_role.value().get().and_then(|r| r.err()),
            set_active.value().get().and_then(|r| r.err()),
            add_member.value().get().and_then(|r| r.err()),
            remove_member.value().get().and_then(|r| r.err()),
            set_lead.value().get().and_then(|r| r.err()),
            update_service.value().get().and_then(|r| r.err()),
            set_public.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    });

    view! {
        <Title text="Admin" />
        <Loaded resource=data forbidden="Only administrators can manage users, teams and services."
            render=move |(users, teams, services)| view! {
                        <div class="page-head">
                            <h1>"Admin"</h1>
                            <nav class="links" aria-label="More administration">
                                <a href="/admin/integrations">"Integrations"</a>" · "<a href="/admin/audit">"Audit log"</a>
                            </nav>
                        </div>
                        <FormError error=row_error />
                        <UsersSection users=users.clone() add_user change_role set_active />
                        <TeamsSection teams=teams.clone() users create_team add_member remove_member set_lead />
                        <ServicesSection services teams create_service update_service set_public />
                        <crate::pages::admin_notifications::NotificationsSection />
            } />
    }
}

#[component]
fn UsersSection(
    users: Vec<UserSummary>,
    add_user: ServerAction<AddUser>,
    change_role: ServerAction<ChangeRole>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    let add_error = last_error(add_user);
    view! {
        <section class="card" aria-labelledby="users-heading">
            <h2 id="users-heading">"Users"</h2>
            <table class="list">
                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let select_id = format!("role-{}", u.id);
                        view! {
                            <tr class:inactive=!u.active>
                                <td>{u.display_name.clone()}</td>
                                <td>{u.email.clone()}</td>
                                <td>
                                    <ActionForm action=change_role attr:class="inline">
                                        <input type="hidden" name="user_id" value=u.id.0 />
                                        <label class="visually-hidden" for=select_id.clone()>{format!("Role of {}", u.display_name)}</label>
                                        <select id=select_id name="role">
                                            {Role::ALL.into_iter().map(|r| view! {
                                                <option value=r.as_str() selected=r == u.role>{r.label()}</option>
                                            }).collect_view()}
                                        </select>
                                        <button type="submit" class="secondary small">"Save role"</button>
                                    </ActionForm>
                                </td>
                                <td>{if u.active { "Active" } else { "Deactivated" }}</td>
                                <td>
                                    <ActionForm action=set_active attr:class="inline">
                                        <input type="hidden" name="user_id" value=u.id.0 />
                                        <input type="hidden" name="active" value=(!u.active).to_string() />
                                        <button type="submit" class="secondary small">
                                            {if u.active { "Deactivate" } else { "Reactivate" }}
                                        </button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Add a user"</h3>
            <ActionForm action=add_user attr:class="grid-form">
                <FormError error=add_error inline=&["email", "display_name", "password"] id_prefix="new-user-" />
                <Field label="Email" name="email" max=crate::model::Email::MAX kind="email" required=true error=add_error id_prefix="new-user-" />
                <Field label="Name" name="display_name" max=crate::model::DisplayName::MAX required=true error=add_error id_prefix="new-user-" />
                <div class="field">
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" name="role">
                        <option value="responder" selected>"Responder"</option>
                        <option value="viewer">"Viewer"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <Field label="Initial password" name="password" max=crate::model::Password::MAX kind="password" autocomplete="new-password" required=true error=add_error id_prefix="new-user-" />
                <button type="submit">"Add user"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TeamsSection(
    teams: Vec<Team>,
    users: Vec<UserSummary>,
    create_team: ServerAction<CreateTeam>,
    add_member: ServerAction<AddTeamMember>,
    remove_member: ServerAction<RemoveTeamMember>,
    set_lead: ServerAction<SetTeamLead>,
) -> impl IntoView {
    let create_error = last_error(create_team);
    let active_users: Vec<UserSummary> = users.into_iter().filter(|u| u.active).collect();
    view! {
        <section class="card" aria-labelledby="teams-heading">
            <h2 id="teams-heading">"Teams"</h2>
            {teams.is_empty().then(|| view! { <p class="muted">"No teams yet."</p> })}
            {teams.into_iter().map(|team| {
                let team_id = team.id;
                let member_select = format!("team-{team_id}-member");
                let lead_select = format!("team-{team_id}-lead");
                let lead_id = team.lead.as_ref().map(|l| l.user_id);
                let candidates = active_users.clone();
                let members_for_lead = team.members.clone();
                let team_name = team.name.clone();
                view! {
                    <article class="team">
                        <h3>{team.name.clone()}</h3>
                        <p>
                            "Lead: "
                            {team.lead.as_ref().map(|l| l.display_name.clone()).unwrap_or_else(|| "none".to_owned())}
                        </p>
                        <ul class="members">
                            {team.members.clone().into_iter().map(|m| {
                                let label = format!("Remove {} from {}", m.display_name, team_name);
                                view! {
                                <li>
                                    {m.display_name.clone()}
                                    <ActionForm action=remove_member attr:class="inline">
                                        <input type="hidden" name="team_id" value=team_id.0 />
                                        <input type="hidden" name="user_id" value=m.user_id.0 />
                                        <button type="submit" class="link small" aria-label=label>"Remove"</button>
                                    </ActionForm>
                                </li>
                            }}).collect_view()}
                        </ul>
                        <div class="row">
                            <ActionForm action=add_member attr:class="inline">
                                <input type="hidden" name="team_id" value=team_id.0 />
                                <label for=member_select.clone()>"Add member"</label>
                                <select id=member_select name="user_id">
                                    {candidates.into_iter().map(|u| view! { <option value=u.id.0>{u.display_name}</option> }).collect_view()}
                                </select>
                                <button type="submit" class="secondary small">"Add"</button>
                            </ActionForm>
                            <ActionForm action=set_lead attr:class="inline">
                                <input type="hidden" name="team_id" value=team_id.0 />
                                <label for=lead_select.clone()>"Lead"</label>
                                <select id=lead_select name="user_id">
                                    <option value="" selected=lead_id.is_none()>"No lead"</option>
                                    {members_for_lead.into_iter().map(|m| view! {
                                        <option value=m.user_id.0 selected=Some(m.user_id) == lead_id>{m.display_name}</option>
                                    }).collect_view()}
                                </select>
                                <button type="submit" class="secondary small">"Set lead"</button>
                            </ActionForm>
                        </div>
                    </article>
                }
            }).collect_view()}
            <h3>"Create a team"</h3>
            <ActionForm action=create_team attr:class="grid-form">
                <Field label="Team name" name="name" max=crate::model::TeamName::MAX required=true error=create_error id_prefix="new-team-" />
                <FormError error=create_error inline=&["name"] id_prefix="new-team-" />
                <button type="submit">"Create team"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TeamSelect(id: String, teams: Vec<Team>, selected: Option<crate::model::TeamId>) -> impl IntoView {
    view! {
        <select id=id name="team_id">
            <option value="" selected=selected.is_none()>"No owning team"</option>
            {teams.into_iter().map(|t| view! {
                <option value=t.id.0 selected=Some(t.id) == selected>{t.name}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
fn ServicesSection(
    services: Vec<Service>,
    teams: Vec<Team>,
    create_service: ServerAction<CreateService>,
    update_service: ServerAction<UpdateService>,
    set_public: ServerAction<crate::api::comms::SetServicePublic>,
) -> impl IntoView {
    let create_error = last_error(create_service);
    let no_error: Signal<Option<AppError>> = Signal::derive(|| None);
    let teams_for_new = teams.clone();
    view! {
        <section class="card" aria-labelledby="services-heading">
            <h2 id="services-heading">"Services"</h2>
            {services.is_empty().then(|| view! { <p class="muted">"No services yet."</p> })}
            {services.into_iter().map(|s| {
                let prefix = format!("service-{}-", s.id);
                let teams = teams.clone();
                let toggle = if s.public { format!("Remove {} from the status page", s.name) } else { format!("Show {} on the status page", s.name) };
                view! {
                    <ActionForm action=update_service attr:class="grid-form service">
                        <input type="hidden" name="id" value=s.id.0 />
                        <Field label="Name" name="name" value=s.name.clone() max=crate::model::ServiceName::MAX required=true error=no_error id_prefix=prefix.clone() />
                        <div class="field">
                            <label for=format!("{prefix}team_id")>"Owning team"</label>
                            <TeamSelect id=format!("{prefix}team_id") teams selected=s.team_id />
                        </div>
                        <Field label="Description" name="description" max=crate::model::ServiceDescription::MAX value=s.description.clone() error=no_error id_prefix=prefix />
                        <button type="submit" class="secondary">"Save service"</button>
                    </ActionForm>
                    <ActionForm action=set_public attr:class="inline public-toggle">
                        <input type="hidden" name="id" value=s.id.0 />
                        <input type="hidden" name="public" value=(!s.public).to_string() />
                        <span>{if s.public { "On the public status page" } else { "Not on the public status page" }}</span>
                        <button type="submit" class="secondary small">{toggle}</button>
                    </ActionForm>
                }
            }).collect_view()}
            <h3>"Add a service"</h3>
            <ActionForm action=create_service attr:class="grid-form">
                <FormError error=create_error inline=&["name", "description"] id_prefix="new-service-" />
                <Field label="Service name" name="name" max=crate::model::ServiceName::MAX required=true error=create_error id_prefix="new-service-" />
                <div class="field">
                    <label for="new-service-team_id">"Owning team"</label>
                    <TeamSelect id="new-service-team_id".to_owned() teams=teams_for_new selected=None />
                </div>
                <Field label="Description" name="description" max=crate::model::ServiceDescription::MAX error=create_error id_prefix="new-service-" />
                <button type="submit">"Add service"</button>
            </ActionForm>
        </section>
    }
}
