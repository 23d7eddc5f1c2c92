//! Message text with clickable links (opening in the in-app browser) and
//! highlighted @mentions. Text is always rendered as text nodes, never
//! parsed as HTML; only `http(s)://` links become anchors, and never one
//! that holds characters which hide or reorder parts of it.

use leptos::prelude::*;
use natter_protocol::limits::{is_bidi_control, is_invisible};

use super::browser::{open_in_panel, Browser};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
    /// What looks like a link but holds direction controls or invisible
    /// characters (`https://exa\u{202E}mple…` shows reversed): shown as
    /// text, with those characters made visible.
    Disguised(&'a str),
    /// "@name", the `@` included.
    Mention(&'a str),
}

/// Splits `text` into plain runs and http(s) links. Trailing punctuation
/// that usually ends a sentence is not part of the link.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for segment in links(text) {
        match segment {
            Segment::Text(text) => split_mentions(text, &mut out),
            other => out.push(other),
        }
    }
    out
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Splits plain text at "@name" mentions.
fn split_mentions<'a>(text: &'a str, out: &mut Vec<Segment<'a>>) {
    let mut rest = text;
    let mut from = 0;
    while let Some(found) = rest[from..].find('@') {
        let at = from + found;
        let starts_word = rest[..at].chars().next_back().is_none_or(|c| !name_char(c));
        let name_len: usize = rest[at + 1..]
            .chars()
            .take_while(|c| name_char(*c))
            .map(char::len_utf8)
            .sum();
        let name = rest[at + 1..at + 1 + name_len].trim_end_matches('.');
        if starts_word && !name.is_empty() {
            if at > 0 {
                out.push(Segment::Text(&rest[..at]));
            }
            out.push(Segment::Mention(&rest[at..at + 1 + name.len()]));
            rest = &rest[at + 1 + name.len()..];
            from = 0;
        } else {
            from = at + 1;
        }
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
}

/// Splits `text` into plain runs and links.
fn links(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link_start(rest) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
        let scheme_only = link.ends_with("://");
        if scheme_only {
            out.push(Segment::Text(&rest[..start + link.len()]));
        } else {
            if start > 0 {
                out.push(Segment::Text(&rest[..start]));
            }
            out.push(if link.chars().any(hides) {
                Segment::Disguised(link)
            } else {
                Segment::Link(link)
            });
        }
        rest = &rest[start + link.len()..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    out
}

/// Characters that must not be inside a link people click.
fn hides(c: char) -> bool {
    is_bidi_control(c) || is_invisible(c)
}

/// A disguised link, with each hidden character written out as its code
/// point.
#[component]
fn Disguised(text: String) -> impl IntoView {
    let mut parts = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if hides(c) {
            parts.push(std::mem::take(&mut run).into_any());
            let code = format!("U+{:04X}", c as u32);
            parts.push(
                view! { <span class="hidden-char" title="A hidden character">{code}</span> }
                    .into_any(),
            );
        } else {
            run.push(c);
        }
    }
    parts.push(run.into_any());
    view! { <span class="disguised-link" title="Not opened: this link hides some of its characters">{parts}</span> }
}

fn find_link_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    match (lower.find("https://"), lower.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A message body: line breaks kept (by CSS), links clickable, mentions
/// highlighted (the reader's own more strongly).
#[component]
pub fn RichText(text: String, #[prop(optional, into)] me: Option<String>) -> impl IntoView {
    segments(&text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.to_owned().into_any(),
            Segment::Disguised(link) => view! { <Disguised text=link.to_owned()/> }.into_any(),
            Segment::Mention(mention) => {
                let mine = me
                    .as_deref()
                    .is_some_and(|me| mention[1..].eq_ignore_ascii_case(me));
                view! { <span class="mention" class:me=mine>{mention.to_owned()}</span> }.into_any()
            }
            Segment::Link(url) => {
                let browser = use_context::<Browser>();
                let target = url.to_owned();
                view! {
                    <a
                        href=url.to_owned()
                        target="_blank"
                        rel="noopener noreferrer"
                        on:click=open_in_panel(browser, target)
                    >
                        {url.to_owned()}
                    </a>
                }
                .into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_and_leaves_the_rest_as_text() {
        assert_eq!(
            segments("see https://natter.chat/a?b=1, then http://x.org."),
            vec![
                Segment::Text("see "),
                Segment::Link("https://natter.chat/a?b=1"),
                Segment::Text(", then "),
                Segment::Link("http://x.org"),
                Segment::Text("."),
            ]
        );
    }

    #[test]
    fn mentions_are_marked_but_not_inside_words_or_links() {
        assert_eq!(
            segments("hi @ann.b and @Bob. mail x@y.org https://a.b/@c"),
            vec![
                Segment::Text("hi "),
                Segment::Mention("@ann.b"),
                Segment::Text(" and "),
                Segment::Mention("@Bob"),
                Segment::Text(". mail x@y.org "),
                Segment::Link("https://a.b/@c"),
            ]
        );
        assert_eq!(segments("@ alone"), vec![Segment::Text("@ alone")]);
    }

    #[test]
    fn other_schemes_and_markup_stay_text() {
        assert_eq!(
            segments("javascript:alert(1) <b>hi</b>"),
            vec![Segment::Text("javascript:alert(1) <b>hi</b>")]
        );
        assert_eq!(segments("https://"), vec![Segment::Text("https://")]);
        assert_eq!(segments("HTTPS://A.B"), vec![Segment::Link("HTTPS://A.B")]);
    }

    #[test]
    fn links_with_hidden_characters_are_not_links() {
        assert_eq!(
            segments("get https://exa\u{202E}mple.invalid/gpj.exe now"),
            vec![
                Segment::Text("get "),
                Segment::Disguised("https://exa\u{202E}mple.invalid/gpj.exe"),
                Segment::Text(" now"),
            ]
        );
        assert_eq!(
            segments("https://bank\u{200B}.example"),
            vec![Segment::Disguised("https://bank\u{200B}.example")]
        );
        assert_eq!(
            natter_protocol::preview::plain("see https://exa\u{202E}mple.invalid/gpj.exe"),
            "see https://example.invalid/gpj.exe"
        );
    }
}
