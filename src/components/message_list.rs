//! The messages of one conversation: bubbles with day separators, S/D/R on
//! one's own messages, and older history loaded as the user scrolls up
//! without the view jumping.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{ConversationId, Millis, Seq, UserId};
use uuid::Uuid;

use super::rich_text::RichText;
use crate::net::http::Api;
use crate::net::session::now;
use crate::state::{contiguous_tail, ChatState, ChatStore, Receipt};
use crate::time;

/// Messages per history request.
const PAGE: u32 = 50;
/// How close to the top (px) scrolling must get to load older messages.
const LOAD_MARGIN: i32 = 150;
/// How close to the bottom (px) counts as "at the bottom", which keeps the
/// view pinned to new messages.
const STICK_MARGIN: i32 = 80;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Bubble {
    client_id: Uuid,
    /// None while waiting for the server.
    seq: Option<Seq>,
    mine: bool,
    body: String,
    time: Millis,
    failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Item {
    Day(String),
    Bubble(Bubble),
}

fn items(state: &ChatState, id: ConversationId, me: UserId) -> Vec<Item> {
    let Some(conversation) = state.conversations.get(&id) else {
        return Vec::new();
    };
    let stored = conversation.messages.values().map(|m| Bubble {
        client_id: m.client_id,
        seq: Some(m.seq),
        mine: m.sender == me,
        body: m.body.clone(),
        time: m.sent_at,
        failure: None,
    });
    let waiting = state
        .outbox
        .iter()
        .filter(|o| o.conversation == id)
        .map(|o| Bubble {
            client_id: o.client_id,
            seq: None,
            mine: true,
            body: o.body.clone(),
            time: o.created_at,
            failure: o.failure.clone(),
        });
    let today = now();
    let mut out = Vec::new();
    let mut last_day = None;
    for bubble in stored.chain(waiting) {
        let day = time::day_number(bubble.time);
        if last_day != Some(day) {
            last_day = Some(day);
            out.push(Item::Day(time::day_label(bubble.time, today)));
        }
        out.push(Item::Bubble(bubble));
    }
    out
}

#[component]
pub fn MessageList(id: ConversationId, #[prop(into)] title: Signal<String>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.state.with_untracked(|state| state.me.id);
    let items = Memo::new(move |_| store.state.with(|state| items(state, id, me)));
    let list = NodeRef::<Div>::new();
    let stick = StoredValue::new(true);
    // Scroll height and offset saved before older messages are added, so the
    // view can be put back where the reader was.
    let anchor = StoredValue::new(None::<(i32, i32)>);
    let loading = RwSignal::new(false);
    let load_error = RwSignal::new(None::<String>);

    // Older messages come from this device when it has them without a
    // hole, and from the server otherwise.
    let load_older = move |keep_position: bool| {
        let (oldest, more) = store.state.with_untracked(|state| state.history_edge(id));
        if !more || loading.get_untracked() {
            return;
        }
        loading.set(true);
        if keep_position {
            if let Some(el) = list.get_untracked() {
                anchor.set_value(Some((el.scroll_height(), el.scroll_top())));
            }
        }
        spawn_local(async move {
            if let Some(before) = oldest {
                let saved = store.saved_history(id, before, PAGE).await;
                let usable = contiguous_tail(saved, before);
                if !usable.is_empty() {
                    let complete = usable.first().is_some_and(|m| m.seq == 1);
                    store.update(|state| state.add_history(id, usable, complete, true));
                    load_error.set(None);
                    loading.set(false);
                    return;
                }
            }
            match Api::same_origin().history(id, oldest, PAGE).await {
                Ok(page) => {
                    load_error.set(None);
                    let complete = (page.len() as u32) < PAGE;
                    store.update(|state| state.add_history(id, page, complete, false));
                }
                Err(err) => {
                    anchor.set_value(None);
                    load_error.set(Some(format!("Older messages could not be loaded. {err}")));
                }
            }
            loading.set(false);
        });
    };

    // Keep the view where the reader expects it after every change.
    Effect::new(move |_| {
        items.track();
        request_animation_frame(move || {
            let Some(el) = list.get_untracked() else {
                return;
            };
            if let Some((height, top)) = anchor.get_value() {
                anchor.set_value(None);
                el.set_scroll_top(top + el.scroll_height() - height);
            } else if stick.get_value() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    });

    // A freshly opened conversation shows its newest page.
    let few = store.state.with_untracked(|state| {
        state
            .conversations
            .get(&id)
            .is_some_and(|c| (c.messages.len() as u32) < PAGE)
    });
    if few {
        load_older(false);
    }

    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
        stick.set_value(from_bottom < STICK_MARGIN);
        if el.scroll_top() < LOAD_MARGIN {
            load_older(true);
        }
    };

    view! {
        <div
            class="message-list"
            node_ref=list
            on:scroll=on_scroll
            role="log"
            aria-live="polite"
            aria-label=move || format!("Messages with {}", title.get())
            tabindex="0"
        >
            <Show when=move || loading.get()>
                <p class="history-status" role="status">"Loading older messages…"</p>
            </Show>
            {move || load_error.get().map(|text| view! { <p class="history-status error" role="alert">{text}</p> })}
            <ol class="messages">
                <For
                    each=move || items.get()
                    key=|item| item.clone()
                    children=move |item| match item {
                        Item::Day(label) => {
                            view! {
                                <li class="day-separator">
                                    <span>{label}</span>
                                </li>
                            }
                                .into_any()
                        }
                        Item::Bubble(bubble) => view! { <BubbleView id bubble /> }.into_any(),
                    }
                />
            </ol>
        </div>
    }
}

#[component]
fn BubbleView(id: ConversationId, bubble: Bubble) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.state.with_untracked(|state| state.me.id);
    let seq = bubble.seq;
    let receipt = Memo::new(move |_| match seq {
        None => Receipt::Waiting,
        Some(seq) => store.state.with(|state| {
            state
                .conversations
                .get(&id)
                .map_or(Receipt::Sent, |c| c.receipt(me, seq))
        }),
    });
    let client_id = bubble.client_id;
    let side = if bubble.mine { "mine" } else { "theirs" };
    let status = bubble.mine.then_some({
        move || {
            let receipt = receipt.get();
            let class = format!("receipt r-{}", receipt.letter().to_lowercase());
            view! {
                <span class=class role="img" aria-label=receipt.label() title=receipt.label()>
                    {if receipt == Receipt::Waiting {
                        view! { <ClockIcon /> }.into_any()
                    } else {
                        receipt.letter().into_any()
                    }}
                </span>
            }
        }
    });
    let failure = bubble.failure.clone().map(|reason| {
        view! {
            <div class="send-failure" role="alert">
                <span>"Not sent: " {reason}</span>
                <button class="link-button" on:click=move |_| store.retry(client_id)>"Retry"</button>
                <button class="link-button danger" on:click=move |_| store.discard(client_id)>
                    "Delete"
                </button>
            </div>
        }
    });
    view! {
        <li class=format!("bubble-row {side}") data-seq=seq.map(|s| s.to_string())>
            <div class="bubble" class:failed=bubble.failure.is_some()>
                <div class="bubble-body">
                    <RichText text=bubble.body.clone() />
                </div>
                <div class="bubble-meta">
                    <time>{time::clock(bubble.time)}</time>
                    {status}
                </div>
            </div>
            {failure}
        </li>
    }
}

#[component]
fn ClockIcon() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.5" />
            <path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" />
        </svg>
    }
}
