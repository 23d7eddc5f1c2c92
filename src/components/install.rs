//! "Install Natter": shown while the browser offers to install the app
//! (`sw-register.js` keeps the offer, since it comes once, early).

use leptos::prelude::*;

#[component]
pub fn InstallButton() -> impl IntoView {
    let offered = move || {
        js_sys::Reflect::get(&window(), &"natterCanInstall".into())
            .map(|value| value.is_truthy())
            .unwrap_or(false)
    };
    let available = RwSignal::new(offered());
    let listener =
        window_event_listener_untyped("natter:install-ready", move |_| available.set(offered()));
    on_cleanup(move || listener.remove());
    let install = move |_| {
        if let Ok(event) = web_sys::Event::new("natter:install") {
            let _ = window().dispatch_event(&event);
        }
    };
    view! {
        <Show when=move || available.get()>
            <button class="link-button" on:click=install>"Install Natter"</button>
        </Show>
    }
}
