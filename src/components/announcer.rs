//! One polite live region for the chat: what a screen reader says without
//! the person going there — a new message in the open conversation, the
//! connection going and coming back. Each announcement is a new line in the
//! region, so the same words said twice are said twice, and nothing already
//! there is read again. Lines leave after a while, and at once when what
//! they quote is taken back (a message deleted for everyone), so that no
//! text lingers in the page that the page no longer shows.

use std::time::Duration;

use leptos::prelude::*;

/// Lines kept in the region; older ones go (removals are not read).
const KEPT: usize = 3;
/// How long a line stays: long enough to be read after what is being read.
const LINGER: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    n: u64,
    /// What it is about, when that can be taken back.
    about: Option<String>,
    text: String,
}

/// Says things to screen-reader users, politely (after what they hear now).
#[derive(Clone, Copy)]
pub struct Announcer {
    lines: RwSignal<Vec<Line>>,
}

impl Announcer {
    pub fn new() -> Self {
        Self {
            lines: RwSignal::new(Vec::new()),
        }
    }

    pub fn say(&self, text: impl Into<String>) {
        self.add(None, text.into());
    }

    /// Says `text` about `about` (a message), which `forget` takes back.
    pub fn say_about(&self, about: impl Into<String>, text: impl Into<String>) {
        self.add(Some(about.into()), text.into());
    }

    /// Takes back what was said about `about`, if it is still there.
    pub fn forget(&self, about: &str) {
        let said = self.lines.with_untracked(|lines| {
            lines
                .iter()
                .any(|line| line.about.as_deref() == Some(about))
        });
        if said {
            self.lines
                .update(|lines| lines.retain(|line| line.about.as_deref() != Some(about)));
        }
    }

    fn add(&self, about: Option<String>, text: String) {
        let mut n = 0;
        self.lines.update(|lines| {
            n = lines.last().map_or(0, |line| line.n + 1);
            lines.push(Line { n, about, text });
            if lines.len() > KEPT {
                lines.remove(0);
            }
        });
        let lines = self.lines;
        set_timeout(
            move || {
                lines.try_update(|lines| lines.retain(|line| line.n != n));
            },
            LINGER,
        );
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}

/// The region itself: off screen, in the page once.
#[component]
pub fn LiveRegion(announcer: Announcer) -> impl IntoView {
    view! {
        <div class="visually-hidden" aria-live="polite" aria-relevant="additions">
            <For each=move || announcer.lines.get() key=|line| line.n let:line>
                <p>{line.text}</p>
            </For>
        </div>
    }
}
