//! The open conversation: header with the other party, messages, composer.
//! While it is on screen and the page is visible, it marks messages read.
//! Photos and videos dropped anywhere on it are sent.

use leptos::prelude::*;
use natter_protocol::{ConversationId, User};
use web_sys::VisibilityState;

use super::avatar::Avatar;
use super::composer::{send_files, Composer};
use super::conversation_menu::{BlockedNotice, ConversationMenu};
use super::group_info::GroupInfo;
use super::layer::{Kind, Layer};
use super::message_actions::{ComposerMode, Mode};
use super::message_list::MessageList;
use super::picked::files_of;
use super::report::{ReportDialog, Reporting};
use super::request_bar::RequestBar;
use crate::state::{typing_phrase, ChatState, ChatStore};

fn page_visible() -> bool {
    document().visibility_state() == VisibilityState::Visible
}

#[component]
pub fn ConversationView(id: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let title = Memo::new(move |_| {
        store.state.with(|state| {
            state
                .conversations
                .get(&id)
                .map(|c| c.title(state.me.id))
                .unwrap_or_default()
        })
    });

    let visible = RwSignal::new(page_visible());
    let listener =
        window_event_listener_untyped("visibilitychange", move |_| visible.set(page_visible()));
    on_cleanup(move || listener.remove());
    // R means "on the recipient's screen": only while this view is shown in
    // a visible page. Re-run whenever new messages arrive.
    Effect::new(move |_| {
        let newest = store
            .state
            .with(|state| state.conversations.get(&id).map(|c| c.info.last_seq));
        if visible.get() && newest.is_some() {
            store.mark_read(id);
        }
    });

    let typing = Memo::new(move |_| {
        let names: Vec<String> = store.typing.with(|typing| {
            store.state.with(|state| {
                let Some(conversation) = state.conversations.get(&id) else {
                    return Vec::new();
                };
                typing
                    .who(id)
                    .into_iter()
                    .filter_map(|user| {
                        conversation
                            .info
                            .members
                            .iter()
                            .find(|m| m.user.id == user)
                            .map(|m| m.user.username.clone())
                    })
                    .collect()
            })
        });
        typing_phrase(&names)
    });
    // For a group: "3 members", and whether the user is still one.
    let group = Memo::new(move |_| {
        store.state.with(|state| {
            state
                .conversations
                .get(&id)
                .filter(|c| c.is_group())
                .map(|c| {
                    let count = c.info.members.len();
                    let label = if count == 1 {
                        "1 member".to_owned()
                    } else {
                        format!("{count} members")
                    };
                    (label, c.includes(state.me.id))
                })
        })
    });
    let info_open = RwSignal::new(false);
    let request = Memo::new(move |_| {
        store.state.with(|state| {
            state
                .conversations
                .get(&id)
                .is_some_and(|c| c.is_request(state.me.id))
        })
    });
    // In a 1:1 chat: whether the other person's account ended, and whether
    // the user blocks them.
    let peer_is = move |test: fn(&ChatState, &User) -> bool| {
        Memo::new(move |_| {
            store.state.with(|state| {
                state
                    .conversations
                    .get(&id)
                    .filter(|c| !c.is_group())
                    .and_then(|c| c.peer(state.me.id))
                    .is_some_and(|peer| test(state, peer))
            })
        })
    };
    let peer_gone = peer_is(|_, peer| peer.deleted);
    let peer_blocked = peer_is(|state, peer| state.blocks(peer.id));
    provide_context(ComposerMode(RwSignal::new(Mode::Write)));
    let reporting = Reporting(RwSignal::new(None));
    provide_context(reporting);
    let notice = RwSignal::new(None::<String>);
    let preparing = RwSignal::new(0_u32);
    // Counted, because dragging over a child leaves the parent.
    let dragging = RwSignal::new(0_i32);
    let carries_files = |ev: &leptos::ev::DragEvent| {
        ev.data_transfer()
            .is_some_and(|data| data.types().includes(&"Files".into(), 0))
    };

    view! {
        <section
            class="conversation"
            class:dropping=move || { dragging.get() > 0 }
            aria-label=move || format!("Conversation with {}", title.get())
            on:dragenter=move |ev| {
                if carries_files(&ev) {
                    ev.prevent_default();
                    dragging.update(|n| *n += 1);
                }
            }
            on:dragover=move |ev| {
                if carries_files(&ev) {
                    ev.prevent_default();
                }
            }
            on:dragleave=move |_| dragging.update(|n| *n = (*n - 1).max(0))
            on:drop=move |ev| {
                dragging.set(0);
                let files = files_of(ev.data_transfer().and_then(|data| data.files()));
                if !files.is_empty() {
                    ev.prevent_default();
                    send_files(store, id, files, notice, preparing);
                }
            }
        >
            <Show when=move || { dragging.get() > 0 }>
                <div class="drop-hint" aria-hidden="true">"Drop to send"</div>
            </Show>
            <header class="conversation-header">
                <button
                    class="icon-button back-button"
                    aria-label="Back to conversations"
                    on:click=move |_| store.open(None)
                >
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path d="M15 5l-7 7 7 7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
                    </svg>
                </button>
                {move || {
                    let picture = store
                        .state
                        .with(|state| state.conversations.get(&id).and_then(|c| c.picture(state.me.id)));
                    view! { <Avatar name=title.get() picture /> }
                }}
                <div class="conversation-title">
                    <h2>{move || title.get()}</h2>
                    <p class="typing-status" aria-live="polite">{typing}</p>
                    <Show when=move || { group.get().is_some() && typing.with(Option::is_none) }>
                        <p class="conversation-subtitle">{move || group.get().map(|(count, _)| count)}</p>
                    </Show>
                </div>
                <Show when=move || group.get().is_some()>
                    <button
                        class="link-button info-button"
                        aria-expanded=move || info_open.get().to_string()
                        on:click=move |_| info_open.update(|open| *open = !*open)
                    >
                        "Group info"
                    </button>
                </Show>
                <ConversationMenu id />
            </header>
            <MessageList id title=title />
            <Show
                when=move || group.get().is_none_or(|(_, member)| member)
                fallback=|| view! { <p class="composer-closed">"You are no longer in this group."</p> }
            >
                <Show when=move || !peer_blocked.get() fallback=move || view! { <BlockedNotice id /> }>
                    <Show when=move || !request.get() fallback=move || view! { <RequestBar id /> }>
                        <Show
                            when=move || !peer_gone.get()
                            fallback=|| view! { <p class="composer-closed">"This account was deleted."</p> }
                        >
                            <Composer id notice preparing />
                        </Show>
                    </Show>
                </Show>
            </Show>
            <Show when=move || info_open.get()>
                <Layer kind=Kind::Dialog close=move || info_open.set(false)>
                    <GroupInfo id on_close=move || info_open.set(false) />
                </Layer>
            </Show>
            {move || reporting.0.get().map(|target| view! { <ReportDialog target /> })}
        </section>
    }
}
