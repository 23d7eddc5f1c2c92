//! What a page says it is: its text decoded by the charset it names, then
//! parsed as a browser would (html5ever, through `scraper`, which copes
//! with broken markup), reading OpenGraph, then Twitter's card tags, then
//! the plain `<title>` and description.

use encoding_rs::{Encoding, UTF_8};
use natter_protocol::limits::{
    is_bidi_control, is_invisible, PREVIEW_DESCRIPTION_MAX, PREVIEW_SITE_MAX, PREVIEW_TITLE_MAX,
};
use reqwest::Url;
use scraper::{Html, Selector};

/// What a page's markup says of it, cleaned and cut to the lengths a
/// preview keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// The picture's address, made absolute.
    pub image: Option<Url>,
}

/// How much of the start of a page is searched for a `<meta charset>`, as
/// browsers do.
const PRESCAN: usize = 1024;

/// `body` as text: by a byte-order mark, else the charset the response
/// header names, else one a `<meta>` near the start names, else UTF-8.
/// Bytes that do not decode become U+FFFD.
pub fn decode(body: &[u8], header_charset: Option<&str>) -> String {
    // A page that says UTF-16 in a <meta> is ASCII-compatible text, so
    // it is not UTF-16: browsers read it as UTF-8. The header is believed
    // as it stands.
    let encoding = header_charset
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .or_else(|| meta_charset(&body[..body.len().min(PRESCAN)]).map(Encoding::output_encoding))
        .unwrap_or(UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

/// The charset a `<meta charset=…>` or `<meta http-equiv content="…;
/// charset=…">` names in `start`.
fn meta_charset(start: &[u8]) -> Option<&'static Encoding> {
    let lower = start.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = find(&lower[from..], b"<meta") {
        let tag_start = from + found;
        let tag_end = find(&lower[tag_start..], b">").map_or(lower.len(), |end| tag_start + end);
        let tag = &lower[tag_start..tag_end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + b"charset".len()..];
            let rest = rest.trim_ascii_start();
            if let Some(value) = rest.strip_prefix(b"=") {
                let value = value.trim_ascii_start();
                let value = value
                    .strip_prefix(b"\"")
                    .or_else(|| value.strip_prefix(b"'"))
                    .unwrap_or(value);
                let end = value
                    .iter()
                    .position(|&b| {
                        matches!(b, b'"' | b'\'' | b';' | b'/' | b'>') || b.is_ascii_whitespace()
                    })
                    .unwrap_or(value.len());
                if let Some(encoding) = Encoding::for_label(&value[..end]) {
                    return Some(encoding);
                }
            }
        }
        from = tag_end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Reads the preview's parts from `html`, served at `url`.
pub fn read(html: &str, url: &Url) -> PageInfo {
    let document = Html::parse_document(html);
    let selector = |text: &str| Selector::parse(text).ok();
    let mut tags: Vec<(String, String)> = Vec::new();
    if let Some(meta) = selector("meta[content]") {
        for element in document.select(&meta) {
            let element = element.value();
            let key = element.attr("property").or_else(|| element.attr("name"));
            if let (Some(key), Some(content)) = (key, element.attr("content")) {
                tags.push((key.trim().to_ascii_lowercase(), content.to_owned()));
            }
        }
    }
    let tag = |keys: &[&str]| {
        keys.iter().find_map(|key| {
            tags.iter()
                .find(|(name, content)| name == key && !content.trim().is_empty())
                .map(|(_, content)| content.as_str())
        })
    };
    let title_element = selector("title").and_then(|title| {
        document
            .select(&title)
            .next()
            .map(|element| element.text().collect::<String>())
    });
    let base = selector("base[href]")
        .and_then(|base| document.select(&base).next())
        .and_then(|element| element.value().attr("href"))
        .and_then(|href| url.join(href).ok())
        .unwrap_or_else(|| url.clone());
    let image = tag(&[
        "og:image:secure_url",
        "og:image:url",
        "og:image",
        "twitter:image",
        "twitter:image:src",
    ])
    .and_then(|src| base.join(src.trim()).ok())
    .filter(|image| matches!(image.scheme(), "http" | "https"));
    PageInfo {
        title: tag(&["og:title", "twitter:title"])
            .map(str::to_owned)
            .or(title_element)
            .and_then(|text| clean(&text, PREVIEW_TITLE_MAX)),
        description: tag(&["og:description", "twitter:description", "description"])
            .and_then(|text| clean(text, PREVIEW_DESCRIPTION_MAX)),
        site_name: tag(&["og:site_name", "application-name"])
            .and_then(|text| clean(text, PREVIEW_SITE_MAX)),
        image,
    }
}

/// `text` on one line, without controls or characters that hide or
/// reorder what follows them, cut to `max` characters (with "…"); `None`
/// when nothing is left.
pub fn clean(text: &str, max: usize) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_invisible(*c))
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect();
    let line = words.join(" ");
    if line.is_empty() {
        return None;
    }
    if line.chars().count() <= max {
        return Some(line);
    }
    let mut cut: String = line.chars().take(max - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_charset_comes_from_the_header_then_the_page() {
        let latin1 = b"<html><head><title>Caf\xe9</title></head></html>";
        assert_eq!(
            decode(latin1, Some("iso-8859-1")),
            "<html><head><title>Café</title></head></html>"
        );
        let meta = b"<!doctype html><meta charset=\"windows-1252\"><title>\x93Hi\x94</title>";
        assert!(decode(meta, None).contains("“Hi”"));
        let equiv =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><title>\x93\xfa\x96{</title>";
        assert!(decode(equiv, None).contains("日本"));
        assert!(decode(b"<title>\xff</title>", None).contains('\u{FFFD}'));
        // A header's charset wins over the page's.
        assert!(decode(meta, Some("utf-8")).contains('\u{FFFD}'));
    }

    #[test]
    fn clean_text_is_one_line_without_hidden_characters_and_cut() {
        assert_eq!(
            clean("  A\n\ttitle\u{202E}  ", 20),
            Some("A title".to_owned())
        );
        assert_eq!(clean(" \u{200B} ", 20), None);
        assert_eq!(clean("abcdef ghij", 8), Some("abcdef…".to_owned()));
    }
}
