//! Validation rules shared by the client and the server.
//!
//! The server is the authority; the client runs the same checks first so that
//! it can explain a problem without a round trip.

use std::fmt;

/// The largest WebSocket frame the server accepts; larger ones close the
/// connection with [`crate::close::TOO_BIG`].
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// The longest message body, counted in Unicode scalar values.
pub const MAX_BODY_CHARS: usize = 4096;
/// Username length bounds, in characters.
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
/// Password length bounds, in characters. The upper bound keeps Argon2's
/// input, and so the cost of a login, bounded.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;
/// The most messages one history page returns.
pub const MAX_PAGE: u32 = 200;

/// Why an input was refused, phrased for the person who typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    UsernameLength,
    UsernameCharacters,
    PasswordShort,
    PasswordLong,
    BodyEmpty,
    BodyTooLong,
    VoiceTooLong,
    AttachmentDetails,
    GroupName,
    Hashtag,
    GroupPicture,
    Emoji,
    ActionShape,
    DisplayName,
    /// A group would have more than [`MAX_GROUP_MEMBERS`] members.
    TooManyMembers,
    /// A name holds characters that are invisible or change the direction
    /// of the text around them, which is how names are spoofed.
    HiddenCharacters,
    /// A report's note is longer than [`REPORT_NOTE_MAX`].
    ReportNote,
    /// Text holds the NUL character, which no text needs (and which
    /// PostgreSQL cannot store).
    Nul,
    /// A link preview that is not for a link in the text, or whose parts
    /// are too long or malformed.
    LinkPreview,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Invalid::UsernameLength => "Usernames are 3 to 32 characters long.",
            Invalid::UsernameCharacters => {
                "Usernames may only use letters a–z, digits, '_' and '.'."
            }
            Invalid::PasswordShort => "Passwords need at least 8 characters.",
            Invalid::PasswordLong => "Passwords can be at most 256 characters.",
            Invalid::BodyEmpty => "A message needs some text.",
            Invalid::BodyTooLong => "Messages can be at most 4,096 characters.",
            Invalid::VoiceTooLong => "Voice messages can be at most 15 minutes long.",
            Invalid::GroupName => "Group names are 1 to 64 characters long.",
            Invalid::Hashtag => "Hashtags are 2 to 32 characters: letters a–z, digits and '_'.",
            Invalid::GroupPicture => "The group picture must be a JPEG under 40 KB.",
            Invalid::Emoji => "A reaction is one emoji.",
            Invalid::DisplayName => "Display names are at most 40 characters, on one line.",
            Invalid::TooManyMembers => "Groups have at most 100 members.",
            Invalid::HiddenCharacters => {
                "Names can't contain invisible characters or characters that change the \
                 direction of the text."
            }
            Invalid::ReportNote => "A report's note can be at most 500 characters.",
            Invalid::Nul => "Text can't contain the NUL character.",
            Invalid::LinkPreview => {
                "A link preview must be for a link in the message, with a title of at most \
                 200 characters and a description of at most 300."
            }
            Invalid::ActionShape => {
                "A reaction, edit or deletion carries no text, file or reply of its own."
            }
            Invalid::AttachmentDetails => {
                "The attachment's preview is not valid (a JPEG thumbnail under 40 KB, \
                 at most 256 waveform points)."
            }
        };
        f.write_str(text)
    }
}

impl std::error::Error for Invalid {}

/// Checks a username as typed. Upper-case letters are accepted and folded:
/// names are unique ignoring case, and [`canonical_username`] gives the key.
pub fn check_username(name: &str) -> Result<(), Invalid> {
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(Invalid::UsernameLength);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    if !name.chars().all(allowed) {
        return Err(Invalid::UsernameCharacters);
    }
    Ok(())
}

/// What both the app and the server say when nobody has a username.
pub fn unknown_username(name: &str) -> String {
    format!("Nobody is called “{name}”. Check the spelling.")
}

/// The case-folded form under which a username is unique.
pub fn canonical_username(name: &str) -> String {
    name.to_ascii_lowercase()
}

pub fn check_password(password: &str) -> Result<(), Invalid> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        Err(Invalid::PasswordShort)
    } else if len > PASSWORD_MAX {
        Err(Invalid::PasswordLong)
    } else {
        Ok(())
    }
}

