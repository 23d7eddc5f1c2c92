//! "Send to…": what another app shared with Natter (text, a link, photos
//! or videos), and the conversations it can go to. Choosing one opens it
//! and sends the share there, through the outbox like anything typed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, ConversationId};

use super::avatar::Avatar;
use super::composer::send_files;
use super::layer::{use_layer, Kind};
use crate::media;
use crate::share::{self, Shared};
use crate::state::ChatStore;

#[component]
pub fn SharePicker(
    #[prop(into)] on_close: Callback<()>,
    /// What to send, when it is not another app's share (which is read
    /// from where the service worker keeps it).
    #[prop(optional)]
    given: Option<Shared>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let shared = RwSignal::new_local(None::<Shared>);
    let problem = RwSignal::new(None::<String>);
    if let Some(given) = given {
        shared.set(Some(given));
    } else {
        spawn_local(async move {
            match share::take().await {
                Ok(Some(found)) if !found.is_empty() => shared.set(Some(found)),
                // Nothing (left) to send. The picker may be gone already.
                Ok(_) => {
                    on_close.try_run(());
                }
                Err(err) => problem.set(Some(err.to_string())),
            }
        });
    }

    // Where it can go: conversations the person is in, not requests,
    // most recent first.
    let targets = Memo::new(move |_| {
        store.state.with(|state| {
            let me = state.me.id;
            state
                .sorted()
                .into_iter()
                .filter(|c| c.includes(me) && !c.is_request(me))
                .map(|c| (c.info.id, c.title(me), c.picture(me)))
                .collect::<Vec<_>>()
        })
    });

    // The picker stays until its files are prepared (and says if one
    // could not be), since the preparing reports to it.
    let preparing = RwSignal::new(0_u32);
    let notice = RwSignal::new(None::<String>);
    let sent = RwSignal::new(false);
    let send_to = move |id: ConversationId| {
        let Some(Shared {
            text,
            files,
            link_preview,
        }) = shared.get_untracked()
        else {
            return;
        };
        if let Err(err) = limits::check_caption(&text) {
            problem.set(Some(err.to_string()));
            return;
        }
        store.open(Some(id));
        if !text.is_empty() {
            let link_preview =
                link_preview.filter(|preview| limits::check_link_preview(&text, preview).is_ok());
            store.send_text(id, text, None, link_preview);
        }
        send_files(store, id, files, notice, preparing);
        sent.set(true);
    };
    Effect::new(move |_| {
        if sent.get() && preparing.get() == 0 && notice.with(Option::is_none) {
            on_close.try_run(());
        }
    });

    let busy = move || sent.get() && preparing.get() > 0;
    // A layer: focus comes into the question, so that keyboard and
    // screen-reader users are in it, and Esc closes this, not what is under.
    let root = NodeRef::<leptos::html::Div>::new();
    use_layer(
        Kind::Dialog,
        move || root.get().map(web_sys::Element::from),
        move || on_close.run(()),
    );
    let summary = move || {
        shared.with(|shared| {
            shared.as_ref().map(|shared| {
                // Said in full, so that what goes out is what the person
                // saw (a page can post a share too).
                let files: Vec<String> = shared
                    .files
                    .iter()
                    .map(|file| {
                        format!(
                            "{} ({})",
                            file.name(),
                            media::size_label(file.size() as u64)
                        )
                    })
                    .collect();
                view! {
                    <p class="share-text">{shared.text.clone()}</p>
                    <ul class="share-files" aria-label="Files">
                        {files.into_iter().map(|file| view! { <li>{file}</li> }).collect_view()}
                    </ul>
                }
            })
        })
    };

    view! {
        <div
            class="panel share-picker"
            role="dialog"
            aria-label="Send to…"
            aria-modal="false"
            node_ref=root
        >
            <p class="panel-title">"Send to…"</p>
            {summary}
            {move || problem.get().or_else(|| notice.get()).map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <Show when=busy>
                <p class="panel-note" role="status">"Preparing…"</p>
            </Show>
            <Show when=move || shared.with(Option::is_some) && !sent.get() && targets.with(Vec::is_empty)>
                <p class="panel-note">"No conversations yet: start one, then share again."</p>
            </Show>
            <Show when=move || shared.with(Option::is_some) && !sent.get() && !targets.with(Vec::is_empty)>
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
