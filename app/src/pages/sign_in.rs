//! `/login`: single sign-on ("Sign in with <label>") beside or instead of the password
//! form, as the server is configured.

use crate::api::auth::{SignIn, get_sign_in_options};
use crate::components::form::{Field, FormError, last_error};
use crate::model::url_encode;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action);
    let options = Resource::new(|| (), |_| get_sign_in_options());
    // The page a signed-out visitor asked for, to return to after signing in (the
    // server checks it is a local path).
    let query = leptos_router::hooks::use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    // Why single sign-on sent the visitor back, if it did.
    let sso_error = move || query.read().get("sso_error");
    view! {
        <Title text="Sign in" />
        <main class="auth">
            <section class="card auth-card">
                <h1>"Sign in to Foghorn"</h1>
                {move || sso_error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                <Suspense>
                    {move || Suspend::new(async move {
                        let options = options.await.unwrap_or(crate::api::auth::SignInMethods { sso_label: None, password: true });
                        let sso = options.sso_label.map(|label| {
                            let href = format!("/auth/oidc/start?next={}", url_encode(&next()));
                            view! { <p><a class="button sso" href=href rel="external">{format!("Sign in with {label}")}</a></p> }
                        });
                        let password = options.password.then(|| view! {
                            <ActionForm action=action>
                                <FormError error=error inline=&["email", "password"] />
                                <input type="hidden" name="next" value=next />
                                <Field label="Email" name="email" max=crate::model::Email::MAX kind="email" autocomplete="username" required=true error=error />
                                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=error />
                                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
                            </ActionForm>
                        });
                        view! { {sso} {password} }
                    })}
                </Suspense>
            </section>
        </main>
    }
}
