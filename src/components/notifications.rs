//! Settings: system notifications on this device. Allowing them is asked
//! for only from the button here (never when the app opens), and the
//! person chooses whether they show the messages' text.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::notify::{self, Permission};

#[component]
pub fn NotificationSettings() -> impl IntoView {
    let permission = RwSignal::new(notify::permission());
    let previews = RwSignal::new(notify::previews());
    let ask = move |_| spawn_local(async move { permission.set(notify::request().await) });
    let state = move || {
        match permission.get() {
        Permission::Granted => view! {
            <p class="panel-note">"On: new messages show while Natter is in the background."</p>
        }
        .into_any(),
        Permission::Ask => view! {
            <p class="panel-note">"Get a notification when a message arrives while Natter is in the background."</p>
            <button class="primary small" on:click=ask>"Allow notifications"</button>
        }
        .into_any(),
        Permission::Denied => view! {
            <p class="panel-note">"Blocked for Natter in this browser's site settings; allow them there to be notified."</p>
        }
        .into_any(),
        Permission::Unsupported => view! {
            <p class="panel-note">"This browser cannot show notifications."</p>
        }
        .into_any(),
    }
    };
    view! {
        <section class="panel notification-settings" aria-labelledby="notifications-title">
            <p class="panel-title" id="notifications-title">"Notifications"</p>
            {state}
            <label class="checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || previews.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        previews.set(on);
                        notify::set_previews(on);
                    }
                />
                <span>"Show message text in notifications"</span>
            </label>
        </section>
    }
}
