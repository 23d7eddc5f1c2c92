//! A round avatar with the name's initial on a colour derived from the name.

use leptos::prelude::*;

/// One of the palette's hues, the same for a name on every device.
fn hue(name: &str) -> usize {
    name.bytes().fold(7usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(b as usize)
    }) % 8
}

/// The picture when there is one, else the initial.
#[component]
pub fn Avatar(
    #[prop(into)] name: String,
    #[prop(optional_no_strip)] picture: Option<String>,
) -> impl IntoView {
    if let Some(picture) = picture {
        return view! { <img class="avatar" src=picture alt="" /> }.into_any();
    }
    let initial = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let class = format!("avatar hue-{}", hue(&name));
    view! { <span class=class aria-hidden="true">{initial}</span> }.into_any()
}
