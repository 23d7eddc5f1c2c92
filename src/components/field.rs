//! A labelled form field: the label's text above the control it wraps, so
//! that clicking the text focuses the control and screen readers name it.

use leptos::prelude::*;

#[component]
pub fn Field(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            {children()}
        </label>
    }
}
