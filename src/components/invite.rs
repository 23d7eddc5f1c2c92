//! Asks before a profile link (`#add=username`) starts a chat. A link can
//! come from anyone and be opened by accident; a chat started without
//! asking would land in the other person's list, and tell them the link
//! was opened.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::avatar::Avatar;
use crate::state::ChatStore;

#[component]
pub fn InvitePanel(username: String, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let found = LocalResource::new(move || {
        let username = username.clone();
        async move { store.find_user(&username).await }
    });
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        let Some(user) = found.get_untracked().and_then(Result::ok) else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match store.open_chat_with(&user.username).await {
                Ok(()) => on_close.run(()),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(err.to_string()));
                }
            }
        });
    };
    view! {
        <div class="panel invite" role="dialog" aria-label="Start a chat" aria-modal="false">
            <p class="panel-title">"Start a chat?"</p>
            <Transition fallback=|| view! { <p class="panel-note">"Looking them up…"</p> }>
                <ErrorBoundary fallback=|errors| {
                    view! {
                        <p class="form-error" role="alert">
                            {move || errors.with(|errors| errors.iter().next().map(|(_, err)| err.to_string()))}
                        </p>
                    }
                }>
                    {move || Suspend::new(async move {
                        found.await.map(|user| {
                            view! {
                                <div class="profile-top">
                                    <Avatar name=user.shown_name().to_owned() picture=user.avatar.clone() />
                                    <span class="invite-who">
                                        <strong>{user.shown_name().to_owned()}</strong>
                                        <span class="profile-username">"@" {user.username.clone()}</span>
                                    </span>
                                </div>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <div class="panel-actions">
                <button class="link-button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button
                    class="primary small"
                    disabled=move || busy.get() || found.get().and_then(Result::ok).is_none()
                    on:click=start
                >
                    "Start chat"
                </button>
            </div>
        </div>
    }
}
