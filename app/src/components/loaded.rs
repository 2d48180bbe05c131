//! What a page shows while its data loads, and when loading failed: one wrapper for
//! every list and settings page.

use crate::error::AppError;
use crate::pages::errors::{Forbidden, LoadError};
use leptos::prelude::*;

/// Shows `render(value)` once `resource` has loaded: "Loading…" until then (the last
/// value stays while a reload runs), the error as an alert if loading failed, and
/// with `forbidden` set, the 403 page with that reason when the role does not allow it.
/// With `page` set, the resource is the one thing the page is about (an incident, a
/// postmortem): a failure is the whole page, titled `page` and answered with the
/// error's status.
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    render: F,
    #[prop(optional)] forbidden: Option<&'static str>,
    #[prop(optional)] page: Option<&'static str>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => render(value).into_any(),
                        Err(AppError::Forbidden) if forbidden.is_some() => {
                            view! { <Forbidden reason=forbidden.unwrap_or_default() /> }.into_any()
                        }
                        Err(err) => match page {
                            Some(title) => view! { <LoadError err title /> }.into_any(),
                            None => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                        },
                    }
                })
            }}
        </Transition>
    }
}
