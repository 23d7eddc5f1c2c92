//! A round avatar with the name's initial on a colour derived from the name.

use leptos::prelude::*;

/// One of the palette's hues, the same for a name on every device.
fn hue(name: &str) -> usize {
    name.bytes().fold(7usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(b as usize)
    }) % 8
}

/// The picture when there is one (and it loads: offline, one never seen
/// before cannot), else the initial.
#[component]
pub fn Avatar(
    #[prop(into)] name: String,
    #[prop(optional_no_strip)] picture: Option<String>,
) -> impl IntoView {
    // Shown in capitals by the stylesheet.
    let initial = name.chars().next().map(String::from).unwrap_or_default();
    let class = format!("avatar hue-{}", hue(&name));
    let letter =
        move || view! { <span class=class.clone() aria-hidden="true">{initial.clone()}</span> };
    let Some(picture) = picture else {
        return letter().into_any();
    };
    let broken = RwSignal::new(false);
    (move || {
        if broken.get() {
            letter().into_any()
        } else {
            view! { <img class="avatar" src=picture.clone() alt="" on:error=move |_| broken.set(true) /> }
                .into_any()
        }
    })
    .into_any()
}
