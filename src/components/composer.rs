//! Typing and sending: Enter sends, Shift+Enter starts a new line.

use leptos::html::Textarea;
use leptos::prelude::*;
use natter_protocol::limits::{self, MAX_BODY_CHARS};
use natter_protocol::ConversationId;

use crate::state::ChatStore;

/// From this many characters on, the composer shows how many are left.
const COUNT_FROM: usize = MAX_BODY_CHARS - 400;

#[component]
pub fn Composer(id: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<Textarea>::new();
    let length = Memo::new(move |_| text.with(|t| t.chars().count()));
    let rows = move || text.with(|t| t.lines().count().clamp(1, 6));

    let send = move || {
        let body = text.get_untracked();
        match limits::check_body(&body) {
            Ok(()) => {
                store.send_text(id, body);
                text.set(String::new());
                error.set(None);
            }
            Err(limits::Invalid::BodyEmpty) => {}
            Err(invalid) => error.set(Some(invalid.to_string())),
        }
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };

    view! {
        <form
            class="composer"
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <textarea
                node_ref=input
                aria-label="Message"
                placeholder="Type a message"
                rows=rows
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <button type="submit" class="send-button" aria-label="Send">
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path d="M3 20.5 21 12 3 3.5l2.5 7.1L15 12l-9.5 1.4z" fill="currentColor" />
                </svg>
            </button>
            <Show when=move || { length.get() >= COUNT_FROM }>
                <span
                    class="char-count"
                    class:over=move || { length.get() > MAX_BODY_CHARS }
                    aria-live="polite"
                >
                    {move || format!("{} left", MAX_BODY_CHARS as i64 - length.get() as i64)}
                </span>
            </Show>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </form>
    }
}
