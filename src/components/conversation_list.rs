//! The conversation list: who, the last message, when, and how many unread,
//! latest activity first.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;
use natter_protocol::{preview, ConversationId, Millis};

use super::avatar::Avatar;
use super::group_event;
use super::layer::{focus_is_lost, move_focus};
use crate::net::session::now;
use crate::state::{ChatState, ChatStore, Receipt, Typing};
use crate::time;

/// What one row shows; rows are re-rendered when any of it changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Row {
    id: ConversationId,
    title: String,
    preview: String,
    /// The receipt of the last message, when it is the user's own.
    own_receipt: Option<Receipt>,
    time: Option<Millis>,
    unread: u64,
    /// Someone is typing here.
    typing: bool,
    /// Unread messages that mention the user.
    mentions: usize,
    /// The user muted its notifications.
    muted: bool,
    picture: Option<String>,
}

/// The list's rows: the chats, or the message requests.
fn rows(state: &ChatState, typing: &Typing, requests: bool) -> Vec<Row> {
    let me = state.me.id;
    state
        .sorted()
        .into_iter()
        .filter(|conversation| conversation.is_request(me) == requests)
        .map(|conversation| {
            let last = conversation.info.last_message.as_ref();
            let waiting = state
                .outbox
                .iter()
                .rev()
                .find(|o| o.conversation == conversation.info.id && o.action.is_none());
            let (preview, own_receipt, time) = match (waiting, last) {
                (Some(outgoing), _) => (
                    preview_text(
                        outgoing.media.as_ref().map(|media| media.attachment()),
                        &outgoing.body,
                    ),
                    Some(Receipt::Waiting),
                    Some(outgoing.created_at),
                ),
                (None, Some(message)) => (
                    match &message.event {
                        Some(event) => group_event::describe(event, me),
                        None if message.deleted => "🚫 Message deleted".to_owned(),
                        None if message.sender != me && state.blocks(message.sender) => {
                            "Message from a blocked person".to_owned()
                        }
                        None => preview_text(message.attachment.as_ref(), &message.body),
                    },
                    // Events are not messages anyone receives or reads.
                    (message.sender == me && message.event.is_none())
                        .then(|| conversation.receipt(me, message.seq)),
                    Some(message.sent_at),
                ),
                (None, None) => ("Say hi 👋".to_owned(), None, None),
            };
            Row {
                id: conversation.info.id,
                title: conversation.title(me),
                preview: preview.lines().next().unwrap_or_default().to_owned(),
                own_receipt,
                time,
                unread: conversation.unread(me),
                typing: !typing.who(conversation.info.id).is_empty(),
                mentions: conversation.unread_mentions(me, &state.me.username),
                muted: state.is_muted(conversation.info.id, now()),
                picture: conversation.picture(me),
            }
        })
        .collect()
}

/// The list's line for a message: its text, or what it carries.
fn preview_text(attachment: Option<&natter_protocol::Attachment>, body: &str) -> String {
    match (attachment, body.trim().is_empty()) {
        (Some(attachment), true) => preview::media_label(Some(attachment.kind)).to_owned(),
        _ => preview::plain(body),
    }
}

