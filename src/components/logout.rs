//! Logging out (here, or everywhere), with the choice to delete this
//! device's copy of the chats; and the notice shown when the device cannot
//! keep that copy.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::net::session::End;
use crate::state::ChatStore;

#[component]
pub fn LogoutPanel(
    #[prop(into)] on_end: Callback<End>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let forget = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let confirm = move |everywhere: bool| {
        busy.set(true);
        spawn_local(async move {
            match store.log_out(everywhere, forget.get_untracked()).await {
                Ok(()) => on_end.run(End::LoggedOut),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(err.to_string()));
                }
            }
        });
    };
    view! {
        <div class="panel" role="dialog" aria-label="Log out" aria-modal="false">
            <p class="panel-title">"Log out of Natter on this device?"</p>
            <label class="checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || forget.get()
                    on:change=move |ev| forget.set(event_target_checked(&ev))
                />
                <span>"Also delete my chats saved on this device"</span>
            </label>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <div class="panel-actions">
                <button class="link-button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button
                    class="link-button"
                    title="Logs out every device and browser signed in to this account"
                    disabled=move || busy.get()
                    on:click=move |_| confirm(true)
                >
                    "Log out everywhere"
                </button>
                <button class="primary small" disabled=move || busy.get() on:click=move |_| confirm(false)>
                    "Log out"
                </button>
            </div>
        </div>
    }
}

/// Says so when chats are not being kept on this device.
#[component]
pub fn CacheNotice() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    move || {
        store.cache_problem.get().map(|problem| {
            view! {
                <p class="cache-notice" role="status">
                    {format!("Chats won't be available offline: {problem}.")}
                </p>
            }
        })
    }
}
