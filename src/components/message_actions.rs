//! What one can do with a message from its bubble — react, reply, edit,
//! delete for everyone — and how the results look: reaction chips, the
//! quote of the message replied to (which jumps to it), "edited".

use leptos::prelude::*;
use natter_protocol::{Action, ConversationId, Reaction, Seq, UserId};

use super::conversation_menu::{member_of, toggle_block};
use super::layer::{Kind, Layer};
use super::report::{ReportTarget, Reporting};
use crate::state::{ChatState, ChatStore};

/// The reactions offered in a message's menu.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/// What the composer is doing: writing, replying to a message, or editing
/// one of the user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Reply(Seq),
    Edit(Seq),
}

/// The composer's mode, shared between the bubbles and the composer.
#[derive(Clone, Copy)]
pub struct ComposerMode(pub RwSignal<Mode>);

/// Scrolls the message list to a message, shared with the quotes.
#[derive(Clone, Copy)]
pub struct JumpTo(pub Callback<Seq>);

/// One reaction as a chip shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chip {
    pub emoji: String,
    pub count: usize,
    pub mine: bool,
}

pub fn chips(reactions: &[Reaction], me: UserId) -> Vec<Chip> {
    reactions
        .iter()
        .map(|reaction| Chip {
            emoji: reaction.emoji.clone(),
            count: reaction.users.len(),
            mine: reaction.users.contains(&me),
        })
        .collect()
}

/// Who wrote a quoted message.
pub enum Author {
    /// The person using this device.
    Me,
    Member(String),
    /// Someone no longer in the conversation.
    Former,
}

/// The message `seq` of conversation `id`, as a quote shows it: who wrote
/// it and its first line. None when it is not loaded.
pub fn quoted(state: &ChatState, id: ConversationId, seq: Seq) -> Option<(Author, String)> {
    let conversation = state.conversations.get(&id)?;
    let message = conversation.messages.get(&seq)?;
    let author = if message.sender == state.me.id {
        Author::Me
    } else {
        conversation
            .name_of(message.sender)
            .map_or(Author::Former, |name| Author::Member(name.to_owned()))
    };
    Some((author, natter_protocol::preview::line(message)))
}

/// The reactions under a bubble; one's own are pressed, and a click
/// toggles them.
#[component]
pub fn Reactions(id: ConversationId, seq: Option<Seq>, chips: Vec<Chip>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    chips
        .into_iter()
        .map(|chip| {
            let emoji = chip.emoji.clone();
            let label = format!(
                "{} {}{}",
                chip.emoji,
                chip.count,
                if chip.mine { ", yours" } else { "" }
            );
            view! {
                <button
                    class="reaction"
                    class:mine=chip.mine
                    aria-pressed=chip.mine.to_string()
                    aria-label=label
                    disabled=seq.is_none()
                    on:click=move |_| {
                        if let Some(target) = seq {
                            let emoji = emoji.clone();
                            store.act(
                                id,
                                if chip.mine {
                                    Action::Unreact { target, emoji }
                                } else {
                                    Action::React { target, emoji }
                                },
                            );
                        }
                    }
                >
                    {chip.emoji.clone()}
                    " "
                    {chip.count}
                </button>
            }
        })
        .collect_view()
}

