//! The messages of one conversation: bubbles with day separators, S/D/R on
//! one's own messages, and older history loaded as the user scrolls up
//! without the view jumping.

mod bubble;
mod items;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;

use natter_protocol::{ConversationId, Seq};
use web_sys::HtmlElement;

use super::announcer::Announcer;
use super::message_actions::JumpTo;
use crate::state::ChatStore;

use bubble::BubbleView;
use items::{announcement, author, items, moved, newest_seq, window, Item};

/// Messages per history request.
const PAGE: u32 = 50;
/// How many reads a jump to a message (a quote's, a search result's) may
/// take to find it, and the most messages one read brings.
const JUMP_PAGES: usize = 40;
const JUMP_SPAN: u32 = 5_000;
/// How close to the top (px) scrolling must get to load older messages.
const LOAD_MARGIN: i32 = 150;
/// How close to the bottom (px) counts as "at the bottom", which keeps the
/// view pinned to new messages.
const STICK_MARGIN: i32 = 80;

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

    // Up to `count` older messages; false when there was nothing more, or
    // it failed (and the list says so).
    let fetch_older = move |count: u32| async move {
        match store.load_older(id, count).await {
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
    // Everything from the oldest shown back to `target` (and a little
    // before it) in one step: one read when the device has it saved.
    let fetch_older_to = move |target: Seq| {
        let oldest = store.state.with_untracked(|state| state.history_edge(id).0);
        let between = oldest.map_or(0, |oldest| oldest.saturating_sub(target));
        let wanted = u32::try_from(between)
            .unwrap_or(u32::MAX)
            .saturating_add(PAGE / 2);
        fetch_older(wanted.clamp(PAGE, JUMP_SPAN))
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
            fetch_older(PAGE).await;
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
        // The frame may come after the list went (the conversation was
        // closed): then there is nothing to do, and nothing to read.
        request_animation_frame(move || {
            let Some(el) = list.try_get_untracked().flatten() else {
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
            // `None` once the list went while a page was read: stop.
            while items.try_with_untracked(|items| {
                items
                    .iter()
                    .any(|item| matches!(item, Item::Bubble(b) if b.seq == Some(target)))
            }) == Some(false)
                && pages < JUMP_PAGES
                && fetch_older_to(target).await
            {
                pages += 1;
            }
            if loading.try_set(false).is_some() {
                return;
            }
            if !show(target) {
                load_error.set(Some("That message could not be found.".to_owned()));
            }
        });
    });
    provide_context(JumpTo(jump));
    // A search result chosen elsewhere: brought on screen here.
    Effect::new(move |_| {
        if let Some((conversation, seq)) = store.jump.get() {
            if conversation == id {
                store.jump.set(None);
                jump.run(seq);
            }
        }
    });

    // Keep the view where the reader expects it after every change.
    Effect::new(move |_| {
        visible.track();
        request_animation_frame(move || {
            let Some(el) = list.try_get_untracked().flatten() else {
                return;
            };
            if let Some((key, offset)) = anchor.try_get_value().flatten() {
                anchor.set_value(None);
                let selector = format!("li[data-key=\"{key}\"]");
                if let Ok(Some(row)) = el.query_selector(&selector) {
                    if let Ok(row) = row.dyn_into::<HtmlElement>() {
                        el.set_scroll_top(row.offset_top() - offset);
                    }
                }
            } else if stick.try_get_value() == Some(true) {
                el.set_scroll_top(el.scroll_height());
            }
        });
    });

    // New messages from others, said once by the page's live region; what
    // was there when the conversation opened, and older history loaded
    // later, is not.
    if let Some(announcer) = use_context::<Announcer>() {
        let known = store.state.with_untracked(|state| {
            state
                .conversations
                .get(&id)
                .and_then(|c| c.info.last_message.as_ref().map(|m| m.seq))
        });
        let newest = StoredValue::new(items.with_untracked(|items| newest_seq(items)).max(known));
        // Nothing of a conversation stays in the page once it is closed.
        on_cleanup(move || announcer.forget_all(&format!("{id}:")));
        Effect::new(move |_| {
            let seen = newest.get_value();
            let about = |seq: Seq| format!("{id}:{seq}");
            let (fresh, deleted) = items.with(|items| {
                let mut fresh = Vec::new();
                let mut deleted = Vec::new();
                for item in items {
                    match item {
                        Item::Bubble(b) if b.deleted => deleted.extend(b.seq),
                        Item::Bubble(b) if !b.mine && b.seq > seen => {
                            fresh.extend(
                                b.seq
                                    .map(|seq| (seq, announcement(b, &title.get_untracked()))),
                            );
                        }
                        _ => {}
                    }
                }
                (fresh, deleted)
            });
            if let Some(last) = fresh.iter().map(|(seq, _)| *seq).max() {
                newest.set_value(Some(last));
            }
            // A message deleted for everyone is not left in the region.
            deleted
                .into_iter()
                .for_each(|seq| announcer.forget(&about(seq)));
            match fresh.len() {
                0 => {}
                1..=3 => fresh
                    .into_iter()
                    .for_each(|(seq, line)| announcer.say_about(about(seq), line)),
                n => announcer.say(format!("{n} new messages")),
            }
        });
    }

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
            role="region"
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
                            Item::Bubble(bubble) => {
                                let who = author(&bubble, &title.get_untracked());
                                view! { <BubbleView id bubble key who /> }.into_any()
                            }
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
