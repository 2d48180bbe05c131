use crate::api::auth::{CreateFirstAdmin, get_setup_needed};
use crate::components::form::{Field, FormError, last_error};
use leptos::prelude::*;
use leptos_meta::Title;

/// First run: create the administrator. Offered only while Foghorn has no user.
#[component]
pub fn SetupPage() -> impl IntoView {
    let needed = Resource::new(|| (), |_| get_setup_needed());
    let action = ServerAction::<CreateFirstAdmin>::new();
    let error = last_error(action);
    view! {
        <Title text="Set up Foghorn" />
        <main class="auth">
            <section class="card auth-card">
                <Suspense>
                    {move || Suspend::new(async move {
                        if needed.await.unwrap_or(false) {
                            view! {
                                <h1>"Welcome to Foghorn"</h1>
                                <p>"Create the first administrator. You can add everyone else afterwards."</p>
                                <ActionForm action=action>
                                    <FormError error=error inline=&["setup_code", "email", "display_name", "password"] />
                                    <Field label="Setup code" name="setup_code" autocomplete="off" required=true error=error />
                                    <p class="hint">"Foghorn printed it to its log and standard output when it started: look for “setup code”."</p>
                                    <Field label="Email" name="email" max=crate::model::Email::MAX kind="email" autocomplete="username" required=true error=error />
                                    <Field label="Name" name="display_name" max=crate::model::DisplayName::MAX autocomplete="name" required=true error=error />
                                    <Field label="Password" name="password" kind="password" autocomplete="new-password" required=true error=error />
                                    <p class="hint">"At least 8 characters; a long passphrase is best."</p>
                                    <button type="submit" disabled=move || action.pending().get()>"Create administrator"</button>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! {
                                <h1>"Foghorn is set up"</h1>
                                <p><a href="/login">"Sign in"</a>" with your account, or ask an administrator for one."</p>
                            }.into_any()
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}
