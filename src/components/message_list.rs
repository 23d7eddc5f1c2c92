//! The messages of one conversation: bubbles with day separators, S/D/R on
//! one's own messages, and older history loaded as the user scrolls up
//! without the view jumping.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;
use std::collections::HashMap;

use natter_protocol::{Action, Attachment, ConversationId, Millis, Role, Seq, UserId};
use uuid::Uuid;
use web_sys::HtmlElement;

use super::attachment::AttachmentView;
use super::group_event;
use super::message_actions::{chips, ActionsMenu, Chip, JumpTo, Quote, Reactions};
use super::rich_text::RichText;
use crate::net::session::now;
use crate::state::{actions, ChatState, ChatStore, Receipt};
use crate::time;

/// Messages per history request.
const PAGE: u32 = 50;
/// How many pages a jump to a quoted message may load to find it.
const JUMP_PAGES: usize = 40;
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
    /// Boxed: most bubbles have none, and items are cloned often.
    attachment: Option<Box<Attachment>>,
    /// Whether the attachment is still waiting for its upload.
    uploading: bool,
    /// Who sent it, shown on others' messages in a group.
    sender_name: Option<String>,
    reply_to: Option<Seq>,
    edited: bool,
    deleted: bool,
    reactions: Vec<Chip>,
    /// Someone else's message, by whom.
    sender: Option<UserId>,
    /// From someone the user blocks (in a group): shown folded.
    blocked: bool,
    /// A photo or video in a message request: blurred until tapped.
    veiled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Item {
    Day(String),
    Bubble(Bubble),
    /// A change to the group, as a line of text.
    Event {
        client_id: Uuid,
        text: String,
    },
}

fn items(state: &ChatState, id: ConversationId, me: UserId) -> Vec<Item> {
    let Some(conversation) = state.conversations.get(&id) else {
        return Vec::new();
    };
    let group = conversation.is_group();
    let request = conversation.is_request(me);
    // The user's actions still in the outbox show at once.
    let mut pending: HashMap<Seq, Vec<Action>> = HashMap::new();
    for outgoing in state.outbox.iter().filter(|o| o.conversation == id) {
        if let Some(action) = &outgoing.action {
            pending
                .entry(action.target())
                .or_default()
                .push(action.clone());
        }
    }
    let stored = conversation
        .messages
        .values()
        .filter(|m| m.action.is_none())
        .map(|m| {
            if let Some(event) = &m.event {
                return (
                    m.sent_at,
                    Item::Event {
                        client_id: m.client_id,
                        text: group_event::describe(event, me),
                    },
                );
            }
            let shown;
            let m = match pending.get(&m.seq) {
                Some(actions) => {
                    let mut changed = m.clone();
                    for action in actions {
                        actions::apply(&mut changed, action, me, now());
                    }
                    shown = changed;
                    &shown
                }
                None => m,
            };
            let mine = m.sender == me;
            let sender_name = (group && !mine).then(|| {
                conversation
                    .name_of(m.sender)
                    .unwrap_or("Former member")
                    .to_owned()
            });
            let bubble = Bubble {
                client_id: m.client_id,
                seq: Some(m.seq),
                mine,
                body: m.body.clone(),
                time: m.sent_at,
                failure: None,
                attachment: m.attachment.clone().map(Box::new),
                uploading: false,
                sender_name,
                reply_to: m.reply_to,
                edited: m.edited_at.is_some(),
                deleted: m.deleted,
                reactions: chips(&m.reactions, me),
                sender: (!mine).then_some(m.sender),
                blocked: !mine && state.blocks(m.sender),
                veiled: request
                    && !mine
                    && m.attachment
                        .as_ref()
                        .is_some_and(|a| a.kind != natter_protocol::MediaKind::Voice),
            };
            (m.sent_at, Item::Bubble(bubble))
        });
    let waiting = state
        .outbox
        .iter()
        .filter(|o| o.conversation == id && o.action.is_none())
        .map(|o| {
            let bubble = Bubble {
                client_id: o.client_id,
                seq: None,
                mine: true,
                body: o.body.clone(),
                time: o.created_at,
                failure: o.failure.clone(),
                attachment: o
                    .media
                    .as_ref()
                    .map(|media| Box::new(media.attachment().clone())),
                uploading: o.awaits_upload(),
                sender_name: None,
                reply_to: o.reply_to,
                edited: false,
                deleted: false,
                reactions: Vec::new(),
                sender: None,
                blocked: false,
                veiled: false,
            };
            (o.created_at, Item::Bubble(bubble))
        });
    let today = now();
    let mut out = Vec::new();
    let mut last_day = None;
    for (time, item) in stored.chain(waiting) {
        let day = time::day_number(time);
        if last_day != Some(day) {
            last_day = Some(day);
            out.push(Item::Day(time::day_label(time, today)));
        }
        out.push(item);
    }
    out
}

