//! One polite live region for the chat: what a screen reader says without
//! the person going there — a new message in the open conversation, the
//! connection going and coming back. Each announcement is a new line in the
//! region, so the same words said twice are said twice, and nothing already
//! there is read again. Lines leave after a while, and at once when what
//! they quote is taken back (a message deleted for everyone), so that no
//! text lingers in the page that the page no longer shows.

use std::time::Duration;

use leptos::html::Div;
use leptos::prelude::*;
use web_sys::Element;

/// Lines kept in the region; older ones go (removals are not read).
const KEPT: usize = 3;
/// How long a line stays: long enough to be read after what is being read.
const LINGER: Duration = Duration::from_secs(15);

struct Line {
    n: u64,
    /// What it is about, when that can be taken back.
    about: Option<String>,
    /// Its paragraph in the region.
    element: Element,
}

/// Says things to screen-reader users, politely (after what they hear now).
///
/// The lines are written into the region directly rather than rendered
/// from a signal: the region is on the chat's first screen, and a keyed
/// list of views would bring its rendering code there for three
/// paragraphs of text.
#[derive(Clone, Copy)]
pub struct Announcer {
    region: NodeRef<Div>,
    lines: StoredValue<Vec<Line>, LocalStorage>,
    /// The next line's number: never used twice, so that an old line's
    /// timer never removes a new one.
    next: StoredValue<u64>,
}

impl Announcer {
    pub fn new() -> Self {
        Self {
            region: NodeRef::new(),
            lines: StoredValue::new_local(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    pub fn say(&self, text: impl Into<String>) {
        self.add(None, &text.into());
    }

    /// Says `text` about `about` (a message), which `forget` takes back.
    pub fn say_about(&self, about: impl Into<String>, text: impl Into<String>) {
        self.add(Some(about.into()), &text.into());
    }

    /// Takes back what was said about `about`, if it is still there.
    pub fn forget(&self, about: &str) {
        self.drop_lines(|line| line.about.as_deref() == Some(about));
    }

    /// Takes back what was said about anything whose name starts with
    /// `prefix` (a conversation's messages, once it is closed).
    pub fn forget_all(&self, prefix: &str) {
        self.drop_lines(|line| {
            line.about
                .as_deref()
                .is_some_and(|about| about.starts_with(prefix))
        });
    }

    fn drop_lines(&self, matches: impl Fn(&Line) -> bool) {
        self.lines.try_update_value(|lines| {
            lines.retain(|line| {
                let gone = matches(line);
                if gone {
                    line.element.remove();
                }
                !gone
            })
        });
    }

    fn add(&self, about: Option<String>, text: &str) {
        let Some(region) = self.region.get_untracked() else {
            return;
        };
        let Ok(element) = document().create_element("p") else {
            return;
        };
        element.set_text_content(Some(text));
        if region.append_child(&element).is_err() {
            return;
        }
        let n = self.next.get_value();
        self.next.set_value(n + 1);
        self.lines.update_value(|lines| {
            lines.push(Line { n, about, element });
            if lines.len() > KEPT {
                lines.remove(0).element.remove();
            }
        });
        let announcer = *self;
        set_timeout(move || announcer.drop_lines(|line| line.n == n), LINGER);
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
        <div
            class="visually-hidden"
            aria-live="polite"
            aria-relevant="additions"
            node_ref=announcer.region
        ></div>
    }
}
