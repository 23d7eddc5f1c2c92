//! "Find people by username": opens (or starts) the 1:1 conversation.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, ApiErrorCode};

use crate::net::http::Api;
use crate::state::ChatStore;

#[component]
pub fn FindUser() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let username = name.get_untracked().trim().to_owned();
        if let Err(invalid) = limits::check_username(&username) {
            error.set(Some(invalid.to_string()));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match Api::same_origin().open_direct(&username).await {
                Ok(conversation) => {
                    let id = conversation.id;
                    store.update(|state| {
                        state.upsert(conversation);
                        state.set_open(Some(id));
                    });
                    name.set(String::new());
                }
                Err(err) => error.set(Some(match err.code() {
                    Some(ApiErrorCode::NotFound) => {
                        format!("Nobody is called “{username}”. Check the spelling.")
                    }
                    _ => err.to_string(),
                })),
            }
            busy.set(false);
        });
    };

    view! {
        <form class="find-user" role="search" on:submit=submit>
            <input
                type="search"
                aria-label="Find people by username"
                placeholder="Find by username"
                autocomplete="off"
                autocapitalize="none"
                spellcheck="false"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <button type="submit" disabled=move || busy.get()>"Chat"</button>
            {move || {
                error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })
            }}
        </form>
    }
}