impl Item {
    /// A key that stays the same while the item's details change (a bubble
    /// acked, a failure shown), for anchoring the window and the scroll.
    fn anchor_key(&self) -> String {
        match self {
            Item::Day(label) => format!("day:{label}"),
            Item::Bubble(bubble) => bubble.client_id.to_string(),
            Item::Event { client_id, .. } => client_id.to_string(),
        }
    }
}

/// The items that are in the DOM: at most `size`, ending at the item keyed
/// `end` (inclusive), or at the newest when `end` is `None`.
fn window(items: &[Item], end: Option<&str>, size: usize) -> std::ops::Range<usize> {
    let stop = end
        .and_then(|key| items.iter().position(|item| item.anchor_key() == key))
        .map_or(items.len(), |index| index + 1);
    stop.saturating_sub(size)..stop
}

/// The new window end after moving `range` by `delta` items (negative:
/// towards older ones); `None` means "follow the newest".
fn moved(items: &[Item], range: &std::ops::Range<usize>, delta: isize) -> Option<String> {
    let stop = range.end.saturating_add_signed(delta).max(1);
    (stop < items.len()).then(|| items[stop - 1].anchor_key())
}

/// Items in the DOM at a time; scrolling past either edge moves the window
/// by `STEP`, so a conversation of any length keeps a small DOM.
const WINDOW: usize = 120;
const STEP: isize = 40;

