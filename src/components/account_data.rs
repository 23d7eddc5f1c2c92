//! Settings: taking one's data along (a zip of it all), signing out
//! everywhere, and deleting the account for good, with the password to
//! confirm.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::field::Field;
use crate::net::session::End;
use crate::state::ChatStore;

#[component]
pub fn AccountData(#[prop(into)] on_end: Callback<End>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let deleting = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match store.delete_account(&password.get_untracked()).await {
                Ok(()) => on_end.run(End::LoggedOut),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(err.to_string()));
                }
            }
        });
    };
    let everywhere = move |_| {
        busy.set(true);
        spawn_local(async move {
            match store.log_out(true, false).await {
                Ok(()) => on_end.run(End::LoggedOut),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(err.to_string()));
                }
            }
        });
    };
    // The question replaces the button that asked it: focus goes to its
    // first field, not to the page.
    let password_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(field) = password_field.get() {
            let _ = field.focus();
        }
    });
    view! {
        <section class="panel account-data" aria-labelledby="account-data-title">
            <p class="panel-title" id="account-data-title">"Your data"</p>
            <p class="panel-note">
                "Download your profile, conversations and messages, and the files you sent, as one zip file."
            </p>
            <a class="link-button download" href="/api/me/export" download="">
                "Download my data"
            </a>
            <button
                class="link-button everywhere"
                title="Logs out every device and browser signed in to this account"
                disabled=move || busy.get()
                on:click=everywhere
            >
                "Sign out everywhere"
            </button>
            <Show
                when=move || deleting.get()
                fallback=move || {
                    view! {
                        <button class="link-button danger" on:click=move |_| deleting.set(true)>
                            "Delete my account…"
                        </button>
                    }
                }
            >
                <form class="delete-account" aria-label="Delete account" on:submit=delete>
                    <p class="panel-note">
                        "This deletes your profile, your files and your place in every group. Your messages \
                         stay in others' chats only as \"deleted\", and nobody can take your username for 30 days. \
                         It cannot be undone."
                    </p>
                    <Field label="Your password">
                        <input
                            type="password"
                            autocomplete="current-password"
                            node_ref=password_field
                            bind:value=password
                        />
                    </Field>
                    {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
                    <div class="panel-actions">
                        <button type="button" class="link-button" on:click=move |_| deleting.set(false)>
                            "Cancel"
                        </button>
                        <button
                            type="submit"
                            class="primary small danger"
                            disabled=move || busy.get() || password.with(String::is_empty)
                        >
                            "Delete my account"
                        </button>
                    </div>
                </form>
            </Show>
        </section>
    }
}
