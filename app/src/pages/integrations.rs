//! `/admin/integrations`: service tokens (and every token), and the alert routing
//! rules that decide what an alert from Alertmanager or Grafana does. Admins only.

use crate::api::admin::{list_services, list_teams};
use crate::api::integrations::*;
use crate::components::form::{Field, FormError, IdSelect, last_error};
use crate::components::loaded::Loaded;
use crate::components::tokens::{NewTokenForm, TokenList};
use crate::error::AppError;
use crate::model::{AlertRoute, Service, Severity, Team, format_matchers};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let add_route = ServerAction::<AddAlertRoute>::new();
    let change_route = ServerAction::<ChangeAlertRoute>::new();
    let changes = move || {
        (create.version().get(), revoke.version().get(), add_route.version().get(), change_route.version().get())
    };
    let data = Resource::new(changes, |_| async {
        Ok::<_, AppError>((
            list_all_tokens().await?,
            list_alert_routes().await?,
            list_services().await?,
            list_teams().await?,
        ))
    });
    let row_error = Signal::derive(move || {
        revoke.value().get().and_then(|r| r.err()).or_else(|| change_route.value().get().and_then(|r| r.err()))
    });
    view! {
        <Title text="Integrations" />
        <Loaded resource=data forbidden="Only administrators can manage service tokens and alert routing."
            render=move |(tokens, routes, services, teams)| view! {
                        <div class="page-head">
                            <h1>"Integrations"</h1>
                            <a href="/admin">"Admin"</a>
                        </div>
                        <FormError error=row_error />
                        <section class="card" aria-labelledby="service-tokens-heading">
                            <h2 id="service-tokens-heading">"API tokens"</h2>
                            <p class="hint">"A service token belongs to no person: it acts as its own bot with the role you give it, and what it writes is signed \"bot: <name>\". Alertmanager and Grafana need one with the responder role."</p>
                            <TokenList tokens revoke owners=true />
                            <h3>"New service token"</h3>
                            <NewTokenForm action=create service=true />
                        </section>
                        <AlertRouting routes services teams add_route change_route />
            } />
    }
}

#[component]
fn AlertRouting(
    routes: Vec<AlertRoute>,
    services: Vec<Service>,
    teams: Vec<Team>,
    add_route: ServerAction<AddAlertRoute>,
    change_route: ServerAction<ChangeAlertRoute>,
) -> impl IntoView {
    let error = last_error(add_route);
    let service_name = |id: Option<crate::model::ServiceId>| {
        id.and_then(|id| services.iter().find(|s| s.id == id).map(|s| s.name.clone())).unwrap_or_else(|| "—".into())
    };
    let team_name = |id: Option<crate::model::TeamId>| {
        id.and_then(|id| teams.iter().find(|t| t.id == id).map(|t| t.name.clone())).unwrap_or_else(|| "—".into())
    };
    let count = routes.len();
    view! {
        <section class="card" aria-labelledby="routing-heading">
            <h2 id="routing-heading">"Alert routing"</h2>
            <p class="hint">"Alert notifications arrive at "<code>"/api/v1/alerts/alertmanager"</code>" and "<code>"/api/v1/alerts/grafana"</code>". The first rule whose matchers all hold for an alert group's labels decides; without one, the group declares an incident with the severity its "<code>"severity"</code>" label names (critical → SEV1, error → SEV2, warning → SEV3, info → SEV4)."</p>
            {if routes.is_empty() {
                view! { <p class="muted">"No rules: every alert group declares an incident."</p> }.into_any()
            } else {
                view! {
                    <table class="list">
                        <thead><tr><th>"#"</th><th>"Rule"</th><th>"Matchers"</th><th>"Service"</th><th>"Team"</th><th>"Severity"</th><th>"Does"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {routes.into_iter().enumerate().map(|(i, r)| {
                                let change = move |what: &'static str, label: String, disabled: bool| view! {
                                    <ActionForm action=change_route attr:class="inline">
                                        <input type="hidden" name="id" value=r.id />
                                        <input type="hidden" name="change" value=what />
                                        <button type="submit" class="secondary small" aria-label=label disabled=disabled>{what}</button>
                                    </ActionForm>
                                };
                                view! {
                                    <tr>
                                        <td>{i + 1}</td>
                                        <td>{r.name.clone()}</td>
                                        <td><code>{if r.matchers.is_empty() { "(every alert)".to_owned() } else { format_matchers(&r.matchers) }}</code></td>
                                        <td>{service_name(r.service_id)}</td>
                                        <td>{team_name(r.team_id)}</td>
                                        <td>{r.severity.map(|s| s.label().to_owned()).unwrap_or_else(|| "from label".into())}</td>
                                        <td>{if r.declare { "Declares" } else { "Records only" }}</td>
                                        <td>
                                            {change("up", format!("Move {} up", r.name), i == 0)}
                                            {change("down", format!("Move {} down", r.name), i + 1 == count)}
                                            {change("delete", format!("Delete {}", r.name), false)}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <h3>"New rule"</h3>
            <ActionForm action=add_route>
                <FormError error=error inline=&["name", "matchers"] id_prefix="route-" />
                <Field label="Name" name="name" max=crate::model::RouteName::MAX required=true error=error id_prefix="route-" />
                <Field label="Matchers, as in Alertmanager (e.g. team=\"payments\", env!~\"dev|test\"; empty: every alert)"
                    name="matchers" error=error id_prefix="route-" />
                <IdSelect id="route-service" name="service_id" label="Service" empty="None"
                    options=services.into_iter().map(|s| (s.id, s.name)).collect() />
                <IdSelect id="route-team" name="team_id" label="Owning team" empty="None"
                    options=teams.into_iter().map(|t| (t.id, t.name)).collect() />
                <div class="field">
                    <label for="route-severity">"Severity"</label>
                    <select id="route-severity" name="severity">
                        <option value="">"From the severity label"</option>
                        {Severity::ALL.into_iter().map(|s| view! { <option value=s.label()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="route-action">"Then"</label>
                    <select id="route-action" name="action">
                        <option value="declare">"Declare an incident"</option>
                        <option value="record">"Only record the alerts"</option>
                    </select>
                </div>
                <button type="submit">"Add rule"</button>
            </ActionForm>
        </section>
    }
}
