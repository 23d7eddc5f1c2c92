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
    // Whether this device is told of messages while Natter is closed:
    // unknown until its push subscription reached the server, or failed.
    let push = RwSignal::new(None::<Result<(), String>>);
    let keep_push = move |previews: bool| {
        spawn_local(async move {
            let kept = notify::keep_push(previews).await;
            push.set(Some(kept.map_err(|err| err.to_string())));
        })
    };
    if permission.get_untracked() == Permission::Granted {
        keep_push(previews.get_untracked());
    }
    // The button goes once answered: focus moves to what the answer was,
    // which is announced.
    let status = NodeRef::<leptos::html::Div>::new();
    let ask = move |_| {
        spawn_local(async move {
            permission.set(notify::request().await);
            if permission.get_untracked() == Permission::Granted {
                keep_push(previews.get_untracked());
            }
            if let Some(status) = status.get_untracked() {
                let _ = status.focus();
            }
        })
    };
    let usable = move || matches!(permission.get(), Permission::Granted | Permission::Ask);
    let state = move || match permission.get() {
        Permission::Granted => "On: new messages show while Natter is in the background.",
        Permission::Ask => {
            "Get a notification when a message arrives while Natter is in the background."
        }
        Permission::Denied => {
            "Blocked for Natter in this browser's site settings; allow them there to be notified."
        }
        Permission::Unsupported => "This browser cannot show notifications.",
    };
    view! {
        <section class="panel notification-settings" aria-labelledby="notifications-title">
            <p class="panel-title" id="notifications-title">"Notifications"</p>
            <div class="notification-state panel-note" role="status" tabindex="-1" node_ref=status>
                {state}
            </div>
            <Show when=move || permission.get() == Permission::Ask>
                <button class="primary small" on:click=ask>"Allow notifications"</button>
            </Show>
            <label class="checkbox">
                <input
                    type="checkbox"
                    disabled=move || !usable()
                    prop:checked=move || previews.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        previews.set(on);
                        notify::set_previews(on);
                        if permission.get_untracked() == Permission::Granted {
                            keep_push(on);
                        }
                    }
                />
                <span>"Show message text in notifications"</span>
            </label>
            {move || match push.get() {
                Some(Ok(())) => Some(view! {
                    <p class="panel-note">"Messages reach this device while Natter is closed too."</p>
                }.into_any()),
                Some(Err(problem)) => Some(view! {
                    <p class="panel-note">
                        "While Natter is closed: " {problem}
                    </p>
                }.into_any()),
                None => None,
            }}
        </section>
    }
}
