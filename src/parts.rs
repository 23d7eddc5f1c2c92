//! The parts of the app a first screen does not show, each behind an async
//! function that builds its view.
//!
//! In the release build (`--features split`, built by `cargo xtask`), each
//! function is a split point (`wasm_split`, what Leptos's `#[lazy]` uses):
//! its code, and the code only it needs, lives in a wasm module of its own
//! that the browser fetches the first time the part is shown (the service
//! worker saves every module at install, so parts open offline too). Parts
//! are grouped into four modules — the chat, its live half (with the
//! banners about it), the open conversation with what opens from it, the
//! side panels — because every group of modules
//! that shares code gets a module of that shared code too: with one module
//! per part the chat needed 40 files, each compiled on its own at start.
//! Without the feature (`trunk serve`, the tests) they are plain async
//! functions, ready at once.
//!
//! What a first-screen control starts but does not show (the find box
//! opening a chat), and the chat's live half, are tasks (`task!`): futures
//! kept in a module the same way.
//!
//! Callers show a part with [`show`]: "Loading…" until its module is there
//! (from the service worker's copy, a few milliseconds), and if it cannot
//! be fetched — a new build replaced this one on the server and this
//! device kept no copy — the offer to reload instead of a broken app.

use leptos::prelude::*;
use natter_protocol::{ConversationId, PublicGroup, User};

use crate::components::account_data::AccountData;
use crate::components::add_contact::AddContactPanel;
use crate::components::attachment::{PhotoViewer, Viewer};
use crate::components::banner::{ConnectionBanner, UpdateBanner};
use crate::components::blocked::BlockedPeople;
use crate::components::browser::{Browser, BrowserPanel};
use crate::components::conversation::ConversationView;
use crate::components::find_user::GroupResults;
use crate::components::invite::InvitePanel;
use crate::components::layer::{Kind, Layer};
use crate::components::link_card::LinkPreviewSettings;
use crate::components::logout::LogoutPanel;
use crate::components::new_group::NewGroupPanel;
use crate::components::notifications::NotificationSettings;
use crate::components::outdated::Outdated;
use crate::components::password::ChangePassword;
use crate::components::profile::ProfilePanel;
use crate::components::search::SearchPanel;
use crate::components::share_picker::SharePicker;
use crate::net::session::{Command, End};
use crate::routes::chat::ChatPage;
use crate::state::ChatStore;

/// A part whose module could not be fetched.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this part of Natter could not be loaded")]
pub struct PartMissing;

impl From<leptos::wasm_split::SplitLoaderError> for PartMissing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        PartMissing
    }
}

/// How a part's view is made once its module is there.
pub type Build = Box<dyn FnOnce() -> AnyView>;

/// Shows `part` once it is loaded: "Loading…" until then, the reload offer
/// if it cannot be. The view is made by the page when the module is there,
/// under the owner of the place it goes, never inside the loading future:
/// a place that went away while its part loaded (the person opened
/// another conversation) then never builds a view whose state is gone,
/// which would stop the whole app.
pub fn show(
    part: impl std::future::Future<Output = Result<Build, PartMissing>> + 'static,
) -> AnyView {
    let loaded = RwSignal::new(false);
    let result = StoredValue::new_local(None::<Result<Build, PartMissing>>);
    leptos::task::spawn_local(async move {
        let outcome = part.await;
        if result.try_set_value(Some(outcome)).is_none() {
            loaded.try_set(true);
        }
    });
    (move || {
        if !loaded.get() {
            return view! { <p class="part-loading" role="status">"Loading…"</p> }.into_any();
        }
        match result.try_update_value(Option::take).flatten() {
            Some(Ok(build)) => untrack(build),
            Some(Err(PartMissing)) => view! { <Outdated /> }.into_any(),
            // Built already; `loaded` changes once, so this is not reached.
            None => ().into_any(),
        }
    })
    .into_any()
}

/// `panel` as a dialog layer of its own (Esc and `close` close it), made
/// when the layer is.
fn dialog<V: IntoView + 'static>(
    close: Callback<()>,
    panel: impl FnOnce() -> V + Send + 'static,
) -> AnyView {
    view! { <Layer kind=Kind::Dialog close>{panel()}</Layer> }.into_any()
}