#[component]
pub fn MessageList(id: ConversationId, #[prop(into)] title: Signal<String>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.state.with_untracked(|state| state.me.id);
    let items = Memo::new(move |_| store.state.with(|state| items(state, id, me)));
    // The key of the last item in the DOM; None follows the newest.
    let end = RwSignal::new(None::<String>);
    let range = Memo::new(move |_| {
        end.with(|end| items.with(|items| window(items, end.as_deref(), WINDOW)))
    });
    let visible = Memo::new(move |_| {
        let range = range.get();
        items.with(|items| items[range].to_vec())
    });
    let list = NodeRef::<Div>::new();
    let stick = StoredValue::new(true);
    // The item at the top of the view and its offset from the view's top,
    // saved before the DOM changes above it, so the view can be put back.
    let anchor = StoredValue::new(None::<(String, i32)>);
    let loading = RwSignal::new(false);
    let load_error = RwSignal::new(None::<String>);

    let hold_position = move || {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let top = el.scroll_top();
        let rows = el.query_selector_all("li[data-key]").ok();
        let first_visible = rows.and_then(|rows| {
            (0..rows.length())
                .filter_map(|i| rows.item(i))
                .filter_map(|node| node.dyn_into::<HtmlElement>().ok())
                .find(|row| row.offset_top() + row.offset_height() > top)
        });
        if let Some(row) = first_visible {
            if let Some(key) = row.get_attribute("data-key") {
                anchor.set_value(Some((key, row.offset_top() - top)));
            }
        }
    };

    let shift = move |delta: isize| {
        hold_position();
        let next = items.with_untracked(|items| moved(items, &range.get_untracked(), delta));
        end.set(next);
    };

    // One page of older messages; false when there was nothing more, or
    // it failed (and the list says so).
    let fetch_older = move || async move {
        match store.load_older(id, PAGE).await {
            Ok(added) => {
                load_error.set(None);
                added
            }
            Err(err) => {
                anchor.set_value(None);
                load_error.set(Some(format!("Older messages could not be loaded. {err}")));
                false
            }
        }
    };
    let load_older = move |keep_position: bool| {
        let more = store.state.with_untracked(|state| state.history_edge(id).1);
        if !more || loading.get_untracked() {
            return;
        }
        loading.set(true);
        if keep_position {
            hold_position();
        }
        spawn_local(async move {
            fetch_older().await;
            loading.set(false);
        });
    };

    // A quote's click: bring its message into the window, scroll to it and
    // make it flash.
    let show = move |target: Seq| -> bool {
        let found = items.with_untracked(|items| {
            items
                .iter()
                .position(|item| matches!(item, Item::Bubble(b) if b.seq == Some(target)))
                .map(|index| (index, items[index].anchor_key(), items.len()))
        });
        let Some((index, key, len)) = found else {
            return false;
        };
        let shown = range.get_untracked().contains(&index);
        if !shown {
            stick.set_value(false);
            let last = (index + WINDOW / 2).min(len - 1);
            let end_key = items.with_untracked(|items| items[last].anchor_key());
            end.set((last + 1 < len).then_some(end_key));
        }
        request_animation_frame(move || {
            let Some(el) = list.get_untracked() else {
                return;
            };
            let selector = format!("li[data-key=\"{key}\"]");
            if let Ok(Some(row)) = el.query_selector(&selector) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                row.scroll_into_view_with_scroll_into_view_options(&options);
                let _ = row.class_list().add_1("flash");
                set_timeout(
                    move || {
                        let _ = row.class_list().remove_1("flash");
                    },
                    std::time::Duration::from_millis(1600),
                );
            }
        });
        true
    };
    // Not loaded yet: older pages first, as far as it takes (within reason).
    let jump = Callback::new(move |target: Seq| {
        if show(target) || loading.get_untracked() {
            return;
        }
        loading.set(true);
        spawn_local(async move {
            let mut pages = 0;
            while !items.with_untracked(|items| {
                items
                    .iter()
                    .any(|item| matches!(item, Item::Bubble(b) if b.seq == Some(target)))
            }) && pages < JUMP_PAGES
                && fetch_older().await
            {
                pages += 1;
            }
            loading.set(false);
            if !show(target) {
                load_error.set(Some(
                    "The message it replies to could not be found.".to_owned(),
                ));
            }
        });
    });
    provide_context(JumpTo(jump));

    // Keep the view where the reader expects it after every change.
    Effect::new(move |_| {
        visible.track();
        request_animation_frame(move || {
            let Some(el) = list.get_untracked() else {
                return;
            };
            if let Some((key, offset)) = anchor.get_value() {
                anchor.set_value(None);
                let selector = format!("li[data-key=\"{key}\"]");
                if let Ok(Some(row)) = el.query_selector(&selector) {
                    if let Ok(row) = row.dyn_into::<HtmlElement>() {
                        el.set_scroll_top(row.offset_top() - offset);
                    }
                }
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
        let following = end.with_untracked(Option::is_none);
        stick.set_value(from_bottom < STICK_MARGIN && following);
        if el.scroll_top() < LOAD_MARGIN {
            if range.get_untracked().start > 0 {
                shift(-STEP);
            } else {
                load_older(true);
            }
        } else if from_bottom < STICK_MARGIN && !following {
            shift(STEP);
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
                    each=move || visible.get()
                    key=|item| item.clone()
                    children=move |item| {
                        let key = item.anchor_key();
                        match item {
                            Item::Day(label) => {
                                view! {
                                    <li class="day-separator" data-key=key>
                                        <span>{label}</span>
                                    </li>
                                }
                                    .into_any()
                            }
                            Item::Bubble(bubble) => view! { <BubbleView id bubble key /> }.into_any(),
                            Item::Event { text, .. } => {
                                view! {
                                    <li class="group-event" data-key=key>
                                        <span>{text}</span>
                                    </li>
                                }
                                    .into_any()
                            }
                        }
                    }
                />
            </ol>
        </div>
    }
}

#[component]
fn BubbleView(id: ConversationId, bubble: Bubble, key: String) -> impl IntoView {
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
    let group = store
        .state
        .with_untracked(|state| state.conversations.get(&id).is_some_and(|c| c.is_group()));
    let group_status = match (bubble.mine, group, seq) {
        (true, true, Some(seq)) => Some(view! { <GroupReceipt id seq /> }),
        _ => None,
    };
    let status = (bubble.mine && group_status.is_none()).then_some({
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
    let my_name = store
        .state
        .with_untracked(|state| state.me.username.clone());
    let deleted = bubble.deleted;
    // A group's admins delete anyone's message for everyone.
    let admin = store.state.with_untracked(|state| {
        state
            .conversations
            .get(&id)
            .is_some_and(|c| c.is_group() && c.role_of(me) == Some(Role::Admin))
    });
    let menu = match (seq, deleted) {
        (Some(seq), false) => {
            let given = bubble
                .reactions
                .iter()
                .filter(|chip| chip.mine)
                .map(|chip| chip.emoji.clone())
                .collect();
            let editable = bubble.mine && bubble.attachment.is_none() && !bubble.body.is_empty();
            let deletable = bubble.mine || admin;
            let sender = bubble.sender;
            Some(view! { <ActionsMenu id seq editable deletable sender given /> })
        }
        _ => None,
    };
    // A blocked person's message in a group is folded until asked for.
    let folded = RwSignal::new(bubble.blocked && !deleted);
    let unfold = move || {
        folded.get().then(|| {
            view! {
                <button class="unfold" on:click=move |_| folded.set(false)>
                    "Message from a blocked person · Show"
                </button>
            }
        })
    };
    view! {
        <li class=format!("bubble-row {side}") data-key=key data-seq=seq.map(|s| s.to_string())>
            <div
                class="bubble"
                class:failed=bubble.failure.is_some()
                class:deleted=deleted
                class:folded=move || folded.get()
            >
                {unfold}
                {menu}
                {bubble.sender_name.clone().map(|name| view! { <div class="bubble-sender">{name}</div> })}
                {bubble.reply_to.filter(|_| !deleted).map(|target| view! { <Quote id target /> })}
                {deleted.then(|| view! { <div class="bubble-body tombstone">"This message was deleted"</div> })}
                {bubble
                    .attachment
                    .clone()
                    .map(|attachment| {
                        let pending = bubble.uploading.then_some(client_id);
                        let veiled = RwSignal::new(bubble.veiled);
                        let what = match attachment.kind {
                            natter_protocol::MediaKind::Video => "Show video",
                            _ => "Show photo",
                        };
                        view! {
                            <div class="veil" class:veiled=move || veiled.get()>
                                <AttachmentView attachment=*attachment pending />
                                <Show when=move || veiled.get()>
                                    <button class="unveil" on:click=move |_| veiled.set(false)>
                                        {what}
                                    </button>
                                </Show>
                            </div>
                        }
                    })}
                <Show when={
                    let empty = bubble.body.is_empty();
                    move || !empty
                }>
                    <div class="bubble-body">
                        <RichText text=bubble.body.clone() me=my_name.clone() />
                    </div>
                </Show>
                <div class="bubble-meta">
                    {bubble.edited.then(|| view! { <span class="edited">"edited"</span> })}
                    <time>{time::clock(bubble.time)}</time>
                    {status}
                    {group_status}
                </div>
            </div>
            <Show when={
                let none = bubble.reactions.is_empty();
                move || !none
            }>
                <div class="reactions">
                    <Reactions id seq chips=bubble.reactions.clone() />
                </div>
            </Show>
            {failure}
        </li>
    }
}

/// D and R as counts in a group, opening the list of who has read it.
#[component]
fn GroupReceipt(id: ConversationId, seq: Seq) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.state.with_untracked(|state| state.me.id);
    let readers = Memo::new(move |_| {
        store.state.with(|state| {
            state
                .conversations
                .get(&id)
                .map(|c| c.readers(me, seq))
                .unwrap_or_default()
        })
    });
    let open = RwSignal::new(false);
    let summary = move || {
        readers.with(|r| {
            let others = r.others();
            if !r.read.is_empty() {
                (
                    format!("R {}", r.read.len()),
                    format!("Read by {} of {others}", r.read.len()),
                    "r",
                )
            } else if !r.delivered.is_empty() {
                let count = r.delivered.len();
                (
                    format!("D {count}"),
                    format!("Delivered to {count} of {others}"),
                    "d",
                )
            } else {
                ("S".to_owned(), "Sent".to_owned(), "s")
            }
        })
    };
    let names = |users: &[natter_protocol::User]| {
        users
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <button
            class=move || format!("receipt group-receipt r-{}", summary().2)
            aria-label=move || summary().1
            title=move || summary().1
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            {move || summary().0}
        </button>
        <Show when=move || open.get()>
            <div class="readers" role="dialog" aria-label="Read by">
                {move || {
                    readers
                        .with(|r| {
                            [
                                ("Read by", names(&r.read)),
                                ("Delivered to", names(&r.delivered)),
                                ("Not yet", names(&r.waiting)),
                            ]
                                .into_iter()
                                .filter(|(_, list)| !list.is_empty())
                                .map(|(label, list)| view! { <p><strong>{label} ": "</strong>{list}</p> })
                                .collect_view()
                        })
                }}
            </div>
        </Show>
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bubbles(n: u128) -> Vec<Item> {
        (1..=n)
            .map(|i| {
                Item::Bubble(Bubble {
                    client_id: Uuid::from_u128(i),
                    seq: Some(i as Seq),
                    mine: false,
                    body: String::new(),
                    time: 0,
                    failure: None,
                    attachment: None,
                    uploading: false,
                    sender_name: None,
                    reply_to: None,
                    edited: false,
                    deleted: false,
                    reactions: Vec::new(),
                    sender: None,
                    blocked: false,
                    veiled: false,
                })
            })
            .collect()
    }

    #[test]
    fn the_window_follows_the_newest_until_moved() {
        let items = bubbles(1000);
        assert_eq!(window(&items, None, 120), 880..1000);
        let up = moved(&items, &(880..1000), -40);
        assert_eq!(window(&items, up.as_deref(), 120), 840..960);
        // Items arriving below, or loaded above, keep a moved window on the
        // same items.
        let mut more = bubbles(1010);
        let older: Vec<Item> = bubbles(5000).split_off(4990);
        more.splice(0..0, older);
        assert_eq!(window(&more, up.as_deref(), 120), 850..970);
        assert_eq!(more[969].anchor_key(), items[959].anchor_key());
        // Moving down towards the newest, then onto it, follows it again.
        assert_eq!(
            moved(&items, &(840..960), 20),
            Some(items[979].anchor_key())
        );
        assert_eq!(moved(&items, &(840..960), 40), None);
    }

    #[test]
    fn a_short_conversation_is_shown_whole() {
        let items = bubbles(30);
        assert_eq!(window(&items, None, 120), 0..30);
        assert_eq!(moved(&items, &(0..30), -40), Some(items[0].anchor_key()));
    }
}
