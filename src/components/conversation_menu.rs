//! The open conversation's menu: what one can do about the chat and the
//! person in it (mute its notifications for a while or for good, report
//! the person, block or unblock them, delete the chat).

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{ConversationId, User, UserId};

use super::layer::{Kind, Layer};
use super::report::{ReportTarget, Reporting};
use crate::net::session::now;
use crate::state::ChatStore;

const HOUR: u64 = 3_600_000;

/// What the menu's mute items ask for.
#[derive(Debug, Clone, Copy)]
enum Muting {
    /// Milliseconds.
    For(u64),
    UntilUnmuted,
    Off,
}

/// A member of conversation `id` (someone who left is named by id only).
pub fn member_of(store: ChatStore, id: ConversationId, user: UserId) -> User {
    store.state.with_untracked(|state| {
        state
            .conversations
            .get(&id)
            .and_then(|c| c.info.members.iter().find(|m| m.user.id == user))
            .map(|m| m.user.clone())
            .unwrap_or_else(|| User {
                id: user,
                username: format!("user {user}"),
                display_name: None,
                avatar: None,
                deleted: false,
            })
    })
}

/// The other person of a 1:1 conversation, if it is one.
fn peer_of(store: ChatStore, id: ConversationId) -> Option<User> {
    store.state.with(|state| {
        state
            .conversations
            .get(&id)
            .filter(|c| !c.is_group())
            .and_then(|c| c.peer(state.me.id).cloned())
    })
}

/// Blocks or unblocks `user`, showing a failure in `problem`; `done` runs
/// once it worked.
pub fn toggle_block(
    store: ChatStore,
    user: UserId,
    problem: RwSignal<Option<String>>,
    done: impl FnOnce() + 'static,
) {
    let blocked = store.state.with_untracked(|state| state.blocks(user));
    spawn_local(async move {
        let result = if blocked {
            store.unblock(user).await
        } else {
            store.block(user).await
        };
        match result {
            Ok(()) => {
                problem.set(None);
                done();
            }
            Err(err) => problem.set(Some(err.to_string())),
        }
    });
}

#[component]
pub fn ConversationMenu(id: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let reporting = expect_context::<Reporting>();
    let open = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let peer = Memo::new(move |_| peer_of(store, id));
    let blocked = Memo::new(move |_| {
        peer.get()
            .is_some_and(|peer| store.state.with(|state| state.blocks(peer.id)))
    });
    let name = move || peer.get().map(|p| p.username).unwrap_or_default();
    let muted = Memo::new(move |_| store.state.with(|state| state.is_muted(id, now())));
    let mute = move |choice: Muting| {
        spawn_local(async move {
            let result = match choice {
                Muting::For(length) => store.mute(id, Some(length)).await,
                Muting::UntilUnmuted => store.mute(id, None).await,
                Muting::Off => store.unmute(id).await,
            };
            match result {
                Ok(()) => {
                    problem.set(None);
                    open.set(false);
                }
                Err(err) => problem.set(Some(err.to_string())),
            }
        });
    };
    // The question replaces the item that asked it: focus goes to its
    // answer, not to the page.
    let confirm = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = confirm.get() {
            let _ = button.focus();
        }
    });
    let delete = move |_| {
        spawn_local(async move {
            match store.delete_chat(id).await {
                Ok(()) => problem.set(None),
                Err(err) => problem.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <div class="conversation-menu">
            <button
                class="icon-button"
                aria-label="Conversation options"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| {
                    confirming.set(false);
                    open.update(|o| *o = !*o);
                }
            >
                <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                    <circle cx="12" cy="5" r="1.8" fill="currentColor" />
                    <circle cx="12" cy="12" r="1.8" fill="currentColor" />
                    <circle cx="12" cy="19" r="1.8" fill="currentColor" />
                </svg>
            </button>
            <Show when=move || open.get()>
                <Layer kind=Kind::Menu close=move || open.set(false)>
                <div class="menu" role="menu">
                    <Show
                        when=move || muted.get()
                        fallback=move || {
                            view! {
                                <button role="menuitem" on:click=move |_| mute(Muting::For(HOUR))>
                                    "Mute for 1 hour"
                                </button>
                                <button role="menuitem" on:click=move |_| mute(Muting::For(8 * HOUR))>
                                    "Mute for 8 hours"
                                </button>
                                <button role="menuitem" on:click=move |_| mute(Muting::UntilUnmuted)>
                                    "Mute until I unmute"
                                </button>
                            }
                        }
                    >
                        <button role="menuitem" on:click=move |_| mute(Muting::Off)>
                            "Unmute"
                        </button>
                    </Show>
                    <Show when=move || peer.get().is_some()>
                        <button
                            role="menuitem"
                            class="danger"
                            on:click=move |_| {
                                open.set(false);
                                reporting.0.set(peer.get_untracked().map(|user| ReportTarget {
                                    user,
                                    conversation: Some(id),
                                    seq: None,
                                }));
                            }
                        >
                            {move || format!("Report @{}", name())}
                        </button>
                        <button
                            role="menuitem"
                            class="danger"
                            on:click=move |_| {
                                if let Some(peer) = peer.get_untracked() {
                                    toggle_block(store, peer.id, problem, move || open.set(false));
                                }
                            }
                        >
                            {move || if blocked.get() { format!("Unblock @{}", name()) } else { format!("Block @{}", name()) }}
                        </button>
                    </Show>
                    <Show
                        when=move || confirming.get()
                        fallback=move || {
                            view! {
                                <button role="menuitem" class="danger" on:click=move |_| confirming.set(true)>
                                    "Delete chat"
                                </button>
                            }
                        }
                    >
                        <p class="menu-note">
                            {move || if peer.get().is_some() {
                                "Delete this chat from your devices? It comes back if they write again."
                            } else {
                                "Leave the group and delete it from your devices?"
                            }}
                        </p>
                        <button role="menuitem" class="danger" node_ref=confirm on:click=delete>"Delete"</button>
                        <button role="menuitem" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </Show>
                </div>
                </Layer>
            </Show>
            {move || problem.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </div>
    }
}

/// Instead of the composer, in a 1:1 with someone the user blocks.
#[component]
pub fn BlockedNotice(id: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let problem = RwSignal::new(None::<String>);
    let peer = Memo::new(move |_| peer_of(store, id));
    view! {
        <div class="composer-closed blocked-notice" role="status">
            <p>
                "You blocked @" {move || peer.get().map(|p| p.username).unwrap_or_default()}
                ". They can't reach you, and you can't send them messages."
            </p>
            <button
                class="primary small"
                on:click=move |_| {
                    if let Some(peer) = peer.get_untracked() {
                        toggle_block(store, peer.id, problem, || {});
                    }
                }
            >
                "Unblock"
            </button>
            {move || problem.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </div>
    }
}
