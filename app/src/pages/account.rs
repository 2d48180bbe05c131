use crate::api::auth::ChangePassword;
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
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error=error />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true error=error />
                <FormError error=error inline=&["current_password", "new_password"] />
                <Show when=done>
                    <p class="success" role="status">"Password changed."</p>
                </Show>
                <button type="submit">"Change password"</button>
            </ActionForm>
        </section>
    }
}
