//! Times as people read them. The server renders UTC (it cannot know the reader's
//! zone); once the page is live in the browser, times switch to the reader's own
//! zone, named: `2026-11-25 15:03:07 Europe/Berlin`.

use crate::model::format_time;
use leptos::prelude::*;
use time::OffsetDateTime;

/// True once times may be shown in the browser's zone (after hydration).
#[derive(Clone, Copy)]
pub struct LocalTimes(pub RwSignal<bool>);

/// Called once by the app root.
pub fn provide_local_times() {
    let local = RwSignal::new(false);
    provide_context(LocalTimes(local));
    // Effects run only in the browser, after hydration: the first render matches the server's.
    Effect::new(move |_| local.set(true));
}

#[component]
pub fn Time(at: OffsetDateTime) -> impl IntoView {
    let local = use_context::<LocalTimes>();
    let iso = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    view! {
        <time datetime=iso>
            {move || if local.is_some_and(|l| l.0.get()) { in_browser_zone(at) } else { format_time(at) }}
        </time>
    }
}

#[cfg(feature = "hydrate")]
fn in_browser_zone(at: OffsetDateTime) -> String {
    use js_sys::{Date, Intl, Reflect};
    let date = Date::new(&wasm_bindgen::JsValue::from_f64((at.unix_timestamp_nanos() / 1_000_000) as f64));
    let zone = Reflect::get(
        &Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options(),
        &"timeZone".into(),
    )
    .ok()
    .and_then(|z| z.as_string())
    .unwrap_or_else(|| {
        let minutes = -date.get_timezone_offset() as i32;
        format!("UTC{}{:02}:{:02}", if minutes < 0 { '-' } else { '+' }, minutes.abs() / 60, minutes.abs() % 60)
    });
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {zone}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

#[cfg(not(feature = "hydrate"))]
fn in_browser_zone(at: OffsetDateTime) -> String {
    format_time(at)
}

/// A `datetime-local` input's value (the reader's wall-clock time) as RFC 3339, for the
/// server. Empty stays empty; the server names anything it cannot read.
pub fn local_input_to_rfc3339(value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    #[cfg(feature = "hydrate")]
    {
        // `new Date("YYYY-MM-DDTHH:MM")` reads a date-time without a zone as local time.
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value));
        if !date.get_time().is_nan() {
            return String::from(date.to_iso_string());
        }
    }
    value.to_owned()
}
