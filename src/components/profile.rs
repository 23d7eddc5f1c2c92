//! The user's profile: display name, avatar (re-encoded like photos), and
//! the profile code — a QR code of the profile link that friends scan to
//! start a chat.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, ProfileUpdate};

use super::avatar::Avatar;
use super::field::Field;
use super::picture_picker::PicturePicker;
use crate::profile_code::{draw, profile_link};
use crate::state::ChatStore;

#[component]
pub fn ProfilePanel(#[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = Memo::new(move |_| store.state.with(|state| state.me.clone()));
    let name = RwSignal::new(me.get_untracked().display_name.unwrap_or_default());
    let avatar = RwSignal::new(me.get_untracked().avatar);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let origin = window().location().origin().unwrap_or_default();
    let link = profile_link(&origin, &me.get_untracked().username);
    let code = draw(&link);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        if let Err(invalid) = limits::check_display_name(&name.get_untracked()) {
            error.set(Some(invalid.to_string()));
            return;
        }
        error.set(None);
        let update = ProfileUpdate {
            display_name: Some(name.get_untracked()),
            avatar: avatar.get_untracked(),
        };
        spawn_local(async move {
            match store.update_profile(&update).await {
                Ok(()) => saved.set(true),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };

    view! {
        <form class="panel profile" aria-label="Profile" on:submit=save>
            <p class="panel-title">"Your profile"</p>
            <div class="profile-top">
                {move || view! { <Avatar name=me.get().shown_name().to_owned() picture=avatar.get() /> }}
                <span class="profile-username">"@" {move || me.get().username}</span>
            </div>
            <Field label="Display name">
                <input
                    aria-label="Display name"
                    maxlength="40"
                    placeholder=move || me.get().username
                    bind:value=name
                />
            </Field>
            <div class="profile-actions">
                <PicturePicker picture=avatar error label="Profile picture" />
            </div>
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <Show when=move || saved.get()>
                <p class="form-ok" role="status">"Saved."</p>
            </Show>
            <div class="panel-actions">
                <button type="button" class="link-button" on:click=move |_| on_close.run(())>"Close"</button>
                <button type="submit" class="primary small">"Save"</button>
            </div>
            {code
                .map(|code| {
                    let view_box = format!("0 0 {0} {0}", code.size);
                    view! {
                        <figure class="profile-code">
                            <svg
                                class="qr"
                                viewBox=view_box
                                role="img"
                                aria-label="Your profile code"
                                shape-rendering="crispEdges"
                            >
                                <rect width="100%" height="100%" fill="#fff" />
                                <path d=code.path fill="#000" />
                            </svg>
                            <figcaption>
                                "Friends scan this to chat with you, or open "
                                <a href=link.clone()>{link.clone()}</a>
                            </figcaption>
                        </figure>
                    }
                })}
        </form>
    }
}
