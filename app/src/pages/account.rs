use crate::api::auth::ChangePassword;
use crate::api::postmortems::ResetCalendarAddress;
use crate::components::form::{Field, FormError, last_error};
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
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true error=error />
                <Show when=done>
                    <p class="success" role="status">"Password changed."</p>
                </Show>
                <button type="submit">"Change password"</button>
            </ActionForm>
        </section>
        <CalendarAddress />
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