#[component]
pub fn ConversationList() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // A timed mute ends by itself: it is dropped then, so its mark goes.
    // (A memo, so that one timer waits per ending, not one per change.)
    let next_end = Memo::new(move |_| {
        store
            .state
            .with(|state| state.mutes.iter().filter_map(|mute| mute.until).min())
    });
    Effect::new(move |_| {
        if let Some(until) = next_end.get() {
            let wait = (until - now()).clamp(0, Millis::from(i32::MAX)) as u32;
            spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(wait).await;
                store
                    .state
                    .try_update(|state| state.drop_ended_mutes(now()));
            });
        }
    });
    // Kik's "New Chats": requests wait behind their own entry.
    let showing_requests = RwSignal::new(false);
    let request_count = Memo::new(move |_| store.state.with(|state| state.requests().count()));
    Effect::new(move |_| {
        if request_count.get() == 0 {
            showing_requests.set(false);
        }
    });
    let rows = Memo::new(move |_| {
        let requests = showing_requests.get();
        store
            .state
            .with(|state| store.typing.with(|t| rows(state, t, requests)))
    });
    let open = Memo::new(move |_| store.state.with(|state| state.open));
    // One row is in the Tab order (the last focused, else the open one,
    // else the first); arrow keys move between rows.
    let focused = RwSignal::new(None::<ConversationId>);
    let tab_stop = Memo::new(move |_| {
        rows.with(|rows| {
            let listed = |id: &ConversationId| rows.iter().any(|row| row.id == *id);
            focused
                .get()
                .filter(listed)
                .or_else(|| open.get().filter(listed))
                .or_else(|| rows.first().map(|row| row.id))
        })
    });
    let empty =
        move || rows.with(Vec::is_empty) && !showing_requests.get() && request_count.get() == 0;
    // A row that moves (new activity puts it on top) is moved in the DOM,
    // which drops focus: it goes back to the row that had it.
    let list = NodeRef::<leptos::html::Ul>::new();
    let row_had_focus = StoredValue::new(false);
    Effect::new(move |_| {
        rows.track();
        if !row_had_focus.get_value() {
            return;
        }
        request_animation_frame(move || {
            let (Some(list), Some(id)) = (list.get_untracked(), focused.get_untracked()) else {
                return;
            };
            if !focus_is_lost() {
                return;
            }
            let selector = format!(".conversation-row[data-id=\"{id}\"]");
            if let Ok(Some(row)) = list.query_selector(&selector) {
                if let Ok(row) = row.dyn_into::<web_sys::HtmlElement>() {
                    let _ = row.focus();
                }
            }
        });
    });

    view! {
        <nav class="conversation-list" aria-label="Conversations">
            <Show
                when=move || showing_requests.get()
                fallback=move || {
                    view! {
                        <Show when=move || { request_count.get() > 0 }>
                            <button
                                class="requests-entry"
                                aria-label=move || format!("Message requests, {}", request_count.get())
                                on:click=move |_| showing_requests.set(true)
                            >
                                <span>"Message requests"</span>
                                <span class="unread-badge" aria-hidden="true">{move || request_count.get()}</span>
                            </button>
                        </Show>
                    }
                }
            >
                <div class="requests-header">
                    <button class="link-button" on:click=move |_| showing_requests.set(false)>"← Chats"</button>
                    <h2>"Message requests"</h2>
                    <p class="panel-note">
                        "From people you haven't chatted with. They won't see that you read them until you accept."
                    </p>
                </div>
            </Show>
            <Show when=empty>
                <p class="empty-hint">
                    "No conversations yet. Find a friend by username, or a public group by #hashtag, above."
                </p>
            </Show>
            <ul
                node_ref=list
                on:focusin=move |_| row_had_focus.set_value(true)
                // Focus that went somewhere stays there; focus that went
                // nowhere (its row moved) comes back.
                on:focusout=move |ev| {
                    if ev.related_target().is_some() {
                        row_had_focus.set_value(false);
                    }
                }
                on:keydown=move |ev| {
                if let Some(list) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                    if move_focus(&list, ".conversation-row", &ev.key()) {
                        ev.prevent_default();
                    }
                }
            }>
                <For each=move || rows.with(|rows| rows.iter().map(|row| row.id).collect::<Vec<_>>()) key=|id| *id let:id>
                    <RowView id rows open tab_stop focused />
                </For>
            </ul>
        </nav>
    }
}

/// What a screen reader says for a row: what a sighted person sees on it,
/// in the order they read it; `time` is the row's time as shown.
fn spoken(row: &Row, time: Option<String>) -> String {
    let mut parts = vec![row.title.clone()];
    if row.unread > 0 {
        parts.push(format!("{} unread", row.unread));
    }
    match row.mentions {
        0 => {}
        1 => parts.push("1 mention".to_owned()),
        n => parts.push(format!("{n} mentions")),
    }
    if row.muted {
        parts.push("muted".to_owned());
    }
    if row.typing {
        parts.push("typing".to_owned());
    } else if row.time.is_none() {
        parts.push("no messages yet".to_owned());
    } else if let Some(receipt) = row.own_receipt {
        parts.push(format!("last message from you: {}", row.preview));
        parts.push(receipt.label().to_owned());
    } else {
        parts.push(format!("last message: {}", row.preview));
    }
    parts.extend(time);
    parts.join(", ")
}