/// Characters that reorder the text around them without being seen:
/// the Unicode bidirectional embeddings, overrides, isolates and marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that take up no visible space: zero-width spaces and joiners,
/// the word joiner and invisible operators, the byte-order mark, soft
/// hyphens, variation selectors, tags and the Hangul fillers that render
/// as blanks.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Whether `text` shows nothing: only spaces and invisible characters.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || is_invisible(c) || is_bidi_control(c))
}

/// Checks a name people are shown by (a display name, a group name): no
/// control characters, no direction controls, and no invisible characters
/// except the joiners and variation selectors that emoji and some scripts
/// are written with.
fn check_shown_name(name: &str) -> Result<(), Invalid> {
    let emoji_glue = |c: char| matches!(c, '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}');
    let hidden =
        |c: char| c.is_control() || is_bidi_control(c) || (is_invisible(c) && !emoji_glue(c));
    if name.chars().any(hidden) || is_blank(name) {
        return Err(Invalid::HiddenCharacters);
    }
    Ok(())
}

/// Checks a message body. Bodies that show nothing (spaces, zero-width
/// characters) are empty.
pub fn check_body(body: &str) -> Result<(), Invalid> {
    if is_blank(body) {
        Err(Invalid::BodyEmpty)
    } else {
        check_caption(body)
    }
}

/// Checks the text of a message with an attachment: it may be empty.
pub fn check_caption(body: &str) -> Result<(), Invalid> {
    if body.chars().count() > MAX_BODY_CHARS {
        Err(Invalid::BodyTooLong)
    } else if body.contains('\0') {
        Err(Invalid::Nul)
    } else {
        Ok(())
    }
}

/// The longest reaction, in characters (emoji with modifiers and joiners
/// take several).
pub const MAX_EMOJI_CHARS: usize = 16;

/// Checks a reaction: a short run of non-letter, non-space characters.
pub fn check_emoji(emoji: &str) -> Result<(), Invalid> {
    let len = emoji.chars().count();
    let plain = |c: char| c.is_alphanumeric() || c.is_whitespace() || c.is_control();
    if len == 0 || len > MAX_EMOJI_CHARS || emoji.chars().any(plain) {
        return Err(Invalid::Emoji);
    }
    Ok(())
}

/// Checks what a `send` frame carries: a message (text, or a caption with
/// a file), possibly a reply, or an action on an earlier message.
pub fn check_message(
    body: &str,
    attachment: Option<&crate::Attachment>,
    action: Option<&crate::Action>,
) -> Result<(), Invalid> {
    match (action, attachment) {
        (Some(action), None) if body.is_empty() => match action {
            crate::Action::React { emoji, .. } | crate::Action::Unreact { emoji, .. } => {
                check_emoji(emoji)
            }
            crate::Action::Edit { body, .. } => check_body(body),
            crate::Action::Delete { .. } => Ok(()),
        },
        (Some(_), _) => Err(Invalid::ActionShape),
        (None, Some(attachment)) => check_caption(body).and_then(|()| check_attachment(attachment)),
        (None, None) => check_body(body),
    }
}

/// The longest link a preview is made for, in characters.
pub const PREVIEW_URL_MAX: usize = 2048;
/// The longest title a link preview keeps, in characters.
pub const PREVIEW_TITLE_MAX: usize = 200;
/// The longest description a link preview keeps, in characters.
pub const PREVIEW_DESCRIPTION_MAX: usize = 300;
/// The longest site name a link preview keeps, in characters.
pub const PREVIEW_SITE_MAX: usize = 100;
/// The longest side of a preview's picture, in pixels.
pub const PREVIEW_IMAGE_SIDE: u32 = 600;

