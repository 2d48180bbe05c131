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

/// "now", ticking every second in the browser (the server renders its own time), or
/// once a minute for readers who asked for less motion: text that changes every second
/// is movement too.
pub fn use_now() -> ReadSignal<time::OffsetDateTime> {
    use_clock(move || if prefers_reduced_motion() { 60 } else { 1 })
}

/// "now", refreshed every `seconds()` seconds in the browser.
pub fn use_clock(seconds: impl Fn() -> u64 + 'static) -> ReadSignal<time::OffsetDateTime> {
    let (now, set_now) = signal(time::OffsetDateTime::now_utc());
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_now.set(time::OffsetDateTime::now_utc()),
            std::time::Duration::from_secs(seconds()),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    now
}

/// The reader's `prefers-reduced-motion` setting (false on the server).
pub fn prefers_reduced_motion() -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().match_media("(prefers-reduced-motion: reduce)").ok().flatten().is_some_and(|m| m.matches())
    }
    #[cfg(not(feature = "hydrate"))]
    false
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

/// How long new timeline entries are gathered before they are announced: a burst of
/// twenty is one announcement, not twenty.
pub const ANNOUNCE_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// Tells screen readers, politely, what arrived on the live timeline. The region lives
/// in the page, outside the part that live updates re-render, so it is never replaced
/// (a replaced region is not announced).
#[derive(Clone, Copy)]
pub struct Announcer {
    pending: StoredValue<(usize, String)>,
    message: RwSignal<String>,
}

impl Announcer {
    pub fn new() -> Self {
        Self { pending: StoredValue::new((0, String::new())), message: RwSignal::new(String::new()) }
    }

    /// One entry arrived: `what` says what it is ("Note by Rita Responder").
    pub fn arrived(&self, what: String) {
        let first = self.pending.with_value(|(count, _)| *count == 0);
        self.pending.update_value(|(count, latest)| {
            *count += 1;
            *latest = what;
        });
        if first {
            let (pending, message) = (self.pending, self.message);
            set_timeout(
                move || {
                    let (count, latest) = pending.with_value(|p| p.clone());
                    pending.set_value((0, String::new()));
                    message.set(match count {
                        0 => return,
                        1 => format!("New on the timeline: {latest}."),
                        n => format!("{n} new timeline entries; the latest: {latest}."),
                    });
                },
                ANNOUNCE_EVERY,
            );
        }
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn Announcements(announcer: Announcer) -> impl IntoView {
    view! {
        <div class="visually-hidden" id="timeline-announcements" role="log" aria-live="polite" aria-atomic="false">
            {move || {
                let message = announcer.message.get();
                (!message.is_empty()).then(|| view! { <p>{message}</p> })
            }}
        </div>
    }
}
