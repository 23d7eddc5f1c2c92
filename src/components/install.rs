//! "Install Natter": shown while the browser offers to install the app
//! (`sw-register.js` keeps the offer, since it comes once, early).

use leptos::prelude::*;

use super::page_bridge;

#[component]
pub fn InstallButton() -> impl IntoView {
    let available = page_bridge::flag("natterCanInstall", "natter:install-ready");
    view! {
        <Show when=move || available.get()>
            <button class="link-button" on:click=|_| page_bridge::ask("natter:install")>
                "Install Natter"
            </button>
        </Show>
    }
}
