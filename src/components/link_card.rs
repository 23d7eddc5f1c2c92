//! Link cards: what a link in a message is (the page's picture, site,
//! title and description), as the sender's server read it, so that
//! readers' devices ask the linked site nothing. The card always names
//! the link's real host beside what the page (or the sender) calls
//! itself. In a message the card
//! opens the link in the in-app browser; in the composer it shows what
//! will go with the message, and × sends the link bare.
//!
//! Whether the composer asks for cards at all is this device's choice,
//! kept in `localStorage` (see [`enabled`]).

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::LinkPreview;

use super::browser::{address_of, open_in_panel, Browser};
use super::rich_text::{segments, Segment};
use crate::state::ChatStore;

/// Where the choice is kept.
const KEY: &str = "natter.link-previews";
/// How long the text must stay still before a link's card is asked for.
const SETTLE_MS: u64 = 500;

/// Whether links typed on this device get a card (on unless turned off).
pub fn enabled() -> bool {
    crate::account::storage()
        .and_then(|storage| storage.get_item(KEY).ok().flatten())
        .is_none_or(|value| value != "off")
}

pub fn set_enabled(on: bool) {
    if let Some(storage) = crate::account::storage() {
        // Without storage the choice is not kept: cards stay on.
        let _ = storage.set_item(KEY, if on { "on" } else { "off" });
    }
}

/// The first link in `text`, which is the one a card is made for.
pub fn first_link(text: &str) -> Option<String> {
    segments(text)
        .into_iter()
        .find_map(|segment| match segment {
            Segment::Link(link) => Some(link.to_owned()),
            _ => None,
        })
}

/// A card, as a link: a click opens the in-app browser (with a modifier,
/// the browser's own new tab).
#[component]
pub fn LinkCard(preview: LinkPreview) -> impl IntoView {
    let browser = use_context::<Browser>();
    let target = preview.url.clone();
    let broken = RwSignal::new(false);
    let picture = preview.image.map(|image| {
        view! {
            <img
                class="link-card-image"
                src=format!("/api/previews/images/{}", image.id)
                width=image.width
                height=image.height
                alt=""
                loading="lazy"
                decoding="async"
                hidden=move || broken.get()
                on:error=move |_| broken.set(true)
            />
        }
    });
    // The card's words are the sender's to choose, like the message's;
    // its host is the link's own, parsed as the browser will.
    let host = address_of(&preview.url).map(|address| address.host);
    let source = match (preview.site_name, host) {
        (Some(site), Some(host)) if !site.eq_ignore_ascii_case(&host) => format!("{site} · {host}"),
        (_, Some(host)) => host,
        (Some(site), None) => site,
        (None, None) => String::new(),
    };
    view! {
        <a
            class="link-card"
            href=preview.url.clone()
            target="_blank"
            rel="noopener noreferrer"
            on:click=open_in_panel(browser, target)
        >
            {picture}
            <span class="link-card-text">
                <span class="link-card-site">{source}</span>
                <span class="link-card-title">{preview.title}</span>
                {preview
                    .description
                    .map(|text| view! { <span class="link-card-description">{text}</span> })}
            </span>
        </a>
    }
}

/// The card the composer is about to send with its text.
#[derive(Clone, Copy)]
pub struct DraftLink {
    /// The card of the text's first link, once the server has answered.
    pub preview: RwSignal<Option<LinkPreview>>,
    /// The link whose card is being asked for.
    loading: RwSignal<Option<String>>,
    /// The link whose card the person removed.
    removed: RwSignal<Option<String>>,
}

impl DraftLink {
    /// Follows `text`'s first link while `wanted` (not editing, cards
    /// on), asking the server for its card once the text settles.
    pub fn follow(text: RwSignal<String>, wanted: Signal<bool>) -> Self {
        let draft = DraftLink {
            preview: RwSignal::new(None),
            loading: RwSignal::new(None),
            removed: RwSignal::new(None),
        };
        let store = expect_context::<ChatStore>();
        let link = Memo::new(move |_| text.with(|text| first_link(text)));
        Effect::new(move |_| {
            let link = link.get().filter(|_| wanted.get());
            let removed = draft.removed.get_untracked();
            let current = draft
                .preview
                .with_untracked(|preview| preview.as_ref().map(|p| p.url.clone()));
            if link.is_none() || link != current {
                draft.preview.set(None);
            }
            let Some(link) = link.filter(|link| Some(link) != removed.as_ref()) else {
                draft.loading.set(None);
                return;
            };
            if current.as_ref() == Some(&link) {
                return;
            }
            draft.loading.set(Some(link.clone()));
            let settled = move || {
                // Typed on, or gone: a later run asks for its own link.
                if draft.loading.try_get_untracked().flatten().as_ref() != Some(&link) {
                    return;
                }
                spawn_local(async move {
                    let found = store.link_info(&link).await;
                    if draft.loading.try_get_untracked().flatten().as_ref() != Some(&link) {
                        return;
                    }
                    draft.loading.set(None);
                    // No card (offline, a page without a title, a
                    // refusal): the link goes bare, as typed.
                    if let Ok(card) = found.map(|info| info.preview) {
                        draft.preview.set(card);
                    }
                });
            };
            set_timeout(settled, std::time::Duration::from_millis(SETTLE_MS));
        });
        draft
    }

    /// The card to send with `body`, if it is still for a link in it.
    pub fn take(&self, body: &str) -> Option<LinkPreview> {
        let preview = self.preview.get_untracked()?;
        let still = first_link(body).as_deref() == Some(preview.url.as_str());
        self.preview.set(None);
        self.loading.set(None);
        self.removed.set(None);
        still.then_some(preview)
    }
}

/// The composer's card, with × to send the link without it.
#[component]
pub fn DraftLinkCard(draft: DraftLink) -> impl IntoView {
    let remove = move |_| {
        let link = draft
            .preview
            .with_untracked(|preview| preview.as_ref().map(|p| p.url.clone()))
            .or_else(|| draft.loading.get_untracked());
        draft.removed.set(link);
        draft.preview.set(None);
        draft.loading.set(None);
    };
    move || {
        if let Some(preview) = draft.preview.get() {
            Some(
                view! {
                    <div class="draft-link" role="group" aria-label="Link preview to send">
                        <LinkCard preview />
                        <button
                            type="button"
                            class="icon-button"
                            aria-label="Remove link preview"
                            title="Send the link without its preview"
                            on:click=remove
                        >
                            "×"
                        </button>
                    </div>
                }
                .into_any(),
            )
        } else {
            draft.loading.with(Option::is_some).then(|| {
                view! {
                    <div class="draft-link loading" role="status">
                        <span>"Getting the link's preview…"</span>
                        <button
                            type="button"
                            class="icon-button"
                            aria-label="Remove link preview"
                            on:click=remove
                        >
                            "×"
                        </button>
                    </div>
                }
                .into_any()
            })
        }
    }
}

/// Settings: whether links get a card.
#[component]
pub fn LinkPreviewSettings() -> impl IntoView {
    let on = RwSignal::new(enabled());
    view! {
        <section class="panel" aria-labelledby="privacy-title">
            <p class="panel-title" id="privacy-title">"Privacy"</p>
            <label class="checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || on.get()
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        on.set(checked);
                        set_enabled(checked);
                    }
                />
                <span>"Link previews"</span>
            </label>
            <p class="panel-note">
                "When on, Natter's server reads the pages you link to and sends a preview card with \
                 your message; the sites never see your address or the people you write to. Off: \
                 links go as you type them."
            </p>
        </section>
    }
}
