//! The app's side of `sw-register.js`, which talks to it through window
//! events and flags: a flag the script sets (kept current by its event),
//! and an event that asks the script to act.

use leptos::prelude::*;

/// `window[flag]`, read now and again on every `event`.
pub fn flag(flag: &'static str, event: &'static str) -> RwSignal<bool> {
    let read = move || {
        js_sys::Reflect::get(&window(), &flag.into())
            .map(|value| value.is_truthy())
            .unwrap_or(false)
    };
    let value = RwSignal::new(read());
    let listener = window_event_listener_untyped(event, move |_| value.set(read()));
    on_cleanup(move || listener.remove());
    value
}

/// Asks the script to act (`natter:apply-update`, `natter:install`).
pub fn ask(event: &str) {
    if let Ok(event) = web_sys::Event::new(event) {
        let _ = window().dispatch_event(&event);
    }
}
