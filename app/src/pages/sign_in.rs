use crate::api::auth::SignIn;
use crate::components::form::{Field, FormError, last_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action);
    view! {
        <Title text="Sign in" />
        <main class="auth">
            <section class="card auth-card">
                <h1>"Sign in to Foghorn"</h1>
                <ActionForm action=action>
                    <Field label="Email" name="email" kind="email" autocomplete="username" required=true error=error />
                    <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=error />
                    <FormError error=error inline=&["email", "password"] />
                    <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
                </ActionForm>
            </section>
        </main>
    }
}