/// "⋯" on a bubble, opening reactions and the actions the user may take.
#[component]
pub fn ActionsMenu(
    id: ConversationId,
    seq: Seq,
    /// The user's own message with text: it may be edited.
    editable: bool,
    /// The user's own message, or the user is an admin of the group: it
    /// may be deleted for everyone.
    deletable: bool,
    /// Who sent it, when it is someone else: they may be blocked.
    sender: Option<UserId>,
    /// The reactions the user has already given.
    given: Vec<String>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let reporting = expect_context::<Reporting>();
    let given = StoredValue::new(given);
    let open = RwSignal::new(false);
    let blocked = Memo::new(move |_| {
        sender.is_some_and(|sender| store.state.with(|state| state.blocks(sender)))
    });
    let problem = RwSignal::new(None::<String>);
    let mode = expect_context::<ComposerMode>();
    let react = move |emoji: &'static str, already: bool| {
        open.set(false);
        let emoji = emoji.to_owned();
        store.act(
            id,
            if already {
                Action::Unreact { target: seq, emoji }
            } else {
                Action::React { target: seq, emoji }
            },
        );
    };
    view! {
        <div class="message-menu">
            <button
                class="menu-button"
                aria-label="Message actions"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "⋯"
            </button>
            <Show when=move || open.get()>
                <Layer kind=Kind::Menu close=move || open.set(false)>
                <div class="menu" role="menu">
                    <div class="menu-reactions">
                        {QUICK_REACTIONS
                            .into_iter()
                            .map(|emoji| {
                                let already = given.with_value(|given| given.iter().any(|g| g == emoji));
                                view! {
                                    <button
                                        role="menuitem"
                                        class:given=already
                                        aria-label=format!("React with {emoji}")
                                        on:click=move |_| react(emoji, already)
                                    >
                                        {emoji}
                                    </button>
                                }
                            })
                            .collect_view()}
                    </div>
                    <button
                        role="menuitem"
                        on:click=move |_| {
                            open.set(false);
                            mode.0.set(Mode::Reply(seq));
                        }
                    >
                        "Reply"
                    </button>
                    {editable
                        .then(|| {
                            view! {
                                <button
                                    role="menuitem"
                                    on:click=move |_| {
                                        open.set(false);
                                        mode.0.set(Mode::Edit(seq));
                                    }
                                >
                                    "Edit"
                                </button>
                            }
                        })}
                    {deletable
                        .then(|| {
                            view! {
                                <button
                                    role="menuitem"
                                    class="danger"
                                    on:click=move |_| {
                                        open.set(false);
                                        store.act(id, Action::Delete { target: seq });
                                    }
                                >
                                    "Delete for everyone"
                                </button>
                            }
                        })}
                    {sender
                        .map(|sender| {
                            view! {
                                <button
                                    role="menuitem"
                                    class="danger"
                                    on:click=move |_| {
                                        open.set(false);
                                        reporting.0.set(Some(ReportTarget {
                                            user: member_of(store, id, sender),
                                            conversation: Some(id),
                                            seq: Some(seq),
                                        }));
                                    }
                                >
                                    "Report"
                                </button>
                                <button role="menuitem" class="danger" on:click=move |_| toggle_block(store, sender, problem, move || open.set(false))>
                                    {move || if blocked.get() { "Unblock sender" } else { "Block sender" }}
                                </button>
                            }
                        })}
                    {move || problem.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
                </div>
                </Layer>
            </Show>
        </div>
    }
}

/// The message a reply answers, in a line; a click jumps to it.
#[component]
pub fn Quote(id: ConversationId, target: Seq) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let jump = expect_context::<JumpTo>();
    let quoted = Memo::new(move |_| {
        store.state.with(|state| {
            let (author, text) = quoted(state, id, target)?;
            let who = match author {
                Author::Me => "You".to_owned(),
                Author::Member(name) => name,
                Author::Former => "Former member".to_owned(),
            };
            Some((who, text))
        })
    });
    view! {
        <button
            class="quote"
            aria-label="Go to the message this replies to"
            on:click=move |_| jump.0.run(target)
        >
            {move || match quoted.get() {
                Some((who, text)) => {
                    view! {
                        <strong>{who}</strong>
                        <span>{text}</span>
                    }
                        .into_any()
                }
                None => view! { <span>"An earlier message"</span> }.into_any(),
            }}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chips_count_and_know_ones_own() {
        let reactions = vec![
            Reaction {
                emoji: "👍".into(),
                users: vec![1, 2],
            },
            Reaction {
                emoji: "😂".into(),
                users: vec![3],
            },
        ];
        let chips = chips(&reactions, 2);
        assert_eq!((chips[0].count, chips[0].mine), (2, true));
        assert_eq!((chips[1].count, chips[1].mine), (1, false));
    }
}
