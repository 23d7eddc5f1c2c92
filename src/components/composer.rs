//! Typing and sending: Enter sends, Shift+Enter starts a new line. Photos
//! and videos come from the attach button, a paste or a drop (see
//! [`send_files`]); the microphone button records a voice message.

use leptos::html::{Input, Textarea};
use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::limits::{self, MAX_BODY_CHARS};
use natter_protocol::{Action, ConversationId, MediaKind};
use web_sys::File;

use super::link_card::{self, DraftLink, DraftLinkCard};
use super::message_actions::{quoted, Author, ComposerMode, Mode};
use super::picked::files_of;
use super::recorder::RecordingBar;
use crate::media::{self, photo, video, MediaError};
use crate::state::{mentions, ChatStore};

/// The most names offered while typing a mention.
const MAX_SUGGESTIONS: usize = 6;

/// The byte offset in `text` of a position counted in UTF-16 units, as
/// text fields count.
fn byte_offset(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (index, c) in text.char_indices() {
        if units >= utf16 {
            return index;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// "12 left", or "904 too many" once past the limit.
fn count_text(length: usize) -> String {
    match MAX_BODY_CHARS.checked_sub(length) {
        Some(left) => format!("{left} left"),
        None => format!("{} too many", length - MAX_BODY_CHARS),
    }
}

/// From this many characters on, the composer shows how many are left.
const COUNT_FROM: usize = MAX_BODY_CHARS - 400;

/// Prepares each picked, pasted or dropped file (photos re-encoded,
/// videos checked and given a poster) and queues it to send; `notice`
/// says why one could not be.
pub fn send_files(
    store: ChatStore,
    id: ConversationId,
    files: Vec<File>,
    notice: RwSignal<Option<String>>,
    preparing: RwSignal<u32>,
) {
    if files.is_empty() {
        return;
    }
    notice.set(None);
    preparing.update(|n| *n += 1);
    spawn_local(async move {
        for file in files {
            let Some(limits) = store.uploads.limits.try_get_untracked() else {
                // Signed out while preparing.
                return;
            };
            let prepared = match media::kind_of(&file.type_()) {
                Ok(MediaKind::Image) => photo::prepare(&file, &limits).await,
                Ok(MediaKind::Video) => video::prepare(&file, &limits).await,
                Ok(MediaKind::Voice) => Err(MediaError::NotMedia(file.type_())),
                Err(err) => Err(err),
            };
            match prepared {
                Ok(prepared) => store.send_media(id, prepared).await,
                Err(err) => notice.set(Some(format!("{}: {err}", file.name()))),
            }
        }
        preparing.update(|n| *n -= 1);
    });
}

#[component]
pub fn Composer(
    id: ConversationId,
    /// What went wrong with the last thing sent, shared with drag and drop.
    notice: RwSignal<Option<String>>,
    /// How many batches of files are being prepared.
    preparing: RwSignal<u32>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let text = RwSignal::new(String::new());
    let recording = RwSignal::new(false);
    let input = NodeRef::<Textarea>::new();
    let picker = NodeRef::<Input>::new();
    let length = Memo::new(move |_| text.with(|t| t.chars().count()));
    let rows = move || text.with(|t| t.lines().count().clamp(1, 6));

    let mode = expect_context::<ComposerMode>().0;
    // An edit changes the text only; a new message's first link gets a
    // card, unless cards are off on this device.
    let draft_link = DraftLink::follow(
        text,
        Signal::derive(move || !matches!(mode.get(), Mode::Edit(_)) && link_card::enabled()),
    );
    // Editing starts from the message's text.
    Effect::new(move |_| {
        if let Mode::Edit(seq) = mode.get() {
            let body = store.state.with_untracked(|state| {
                state
                    .conversations
                    .get(&id)
                    .and_then(|c| c.messages.get(&seq))
                    .map(|m| m.body.clone())
            });
            if let Some(body) = body {
                text.set(body);
            }
        }
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    });
    let mode_line = move || {
        let (what, seq) = match mode.get() {
            Mode::Write => return None,
            Mode::Reply(seq) => ("Replying to", seq),
            Mode::Edit(seq) => ("Editing", seq),
        };
        let about = store.state.with(|state| {
            let (author, text) = quoted(state, id, seq)?;
            let who = match author {
                Author::Me => "you".to_owned(),
                Author::Member(name) => name,
                Author::Former => "them".to_owned(),
            };
            Some(format!("{who}: {text}"))
        });
        Some((what, about.unwrap_or_default()))
    };

    // @mention completion in groups: the names that fit what is typed
    // before the caret.
    let caret = RwSignal::new(0_usize);
    let chosen = RwSignal::new(0_usize);
    let dismissed = RwSignal::new(false);
    let note_caret = move || {
        if let Some(el) = input.get_untracked() {
            let utf16 = el.selection_start().ok().flatten().unwrap_or(0) as usize;
            caret.set(text.with_untracked(|t| byte_offset(t, utf16)));
        }
    };
    let suggestions = Memo::new(move |_| {
        if dismissed.get() {
            return Vec::new();
        }
        let partial = text.with(|t| {
            mentions::typing_at(t, caret.get()).map(|(_, partial)| partial.to_lowercase())
        });
        let Some(partial) = partial else {
            return Vec::new();
        };
        store.state.with(|state| {
            let Some(conversation) = state.conversations.get(&id).filter(|c| c.is_group()) else {
                return Vec::new();
            };
            conversation
                .info
                .members
                .iter()
                .filter(|m| m.user.id != state.me.id)
                .map(|m| m.user.username.clone())
                .filter(|name| name.to_lowercase().starts_with(&partial))
                .take(MAX_SUGGESTIONS)
                .collect::<Vec<_>>()
        })
    });
    let pick = move |name: String| {
        let current = text.get_untracked();
        let at_caret = caret.get_untracked();
        let Some((at, _)) = mentions::typing_at(&current, at_caret) else {
            return;
        };
        let (completed, new_caret) = mentions::complete(&current, at, at_caret, &name);
        let utf16 = completed[..new_caret].encode_utf16().count() as u32;
        // The box gets its value and caret now, not at the next render: a
        // key typed in between would land where the caret was and the caret
        // then jump past it. (The render sets the same value: no move.)
        if let Some(el) = input.get_untracked() {
            el.set_value(&completed);
            let _ = el.set_selection_range(utf16, utf16);
            let _ = el.focus();
        }
        text.set(completed);
        caret.set(new_caret);
        chosen.set(0);
    };

    let send = move || {
        let body = text.get_untracked();
        match limits::check_body(&body) {
            Ok(()) => {
                let card = draft_link.take(&body);
                match mode.get_untracked() {
                    Mode::Write => store.send_text(id, body, None, card),
                    Mode::Reply(seq) => store.send_text(id, body, Some(seq), card),
                    Mode::Edit(target) => store.act(id, Action::Edit { target, body }),
                }
                mode.set(Mode::Write);
                text.set(String::new());
                notice.set(None);
            }
            Err(limits::Invalid::BodyEmpty) => {}
            Err(invalid) => notice.set(Some(invalid.to_string())),
        }
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    let picked = move |_| {
        if let Some(picker) = picker.get_untracked() {
            send_files(store, id, files_of(picker.files()), notice, preparing);
            // The same file may be picked again.
            picker.set_value("");
        }
    };
    let pasted = move |ev: leptos::ev::ClipboardEvent| {
        let files = files_of(ev.clipboard_data().and_then(|data| data.files()));
        if !files.is_empty() {
            ev.prevent_default();
            send_files(store, id, files, notice, preparing);
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
            {move || {
                mode_line()
                    .map(|(what, about)| {
                        view! {
                            <div class="composer-mode" role="status">
                                <span class="composer-mode-what">{what}</span>
                                <span class="composer-mode-about">{about}</span>
                                <button
                                    type="button"
                                    class="icon-button"
                                    aria-label=format!("Stop {}", what.to_lowercase())
                                    on:click=move |_| {
                                        if matches!(mode.get_untracked(), Mode::Edit(_)) {
                                            text.set(String::new());
                                        }
                                        mode.set(Mode::Write);
                                    }
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
            <DraftLinkCard draft=draft_link />
            <Show when=move || !suggestions.with(Vec::is_empty)>
                <ul class="mention-suggestions" id="mention-suggestions" role="listbox" aria-label="Mention someone">
                    {move || {
                        suggestions
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(index, name)| {
                                let label = name.clone();
                                view! {
                                    <li
                                        role="option"
                                        id=format!("mention-{index}")
                                        aria-selected=move || {
                                            let last = suggestions.with(Vec::len).saturating_sub(1);
                                            (chosen.get().min(last) == index).to_string()
                                        }
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            pick(name.clone());
                                        }
                                    >
                                        "@"
                                        {label}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
            <Show
                when=move || recording.get()
                fallback=move || {
                    view! {
                        <button
                            type="button"
                            class="icon-button attach-button"
                            aria-label="Attach a photo or video"
                            on:click=move |_| {
                                if let Some(picker) = picker.get_untracked() {
                                    picker.click();
                                }
                            }
                        >
                            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                                <path
                                    d="M16.5 6.5 8.4 14.6a2 2 0 0 0 2.8 2.8l8.1-8.1a4 4 0 0 0-5.7-5.7L5.5 11.7a6 6 0 0 0 8.5 8.5l6.2-6.2"
                                    fill="none"
                                    stroke="currentColor"
                                    stroke-width="1.8"
                                    stroke-linecap="round"
                                />
                            </svg>
                        </button>
                        <textarea
                            node_ref=input
                            aria-label="Message"
                            placeholder="Type a message"
                            rows=rows
                            prop:value=move || text.get()
                            on:input=move |ev| {
                                let value = event_target_value(&ev);
                                if !value.trim().is_empty() {
                                    store.typing_in(id);
                                }
                                text.set(value);
                                dismissed.set(false);
                                note_caret();
                            }
                            on:click=move |_| note_caret()
                            on:keyup=move |ev| {
                                if ev.key().starts_with("Arrow") && suggestions.with_untracked(Vec::is_empty) {
                                    note_caret();
                                }
                            }
                            aria-autocomplete="list"
                            // Only while the list is there: a reference to
                            // an element that is not is broken ARIA.
                            aria-controls=move || (!suggestions.with(Vec::is_empty)).then_some("mention-suggestions")
                            aria-activedescendant=move || {
                                let offered = suggestions.with(Vec::len);
                                (offered > 0).then(|| format!("mention-{}", chosen.get().min(offered - 1)))
                            }
                            on:paste=pasted
                            on:keydown=move |ev| {
                                let offered = suggestions.get_untracked();
                                if !offered.is_empty() {
                                    let handled = match ev.key().as_str() {
                                        "ArrowDown" => {
                                            chosen.update(|i| *i = (*i + 1) % offered.len());
                                            true
                                        }
                                        "ArrowUp" => {
                                            chosen.update(|i| *i = (*i + offered.len() - 1) % offered.len());
                                            true
                                        }
                                        "Enter" | "Tab" => {
                                            let index = chosen.get_untracked().min(offered.len() - 1);
                                            pick(offered[index].clone());
                                            true
                                        }
                                        "Escape" => {
                                            dismissed.set(true);
                                            ev.stop_propagation();
                                            true
                                        }
                                        _ => false,
                                    };
                                    if handled {
                                        ev.prevent_default();
                                        return;
                                    }
                                }
                                if ev.key() == "Escape" && mode.get_untracked() != Mode::Write {
                                    ev.stop_propagation();
                                    if matches!(mode.get_untracked(), Mode::Edit(_)) {
                                        text.set(String::new());
                                    }
                                    mode.set(Mode::Write);
                                    return;
                                }
                                if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                    ev.prevent_default();
                                    send();
                                }
                            }
                        ></textarea>
                        <button
                            type="button"
                            class="icon-button mic-button"
                            aria-label="Record a voice message"
                            on:click=move |_| {
                                notice.set(None);
                                recording.set(true);
                            }
                        >
                            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                                <rect x="9" y="3" width="6" height="11" rx="3" fill="currentColor" />
                                <path
                                    d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21"
                                    fill="none"
                                    stroke="currentColor"
                                    stroke-width="1.8"
                                    stroke-linecap="round"
                                />
                            </svg>
                        </button>
                        <button type="submit" class="send-button" aria-label="Send">
                            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                                <path d="M3 20.5 21 12 3 3.5l2.5 7.1L15 12l-9.5 1.4z" fill="currentColor" />
                            </svg>
                        </button>
                    }
                }
            >
                <RecordingBar id notice on_done=move || recording.set(false) />
            </Show>
            <input
                node_ref=picker
                type="file"
                class="file-picker"
                accept="image/*,video/*"
                multiple
                tabindex="-1"
                aria-hidden="true"
                on:change=picked
            />
            <Show when=move || { length.get() >= COUNT_FROM }>
                <span
                    class="char-count"
                    class:over=move || { length.get() > MAX_BODY_CHARS }
                    aria-live="polite"
                >
                    {move || count_text(length.get())}
                </span>
            </Show>
            <Show when=move || { preparing.get() > 0 }>
                <p class="composer-status" role="status">"Preparing…"</p>
            </Show>
            {move || notice.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_positions_convert_from_utf16() {
        assert_eq!(byte_offset("abc", 2), 2);
        assert_eq!(byte_offset("é@a", 2), 3);
        assert_eq!(byte_offset("👍@a", 3), 5);
        assert_eq!(byte_offset("ab", 9), 2);
    }

    #[test]
    fn the_count_says_how_many_are_left_or_too_many() {
        assert_eq!(count_text(MAX_BODY_CHARS - 12), "12 left");
        assert_eq!(count_text(MAX_BODY_CHARS), "0 left");
        assert_eq!(count_text(MAX_BODY_CHARS + 904), "904 too many");
    }
}
