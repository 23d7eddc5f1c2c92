//! The in-app browser: links in messages open in a panel over the chat, so
//! a conversation stays one step away. The page runs sandboxed; sites that
//! refuse to be framed can be opened in the real browser from the panel.

use leptos::prelude::*;

/// The page open in the panel, shared with message text (which opens it)
/// and with Esc (which closes it first).
#[derive(Clone, Copy)]
pub struct Browser(pub RwSignal<Option<String>>);

/// "example.org" from "https://example.org/a?b": what the panel's title
/// shows.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    // Credentials in a URL would otherwise show as the site's name.
    host.rsplit_once('@').map_or(host, |(_, host)| host)
}

#[component]
pub fn BrowserPanel() -> impl IntoView {
    let browser = expect_context::<Browser>();
    move || {
        browser.0.get().map(|url| {
            let host = host_of(&url).to_owned();
            let label = format!("Web page: {host}");
            view! {
                <div class="browser" role="dialog" aria-modal="true" aria-label=label>
                    <header class="browser-bar">
                        <button
                            class="icon-button"
                            aria-label="Close web page"
                            on:click=move |_| browser.0.set(None)
                        >
                            "×"
                        </button>
                        <span class="browser-address">
                            <strong>{host}</strong>
                            <span class="browser-url">{url.clone()}</span>
                        </span>
                        <a
                            class="link-button"
                            href=url.clone()
                            target="_blank"
                            rel="noopener noreferrer"
                        >
                            "Open in browser"
                        </a>
                    </header>
                    <iframe
                        class="browser-page"
                        title=format!("Web page: {url}")
                        src=url.clone()
                        sandbox="allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-same-origin"
                        referrerpolicy="no-referrer"
                    ></iframe>
                    <p class="browser-hint">
                        "A blank page? Some sites refuse to be shown inside other apps: use Open in browser."
                    </p>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_the_host() {
        assert_eq!(host_of("https://example.org/a?b=1"), "example.org");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(host_of("https://me:secret@bank.example/x"), "bank.example");
        assert_eq!(host_of("https://x.org#top"), "x.org");
    }
}
