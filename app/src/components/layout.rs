//! The frame every signed-in page shares: top bar, navigation, who is signed in.

use crate::api::auth::{SignOut, get_viewer};
use crate::error::AppError;
use crate::model::{Role, Viewer};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

/// The signed-in person, loaded once per layout; pages read it through context.
pub type ViewerResource = Resource<Result<Option<Viewer>, AppError>>;

pub fn use_viewer() -> Option<ViewerResource> {
    use_context::<ViewerResource>()
}

#[component]
pub fn AppLayout() -> impl IntoView {
    let viewer: ViewerResource = Resource::new(|| (), |_| get_viewer());
    provide_context(viewer);
    let sign_out = ServerAction::<SignOut>::new();

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <A href="/" attr:class="brand">
                "Foghorn"
            </A>
            <nav aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/incidents">"Incidents"</A>
                <A href="/postmortems">"Postmortems"</A>
                <A href="/actions">"Action items"</A>
                <A href="/runbooks">"Runbooks"</A>
                <Transition>
                    {move || Suspend::new(async move {
                        matches!(viewer.await, Ok(Some(Viewer { role: Role::Admin, .. })))
                            .then(|| view! { <A href="/admin">"Admin"</A> })
                    })}
                </Transition>
            </nav>
            <Transition>
                {move || Suspend::new(async move {
                    matches!(viewer.await, Ok(Some(Viewer { role: Role::Admin | Role::Responder, .. })))
                        .then(|| view! { <a class="button danger declare-button" href="/incidents/new">"Declare incident"</a> })
                })}
            </Transition>
            <div class="session">
                <Transition>
                    {move || Suspend::new(async move {
                        viewer.await.ok().flatten().map(|v| view! {
                            <A href="/account" attr:class="who">
                                {v.display_name}
                                <span class="role-tag">{v.role.label()}</span>
                            </A>
                        })
                    })}
                </Transition>
                <ActionForm action=sign_out attr:class="inline">
                    <button type="submit" class="secondary">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
        <main id="main" class="page">
            <crate::components::comms::MajorIncidentBanner />
            <Outlet />
        </main>
    }
}
