//! A group's page: its members and admins, and what one may do there —
//! admins add, remove and promote members, rename the group and let those
//! removed from a public group join again; anyone leaves.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, ConversationId, Role, UserId};

use super::avatar::Avatar;
use super::new_group::usernames;
use crate::net::http::HttpError;
use crate::state::ChatStore;

/// A change to the group, through the store.
type Change = Pin<Box<dyn Future<Output = Result<(), HttpError>>>>;

#[component]
pub fn GroupInfo(id: ConversationId, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.state.with_untracked(|state| state.me.id);
    let info = Memo::new(move |_| {
        store
            .state
            .with(|state| state.conversations.get(&id).map(|c| c.info.clone()))
    });
    let my_role = Memo::new(move |_| {
        info.with(|info| {
            info.as_ref()
                .and_then(|i| i.members.iter().find(|m| m.user.id == me).map(|m| m.role))
        })
    });
    let admin = move || my_role.get() == Some(Role::Admin);
    let error = RwSignal::new(None::<String>);
    let adding = RwSignal::new(String::new());
    let renaming = RwSignal::new(String::new());

    // Runs a change (the store keeps the group the server answers with).
    let act = move |change: Change| {
        error.set(None);
        spawn_local(async move {
            if let Err(err) = change.await {
                error.set(Some(err.to_string()));
            }
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        for username in usernames(&adding.get_untracked()) {
            if let Err(invalid) = limits::check_username(&username) {
                error.set(Some(invalid.to_string()));
                return;
            }
            act(Box::pin(
                async move { store.add_member(id, &username).await },
            ));
        }
        adding.set(String::new());
    };
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match limits::check_group_name(&renaming.get_untracked()) {
            Ok(name) => {
                act(Box::pin(async move { store.rename_group(id, &name).await }));
                renaming.set(String::new());
            }
            Err(invalid) => error.set(Some(invalid.to_string())),
        }
    };
    let remove = move |user: UserId| {
        act(Box::pin(async move { store.remove_member(id, user).await }));
    };
    let promote = move |user: UserId| {
        act(Box::pin(async move { store.promote(id, user).await }));
    };
    // Who an admin removed from a public group, read again whenever the
    // group changes.
    let public = Memo::new(move |_| {
        info.with(|i| {
            i.as_ref()
                .and_then(|i| i.group.as_ref())
                .is_some_and(|g| g.hashtag.is_some())
        })
    });
    let bans = LocalResource::new(move || {
        info.track();
        let wanted = admin() && public.get();
        async move {
            if wanted {
                store.bans(id).await
            } else {
                Ok(Vec::new())
            }
        }
    });
    // Until the first answer, or when it failed, nobody is listed.
    let banned = move || bans.get().and_then(Result::ok).unwrap_or_default();
    let unban = move |user: UserId| {
        act(Box::pin(async move { store.unban(id, user).await }));
    };

    view! {
        <aside class="group-info" aria-label="Group info">
            <header class="group-info-header">
                <h3>{move || info.with(|i| i.as_ref().and_then(|i| i.group.as_ref()).map(|g| g.name.clone()))}</h3>
                <button class="icon-button" aria-label="Close group info" on:click=move |_| on_close.run(())>
                    "×"
                </button>
            </header>
            <p class="group-facts">
                {move || {
                    info.with(|i| {
                        i.as_ref()
                            .map(|i| {
                                let count = i.members.len();
                                let members = if count == 1 { "1 member".to_owned() } else { format!("{count} members") };
                                match i.group.as_ref().and_then(|g| g.hashtag.clone()) {
                                    Some(tag) => format!("Public · #{tag} · {members}"),
                                    None => format!("Private · {members}"),
                                }
                            })
                    })
                }}
            </p>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <Show when=move || my_role.get().is_none()>
                <p class="notice">"You are no longer in this group."</p>
            </Show>
            <ul class="members" aria-label="Members">
                <For
                    each=move || info.with(|i| i.as_ref().map(|i| i.members.clone()).unwrap_or_default())
                    key=|member| (member.user.id, member.role)
                    let:member
                >
                    {
                        let user = member.user.id;
                        let is_admin = member.role == Role::Admin;
                        let name = member.user.username.clone();
                        view! {
                            <li class="member">
                                <Avatar name=name.clone() />
                                <span class="member-name">
                                    {if user == me { format!("{name} (you)") } else { name.clone() }}
                                </span>
                                {is_admin.then(|| view! { <span class="badge">"Admin"</span> })}
                                <Show when=move || admin() && user != me>
                                    {(!is_admin)
                                        .then(|| {
                                            view! {
                                                <button class="link-button" on:click=move |_| promote(user)>
                                                    "Make admin"
                                                </button>
                                            }
                                        })}
                                    <button
                                        class="link-button danger"
                                        aria-label=format!("Remove {name}")
                                        on:click=move |_| remove(user)
                                    >
                                        "Remove"
                                    </button>
                                </Show>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=admin>
                <form class="inline-form" on:submit=add>
                    <input
                        aria-label="Add members by username"
                        placeholder="Add by username"
                        autocapitalize="none"
                        spellcheck="false"
                        bind:value=adding
                    />
                    <button type="submit">"Add"</button>
                </form>
                <form class="inline-form" on:submit=rename>
                    <input
                        aria-label="New group name"
                        placeholder="Rename the group"
                        maxlength="64"
                        bind:value=renaming
                    />
                    <button type="submit">"Rename"</button>
                </form>
            </Show>
            <Show when=move || admin() && !banned().is_empty()>
                <p class="group-section">"Removed (may not join again)"</p>
                <ul class="members" aria-label="Removed members">
                    <For each=banned key=|user| user.id let:user>
                        <li class="member">
                            <Avatar name=user.shown_name().to_owned() picture=user.avatar.clone() />
                            <span class="member-name">{user.username.clone()}</span>
                            <button
                                class="link-button"
                                aria-label=format!("Let {} join again", user.username)
                                on:click=move |_| unban(user.id)
                            >
                                "Let join again"
                            </button>
                        </li>
                    </For>
                </ul>
            </Show>
            <Show when=move || my_role.get().is_some()>
                <button class="link-button danger leave" on:click=move |_| remove(me)>
                    "Leave group"
                </button>
            </Show>
        </aside>
    }
}
