//! Keyboard focus that survives live updates.
//!
//! A live change re-renders the incident page's body, so the control someone was on
//! (a button, the note they are typing) is replaced by an identical new one and focus
//! would fall back to the top of the document. The keeper remembers the focused control
//! and, after a re-render, puts focus (and the caret) back on its replacement — or, if
//! the control is gone (the "Take comms" button after taking comms), on a stable
//! landmark nearby — without scrolling.

use leptos::prelude::*;

/// How a focused control is found again in re-rendered HTML: by id, else by its tag
/// and text (buttons rarely have ids).
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // read in the browser only
struct Remembered {
    id: String,
    tag: String,
    text: String,
    selection: Option<(u32, u32)>,
}

#[derive(Clone, Copy)]
pub struct FocusKeeper {
    last: StoredValue<Option<Remembered>>,
    /// The timeline entry the reader is looking at (its sequence number) and where it
    /// was on the screen, from just before a change until the change is drawn.
    anchor: StoredValue<Option<(String, f64)>>,
}

impl FocusKeeper {
    /// Starts watching focus on the document until the calling component is unmounted.
    pub fn install() -> Self {
        let keeper = FocusKeeper { last: StoredValue::new(None), anchor: StoredValue::new(None) };
        #[cfg(feature = "hydrate")]
        browser::watch(keeper.last);
        keeper
    }

    /// Called after a re-render: if focus fell to the document, put it back on the
    /// remembered control's replacement, else on `fallback_id`.
    pub fn restore(&self, fallback_id: &'static str) {
        #[cfg(feature = "hydrate")]
        browser::restore(self.last, fallback_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = (self.last, fallback_id);
        self.settle_scroll();
    }

    /// Before a change to the timeline: if the reader has scrolled into it, remember the
    /// entry they are looking at and where it is on the screen. (The browser's own scroll
    /// anchoring is switched off for the timeline: it does not survive a re-render.)
    pub fn hold_scroll(&self) {
        #[cfg(feature = "hydrate")]
        if self.anchor.with_value(Option::is_none) {
            self.anchor.set_value(browser::visible_entry());
        }
    }

    /// After the change is drawn: scroll by however far that entry moved, so what the
    /// reader was reading stays under their eyes.
    pub fn settle_scroll(&self) {
        #[cfg(feature = "hydrate")]
        browser::settle(self.anchor);
        #[cfg(not(feature = "hydrate"))]
        let _ = self.anchor;
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Remembered;
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{Element, FocusEvent, FocusOptions, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

    fn remember(element: &Element) -> Remembered {
        let selection = if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
            area.selection_start().ok().flatten().zip(area.selection_end().ok().flatten())
        } else if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            input.selection_start().ok().flatten().zip(input.selection_end().ok().flatten())
        } else {
            None
        };
        Remembered {
            id: element.id(),
            tag: element.tag_name().to_lowercase(),
            text: element.text_content().unwrap_or_default().trim().to_owned(),
            selection,
        }
    }

    pub fn watch(last: StoredValue<Option<Remembered>>) {
        // On focus, and on every key (so the caret is where the reader left it).
        let on_focus = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            if let Some(element) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                last.set_value(Some(remember(&element)));
            }
        });
        // Focus moved away by the reader (a click on the page): forget. Focus lost
        // because the control was removed by a re-render: keep.
        let on_blur = Closure::<dyn FnMut(FocusEvent)>::new(move |event: FocusEvent| {
            if event.related_target().is_some() {
                return;
            }
            if let Some(element) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                let element = SendWrapper::new(element);
                set_timeout(
                    move || {
                        if element.is_connected() {
                            last.set_value(None);
                        }
                    },
                    std::time::Duration::ZERO,
                );
            }
        });
        let document = document();
        let _ = document.add_event_listener_with_callback("focusin", on_focus.as_ref().unchecked_ref());
        let _ = document.add_event_listener_with_callback("keyup", on_focus.as_ref().unchecked_ref());
        let _ = document.add_event_listener_with_callback("focusout", on_blur.as_ref().unchecked_ref());
        let handlers = SendWrapper::new((on_focus, on_blur));
        on_cleanup(move || {
            let (on_focus, on_blur) = &*handlers;
            let document = leptos::prelude::document();
            let _ = document.remove_event_listener_with_callback("focusin", on_focus.as_ref().unchecked_ref());
            let _ = document.remove_event_listener_with_callback("keyup", on_focus.as_ref().unchecked_ref());
            let _ = document.remove_event_listener_with_callback("focusout", on_blur.as_ref().unchecked_ref());
        });
    }

    fn top_of(element: &Element) -> f64 {
        element.get_bounding_client_rect().top()
    }

    pub fn visible_entry() -> Option<(String, f64)> {
        let document = document();
        let list = document.query_selector("ol.timeline").ok().flatten()?;
        if top_of(&list) >= 0.0 {
            return None; // the reader sees the top of the timeline: new entries may appear there
        }
        let entries = document.query_selector_all("ol.timeline > li[data-seq]").ok()?;
        (0..entries.length()).filter_map(|i| entries.item(i)?.dyn_into::<Element>().ok()).find_map(|e| {
            let bottom = e.get_bounding_client_rect().bottom();
            (bottom > 0.0).then(|| (e.get_attribute("data-seq").unwrap_or_default(), top_of(&e)))
        })
    }

    pub fn settle(anchor: StoredValue<Option<(String, f64)>>) {
        request_animation_frame(move || {
            let Some((seq, top)) = anchor.get_value() else { return };
            anchor.set_value(None);
            let selector = format!("ol.timeline > li[data-seq=\"{seq}\"]");
            if let Some(entry) = document().query_selector(&selector).ok().flatten() {
                let moved = top_of(&entry) - top;
                if moved.abs() >= 0.5 {
                    window().scroll_by_with_x_and_y(0.0, moved);
                }
            }
        });
    }

    fn find(document: &web_sys::Document, remembered: &Remembered) -> Option<Element> {
        if !remembered.id.is_empty() {
            return document.get_element_by_id(&remembered.id);
        }
        let candidates = document.query_selector_all(&format!("main {}", remembered.tag)).ok()?;
        (0..candidates.length())
            .filter_map(|i| candidates.item(i)?.dyn_into::<Element>().ok())
            .find(|e| e.text_content().unwrap_or_default().trim() == remembered.text)
    }

    /// Runs before the next paint: the effect that calls it may run before the old
    /// screen has been swapped out, while the old control still holds focus.
    pub fn restore(last: StoredValue<Option<Remembered>>, fallback_id: &'static str) {
        request_animation_frame(move || restore_now(last, fallback_id));
    }

    fn restore_now(last: StoredValue<Option<Remembered>>, fallback_id: &'static str) {
        let document = document();
        let lost = match (document.active_element(), document.body()) {
            (None, _) => true,
            (Some(active), Some(body)) => active == *body.as_ref(),
            _ => false,
        };
        let Some(remembered) = last.get_value() else { return };
        if !lost {
            return;
        }
        let target = find(&document, &remembered).or_else(|| document.get_element_by_id(fallback_id));
        let Some(target) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) else { return };
        let options = FocusOptions::new();
        options.set_prevent_scroll(true);
        let _ = target.focus_with_options(&options);
        if let Some((start, end)) = remembered.selection {
            if let Some(area) = target.dyn_ref::<HtmlTextAreaElement>() {
                let _ = area.set_selection_range(start, end);
            } else if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
                let _ = input.set_selection_range(start, end);
            }
        }
    }
}
