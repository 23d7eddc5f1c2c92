//! Natter's web client: a Leptos single-page app compiled to WebAssembly.
//!
//! # Layout
//! - [`net`]: HTTP API, the WebSocket, and the reconnecting session. Knows
//!   nothing of the UI.
//! - [`cache`]: the device's copy of the chats (IndexedDB), so they stay
//!   readable offline. Knows nothing of the UI.
//! - [`state`]: the reactive state and its pure reducer; the one place where
//!   the network and the UI meet.
//! - [`components`]: UI pieces (conversation list, bubbles, composer, banner).
//! - [`routes`]: whole pages (sign-in, chat).
//! - [`time`]: dates and times for people.
//! - [`account`]: the account this device last used, for offline starts.
//!
//! `main.rs` only calls [`mount`].

pub mod account;
pub mod cache;
pub mod components;
pub mod js_error;
pub mod media;
pub mod model;
pub mod net;
pub mod notify;
pub mod parts;
pub mod perf;
pub mod profile_code;
pub mod routes;
pub mod share;
pub mod state;
pub mod time;

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::User;

use components::outdated::Outdated;
use net::http::Api;
use net::session::End;
use routes::auth::AuthPage;

/// Where the app is, from the user's point of view.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    SignedOut,
    SignedIn(User),
    /// The server speaks a newer protocol than this build.
    Outdated,
}

/// Where the app starts, before any network answer: the account this
/// device remembers (its chats open from the device's copy at once), else
/// the sign-in form. The server's answer then confirms or corrects it.
fn first_phase() -> Phase {
    match account::remembered() {
        Some(user) if !account::logout_pending() => Phase::SignedIn(user),
        _ => Phase::SignedOut,
    }
}

#[component]
pub fn App() -> impl IntoView {
    let phase = RwSignal::new(first_phase());
    spawn_local(async move {
        // A logout the server has not heard of yet: until it has, the
        // session's cookie must not sign this device back in.
        if account::send_queued_logout().await.is_err() {
            phase.set(Phase::SignedOut);
            return;
        }
        match Api::same_origin().session().await {
            Ok(Some(user)) => {
                account::remember(&user);
                let shown = phase.with_untracked(|phase| match phase {
                    Phase::SignedIn(shown) => Some(shown.id),
                    _ => None,
                });
                if shown != Some(user.id) {
                    phase.set(Phase::SignedIn(user));
                }
            }
            Ok(None) => {
                account::forget();
                if phase.with_untracked(|phase| *phase != Phase::SignedOut) {
                    phase.set(Phase::SignedOut);
                }
            }
            // Unreachable: what is shown stays (chats from the device's
            // copy, or the form, which says so when it is used).
            Err(_) => {}
        }
    });
    window_event_listener(leptos::ev::online, |_| {
        if account::logout_pending() {
            spawn_local(async {
                let _ = account::send_queued_logout().await;
            });
        }
    });
    let on_end = Callback::new(move |end: End| match end {
        End::LoggedOut => {
            account::forget();
            phase.set(Phase::SignedOut);
        }
        End::Outdated => phase.set(Phase::Outdated),
        End::Stopped => {}
    });

    move || match phase.get() {
        Phase::SignedOut => view! {
            <AuthPage on_signed_in=move |user: User| {
                account::remember(&user);
                phase.set(Phase::SignedIn(user));
            } />
        }
        .into_any(),
        Phase::SignedIn(user) => parts::show(parts::chat(user, on_end)),
        Phase::Outdated => view! { <Outdated /> }.into_any(),
    }
}

/// Mounts the app on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