/// Declares a part: a split point in module `$module` with the `split`
/// feature (a failed fetch is an error, not a panic, which would stop the
/// whole app), a plain async function without it. Either gives the part's
/// [`Build`].
macro_rules! part {
    ($module:ident, $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        #[cfg(feature = "split")]
        #[leptos::wasm_split::wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)]
        pub fn $name($($arg: $ty),*) -> Result<Build, PartMissing> {
            Ok(Box::new(move || $body))
        }

        $(#[$doc])*
        #[cfg(not(feature = "split"))]
        pub async fn $name($($arg: $ty),*) -> Result<Build, PartMissing> {
            Ok(Box::new(move || $body))
        }
    };
}

/// Work that a control starts, as a future to await.
pub type Task<T> = futures::future::LocalBoxFuture<'static, T>;

/// Declares a task: work that is not a view, kept in module `$module` with
/// what follows it, like a part. Either gives the work's [`Task`].
macro_rules! task {
    ($module:ident, $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty $body:block) => {
        $(#[$doc])*
        #[cfg(feature = "split")]
        #[leptos::wasm_split::wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)]
        pub fn $name($($arg: $ty),*) -> Result<Task<$out>, PartMissing> {
            Ok(Box::pin(async move $body))
        }

        $(#[$doc])*
        #[cfg(not(feature = "split"))]
        pub async fn $name($($arg: $ty),*) -> Result<Task<$out>, PartMissing> {
            Ok(Box::pin(async move $body))
        }
    };
}

task! {
    live,
    /// The chat's live half (`ChatStore::live`): fetched once the saved
    /// chats are on screen, since nothing of it is needed to show them.
    fn live(
        store: ChatStore,
        commands: futures::channel::mpsc::UnboundedReceiver<Command>,
        owner: Owner
    ) -> End {
        store.live(commands, owner).await
    }
}

task! {
    conversation,
    /// Opens (or starts) the 1:1 conversation with `username`, for the
    /// find box on the chat's first screen: what follows is that
    /// conversation, so the work waits in its module.
    fn open_chat_with(store: ChatStore, username: String) -> Result<(), String> {
        store.open_chat_with(&username).await.map_err(|err| err.to_string())
    }
}

task! {
    panels,
    /// Public groups whose hashtag starts with `prefix`, for the find box:
    /// their results show from the side panels' module.
    fn search_groups(store: ChatStore, prefix: String) -> Result<Vec<PublicGroup>, String> {
        store.search_groups(&prefix).await.map_err(|err| err.to_string())
    }
}

part! {
    live,
    /// The banners over the chat: the connection's state, and a new version
    /// ready. They come with the live half, which drives the first, once
    /// the saved chats are on screen.
    fn banners() {
        view! {
            <UpdateBanner />
            <ConnectionBanner />
        }
        .into_any()
    }
}

part! {
    chat,
    /// The chat: everything a signed-in person sees (not the sign-in form).
    fn chat(me: User, on_end: Callback<End>) {
        view! { <ChatPage me on_end /> }.into_any()
    }
}

part! {
    conversation,
    /// The open conversation: messages, composer, media, menus.
    fn conversation(id: ConversationId) {
        view! { <ConversationView id /> }.into_any()
    }
}

part! {
    conversation,
    /// The full-screen photo and video viewer.
    fn photo_viewer() {
        let viewer = expect_context::<Viewer>();
        dialog(Callback::new(move |()| viewer.0.set(None)), move || view! { <PhotoViewer /> })
    }
}

part! {
    conversation,
    /// The built-in browser.
    fn browser() {
        let browser = expect_context::<Browser>();
        dialog(Callback::new(move |()| browser.0.set(None)), move || view! { <BrowserPanel /> })
    }
}

part! {
    panels,
    /// Searching the saved messages.
    fn search(on_close: Callback<()>) {
        dialog(on_close, move || view! { <SearchPanel close=on_close /> })
    }
}

part! {
    panels,
    /// "+ New group".
    fn new_group(on_close: Callback<()>) {
        dialog(on_close, move || view! { <NewGroupPanel on_close /> })
    }
}

part! {
    panels,
    /// "Scan a code": reading profile codes from the camera or a picture.
    fn add_contact(on_close: Callback<()>) {
        dialog(on_close, move || view! { <AddContactPanel on_close /> })
    }
}

part! {
    panels,
    /// The person's own settings: profile and its code, notifications,
    /// link previews, password, blocked people, their data.
    fn settings(on_close: Callback<()>, on_end: Callback<End>) {
        dialog(on_close, move || {
            view! {
            <div class="panel-stack">
                <ProfilePanel on_close />
                <NotificationSettings />
                <LinkPreviewSettings />
                <ChangePassword />
                <BlockedPeople />
                <AccountData on_end />
            </div>
            }
        })
    }
}

part! {
    panels,
    /// "Send to…": what another app shared, and where it goes.
    fn share(on_close: Callback<()>) {
        view! { <SharePicker on_close /> }.into_any()
    }
}

part! {
    panels,
    /// "Log out": the question and the logging out.
    fn logout(on_end: Callback<End>, on_cancel: Callback<()>) {
        dialog(on_cancel, move || view! { <LogoutPanel on_end on_cancel /> })
    }
}

part! {
    panels,
    /// A profile link's question: start a chat with this person?
    fn invite(username: String, on_close: Callback<()>) {
        dialog(on_close, move || view! { <InvitePanel username on_close /> })
    }
}

part! {
    panels,
    /// Public groups a `#hashtag` search found, to join one.
    fn group_results(found: Vec<PublicGroup>, on_joined: Callback<()>, on_error: Callback<String>) {
        view! { <GroupResults found on_joined on_error /> }.into_any()
    }
}
