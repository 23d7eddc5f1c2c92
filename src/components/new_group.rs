//! Starting a group: a name, the first members by username, and an
//! optional hashtag that makes it public.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, NewGroup};

use super::field::Field;
use super::picture_picker::PicturePicker;
use crate::state::ChatStore;

/// Usernames typed as "ann, bob cy": split on commas and spaces.
pub fn usernames(typed: &str) -> Vec<String> {
    typed
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|name| name.trim_start_matches('@'))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks what was typed before asking the server.
fn request(name: &str, members: &str, hashtag: &str) -> Result<NewGroup, limits::Invalid> {
    let name = limits::check_group_name(name)?;
    let members = usernames(members);
    for member in &members {
        limits::check_username(member)?;
    }
    let hashtag = match hashtag.trim() {
        "" => None,
        tag => Some(limits::check_hashtag(tag)?),
    };
    Ok(NewGroup {
        name,
        members,
        hashtag,
        picture: None,
    })
}

#[component]
pub fn NewGroupPanel(#[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let name = RwSignal::new(String::new());
    let members = RwSignal::new(String::new());
    let hashtag = RwSignal::new(String::new());
    let picture = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let group = match request(
            &name.get_untracked(),
            &members.get_untracked(),
            &hashtag.get_untracked(),
        ) {
            Ok(group) => NewGroup {
                picture: picture.get_untracked(),
                ..group
            },
            Err(invalid) => {
                error.set(Some(invalid.to_string()));
                return;
            }
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match store.create_group(&group).await {
                Ok(()) => on_close.run(()),
                Err(err) => {
                    error.set(Some(err.to_string()));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <form class="panel new-group" aria-label="New group" on:submit=submit>
            <p class="panel-title">"New group"</p>
            <Field label="Name">
                <input
                    aria-label="Group name"
                    maxlength="64"
                    required
                    bind:value=name
                />
            </Field>
            <Field label="Members">
                <input
                    aria-label="Members (usernames)"
                    placeholder="ann, bob"
                    autocapitalize="none"
                    spellcheck="false"
                    bind:value=members
                />
            </Field>
            <Field label="Public hashtag (optional)">
                <input
                    aria-label="Public hashtag"
                    placeholder="#hiking"
                    autocapitalize="none"
                    spellcheck="false"
                    bind:value=hashtag
                />
            </Field>
            <div class="profile-actions">
                {move || {
                    picture
                        .get()
                        .map(|url| view! { <img class="avatar" src=url alt="Group picture" /> })
                }}
                <PicturePicker picture error label="Group picture" />
            </div>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <div class="panel-actions">
                <button type="button" class="link-button" on:click=move |_| on_close.run(())>
                    "Cancel"
                </button>
                <button type="submit" class="primary small" disabled=move || busy.get()>
                    "Create group"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_typed_loosely() {
        assert_eq!(usernames(" ann, @bob  cy,,"), vec!["ann", "bob", "cy"]);
        assert!(usernames("  ").is_empty());
    }

    #[test]
    fn a_bad_group_is_explained_before_asking_the_server() {
        assert_eq!(
            request(" ", "", "").unwrap_err(),
            limits::Invalid::GroupName
        );
        assert_eq!(
            request("Hike", "a", "").unwrap_err(),
            limits::Invalid::UsernameLength
        );
        assert_eq!(
            request("Hike", "", "#a").unwrap_err(),
            limits::Invalid::Hashtag
        );
        let ok = request("Hike", "ann bob", "#Hiking").unwrap();
        assert_eq!(ok.members, vec!["ann", "bob"]);
        assert_eq!(ok.hashtag.as_deref(), Some("Hiking"));
    }
}
