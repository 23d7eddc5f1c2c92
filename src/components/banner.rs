//! The connection banner: says truthfully whether we are connecting, offline
//! (since when, and when the next try is), and offers "Retry now".

use std::time::Duration;

use leptos::prelude::*;

use natter_protocol::Millis;

use super::announcer::Announcer;
use super::page_bridge;
use crate::net::session::{now, ConnectionStatus};
use crate::state::ChatStore;
use crate::time;

/// Which banner shows; the banner's DOM is rebuilt only when this changes,
/// so retries do not make it flicker (or its button move under the pointer).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Look {
    Hidden,
    Connecting,
    Offline { since: Millis },
}

#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let clock = RwSignal::new(now());
    if let Ok(handle) = set_interval_with_handle(move || clock.set(now()), Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    let look = Memo::new(move |_| match store.status.get() {
        ConnectionStatus::Online => Look::Hidden,
        ConnectionStatus::Connecting {
            offline_since: None,
        } => Look::Connecting,
        ConnectionStatus::Connecting {
            offline_since: Some(since),
        }
        | ConnectionStatus::Offline { since, .. } => Look::Offline { since },
    });
    // Said once per change, not read again as the countdown ticks.
    if let Some(announcer) = use_context::<Announcer>() {
        // Carries whether the person has heard "Offline" since the last
        // time they were online.
        Effect::new(move |told_offline: Option<bool>| {
            let told = told_offline.unwrap_or(false);
            let waiting = || store.state.with_untracked(|state| state.outbox.len());
            match look.get() {
                Look::Offline { .. } => {
                    if !told {
                        announcer.say(match waiting() {
                            0 => {
                                "Offline. Messages you write will wait and go when Natter is back."
                                    .to_owned()
                            }
                            1 => "Offline. 1 message is waiting to send.".to_owned(),
                            n => format!("Offline. {n} messages are waiting to send."),
                        });
                    }
                    true
                }
                Look::Hidden => {
                    if told {
                        announcer.say(match waiting() {
                            0 => "Back online.".to_owned(),
                            1 => "Back online. Sending 1 waiting message.".to_owned(),
                            n => format!("Back online. Sending {n} waiting messages."),
                        });
                    }
                    false
                }
                Look::Connecting => told,
            }
        });
    }
    let next_try = move || match store.status.get() {
        ConnectionStatus::Offline { retry_at, .. } => {
            let left_ms = retry_at - clock.get();
            if left_ms > 0 {
                format!("next try in {} s", (left_ms + 999) / 1000)
            } else {
                "trying again…".to_owned()
            }
        }
        _ => "trying again…".to_owned(),
    };
    move || match look.get() {
        Look::Hidden => None,
        Look::Connecting => Some(
            view! {
                <div class="banner connecting">
                    <span class="spinner" aria-hidden="true"></span>
                    "Connecting…"
                </div>
            }
            .into_any(),
        ),
        Look::Offline { since } => Some(
            view! {
                <div class="banner offline">
                    <span>"Offline since " {time::clock(since)} " · " {next_try}</span>
                    <button class="link-button" on:click=move |_| store.retry_now()>
                        "Retry now"
                    </button>
                </div>
            }
            .into_any(),
        ),
    }
}

/// "A new version is ready": shown when a newer build's service worker has
/// installed. Reloading hands over to it (see `public/sw-register.js`).
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let ready = page_bridge::flag("natterUpdateReady", "natter:update-ready");
    let apply = |_| page_bridge::ask("natter:apply-update");
    view! {
        <Show when=move || ready.get()>
            <div class="banner update" role="status">
                <span>"A new version of Natter is ready."</span>
                <button class="link-button" on:click=apply>"Reload"</button>
            </div>
        </Show>
    }
}
