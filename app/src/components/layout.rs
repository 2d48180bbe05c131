//! The frame every signed-in page shares: top bar, navigation, who is signed in.

use crate::api::auth::{SignOut, get_session_ends_at, get_viewer};
use crate::components::live::use_clock;
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::{Caller, Role};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

/// The signed-in person, loaded once per layout; pages read it through context.
pub type CallerResource = Resource<Result<Option<Caller>, AppError>>;

pub fn use_caller() -> Option<CallerResource> {
    use_context::<CallerResource>()
}

#[component]
pub fn AppLayout() -> impl IntoView {
    let viewer: CallerResource = Resource::new(|| (), |_| get_viewer());
    provide_context(viewer);
    let sign_out = ServerAction::<SignOut>::new();
    // Rendered with the page, so knowing when the session ends costs no request.
    let session_end = Resource::new(|| (), |_| get_session_ends_at());

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
                        matches!(viewer.await, Ok(Some(Caller { role: Role::Admin, .. })))
                            .then(|| view! { <A href="/admin">"Admin"</A> })
                    })}
                </Transition>
            </nav>
            <Transition>
                {move || Suspend::new(async move {
                    matches!(viewer.await, Ok(Some(Caller { role: Role::Admin | Role::Responder, .. })))
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
            <Transition>
                {move || Suspend::new(async move {
                    view! { <SessionExpiry ends_at=session_end.await.ok().flatten() /> }
                })}
            </Transition>
            <crate::components::comms::MajorIncidentBanner />
            <Outlet />
        </main>
    }
}

/// How long before the session ends the page starts to say so.
pub const SESSION_WARNING: time::Duration = time::Duration::minutes(10);

/// Warns before the session ends, and says so once it has, so nobody is signed out
/// mid-postmortem without knowing: a fresh sign-in in another tab keeps this page and
/// everything typed on it, and the next save goes through. `ends_at` (Unix seconds)
/// comes with the page.
#[component]
fn SessionExpiry(ends_at: Option<i64>) -> impl IntoView {
    // None: no session known; Some(None): ended; Some(Some(t)): ends at t.
    let ends = RwSignal::new(ends_at.map(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()));
    let now = use_clock(|| 30);
    // Asked again only while the end is near or past (a fresh sign-in in another tab
    // moves it): a page left open costs no request per tick.
    Effect::new(move |_| {
        let now = now.get();
        let ask = match ends.get_untracked() {
            None => false,
            Some(None) => true,
            Some(Some(end)) => end - now <= SESSION_WARNING,
        };
        if ask {
            leptos::task::spawn_local(async move {
                if let Ok(end) = get_session_ends_at().await {
                    ends.set(Some(end.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())));
                }
            });
        }
    });
    let sign_in_again =
        || view! { <a href="/login?again" target="_blank" rel="noopener">"Sign in again in a new tab"</a> };
    move || {
        let now = now.get();
        match ends.get()? {
            Some(end) if end - now > SESSION_WARNING => None,
            Some(end) if end > now => {
                let minutes = ((end - now).whole_seconds() + 59) / 60;
                Some(view! {
                    <div class="session-warning" role="alert">
                        <p>
                            {format!("Your session ends in {minutes} minute{} (", if minutes == 1 { "" } else { "s" })}
                            <Time at=end />"). "{sign_in_again()}
                            " to keep working: this page and what you have typed stay as they are."
                        </p>
                    </div>
                }.into_any())
            }
            _ => Some(view! {
                <div class="session-warning" role="alert">
                    <p>
                        "Your session has ended: changes cannot be saved until you sign in. Nothing on this page is lost. "
                        {sign_in_again()}", then save here again."
                    </p>
                </div>
            }.into_any()),
        }
    }
}
