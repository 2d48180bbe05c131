//! `/account`: the signed-in person's password, calendar address, API tokens and chat id.

use crate::api::auth::ChangePassword;
use crate::api::integrations::{CreateToken, RevokeToken, SetChatUserId, get_chat_user_id, list_my_tokens};
use crate::api::postmortems::ResetCalendarAddress;
use crate::components::form::{Field, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::components::tokens::{NewTokenForm, TokenList};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = last_error(action);
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Your account" />
        <h1>"Your account"</h1>
        <section class="card narrow">
            <h2>"Change password"</h2>
            <p class="hint">"Changing it signs you out everywhere else."</p>
            <ActionForm action=action>
                <FormError error=error inline=&["current_password", "new_password"] />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error=error />
                <Field label="New password" name="new_password" max=crate::model::Password::MAX kind="password" autocomplete="new-password" required=true error=error />
                <Show when=done>
                    <p class="success" role="status">"Password changed."</p>
                </Show>
                <button type="submit">"Change password"</button>
            </ActionForm>
        </section>
        <CalendarAddress />
        <PersonalTokens />
        <ChatIdentity />
    }
}

/// Personal API tokens: scripts acting as this person, with their rights (or fewer).
#[component]
fn PersonalTokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let revoke_error = last_error(revoke);
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_my_tokens());
    view! {
        <section class="card" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="hint">"A token lets a script use Foghorn's API as you (send it as "<code>"Authorization: Bearer …"</code>"). It can do what you can, or only read. Revoking it stops it at once; so does deactivating your account. The API is described at "<a href="/api/v1/docs">"/api/v1/docs"</a>"."</p>
            <FormError error=revoke_error />
            <Loaded resource=tokens render=move |tokens| view! { <TokenList tokens revoke /> } />
            <h3>"New token"</h3>
            <NewTokenForm action=create />
        </section>
    }
}

/// The chat user id that lets `/incident` in Slack or Mattermost act as this person.
#[component]
fn ChatIdentity() -> impl IntoView {
    let save = ServerAction::<SetChatUserId>::new();
    let error = last_error(save);
    let current = Resource::new(move || save.version().get(), |_| get_chat_user_id());
    view! {
        <section class="card narrow" aria-labelledby="chat-heading">
            <h2 id="chat-heading">"Chat"</h2>
            <p class="hint">"To use "<code>"/incident"</code>" in Slack or Mattermost, enter your member id there (Slack: your profile → ⋮ → Copy member ID; Mattermost: Profile → your user id). Commands then act as you."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let value = current.await.ok().flatten().unwrap_or_default();
                    view! {
                        <ActionForm action=save>
                            <FormError error=error inline=&["chat_user_id"] />
                            <Field label="Chat user id" name="chat_user_id" max=crate::model::ChatUserId::MAX value=value error=error />
                            <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                                <p class="success" role="status">"Saved."</p>
                            </Show>
                            <button type="submit">"Save"</button>
                        </ActionForm>
                    }
                })}
            </Transition>
        </section>
    }
}

/// The private calendar-feed address works without signing in, so it can leak like a
/// password: resetting it retires the old one (a password change does too).
#[component]
fn CalendarAddress() -> impl IntoView {
    let reset = ServerAction::<ResetCalendarAddress>::new();
    let error = last_error(reset);
    view! {
        <section class="card narrow">
            <h2>"Calendar address"</h2>
            <p class="hint">"Your postmortem-meeting calendar address opens without signing in. If it was shared by mistake, reset it: the old address stops working. Changing your password resets it too."</p>
            <ActionForm action=reset>
                <FormError error=error />
                {move || reset.value().get().and_then(|r| r.ok()).map(|path| {
                    let origin = window().location().origin().unwrap_or_default();
                    view! {
                        <div class="field">
                            <label for="new-feed-address">"Your new calendar address (iCalendar)"</label>
                            <input id="new-feed-address" type="text" readonly value=format!("{origin}{path}") />
                        </div>
                    }
                })}
                <button type="submit" class="secondary">"Reset calendar address"</button>
            </ActionForm>
        </section>
    }
}
