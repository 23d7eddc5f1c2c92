//! The chat: conversation list on the left, the open conversation on the
//! right; one pane at a time on a narrow screen. It owns the session.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{ConversationKind, User};

use crate::components::announcer::{Announcer, LiveRegion};
use crate::components::attachment::Viewer;
use crate::components::avatar::Avatar;
use crate::components::browser::Browser;
use crate::components::conversation_list::ConversationList;
use crate::components::find_user::FindUser;
use crate::components::install::InstallButton;
use crate::components::layer::Layers;
use crate::components::logout::CacheNotice;
use crate::net::session::End;
use crate::parts;
use crate::profile_code::username_in;
use crate::state::ChatStore;

/// The panel open under the sidebar's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    None,
    NewGroup,
    AddContact,
    Profile,
    Search,
}

#[component]
pub fn ChatPage(me: User, #[prop(into)] on_end: Callback<End>) -> impl IntoView {
    crate::perf::mark("natter:chat-start");
    let (store, commands) = ChatStore::new(me.clone());
    provide_context(store);
    let owner = Owner::current().unwrap_or_default();
    spawn_local(async move {
        let end = store.run(commands, owner).await;
        if end != End::Stopped {
            on_end.run(end);
        }
    });
    on_cleanup(move || store.stop());

    // The browser thinks the network is back: no need to wait for the timer.
    let online = window_event_listener(leptos::ev::online, move |_| store.retry_now());
    // ...or thinks it is gone: find out now whether the socket still works.
    let offline = window_event_listener(leptos::ev::offline, move |_| store.probe());
    let viewer = Viewer(RwSignal::new(None));
    provide_context(viewer);
    let browser = Browser(RwSignal::new(None));
    provide_context(browser);
    let layers = Layers::new();
    provide_context(layers);
    let announcer = Announcer::new();
    provide_context(announcer);
    // Esc closes the topmost layer (a menu, a panel, the photo viewer, the
    // web page), and when none is open, the conversation.
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if !layers.on_key(&ev) && ev.key() == "Escape" {
            store.open(None);
        }
    });
    on_cleanup(move || {
        online.remove();
        offline.remove();
        escape.remove();
    });

    let open = Memo::new(move |_| store.state.with(|s| s.open));
    let viewing = Memo::new(move |_| viewer.0.with(Option::is_some));
    let browsing = Memo::new(move |_| browser.0.with(Option::is_some));
    let confirming = RwSignal::new(false);
    let panel = RwSignal::new(Panel::None);

    // A profile link (`#add=username`), opened now or later: the chat if
    // there is one, else the question whether to start it. A clicked
    // notification that found no window opens one on
    // `#conversation=<id>`; a share from another app, on `#share`.
    let invite = RwSignal::new(None::<String>);
    // Something shared from another app (`#share`, set by the service
    // worker): "Send to…".
    let sharing = RwSignal::new(false);
    let my_name = me.username.clone();
    let follow_link = move || {
        let location = window().location();
        let hash = location.hash().unwrap_or_default();
        let conversation = hash
            .strip_prefix("#conversation=")
            .and_then(|id| id.parse().ok());
        let username = username_in(&hash);
        let shared = hash == "#share";
        if conversation.is_none() && username.is_none() && !shared {
            return;
        }
        if let Ok(history) = window().history() {
            let path = location.pathname().unwrap_or_default();
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
        if shared {
            sharing.set(true);
            return;
        }
        let Some(username) = username else {
            store.open(conversation);
            return;
        };
        if username.eq_ignore_ascii_case(&my_name) {
            panel.set(Panel::Profile);
            return;
        }
        let existing = store.state.with_untracked(|state| {
            state
                .conversations
                .values()
                .find(|c| {
                    c.info.kind == ConversationKind::Direct
                        && c.info
                            .members
                            .iter()
                            .any(|m| m.user.username.eq_ignore_ascii_case(&username))
                })
                .map(|c| c.info.id)
        });
        match existing {
            Some(id) => store.open(Some(id)),
            None => invite.set(Some(username)),
        }
    };
    follow_link();
    let hash = window_event_listener_untyped("hashchange", move |_| follow_link());
    on_cleanup(move || hash.remove());

    view! {
        <div class="app" class:has-open=move || open.get().is_some()>
            <LiveRegion announcer />
            {move || store.running.get().then(|| parts::show(parts::banners()))}
            <div class="panes">
            <aside class="sidebar">
                <header class="sidebar-header">
                    <button
                        class="me-button"
                        aria-label=format!("{}, your profile and settings", me.username)
                        aria-expanded=move || (panel.get() == Panel::Profile).to_string()
                        on:click=move |_| panel.update(|p| *p = if *p == Panel::Profile { Panel::None } else { Panel::Profile })
                    >
                        {move || {
                            let me = store.state.with(|state| state.me.clone());
                            view! { <Avatar name=me.shown_name().to_owned() picture=me.avatar.clone() /> }
                        }}
                        <span class="me-name">{me.username.clone()}</span>
                    </button>
                    <button class="link-button" on:click=move |_| confirming.set(true)>
                        "Log out"
                    </button>
                </header>
                {move || {
                    confirming
                        .get()
                        .then(|| {
                            let cancel = Callback::new(move |()| confirming.set(false));
                            parts::show(parts::logout(on_end, cancel))
                        })
                }}
                {move || {
                    invite
                        .get()
                        .map(|username| {
                            let close = Callback::new(move |()| invite.set(None));
                            parts::show(parts::invite(username, close))
                        })
                }}
                {move || sharing.get().then(|| parts::show(parts::share(Callback::new(move |()| sharing.set(false)))))}
                <CacheNotice />
                <FindUser />
                <div class="sidebar-actions">
                    <button class="link-button" on:click=move |_| panel.set(Panel::NewGroup)>
                        "+ New group"
                    </button>
                    <button class="link-button" on:click=move |_| panel.set(Panel::AddContact)>
                        "Scan a code"
                    </button>
                    <button
                        class="link-button"
                        aria-expanded=move || (panel.get() == Panel::Search).to_string()
                        on:click=move |_| panel.set(Panel::Search)
                    >
                        "Search messages"
                    </button>
                    <InstallButton />
                </div>
                {move || {
                    let close = Callback::new(move |()| panel.set(Panel::None));
                    let part = match panel.get() {
                        Panel::None => return None,
                        Panel::NewGroup => parts::show(parts::new_group(close)),
                        Panel::AddContact => parts::show(parts::add_contact(close)),
                        Panel::Profile => parts::show(parts::settings(close, on_end)),
                        Panel::Search => parts::show(parts::search(close)),
                    };
                    Some(part)
                }}
                <ConversationList />
            </aside>
            <main class="pane">
                {move || match open.get() {
                    Some(id) => parts::show(parts::conversation(id)),
                    None => {
                        view! {
                            <div class="pane-empty">
                                <p>"Pick a conversation, or find someone by username."</p>
                            </div>
                        }
                            .into_any()
                    }
                }}
            </main>
            </div>
            {move || {
                viewing
                    .get()
                    .then(|| {
                        parts::show(parts::photo_viewer())
                    })
            }}
            {move || {
                browsing
                    .get()
                    .then(|| {
                        parts::show(parts::browser())
                    })
            }}
        </div>
    }
}
