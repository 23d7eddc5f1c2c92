//! Leptos's hello world: the smallest page a Leptos app can be, built with
//! the client's release profile. `cargo xtask bench` loads it beside the
//! client, so the client's figures are judged against it rather than against
//! how fast the machine is.

use leptos::prelude::*;

fn main() {
    leptos::mount::mount_to_body(|| view! { <p id="hello">"Hello, world!"</p> });
}
