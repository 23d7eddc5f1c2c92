//! The in-app browser: links in messages open in a panel beside the chat
//! (over it on a phone), so a conversation stays one step away.
//!
//! The address bar never guesses: the host shown is the one the
//! browser's own URL parser finds (so `https://evil.example\@bank.example`
//! shows evil.example, which is what loads), with the full link on hover
//! and focus and whether the connection is encrypted. A page inside the
//! frame is another site's, which Natter cannot see into: once it moves
//! on from the link, the bar says so instead of naming a page it cannot
//! know. Natter's server says beforehand (without the reader's address
//! reaching the site) where the link leads and whether the site refuses
//! to be framed; such a site gets a card with "Open in browser" instead of
//! a blank frame.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::LinkInfo;
use wasm_bindgen::JsValue;

use super::link_card::{self, LinkCard};
use super::share_picker::SharePicker;
use crate::share::Shared;
use crate::state::ChatStore;

/// The page open in the panel, shared with message text (which opens it)
/// and with Esc (which closes it first).
#[derive(Clone, Copy)]
pub struct Browser(pub RwSignal<Option<String>>);

/// A link as the address bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The host, with its port if it is not the usual one, as the browser
    /// parses it (lowercase, punycode for international names).
    pub host: String,
    /// Whether the page comes over https.
    pub secure: bool,
    /// The whole link, as parsed.
    pub href: String,
    /// A link to Natter itself.
    pub own: bool,
}

/// Parses `link` with the browser's URL parser, the one the frame loads
/// it with; `None` for anything but an http(s) link.
pub fn address_of(link: &str) -> Option<Address> {
    let url = web_sys::Url::new(link).ok()?;
    let protocol = url.protocol();
    if protocol != "http:" && protocol != "https:" {
        return None;
    }
    let own = window()
        .location()
        .origin()
        .is_ok_and(|origin| origin == url.origin());
    Some(Address {
        host: url.host(),
        secure: protocol == "https:",
        href: url.href(),
        own,
    })
}

/// What a click on a link to `target` does: a plain click opens it in
/// the in-app browser (when there is one); with a modifier, the browser's
/// own new tab or window, as the link's `href` says.
pub fn open_in_panel(browser: Option<Browser>, target: String) -> impl Fn(web_sys::MouseEvent) {
    move |ev| {
        let plain = !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key());
        if let (Some(browser), true) = (browser, plain) {
            ev.prevent_default();
            browser.0.set(Some(target.clone()));
        }
    }
}

/// Marks the history entry the panel adds when it opens, so that the
/// phone's back gesture (or one "Back" too many) closes the panel instead
/// of leaving Natter.
const HISTORY_MARK: &str = "natter-browser";

#[component]
pub fn BrowserPanel() -> impl IntoView {
    let browser = expect_context::<Browser>();
    move || {
        browser
            .0
            .get()
            .map(|link| view! { <Page link /> }.into_any())
    }
}