/// Checks a link preview sent with `body`: for an http(s) link the text
/// holds, with its parts within their lengths, and a picture id that is a
/// SHA-256 in hex.
pub fn check_link_preview(body: &str, preview: &crate::LinkPreview) -> Result<(), Invalid> {
    let within = |text: &str, max: usize| {
        let count = text.chars().count();
        count <= max && !text.contains('\0')
    };
    let optional =
        |text: &Option<String>, max: usize| text.as_deref().is_none_or(|t| within(t, max));
    let url = preview.url.as_str();
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    let web =
        scheme.is_some_and(|s| s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http"));
    let image = preview.image.as_ref().is_none_or(|image| {
        image.id.len() == 64
            && image
                .id
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && (1..=PREVIEW_IMAGE_SIDE).contains(&image.width)
            && (1..=PREVIEW_IMAGE_SIDE).contains(&image.height)
    });
    let fits = web
        && holds_link(body, url)
        && within(url, PREVIEW_URL_MAX)
        && !preview.title.trim().is_empty()
        && within(&preview.title, PREVIEW_TITLE_MAX)
        && optional(&preview.description, PREVIEW_DESCRIPTION_MAX)
        && optional(&preview.site_name, PREVIEW_SITE_MAX)
        && image;
    if fits {
        Ok(())
    } else {
        Err(Invalid::LinkPreview)
    }
}

/// Whether `body` holds `url` as a whole link, as the app finds links
/// (up to a space, `<`, `>` or `"`, less the punctuation that ends a
/// sentence): not as the start of a longer one (`https://a.example`
/// inside `https://a.example.evil/`).
pub fn holds_link(body: &str, url: &str) -> bool {
    body.match_indices(url).any(|(at, _)| {
        let after =
            body[at + url.len()..].trim_start_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
        after
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
    })
}

/// The longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 40;
/// The longest note a report may carry, in characters.
pub const REPORT_NOTE_MAX: usize = 500;

/// A report's note, trimmed (`None` when empty).
pub fn check_report_note(note: &str) -> Result<Option<String>, Invalid> {
    let note = note.trim();
    if note.chars().count() > REPORT_NOTE_MAX {
        return Err(Invalid::ReportNote);
    }
    if note.contains('\0') {
        return Err(Invalid::Nul);
    }
    Ok((!note.is_empty()).then(|| note.to_owned()))
}

/// Checks a display name; returns it trimmed, or `None` when blank.
pub fn check_display_name(name: &str) -> Result<Option<String>, Invalid> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > DISPLAY_NAME_MAX || name.contains(['\n', '\r']) {
        return Err(Invalid::DisplayName);
    }
    check_shown_name(name)?;
    Ok(Some(name.to_owned()))
}

/// The most members a group may have.
pub const MAX_GROUP_MEMBERS: usize = 100;
pub const GROUP_NAME_MAX: usize = 64;
pub const HASHTAG_MIN: usize = 2;
pub const HASHTAG_MAX: usize = 32;

/// Checks that a group of `members` people (its creator included) is not
/// too large.
pub fn check_group_size(members: usize) -> Result<(), Invalid> {
    if members > MAX_GROUP_MEMBERS {
        Err(Invalid::TooManyMembers)
    } else {
        Ok(())
    }
}

/// Checks a group name; returns it trimmed.
pub fn check_group_name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 || len > GROUP_NAME_MAX {
        return Err(Invalid::GroupName);
    }
    check_shown_name(name)?;
    Ok(name.to_owned())
}

/// Checks a hashtag as typed (`#Cats_4`, `cats_4`) and returns it without
/// the `#`. Hashtags are unique ignoring case: [`canonical_hashtag`] gives
/// the key.
pub fn check_hashtag(tag: &str) -> Result<String, Invalid> {
    let tag = tag.trim();
    let tag = tag.strip_prefix('#').unwrap_or(tag);
    let len = tag.chars().count();
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !(HASHTAG_MIN..=HASHTAG_MAX).contains(&len) || !tag.chars().all(allowed) {
        return Err(Invalid::Hashtag);
    }
    Ok(tag.to_owned())
}

pub fn canonical_hashtag(tag: &str) -> String {
    tag.to_ascii_lowercase()
}

/// Checks a group picture: a JPEG `data:` URL the size of a thumbnail.
pub fn check_group_picture(picture: &str) -> Result<(), Invalid> {
    if picture.len() > MAX_THUMBNAIL_CHARS || !picture.starts_with("data:image/jpeg;base64,") {
        return Err(Invalid::GroupPicture);
    }
    Ok(())
}

/// The most waveform peaks a voice message carries.
pub const MAX_WAVEFORM: usize = 256;
/// The longest voice message.
pub const MAX_VOICE_MS: u32 = 15 * 60 * 1000;
/// The largest thumbnail, as the length of its `data:` URL.
pub const MAX_THUMBNAIL_CHARS: usize = 40 * 1024;

