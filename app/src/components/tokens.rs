//! API tokens as people manage them: the create form (which shows the new secret once)
//! and the list with revoke buttons. The account page shows a person's own tokens;
//! Admin → Integrations every token, and creates service tokens.

use crate::api::integrations::{CreateToken, RevokeToken};
use crate::components::form::{Field, FormError, last_error};
use crate::components::time::Time;
use crate::model::{ApiToken, MAX_TOKEN_DAYS, Role};
use leptos::prelude::*;

/// The form that creates a token; `service` adds the role of a service token.
#[component]
pub fn NewTokenForm(action: ServerAction<CreateToken>, #[prop(optional)] service: bool) -> impl IntoView {
    let error = last_error(action);
    let prefix = if service { "service-" } else { "personal-" };
    view! {
        <ActionForm action=action>
            <FormError error=error inline=&["name", "expires_days"] id_prefix=prefix />
            <Field label="Name (what uses it)" name="name" max=crate::model::TokenName::MAX required=true error=error id_prefix=prefix />
            {service.then(|| view! {
                <div class="field">
                    <label for="service-role">"Role"</label>
                    <select id="service-role" name="service_role">
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == Role::Responder>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
            })}
            <Field label=format!("Expires after (days, at most {MAX_TOKEN_DAYS}; empty: never)") name="expires_days"
                kind="number" error=error id_prefix=prefix />
            <label class="check"><input type="checkbox" name="read_only" value="yes" />" Read-only"</label>
            {move || action.value().get().and_then(|r| r.ok()).map(|created| {
                let id = format!("{prefix}new-token");
                view! {
                    <div class="field success" role="status">
                        <label for=id.clone()>{format!("Token \"{}\": copy it now, it is not shown again", created.token.name)}</label>
                        <input id=id type="text" readonly value=created.secret />
                    </div>
                }
            })}
            <button type="submit">"Create token"</button>
        </ActionForm>
    }
}

/// Tokens with their use and a revoke button for each live one.
#[component]
pub fn TokenList(
    tokens: Vec<ApiToken>,
    revoke: ServerAction<RevokeToken>,
    #[prop(optional)] owners: bool,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No tokens yet."</p> }.into_any();
    }
    view! {
        <table class="list">
            <thead>
                <tr>
                    <th>"Name"</th>
                    {owners.then(|| view! { <th>"Acts as"</th> })}
                    <th>"Access"</th><th>"Starts with"</th><th>"Expires"</th><th>"Last used"</th>
                    <th><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {tokens.into_iter().map(|t| {
                    let access = format!("{}{}", t.role.label(), if t.read_only { ", read-only" } else { "" });
                    let live = t.revoked_at.is_none();
                    let name = t.name.clone();
                    view! {
                        <tr class:inactive=!live>
                            <td>{t.name.clone()}</td>
                            {owners.then(|| view! { <td>{t.owner.clone()}</td> })}
                            <td>{access}</td>
                            <td><code>{format!("{}…", t.prefix)}</code></td>
                            <td>{match t.expires_at { Some(at) => view! { <Time at /> }.into_any(), None => "never".into_any() }}</td>
                            <td>{match t.last_used_at {
                                Some(at) => view! { <Time at />" from "{t.last_used_ip.clone().unwrap_or_default()} }.into_any(),
                                None => "never".into_any(),
                            }}</td>
                            <td>{if live {
                                view! {
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=t.id />
                                        <button type="submit" class="secondary small" aria-label=format!("Revoke {name}")>"Revoke"</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                "Revoked".into_any()
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
