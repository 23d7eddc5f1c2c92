//! "Natter has been updated": shown when this build can no longer work
//! with the server (a newer protocol) or load a part of itself (the server
//! has a newer build and this device kept no copy of the part).

use leptos::prelude::*;

use super::page_bridge;

#[component]
pub fn Outdated() -> impl IntoView {
    view! {
        <div class="splash" role="alert">
            <p>"Natter has been updated. Reload to get the new version."</p>
            // Hands over to the new build's service worker if it is
            // waiting, so the reload does not open the old build again.
            <button class="primary" on:click=|_| page_bridge::ask("natter:apply-update")>
                "Reload"
            </button>
        </div>
    }
}
