//! Choosing a small picture (an avatar, a group's picture): re-encoded on
//! this device like a photo's thumbnail, so no EXIF survives, and kept as a
//! `data:` URL.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::picked::first_picked;
use crate::media::photo;

/// "Add a picture" / "Change picture" / "Remove picture", and the hidden
/// file input (named `label` for assistive technology).
#[component]
pub fn PicturePicker(
    picture: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    label: &'static str,
) -> impl IntoView {
    let picker = NodeRef::<Input>::new();
    let picked = move |_| {
        let Some(file) = first_picked(picker) else {
            return;
        };
        spawn_local(async move {
            match photo::small(&file).await {
                Ok(url) => picture.set(Some(url)),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <button
            type="button"
            class="link-button"
            on:click=move |_| {
                if let Some(picker) = picker.get_untracked() {
                    picker.click();
                }
            }
        >
            {move || if picture.with(Option::is_some) { "Change picture" } else { "Add a picture" }}
        </button>
        <Show when=move || picture.with(Option::is_some)>
            <button type="button" class="link-button" on:click=move |_| picture.set(None)>
                "Remove picture"
            </button>
        </Show>
        <input
            node_ref=picker
            type="file"
            class="file-picker"
            accept="image/*"
            aria-label=label
            on:change=picked
        />
    }
}
