//! Message text with clickable links. Text is always rendered as text nodes,
//! never parsed as HTML; only `http(s)://` links become anchors.

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits `text` into plain runs and http(s) links. Trailing punctuation
/// that usually ends a sentence is not part of the link.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
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
            out.push(Segment::Link(link));
        }
        rest = &rest[start + link.len()..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    out
}

fn find_link_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    match (lower.find("https://"), lower.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A message body: line breaks kept (by CSS), links clickable.
#[component]
pub fn RichText(text: String) -> impl IntoView {
    segments(&text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.to_owned().into_any(),
            Segment::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer">
                    {url.to_owned()}
                </a>
            }
            .into_any(),
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
    fn other_schemes_and_markup_stay_text() {
        assert_eq!(
            segments("javascript:alert(1) <b>hi</b>"),
            vec![Segment::Text("javascript:alert(1) <b>hi</b>")]
        );
        assert_eq!(segments("https://"), vec![Segment::Text("https://")]);
        assert_eq!(segments("HTTPS://A.B"), vec![Segment::Link("HTTPS://A.B")]);
    }
}
