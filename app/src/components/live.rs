//! The tab's live event stream (Server-Sent Events), opened in the browser only.
//!
//! The browser's `EventSource` reconnects by itself and sends `Last-Event-ID`, so the
//! server resumes exactly where the stream broke; this hook only reports the state.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    Connecting,
    Live,
    Reconnecting,
    /// The server refused the stream (signed out): no more retries.
    Closed,
}

impl LiveState {
    pub fn label(self) -> &'static str {
        match self {
            LiveState::Connecting => "Connecting…",
            LiveState::Live => "Live",
            LiveState::Reconnecting => "Reconnecting…",
            LiveState::Closed => "Disconnected: reload the page or sign in again",
        }
    }
}

/// Opens `url` and calls `on_event(name, data)` for `timeline`, `incident` and
/// `incidents` events until the calling component is unmounted.
pub fn use_live(url: String, on_event: impl Fn(&str, String) + 'static) -> ReadSignal<LiveState> {
    let (state, set_state) = signal(LiveState::Connecting);
    #[cfg(feature = "hydrate")]
    {
        use send_wrapper::SendWrapper;
        use wasm_bindgen::{JsCast, closure::Closure};

        let on_event = std::rc::Rc::new(on_event);
        let Ok(source) = web_sys::EventSource::new(&url) else {
            set_state.set(LiveState::Closed);
            return state;
        };
        let mut handlers: Vec<Closure<dyn FnMut(web_sys::Event)>> = Vec::new();

        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| set_state.set(LiveState::Live));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        handlers.push(on_open);

        let watched = source.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            // CLOSED (2) means the browser gave up (e.g. 401); otherwise it retries.
            set_state.set(if watched.ready_state() == 2 { LiveState::Closed } else { LiveState::Reconnecting });
        });
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        handlers.push(on_error);

        for name in ["timeline", "incident", "incidents"] {
            let on_event = on_event.clone();
            let handler = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                if let Some(message) = event.dyn_ref::<web_sys::MessageEvent>() {
                    on_event(name, message.data().as_string().unwrap_or_default());
                }
            });
            let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
            handlers.push(handler);
        }
        let open = SendWrapper::new((source, handlers));
        on_cleanup(move || open.0.close());
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, on_event, set_state);
    }
    state
}

/// "now", ticking every second in the browser (the server renders its own time).
pub fn use_now() -> ReadSignal<time::OffsetDateTime> {
    let (now, set_now) = signal(time::OffsetDateTime::now_utc());
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_now.set(time::OffsetDateTime::now_utc()),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    now
}

#[component]
pub fn LiveIndicator(state: ReadSignal<LiveState>) -> impl IntoView {
    view! {
        <span class="live" class:live-on=move || state.get() == LiveState::Live role="status" aria-live="polite">
            <span class="dot" aria-hidden="true"></span>
            {move || state.get().label()}
        </span>
    }
}
