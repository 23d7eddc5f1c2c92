//! "Send to…": what another app shared with Natter (text, a link, photos
//! or videos), and the conversations it can go to. Choosing one opens it
//! and sends the share there, through the outbox like anything typed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::ConversationId;

use super::avatar::Avatar;
use super::composer::send_files;
use crate::share::{self, Shared};
use crate::state::ChatStore;

#[component]
pub fn SharePicker(#[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let shared = RwSignal::new_local(None::<Shared>);
    let problem = RwSignal::new(None::<String>);
    spawn_local(async move {
        match share::take().await {
            Ok(Some(found)) if !found.is_empty() => shared.set(Some(found)),
            Ok(_) => on_close.run(()),
            Err(err) => problem.set(Some(err.to_string())),
        }
    });

    // Where it can go: conversations the person is in, not requests,
    // most recent first.
    let targets = Memo::new(move |_| {
        store.state.with(|state| {
            let me = state.me.id;
            let mut targets: Vec<_> = state
                .conversations
                .values()
                .filter(|c| c.includes(me) && !c.is_request(me))
                .map(|c| (c.last_activity(), c.info.id, c.title(me), c.picture(me)))
                .collect();
            targets.sort_by_key(|target| std::cmp::Reverse(target.0));
            targets
                .into_iter()
                .map(|(_, id, title, picture)| (id, title, picture))
                .collect::<Vec<_>>()
        })
    });

    // The picker stays until its files are prepared (and says if one
    // could not be), since the preparing reports to it.
    let preparing = RwSignal::new(0_u32);
    let notice = RwSignal::new(None::<String>);
    let sent = RwSignal::new(false);
    let send_to = move |id: ConversationId| {
        let Some(Shared { text, files }) = shared.get_untracked() else {
            return;
        };
        store.open(Some(id));
        if !text.is_empty() {
            store.send_text(id, text, None);
        }
        send_files(store, id, files, notice, preparing);
        sent.set(true);
    };
    Effect::new(move |_| {
        if sent.get() && preparing.get() == 0 && notice.with(Option::is_none) {
            on_close.run(());
        }
    });

    let busy = move || sent.get() && preparing.get() > 0;
    let summary = move || {
        shared.with(|shared| {
            shared.as_ref().map(|shared| {
                let files = match shared.files.len() {
                    0 => String::new(),
                    1 => "1 photo or video".to_owned(),
                    n => format!("{n} photos or videos"),
                };
                view! {
                    <p class="share-text">{shared.text.clone()}</p>
                    <p class="panel-note">{files}</p>
                }
            })
        })
    };

    view! {
        <div class="panel share-picker" role="dialog" aria-label="Send to…" aria-modal="false">
            <p class="panel-title">"Send to…"</p>
            {summary}
            {move || problem.get().or_else(|| notice.get()).map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <Show when=busy>
                <p class="panel-note" role="status">"Preparing…"</p>
            </Show>
            <Show
                when=move || !sent.get() && targets.with(|t| !t.is_empty())
                fallback=|| view! { <p class="panel-note">"No conversations yet: start one, then share again."</p> }
            >
                <ul class="share-targets">
                    <For each=move || targets.get() key=|(id, _, _)| *id let:target>
                        <li>
                            <button class="share-target" on:click=move |_| send_to(target.0)>
                                <Avatar name=target.1.clone() picture=target.2.clone() />
                                <span>{target.1.clone()}</span>
                            </button>
                        </li>
                    </For>
                </ul>
            </Show>
            <div class="panel-actions">
                <button class="link-button" on:click=move |_| on_close.run(())>
                    {move || if sent.get() { "Close" } else { "Cancel" }}
                </button>
            </div>
        </div>
    }
}
