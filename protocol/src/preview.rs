//! A message in one line, as quotes, the chat list and notifications show
//! it. Both sides write it: the server's pushes say what the app's own
//! notifications say.

use crate::limits::is_bidi_control;
use crate::{MediaKind, Message};

/// The most characters of text a one-line preview keeps.
pub const LONGEST: usize = 80;

/// `text` without the direction controls that would reorder what follows
/// them, so that a preview reads as the characters were typed.
pub fn plain(text: &str) -> String {
    text.chars().filter(|c| !is_bidi_control(*c)).collect()
}

/// What a message without words carries, in words.
pub fn media_label(kind: Option<MediaKind>) -> &'static str {
    match kind {
        Some(MediaKind::Image) => "📷 Photo",
        Some(MediaKind::Video) => "🎬 Video",
        Some(MediaKind::Voice) => "🎤 Voice message",
        None => "Message",
    }
}

/// `message` in a line: the first line of its text (plain, cut to
/// [`LONGEST`] characters), or what it carries.
pub fn line(message: &Message) -> String {
    if message.deleted {
        return "Deleted message".to_owned();
    }
    let body = plain(&message.body);
    let first_line = body.lines().next().unwrap_or_default().trim();
    if first_line.is_empty() {
        return media_label(message.attachment.as_ref().map(|a| a.kind)).to_owned();
    }
    if first_line.chars().count() > LONGEST {
        let cut: String = first_line.chars().take(LONGEST).collect();
        format!("{}…", cut.trim_end())
    } else {
        first_line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Message {
        Message {
            conversation: 7,
            seq: 1,
            sender: 1,
            body: body.to_owned(),
            sent_at: 1,
            ..Message::default()
        }
    }

    #[test]
    fn quotes_are_one_short_line() {
        assert_eq!(line(&message("lunch?\nat noon")), "lunch?");
        let long = "a".repeat(100);
        assert_eq!(line(&message(&long)).chars().count(), 81);
        let mut deleted = message("");
        deleted.deleted = true;
        assert_eq!(line(&deleted), "Deleted message");
        assert_eq!(line(&message("")), "Message");
    }

    #[test]
    fn direction_controls_cannot_reorder_a_preview() {
        assert_eq!(
            plain("see https://exa\u{202E}mple.invalid/gpj.exe"),
            "see https://example.invalid/gpj.exe"
        );
        assert_eq!(line(&message("pay \u{202E}txt.exe")), "pay txt.exe");
    }
}
