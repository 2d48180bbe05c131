use crate::api::auth::SignIn;
use crate::components::form::{Field, FormError, last_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action);
    // The page a signed-out visitor asked for, to return to after signing in (the
    // server checks it is a local path).
    let query = leptos_router::hooks::use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Sign in" />
        <main class="auth">
            <section class="card auth-card">
                <h1>"Sign in to Foghorn"</h1>
                <ActionForm action=action>
                    <FormError error=error inline=&["email", "password"] />
                    <input type="hidden" name="next" value=next />
                    <Field label="Email" name="email" kind="email" autocomplete="username" required=true error=error />
                    <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=error />
                    <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
                </ActionForm>
            </section>
        </main>
    }
}
