//! Searching the messages saved on this device, offline too: words and
//! their beginnings, in every chat or only the open one. Each result shows
//! its conversation, sender and time, and the message with the matching
//! words marked; choosing it opens the conversation on that message.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{ConversationKind, Message};

use crate::model::search::highlights;
use crate::state::{ChatStore, Found};

/// How much text a result shows around its first match, in characters.
const CONTEXT: usize = 60;

#[component]
pub fn SearchPanel(#[prop(into)] close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let open = store.state.with_untracked(|state| state.open);
    let open_title = open.and_then(|id| {
        store
            .state
            .with_untracked(|state| state.conversations.get(&id).map(|c| c.title(state.me.id)))
    });
    let query = RwSignal::new(String::new());
    let only_open = RwSignal::new(open.is_some());
    let found = RwSignal::new(None::<Result<Found, String>>);
    // Each keystroke searches; an answer to an older query is dropped.
    let run = move || {
        let asked = query.get_untracked();
        let scope = if only_open.get_untracked() {
            open
        } else {
            None
        };
        if asked.trim().is_empty() {
            found.set(None);
            return;
        }
        spawn_local(async move {
            let answer = store
                .search(&asked, scope)
                .await
                .map_err(|err| err.to_string());
            if query.get_untracked() == asked {
                found.set(Some(answer));
            }
        });
    };
    let status = move || match found.get() {
        None => String::new(),
        Some(Err(err)) => err,
        Some(Ok(found)) => match found.total {
            0 => "No saved message has these words.".to_owned(),
            1 => "1 message".to_owned(),
            n if n > found.results.len() => {
                format!("{n} messages, the newest {} shown", found.results.len())
            }
            n => format!("{n} messages"),
        },
    };
    let results = move || {
        let Some(Ok(found)) = found.get() else {
            return Vec::new();
        };
        let asked = query.get_untracked();
        found
            .results
            .into_iter()
            .map(|message| {
                let conversation = message.conversation;
                let seq = message.seq;
                // Who wrote it, where the title does not say already.
                let (title, sender) = store.state.with_untracked(|state| {
                    let c = state.conversations.get(&conversation);
                    let title = c.map(|c| c.title(state.me.id)).unwrap_or_default();
                    let group = c.is_some_and(|c| c.info.kind == ConversationKind::Group);
                    let sender = if message.sender == state.me.id {
                        Some("You".to_owned())
                    } else if group {
                        Some(
                            c.and_then(|c| c.name_of(message.sender))
                                .unwrap_or("Someone")
                                .to_owned(),
                        )
                    } else {
                        None
                    };
                    (title, sender)
                });
                let when = crate::time::list_time(message.sent_at, js_sys::Date::now() as i64);
                let meta = match sender {
                    Some(sender) => format!("{sender} · {when}"),
                    None => when,
                };
                let text = marked(&message, &asked);
                view! {
                    <li>
                        <button
                            class="search-result"
                            on:click=move |_| {
                                store.jump_to(conversation, seq);
                                close.run(());
                            }
                        >
                            <span class="search-result-title">{title}</span>
                            <span class="search-result-meta">{meta}</span>
                            <span class="search-result-text">{text}</span>
                        </button>
                    </li>
                }
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section class="panel search-panel" aria-labelledby="search-title">
            <p class="panel-title" id="search-title">"Search messages"</p>
            <input
                type="search"
                class="search-input"
                aria-label="Search saved messages"
                placeholder="Words, or how they begin"
                autofocus=true
                on:input=move |ev| {
                    query.set(event_target_value(&ev));
                    run();
                }
            />
            {open_title.map(|title| view! {
                <label class="checkbox">
                    <input
                        type="checkbox"
                        prop:checked=move || only_open.get()
                        on:change=move |ev| {
                            only_open.set(event_target_checked(&ev));
                            run();
                        }
                    />
                    <span>"Only in " {title}</span>
                </label>
            })}
            <p class="panel-note" role="status">{status}</p>
            <ul class="search-results" aria-label="Messages found">{results}</ul>
            <button class="link-button" on:click=move |_| close.run(())>"Close"</button>
        </section>
    }
}

/// The message's text around its first match, the matching words marked.
fn marked(message: &Message, query: &str) -> Vec<AnyView> {
    let body = message.body.as_str();
    let ranges = highlights(body, query);
    let start = ranges.first().map_or(0, |first| {
        let before = body[..first.start].chars().count();
        let skip = before.saturating_sub(CONTEXT / 2);
        body.char_indices().nth(skip).map_or(0, |(at, _)| at)
    });
    let end = body[start..]
        .char_indices()
        .nth(CONTEXT * 2)
        .map_or(body.len(), |(at, _)| start + at);
    let mut parts: Vec<AnyView> = Vec::new();
    if start > 0 {
        parts.push("…".into_any());
    }
    let mut at = start;
    for range in ranges
        .into_iter()
        .filter(|r| r.start >= start && r.end <= end)
    {
        if range.start > at {
            parts.push(body[at..range.start].to_owned().into_any());
        }
        parts.push(view! { <mark>{body[range.clone()].to_owned()}</mark> }.into_any());
        at = range.end;
    }
    if end > at {
        parts.push(body[at..end].to_owned().into_any());
    }
    if end < body.len() {
        parts.push("…".into_any());
    }
    parts
}
