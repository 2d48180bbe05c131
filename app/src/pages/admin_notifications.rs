//! `/admin`, notifications: who is mailed about what, chat webhooks, and every
//! delivery (pending, sent, failed with its error) with a retry.

use crate::api::comms::*;
use crate::components::form::{FormError, last_error};
use crate::components::loaded::Loaded;
use crate::components::time::Time;
use crate::model::*;
use leptos::prelude::*;

#[component]
pub fn NotificationsSection() -> impl IntoView {
    let create_policy = ServerAction::<CreateNotificationPolicy>::new();
    let delete_policy = ServerAction::<DeleteNotificationPolicy>::new();
    let create_hook = ServerAction::<CreateWebhook>::new();
    let delete_hook = ServerAction::<DeleteWebhook>::new();
    let retry = ServerAction::<RetryDelivery>::new();
    let refresh = RwSignal::new(0u32);
    let settings = Resource::new(
        move || {
            (
                create_policy.version().get(),
                delete_policy.version().get(),
                create_hook.version().get(),
                delete_hook.version().get(),
                retry.version().get(),
                refresh.get(),
            )
        },
        |_| get_notification_settings(),
    );
    let retry_error = last_error(retry);
    view! {
        <Loaded resource=settings render=move |s| view! {
                        <section class="card" aria-labelledby="policies-heading">
                            <h2 id="policies-heading">"Email notifications"</h2>
                            <ul class="plain">
                                {s.policies.into_iter().map(|p| view! {
                                    <li>
                                        <strong>{p.name.clone()}</strong>": "
                                        {p.severities.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ")}" · "
                                        {p.events.iter().map(|e| e.label()).collect::<Vec<_>>().join(", ")}" → "
                                        {p.recipients.join(", ")}{p.owning_team.then_some(" + the owning team")}
                                        <ActionForm action=delete_policy attr:class="inline">
                                            <input type="hidden" name="id" value=p.id />
                                            <button type="submit" class="link small">"Delete"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <PolicyForm action=create_policy />
                        </section>
                        <section class="card" aria-labelledby="hooks-heading">
                            <h2 id="hooks-heading">"Chat webhooks"</h2>
                            <p class="hint">"Each request carries X-Foghorn-Timestamp and X-Foghorn-Signature: sha256=HMAC-SHA256(secret, timestamp + \".\" + body)."</p>
                            <ul class="plain">
                                {s.webhooks.into_iter().map(|w| view! {
                                    <li>
                                        <strong>{w.name.clone()}</strong>" ("{w.format.as_str()}") "{w.url.clone()}" · "
                                        {w.severities.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ")}" · "
                                        {w.events.iter().map(|e| e.label()).collect::<Vec<_>>().join(", ")}
                                        {w.private_incidents.then_some(" · also private incidents")}
                                        <div class="muted">"Secret: "<code>{w.secret.clone()}</code></div>
                                        <ActionForm action=delete_hook attr:class="inline">
                                            <input type="hidden" name="id" value=w.id />
                                            <button type="submit" class="link small">"Delete"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <WebhookForm action=create_hook />
                        </section>
                        <section class="card" aria-labelledby="deliveries-heading">
                            <h2 id="deliveries-heading">"Deliveries"</h2>
                            <button type="button" class="secondary small" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
                            <FormError error=retry_error />
                            <table class="list deliveries">
                                <thead><tr>
                                    <th scope="col">"Created"</th><th scope="col">"Incident"</th><th scope="col">"Event"</th>
                                    <th scope="col">"To"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Error"</th><th></th>
                                </tr></thead>
                                <tbody>
                                    {s.deliveries.into_iter().map(|d| view! {
                                        <tr class=format!("delivery-{}", d.status)>
                                            <td><Time at=d.created_at /></td>
                                            <td>{d.incident_number.map(incident_ref).unwrap_or_default()}</td>
                                            <td>{d.event.clone()}</td>
                                            <td>{format!("{} ({})", d.recipient, d.channel)}</td>
                                            <td>{d.status.clone()}</td>
                                            <td>{d.attempts}</td>
                                            <td>{d.last_error.clone()}</td>
                                            <td>{(d.status != "sent").then(|| view! {
                                                <ActionForm action=retry attr:class="inline">
                                                    <input type="hidden" name="id" value=d.id />
                                                    <button type="submit" class="secondary small">"Retry now"</button>
                                                </ActionForm>
                                            })}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any() />
    }
}

/// Severity and event checkboxes shared by both forms.
#[component]
fn Scope(prefix: &'static str, form: RwSignal<(Vec<String>, Vec<String>)>) -> impl IntoView {
    view! {
        <fieldset class="field">
            <legend>"Severities"</legend>
            {Severity::ALL.into_iter().map(|s| view! {
                <label class="check"><input type="checkbox" id=format!("{prefix}-{}", s.label()) on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    form.update(|f| { f.0.retain(|x| x != s.label()); if on { f.0.push(s.label().to_owned()) } });
                } />{format!(" {}", s.label())}</label>
            }).collect_view()}
        </fieldset>
        <fieldset class="field">
            <legend>"Events"</legend>
            {NotifyEvent::ALL.into_iter().map(|e| view! {
                <label class="check"><input type="checkbox" id=format!("{prefix}-{}", e.as_str()) on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    form.update(|f| { f.1.retain(|x| x != e.as_str()); if on { f.1.push(e.as_str().to_owned()) } });
                } />{format!(" {}", e.label())}</label>
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn PolicyForm(action: ServerAction<CreateNotificationPolicy>) -> impl IntoView {
    let error = last_error(action);
    let scope = RwSignal::new((Vec::new(), Vec::new()));
    let name = RwSignal::new(String::new());
    let recipients = RwSignal::new(String::new());
    let owning_team = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (severities, events) = scope.get_untracked();
        action.dispatch(CreateNotificationPolicy {
            policy: crate::api::comms::PolicyForm {
                name: name.get_untracked(),
                severities,
                events,
                recipients: recipients.get_untracked(),
                owning_team: owning_team.get_untracked(),
            },
        });
    };
    view! {
        <form class="policy-form" on:submit=submit>
            <h3>"Add a policy"</h3>
            <div class="field"><label for="policy-name">"Name"</label><input id="policy-name" type="text" maxlength=NotificationName::MAX bind:value=name /></div>
            <Scope prefix="policy" form=scope />
            <div class="field">
                <label for="policy-recipients">"Send to (addresses, separated by commas)"</label>
                <input id="policy-recipients" type="text" bind:value=recipients />
            </div>
            <label class="check"><input type="checkbox" bind:checked=owning_team />" and the owning team's members"</label>
            <FormError error />
            <button type="submit" class="secondary">"Add policy"</button>
        </form>
    }
}

#[component]
fn WebhookForm(action: ServerAction<CreateWebhook>) -> impl IntoView {
    let error = last_error(action);
    let scope = RwSignal::new((Vec::new(), Vec::new()));
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let format = RwSignal::new("slack".to_owned());
    let private_incidents = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (severities, events) = scope.get_untracked();
        action.dispatch(CreateWebhook {
            webhook: crate::api::comms::WebhookForm {
                name: name.get_untracked(),
                url: url.get_untracked(),
                format: format.get_untracked(),
                severities,
                events,
                private_incidents: private_incidents.get_untracked(),
            },
        });
    };
    view! {
        <form class="webhook-form" on:submit=submit>
            <h3>"Add a webhook"</h3>
            <div class="field"><label for="hook-name">"Name"</label><input id="hook-name" type="text" maxlength=NotificationName::MAX bind:value=name /></div>
            <div class="field"><label for="hook-url">"URL"</label><input id="hook-url" type="url" bind:value=url /></div>
            <div class="field">
                <label for="hook-format">"Body"</label>
                <select id="hook-format" on:change=move |ev| format.set(event_target_value(&ev))>
                    {WebhookFormat::ALL.map(|f| view! { <option value=f.as_str()>{f.label()}</option> })}
                </select>
            </div>
            <Scope prefix="hook" form=scope />
            <label class="check">
                <input type="checkbox" bind:checked=private_incidents />
                " Also for private incidents (their titles and updates leave Foghorn through this webhook)"
            </label>
            <FormError error />
            <button type="submit" class="secondary">"Add webhook"</button>
        </form>
    }
}