#[component]
fn Page(link: String) -> impl IntoView {
    let browser = expect_context::<Browser>();
    let close = move || browser.0.set(None);
    let Some(address) = address_of(&link) else {
        return view! {
            <div class="browser" role="dialog" aria-modal="true" aria-label="Link">
                <header class="browser-bar">
                    <button class="icon-button" aria-label="Close" on:click=move |_| close()>"×"</button>
                </header>
                <p class="browser-refused">"Only web links (http and https) open here."</p>
            </div>
        }
        .into_any();
    };

    // What the server found at the link.
    let info = RwSignal::new(None::<Result<LinkInfo, String>>);
    if !address.own {
        let store = expect_context::<ChatStore>();
        let link = link.clone();
        spawn_local(async move {
            let found = store.link_info(&link).await;
            info.try_set(Some(found.map_err(|err| err.to_string())));
        });
    }
    // Framed or not changes at most once (when the server answers): the
    // frame is built again only then, not on every answer.
    let own = address.own;
    // Where the link ends up, once the server has followed its redirects.
    let landing = Memo::new(move |_| {
        info.with(|info| match info {
            Some(Ok(info)) => address_of(&info.final_url),
            _ => None,
        })
    });
    let secure = {
        let first = address.secure;
        Signal::derive(move || landing.with(|to| to.as_ref().map_or(first, |to| to.secure)))
    };
    // An https Natter may not frame an http page: the browser blocks it
    // as mixed content, which would leave a blank frame.
    let first_secure = address.secure;
    let natter_secure = window().location().protocol().is_ok_and(|p| p == "https:");
    let refused = Memo::new(move |_| {
        own || (natter_secure && !(first_secure && secure.get()))
            || info.with(|info| matches!(info, Some(Ok(info)) if info.refuses_frames))
    });
    let leads_to = {
        let host = address.host.clone();
        move || {
            landing.with(|to| {
                to.as_ref()
                    .filter(|to| to.host != host)
                    .map(|to| to.host.clone())
            })
        }
    };

    // Where the frame is, as far as Natter can tell: on the link, or
    // `moved` pages further (each of its navigations is a history entry).
    let loads = StoredValue::new(0_u32);
    let moved = RwSignal::new(0_u32);
    let going_back = StoredValue::new(false);
    let generation = RwSignal::new(0_u32);
    let on_load = move |_| {
        let seen = loads.get_value();
        loads.set_value(seen + 1);
        if seen == 0 {
            return;
        }
        if going_back.get_value() {
            going_back.set_value(false);
            moved.update(|moved| *moved = moved.saturating_sub(1));
        } else {
            moved.update(|moved| *moved += 1);
        }
    };
    let back = move |_| {
        if moved.get_untracked() > 0 {
            going_back.set_value(true);
            if let Ok(history) = window().history() {
                let _ = history.back();
            }
        }
    };
    let reload = move |_| {
        loads.set_value(0);
        moved.set(0);
        generation.update(|n| *n += 1);
    };

    if let Ok(history) = window().history() {
        let _ = history.push_state(&JsValue::from_str(HISTORY_MARK), "");
    }
    let popped = window_event_listener(leptos::ev::popstate, move |_| {
        let ours = window()
            .history()
            .and_then(|history| history.state())
            .is_ok_and(|state| state.as_string().as_deref() == Some(HISTORY_MARK));
        if !ours {
            browser.0.try_set(None);
        }
    });
    on_cleanup(move || {
        popped.remove();
        // The entry the panel added goes with it, unless the page added
        // entries after it (Natter cannot tell how many are left).
        if let Ok(history) = window().history() {
            let ours = history
                .state()
                .is_ok_and(|state| state.as_string().as_deref() == Some(HISTORY_MARK));
            if ours {
                let _ = history.back();
            }
        }
    });

    let copied = RwSignal::new(None::<&'static str>);
    let copy = {
        let link = link.clone();
        move |_| {
            let link = link.clone();
            spawn_local(async move {
                let clipboard = window().navigator().clipboard();
                let done = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&link)).await;
                copied.try_set(Some(if done.is_ok() {
                    "Link copied."
                } else {
                    "This browser would not copy the link."
                }));
            });
        }
    };
    let sharing = RwSignal::new(false);

    let Address { host, href, .. } = address;
    let label = format!("Web page: {host}");
    let padlock = move || {
        if secure.get() {
            view! { <span class="padlock secure" title="Encrypted connection (https)" aria-label="Encrypted connection">"🔒"</span> }.into_any()
        } else {
            view! { <span class="padlock insecure" title="Not encrypted (http): others on the network can see and change this page">"Not secure"</span> }.into_any()
        }
    };
    let bar_host = {
        let host = host.clone();
        move || {
            if moved.get() > 0 {
                format!("Left {host}")
            } else {
                host.clone()
            }
        }
    };
    let frame = {
        let (href, host) = (href.clone(), host.clone());
        move || {
            generation.track();
            if refused.get() {
                let reason = if own {
                    "This is a link to Natter itself.".to_owned()
                } else if natter_secure && !(first_secure && secure.get_untracked()) {
                    "Natter can't show unencrypted (http) pages inside it.".to_owned()
                } else {
                    format!("{host} doesn't let other apps show its pages.")
                };
                let card = info.with_untracked(|info| match info {
                    Some(Ok(info)) => info.preview.clone(),
                    _ => None,
                });
                return view! {
                    <div class="browser-refused">
                        {card.map(|preview| view! { <LinkCard preview /> })}
                        <p>{reason}</p>
                        <a class="primary" href=href.clone() target="_blank" rel="noopener noreferrer">
                            "Open in browser"
                        </a>
                    </div>
                }
                .into_any();
            }
            // The sandbox, token by token:
            // - allow-scripts: most pages show nothing without them;
            // - allow-same-origin: the page keeps its own cookies and
            //   storage (sign-ins, consent). Safe with scripts because
            //   the page is never Natter's own origin (those links are
            //   not framed, above), so it cannot reach into Natter;
            // - allow-forms: search boxes and sign-in forms;
            // - allow-popups: links meant for a new window get one, which
            //   stays sandboxed like this frame (no
            //   allow-popups-to-escape-sandbox).
            // Not given: allow-top-navigation (the page could replace
            // Natter), allow-modals (a page's alert over Natter could pass
            // for Natter's), allow-downloads.
            view! {
                <iframe
                    class="browser-page"
                    title=format!("Web page from {host}")
                    src=href.clone()
                    sandbox="allow-scripts allow-same-origin allow-forms allow-popups"
                    referrerpolicy="no-referrer"
                    on:load=on_load
                ></iframe>
            }
            .into_any()
        }
    };

    view! {
        <div
            class="browser"
            role="dialog"
            aria-modal="true"
            aria-label=label
        >
            <header class="browser-bar">
                <button class="icon-button" aria-label="Close web page" on:click=move |_| close()>
                    "×"
                </button>
                <button
                    class="icon-button"
                    aria-label="Back"
                    title="Back"
                    disabled=move || moved.get() == 0
                    on:click=back
                >
                    "←"
                </button>
                <button class="icon-button" aria-label="Reload the link" title="Reload the link" on:click=reload>
                    "↻"
                </button>
                <span class="browser-address" tabindex="0" title=href.clone()>
                    {padlock}
                    <strong class="browser-host">{bar_host}</strong>
                    {move || leads_to().map(|to| view! { <span class="browser-leads">" → " {to}</span> })}
                    <span class="browser-url">{href.clone()}</span>
                </span>
                <div class="browser-actions">
                    <button class="link-button" on:click=copy>"Copy link"</button>
                    <button class="link-button" on:click=move |_| sharing.set(true)>"Share to a chat"</button>
                    <a class="link-button" href=href.clone() target="_blank" rel="noopener noreferrer">
                        "Open in browser"
                    </a>
                </div>
            </header>
            <Show when=move || { moved.get() > 0 }>
                <p class="browser-note" role="status">
                    "This page has moved on from the link. Natter can't see other sites' addresses: "
                    "use Open in browser to see where you are."
                </p>
            </Show>
            {move || copied.get().map(|text| view! { <p class="browser-note" role="status">{text}</p> })}
            {move || {
                sharing
                    .get()
                    .then(|| {
                        let preview = info
                            .with_untracked(|info| match info {
                                Some(Ok(info)) => info.preview.clone(),
                                _ => None,
                            })
                            .filter(|_| link_card::enabled());
                        let given = Shared {
                            text: link.clone(),
                            files: Vec::new(),
                            link_preview: preview,
                        };
                        view! {
                            <SharePicker
                                given
                                on_close=move |()| {
                                    sharing.set(false);
                                }
                            />
                        }
                    })
            }}
            {frame}
        </div>
    }
    .into_any()
}
