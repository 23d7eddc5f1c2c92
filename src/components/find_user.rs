//! "Find people by username": opens (or starts) the 1:1 conversation. A
//! `#hashtag` searches public groups instead, to join one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, ConversationId, PublicGroup};

use super::avatar::Avatar;
use crate::parts;
use crate::state::ChatStore;

#[component]
pub fn FindUser() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let groups = RwSignal::new(None::<Vec<PublicGroup>>);

    let search = move |typed: String| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let searched = match parts::search_groups(store, typed).await {
                Ok(search) => search.await,
                Err(missing) => Err(missing.to_string()),
            };
            match searched {
                Ok(found) => groups.set(Some(found)),
                Err(err) => {
                    // Results of an earlier search would read as this one's.
                    groups.set(None);
                    error.set(Some(err));
                }
            }
            busy.set(false);
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = name.get_untracked().trim().to_owned();
        if typed.starts_with('#') {
            search(typed);
            return;
        }
        groups.set(None);
        let username = typed;
        if let Err(invalid) = limits::check_username(&username) {
            error.set(Some(invalid.to_string()));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let opened = match parts::open_chat_with(store, username).await {
                Ok(open) => open.await,
                Err(missing) => Err(missing.to_string()),
            };
            match opened {
                Ok(()) => name.set(String::new()),
                // The server words an unknown username as everywhere else.
                Err(err) => error.set(Some(err)),
            }
            busy.set(false);
        });
    };

    view! {
        <form class="find-user" role="search" on:submit=submit>
            <input
                type="search"
                aria-label="Find people by username, or groups by #hashtag"
                placeholder="Username or #group"
                autocomplete="off"
                autocapitalize="none"
                spellcheck="false"
                bind:value=name
            />
            <button type="submit" disabled=move || busy.get()>
                {move || if name.with(|n| n.trim_start().starts_with('#')) { "Search" } else { "Chat" }}
            </button>
            {move || {
                error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })
            }}
            {move || {
                groups
                    .get()
                    .map(|found| {
                        let joined = Callback::new(move |()| {
                            groups.set(None);
                            name.set(String::new());
                        });
                        let failed = Callback::new(move |text| error.set(Some(text)));
                        parts::show(parts::group_results(found, joined, failed))
                    })
            }}
        </form>
    }
}

/// Public groups a `#hashtag` search found, each with "Join"; loaded with
/// the side panels (`parts::group_results`), since few searches are for
/// groups.
#[component]
pub fn GroupResults(
    found: Vec<PublicGroup>,
    #[prop(into)] on_joined: Callback<()>,
    #[prop(into)] on_error: Callback<String>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let join = move |group: ConversationId| {
        spawn_local(async move {
            match store.join_group(group).await {
                Ok(()) => on_joined.run(()),
                Err(err) => on_error.run(err.to_string()),
            }
        });
    };
    if found.is_empty() {
        return view! { <p class="search-empty">"No public group has that hashtag."</p> }
            .into_any();
    }
    view! {
        <ul class="group-results" aria-label="Public groups">
            {found
                .into_iter()
                .map(|group| {
                    let id = group.id;
                    let members = if group.members == 1 {
                        "1 member".to_owned()
                    } else {
                        format!("{} members", group.members)
                    };
                    view! {
                        <li class="group-result">
                            <Avatar name=group.name.clone() picture=group.picture.clone() />
                            <span class="group-result-main">
                                <strong>{group.name.clone()}</strong>
                                <span class="group-result-meta">
                                    {format!("#{} · {members}", group.hashtag)}
                                </span>
                            </span>
                            <button
                                type="button"
                                aria-label=format!("Join {}", group.name)
                                on:click=move |_| join(id)
                            >
                                "Join"
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
