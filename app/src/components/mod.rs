//! Reusable pieces of the interface.

pub mod action_items;
pub mod comms;
pub mod focus;
pub mod form;
pub mod incident;
pub mod layout;
pub mod live;
pub mod loaded;
pub mod runbooks;
pub mod time;
pub mod tokens;

use leptos::prelude::*;

/// Data the browser reads once the page is live, and again whenever a signal read by
/// `fetch` changes. The server renders `None` and so does the browser's first render,
/// so the page hydrates the same whatever the data (lists for pickers, side panels).
pub fn load_in_browser<T, F, Fut>(fetch: F) -> RwSignal<Option<T>>
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    let data = RwSignal::new(None);
    Effect::new(move |_| {
        let pending = fetch();
        leptos::task::spawn_local(async move { data.set(Some(pending.await)) });
    });
    data
}