/// Checks what the sender's device says about an attachment.
pub fn check_attachment(attachment: &crate::Attachment) -> Result<(), Invalid> {
    if attachment.waveform.len() > MAX_WAVEFORM {
        return Err(Invalid::AttachmentDetails);
    }
    if attachment.kind == crate::MediaKind::Voice
        && attachment.duration_ms.is_some_and(|ms| ms > MAX_VOICE_MS)
    {
        return Err(Invalid::VoiceTooLong);
    }
    match &attachment.thumbnail {
        Some(thumbnail)
            if thumbnail.len() > MAX_THUMBNAIL_CHARS
                || !thumbnail.starts_with("data:image/jpeg;base64,") =>
        {
            Err(Invalid::AttachmentDetails)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(check_username("ann"), Ok(()));
        assert_eq!(check_username("Ann.B_42"), Ok(()));
        assert_eq!(check_username("an"), Err(Invalid::UsernameLength));
        assert_eq!(
            check_username(&"a".repeat(33)),
            Err(Invalid::UsernameLength)
        );
        assert_eq!(check_username("ann b"), Err(Invalid::UsernameCharacters));
        assert_eq!(check_username("änn"), Err(Invalid::UsernameCharacters));
        assert_eq!(canonical_username("Ann.B"), "ann.b");
    }

    #[test]
    fn group_names_and_hashtags() {
        assert_eq!(
            check_group_name("  Cat people "),
            Ok("Cat people".to_owned())
        );
        assert_eq!(check_group_name("   "), Err(Invalid::GroupName));
        assert_eq!(check_group_name(&"x".repeat(65)), Err(Invalid::GroupName));
        assert_eq!(check_hashtag("#Cats_4"), Ok("Cats_4".to_owned()));
        assert_eq!(check_hashtag("cats"), Ok("cats".to_owned()));
        assert_eq!(check_hashtag("#c"), Err(Invalid::Hashtag));
        assert_eq!(check_hashtag("#cat people"), Err(Invalid::Hashtag));
        assert_eq!(check_hashtag("#kätzchen"), Err(Invalid::Hashtag));
        assert_eq!(canonical_hashtag("Cats_4"), "cats_4");
        assert_eq!(
            check_group_picture("data:image/png;base64,AA"),
            Err(Invalid::GroupPicture)
        );
    }

    #[test]
    fn actions_carry_only_what_they_need() {
        use crate::Action;
        let react = Action::React {
            target: 1,
            emoji: "👍🏽".into(),
        };
        assert_eq!(check_message("", None, Some(&react)), Ok(()));
        assert_eq!(
            check_message("hi", None, Some(&react)),
            Err(Invalid::ActionShape)
        );
        let family = Action::React {
            target: 1,
            emoji: "👨‍👩‍👧‍👦".into(),
        };
        assert_eq!(check_message("", None, Some(&family)), Ok(()));
        for bad in ["", "ok", "👍 👍", &"👍".repeat(17)] {
            let action = Action::React {
                target: 1,
                emoji: bad.to_owned(),
            };
            assert_eq!(
                check_message("", None, Some(&action)),
                Err(Invalid::Emoji),
                "{bad:?}"
            );
        }
        let edit = Action::Edit {
            target: 1,
            body: " ".into(),
        };
        assert_eq!(
            check_message("", None, Some(&edit)),
            Err(Invalid::BodyEmpty)
        );
        assert_eq!(
            check_message("", None, Some(&Action::Delete { target: 1 })),
            Ok(())
        );
        assert_eq!(check_message("", None, None), Err(Invalid::BodyEmpty));
    }

    #[test]
    fn display_names() {
        assert_eq!(
            check_display_name("  Ann Archer "),
            Ok(Some("Ann Archer".to_owned()))
        );
        assert_eq!(check_display_name("   "), Ok(None));
        assert_eq!(
            check_display_name(&"x".repeat(41)),
            Err(Invalid::DisplayName)
        );
        assert_eq!(check_display_name("a\nb"), Err(Invalid::DisplayName));
    }

    #[test]
    fn names_with_hidden_characters_are_refused() {
        for spoof in [
            "\u{202E}evil\u{202C} Admin",
            "ann\u{200B}",
            "\u{2066}bob\u{2069}",
            "tab\there",
            "\u{FEFF}",
            "\u{3164}",
        ] {
            assert_eq!(
                check_display_name(spoof),
                Err(Invalid::HiddenCharacters),
                "{spoof:?}"
            );
            assert_eq!(
                check_group_name(spoof),
                Err(Invalid::HiddenCharacters),
                "{spoof:?}"
            );
        }
        assert_eq!(
            check_group_name("bell\u{7}"),
            Err(Invalid::HiddenCharacters)
        );
        // Emoji are written with joiners and variation selectors.
        assert_eq!(
            check_display_name("Ann 👨\u{200D}👩\u{200D}👧 ❤\u{FE0F}"),
            Ok(Some("Ann 👨\u{200D}👩\u{200D}👧 ❤\u{FE0F}".to_owned()))
        );
        assert_eq!(
            check_group_name("می\u{200C}خواهم"),
            Ok("می\u{200C}خواهم".to_owned())
        );
    }

    #[test]
    fn passwords() {
        assert_eq!(check_password("1234567"), Err(Invalid::PasswordShort));
        assert_eq!(check_password("12345678"), Ok(()));
        assert_eq!(check_password(&"x".repeat(257)), Err(Invalid::PasswordLong));
    }

    #[test]
    fn bodies_count_characters_not_bytes() {
        assert_eq!(check_body(" \n "), Err(Invalid::BodyEmpty));
        assert_eq!(
            check_body("\u{200B}\u{2060}\u{FEFF} \u{200B}"),
            Err(Invalid::BodyEmpty)
        );
        assert_eq!(check_body("a\u{200B}"), Ok(()));
        assert_eq!(check_body(&"é".repeat(MAX_BODY_CHARS)), Ok(()));
        assert_eq!(
            check_body(&"é".repeat(MAX_BODY_CHARS + 1)),
            Err(Invalid::BodyTooLong)
        );
    }

    #[test]
    fn no_text_holds_nul() {
        assert_eq!(check_body("a\0b"), Err(Invalid::Nul));
        assert_eq!(check_caption("\0"), Err(Invalid::Nul));
        assert_eq!(check_report_note("spam\0"), Err(Invalid::Nul));
    }

    #[test]
    fn a_link_preview_is_for_a_link_in_the_text_and_small() {
        let good = crate::LinkPreview {
            url: "https://example.org/a".to_owned(),
            title: "A page".to_owned(),
            description: Some("About it".to_owned()),
            site_name: None,
            image: Some(crate::PreviewImage {
                id: "ab".repeat(32),
                width: 600,
                height: 315,
            }),
        };
        let body = "look: https://example.org/a";
        assert_eq!(check_link_preview(body, &good), Ok(()));
        let shouted = crate::LinkPreview {
            url: "HTTPS://example.org/a".to_owned(),
            ..good.clone()
        };
        assert_eq!(
            check_link_preview("HTTPS://example.org/a", &shouted),
            Ok(())
        );
        let refused = |change: fn(&mut crate::LinkPreview)| {
            let mut preview = good.clone();
            change(&mut preview);
            check_link_preview(body, &preview)
        };
        for body in [
            "(https://example.org/a), see?",
            "https://example.org/a.",
            "https://example.org/a\nnext line",
            "<https://example.org/a>",
        ] {
            assert_eq!(check_link_preview(body, &good), Ok(()), "{body}");
        }
        for body in [
            "no link here",
            "https://example.org/a.evil.example/",
            "https://example.org/ab",
            "https://example.org/a.b",
            "https://example.org/a/b",
        ] {
            assert_eq!(
                check_link_preview(body, &good),
                Err(Invalid::LinkPreview),
                "{body}"
            );
        }
        for change in [
            (|p: &mut crate::LinkPreview| p.title = " ".to_owned()) as fn(&mut crate::LinkPreview),
            |p| p.title = "t".repeat(PREVIEW_TITLE_MAX + 1),
            |p| p.description = Some("d".repeat(PREVIEW_DESCRIPTION_MAX + 1)),
            |p| p.site_name = Some("a\0b".to_owned()),
            |p| p.url = "javascript:alert(1)".to_owned(),
            |p| p.image.as_mut().expect("an image").id = "../../etc/passwd".to_owned(),
            |p| p.image.as_mut().expect("an image").width = PREVIEW_IMAGE_SIDE + 1,
        ] {
            assert_eq!(refused(change), Err(Invalid::LinkPreview));
        }
    }
}
