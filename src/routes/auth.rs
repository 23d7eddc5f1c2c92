//! Sign up or log in: a username and a password, nothing else.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{limits, Credentials, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    SignUp,
    LogIn,
}

#[component]
pub fn AuthPage(#[prop(into)] on_signed_in: Callback<User>) -> impl IntoView {
    let mode = RwSignal::new(Mode::SignUp);
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let credentials = Credentials {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        let mode = mode.get_untracked();
        if mode == Mode::SignUp {
            let checked = limits::check_username(&credentials.username)
                .and_then(|()| limits::check_password(&credentials.password));
            if let Err(invalid) = checked {
                error.set(Some(invalid.to_string()));
                return;
            }
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = match mode {
                Mode::SignUp => crate::account::sign_up(&credentials).await,
                Mode::LogIn => crate::account::log_in(&credentials).await,
            };
            busy.set(false);
            match result {
                Ok(user) => on_signed_in.run(user),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };

    let switch = move |to: Mode| {
        mode.set(to);
        error.set(None);
    };

    view! {
        <main class="auth-page">
            <div class="auth-card">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"N"</span>
                    <h1>"Natter"</h1>
                </div>
                <p class="tagline">"Chat with a username. No phone number, no e-mail."</p>
                <div class="tabs" role="tablist" aria-label="Sign up or log in">
                    <button
                        role="tab"
                        aria-selected=move || (mode.get() == Mode::SignUp).to_string()
                        on:click=move |_| switch(Mode::SignUp)
                    >
                        "Sign up"
                    </button>
                    <button
                        role="tab"
                        aria-selected=move || (mode.get() == Mode::LogIn).to_string()
                        on:click=move |_| switch(Mode::LogIn)
                    >
                        "Log in"
                    </button>
                </div>
                <form class="auth-form" on:submit=submit>
                    <label>
                        <span>"Username"</span>
                        <input
                            name="username"
                            autocomplete="username"
                            autocapitalize="none"
                            spellcheck="false"
                            required
                            bind:value=username
                        />
                    </label>
                    <Show when=move || mode.get() == Mode::SignUp>
                        <p class="hint">"3–32 characters: letters, digits, _ and ."</p>
                    </Show>
                    <label>
                        <span>"Password"</span>
                        <input
                            name="password"
                            type="password"
                            autocomplete=move || {
                                if mode.get() == Mode::SignUp { "new-password" } else { "current-password" }
                            }
                            required
                            bind:value=password
                        />
                    </label>
                    <Show when=move || mode.get() == Mode::SignUp>
                        <p class="hint">"At least 8 characters."</p>
                    </Show>
                    {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
                    <button class="primary" type="submit" disabled=move || busy.get()>
                        {move || match (mode.get(), busy.get()) {
                            (_, true) => "One moment…",
                            (Mode::SignUp, false) => "Create account",
                            (Mode::LogIn, false) => "Log in",
                        }}
                    </button>
                </form>
            </div>
        </main>
    }
}
