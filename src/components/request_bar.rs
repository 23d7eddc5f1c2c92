//! In place of the composer, in a message request: who is asking, and the
//! four answers, one tap each — accept, delete, block, report.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::ConversationId;

use super::conversation_menu::member_of;
use super::report::{ReportTarget, Reporting};
use crate::state::ChatStore;

#[component]
pub fn RequestBar(id: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let reporting = expect_context::<Reporting>();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // Who asked: the other person of a 1:1; in a group, whoever added the
    // user (the newest event naming them), if it is in view.
    let asker = Memo::new(move |_| {
        store.state.with(|state| {
            let me = state.me.id;
            let conversation = state.conversations.get(&id)?;
            if !conversation.is_group() {
                return conversation.peer(me).cloned();
            }
            conversation
                .messages
                .values()
                .rev()
                .filter_map(|m| m.event.as_ref())
                .find(|event| {
                    matches!(&event.kind, natter_protocol::GroupEventKind::Added { user } if user.id == me)
                })
                .map(|event| event.by.clone())
        })
    });
    let group = store
        .state
        .with_untracked(|state| state.conversations.get(&id).is_some_and(|c| c.is_group()));
    // What the buttons do: `block` also deletes the request.
    let answer = move |accept: bool, block: bool| {
        let asker = asker.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let outcome = async {
                if accept {
                    return store.accept(id).await;
                }
                if let (true, Some(asker)) = (block, &asker) {
                    store.block(asker.id).await?;
                }
                store.delete_chat(id).await
            }
            .await;
            busy.set(false);
            if let Err(err) = outcome {
                error.set(Some(err.to_string()));
            }
        });
    };
    let report = move |_| {
        let user = asker
            .get_untracked()
            .map(|asker| member_of(store, id, asker.id));
        if let Some(user) = user {
            reporting.0.set(Some(ReportTarget {
                user,
                conversation: Some(id),
                seq: None,
            }));
        }
    };
    view! {
        <div class="request-bar" role="region" aria-label="Message request">
            <p>
                {move || match (asker.get(), group) {
                    (Some(asker), false) => format!("@{} wants to chat with you.", asker.username),
                    (Some(asker), true) => format!("@{} added you to this group.", asker.username),
                    (None, _) => "You were added by someone you haven't chatted with.".to_owned(),
                }}
                " They won't know you've read this until you accept."
            </p>
            <div class="request-actions">
                <button class="primary small" disabled=move || busy.get() on:click=move |_| answer(true, false)>
                    "Accept"
                </button>
                <button class="link-button" disabled=move || busy.get() on:click=move |_| answer(false, false)>
                    "Delete"
                </button>
                <button class="link-button danger" disabled=move || busy.get() on:click=move |_| answer(false, true)>
                    "Block"
                </button>
                <button class="link-button danger" on:click=report>"Report"</button>
            </div>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </div>
    }
}
