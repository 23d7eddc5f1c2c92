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
    /// The next line's number: never used twice, so a new line is never
    /// taken for an old one (nor removed by an old one's timer).
    next: StoredValue<u64>,
}

impl Announcer {
    pub fn new() -> Self {
        Self {
            lines: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
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
        self.drop_lines(|said| said == about);
    }

    /// Takes back what was said about anything whose name starts with
    /// `prefix` (a conversation's messages, once it is closed).
    pub fn forget_all(&self, prefix: &str) {
        self.drop_lines(|said| said.starts_with(prefix));
    }

    fn drop_lines(&self, matches: impl Fn(&str) -> bool) {
        let said = |line: &Line| line.about.as_deref().is_some_and(&matches);
        if self
            .lines
            .try_with_untracked(|lines| lines.iter().any(said))
            .unwrap_or(false)
        {
            self.lines.update(|lines| lines.retain(|line| !said(line)));
        }
    }

    fn add(&self, about: Option<String>, text: String) {
        let n = self.next.get_value();
        self.next.set_value(n + 1);
        self.lines.update(|lines| {
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
