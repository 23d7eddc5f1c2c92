//! @mentions being typed: finding the one before the caret, and completing
//! it. Finding them in sent text is the protocol's (`natter_protocol::mentions`):
//! the server decides with it too, whom a muted group still notifies.

pub use natter_protocol::mentions::mentions;
use natter_protocol::mentions::name_char;

/// The mention being typed just before `caret` (a byte offset): where its
/// `@` is, and the part of the name typed so far.
pub fn typing_at(text: &str, caret: usize) -> Option<(usize, &str)> {
    let before = text.get(..caret)?;
    let at = before.rfind('@')?;
    let partial = &before[at + 1..];
    if !partial.chars().all(name_char) {
        return None;
    }
    let starts_word = before[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !name_char(c));
    starts_word.then_some((at, partial))
}

/// `text` with the mention typed from `at` to `caret` completed to
/// `username`, and where the caret goes after it.
pub fn complete(text: &str, at: usize, caret: usize, username: &str) -> (String, usize) {
    let inserted = format!("@{username} ");
    let mut out = String::with_capacity(text.len() + inserted.len());
    out.push_str(&text[..at]);
    out.push_str(&inserted);
    let rest = &text[caret..];
    // Do not double the space if one follows already.
    out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
    (out, at + inserted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mention_being_typed_is_found_before_the_caret() {
        let text = "hey @an";
        assert_eq!(typing_at(text, text.len()), Some((4, "an")));
        assert_eq!(typing_at("hey @", 5), Some((4, "")));
        assert_eq!(typing_at("hey @an x", 9), None);
        assert_eq!(typing_at("me@an", 5), None);
        assert_eq!(typing_at("no mention", 10), None);
        // A caret inside a multi-byte character is no place to complete.
        assert_eq!(typing_at("é@a", 1), None);
    }

    #[test]
    fn completing_inserts_the_name_and_one_space() {
        assert_eq!(
            complete("hey @an", 4, 7, "ann"),
            ("hey @ann ".to_owned(), 9)
        );
        assert_eq!(
            complete("hey @an see", 4, 7, "ann"),
            ("hey @ann see".to_owned(), 9)
        );
    }
}
