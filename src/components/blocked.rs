//! Settings: the people the user blocks, each with "Unblock".

use leptos::prelude::*;

use super::avatar::Avatar;
use super::conversation_menu::toggle_block;
use crate::state::ChatStore;

#[component]
pub fn BlockedPeople() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let blocked = Memo::new(move |_| store.state.with(|state| state.blocked.clone()));
    let problem = RwSignal::new(None::<String>);
    view! {
        <section class="panel blocked-people" aria-labelledby="blocked-title">
            <p class="panel-title" id="blocked-title">"Blocked people"</p>
            <Show
                when=move || blocked.with(|users| !users.is_empty())
                fallback=|| view! { <p class="panel-note">"You haven't blocked anyone."</p> }
            >
                <ul class="people">
                    <For each=move || blocked.get() key=|user| user.id let:user>
                        <li class="person">
                            <Avatar name=user.shown_name().to_owned() picture=user.avatar.clone() />
                            <span class="person-name">"@" {user.username.clone()}</span>
                            <button
                                class="link-button"
                                aria-label=format!("Unblock @{}", user.username)
                                on:click=move |_| toggle_block(store, user.id, problem, || {})
                            >
                                "Unblock"
                            </button>
                        </li>
                    </For>
                </ul>
            </Show>
            {move || problem.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </section>
    }
}
