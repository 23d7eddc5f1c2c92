//! Changing the password. The account's other sessions end with it, so a
//! password that leaked stops working everywhere at once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, PasswordChange};

use super::field::Field;
use crate::state::ChatStore;

#[component]
pub fn ChangePassword() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let change = PasswordChange {
            current: current.get_untracked(),
            new: new.get_untracked(),
        };
        if let Err(invalid) = limits::check_password(&change.new) {
            error.set(Some(invalid.to_string()));
            return;
        }
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            match store.change_password(&change).await {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    done.set(true);
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="panel password" aria-label="Change password" on:submit=submit>
            <p class="panel-title">"Change password"</p>
            <Field label="Current password">
                <input
                    type="password"
                    autocomplete="current-password"
                    bind:value=current
                />
            </Field>
            <Field label="New password">
                <input
                    type="password"
                    autocomplete="new-password"
                    bind:value=new
                />
            </Field>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <Show when=move || done.get()>
                <p class="form-ok" role="status">"Password changed. Your other devices are logged out."</p>
            </Show>
            <div class="panel-actions">
                <button type="submit" class="primary small" disabled=move || busy.get()>
                    "Change password"
                </button>
            </div>
        </form>
    }
}