/// One conversation's row. Its button stays while what it shows changes,
/// so that focus stays on it as messages come in; what is inside is drawn
/// again on each change, as one plain view (small in the first screen's
/// code).
#[component]
fn RowView(
    id: ConversationId,
    rows: Memo<Vec<Row>>,
    open: Memo<Option<ConversationId>>,
    tab_stop: Memo<Option<ConversationId>>,
    focused: RwSignal<Option<ConversationId>>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let row = Memo::new(move |_| rows.with(|rows| rows.iter().find(|row| row.id == id).cloned()));
    view! {
        <li>
            <button
                class="conversation-row"
                data-id=id.to_string()
                class:active=move || open.get() == Some(id)
                aria-current=move || (open.get() == Some(id)).then_some("true")
                aria-label=move || {
                    row.with(|row| row.as_ref().map(|row| spoken(row, row.time.map(|t| time::list_time(t, now())))))
                }
                tabindex=move || if tab_stop.get() == Some(id) { "0" } else { "-1" }
                on:focus=move |_| focused.set(Some(id))
                on:click=move |_| store.open(Some(id))
            >
                {move || row.get().map(row_content)}
            </button>
        </li>
    }
}

/// What a row shows: avatar, title, time, the last message with its
/// receipt (or "typing…"), and the mention and unread badges.
fn row_content(row: Row) -> impl IntoView {
    view! {
        <Avatar name=row.title.clone() picture=row.picture.clone() />
        <span class="row-main">
            <span class="row-top">
                <span class="row-title">{row.title.clone()}</span>
                {row.muted.then(|| view! { <span class="row-muted" aria-hidden="true" title="Muted">"🔕"</span> })}
                <span class="row-time">{row.time.map(|t| time::list_time(t, now()))}</span>
            </span>
            <span class="row-bottom">
                {row.typing.then(|| view! { <span class="row-preview typing">"typing…"</span> })}
                <span class="row-preview" hidden=row.typing>
                    {row
                        .own_receipt
                        .filter(|r| *r != Receipt::Waiting)
                        .map(|r| view! { <span class=format!("receipt-letter r-{}", r.letter())>{r.letter()}</span> })}
                    {(row.own_receipt == Some(Receipt::Waiting))
                        .then(|| view! { <span class="waiting-dot" title="Waiting to send">"🕓"</span> })}
                    {row.preview.clone()}
                </span>
                {(row.mentions > 0)
                    .then(|| {
                        view! {
                            <span class="mention-badge" aria-hidden="true">
                                {if row.mentions == 1 { "@".to_owned() } else { format!("@{}", row.mentions) }}
                            </span>
                        }
                    })}
                {(row.unread > 0).then(|| view! { <span class="unread-badge" aria-hidden="true">{row.unread}</span> })}
            </span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            id: 1,
            title: "ann".to_owned(),
            preview: "see you at nine".to_owned(),
            own_receipt: None,
            time: Some(0),
            unread: 0,
            typing: false,
            mentions: 0,
            muted: false,
            picture: None,
        }
    }

    #[test]
    fn a_row_says_what_it_shows() {
        let at = || Some("12:07".to_owned());
        let unread = Row {
            unread: 2,
            mentions: 1,
            ..row()
        };
        assert_eq!(
            spoken(&unread, at()),
            "ann, 2 unread, 1 mention, last message: see you at nine, 12:07"
        );
        let mine = Row {
            own_receipt: Some(Receipt::Read),
            muted: true,
            ..row()
        };
        assert_eq!(
            spoken(&mine, at()),
            "ann, muted, last message from you: see you at nine, Read, 12:07"
        );
        let typing = Row {
            typing: true,
            ..row()
        };
        assert_eq!(spoken(&typing, at()), "ann, typing, 12:07");
        let empty = Row {
            time: None,
            ..row()
        };
        assert_eq!(spoken(&empty, None), "ann, no messages yet");
    }
}
