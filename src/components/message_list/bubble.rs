//! One message as a bubble: sender, quote, text or attachment, reactions,
//! time and S/D/R, with its menu; in groups, who has read it.

use leptos::prelude::*;
use natter_protocol::{ConversationId, Role, Seq};

use super::items::Bubble;
use crate::components::attachment::AttachmentView;
use crate::components::layer::{Kind, Layer};
use crate::components::link_card::LinkCard;
use crate::components::message_actions::{ActionsMenu, Quote, Reactions};
use crate::components::rich_text::RichText;
use crate::state::{ChatStore, Receipt};
use crate::time;

#[component]
pub(super) fn BubbleView(
    id: ConversationId,
    bubble: Bubble,
    key: String,
    /// Who wrote it, for its label.
    who: String,
) -> impl IntoView {
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
    // Who and when, said first: screen readers read a list item's text,
    // not its label, so the words are in the item (and name it too).
    let label_id = format!("message-{key}");
    let labelled_by = label_id.clone();
    view! {
        <li
            class=format!("bubble-row {side}")
            data-key=key
            data-seq=seq.map(|s| s.to_string())
            aria-labelledby=labelled_by
        >
            <span class="visually-hidden" id=label_id>
                {format!("{who}, {}", time::clock(bubble.time))}
            </span>
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
                {bubble.link_preview.clone().map(|card| view! { <LinkCard preview=*card /> })}
                <div class="bubble-meta">
                    {bubble.edited.then(|| view! { <span class="edited">"edited"</span> })}
                    // Said at the start of the item already.
                    <time aria-hidden="true">{time::clock(bubble.time)}</time>
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
            <Layer kind=Kind::Dialog close=move || open.set(false)>
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
            </Layer>
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
