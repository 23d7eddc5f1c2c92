//! Which file types each kind of media accepts, and whether a file's first
//! bytes (its magic number) are what its declared type says.

use natter_protocol::MediaKind;

/// The types accepted for `kind`, without parameters.
pub fn accepted(kind: MediaKind) -> &'static [&'static str] {
    match kind {
        MediaKind::Image => &["image/jpeg", "image/png", "image/webp", "image/gif"],
        MediaKind::Video => &["video/mp4", "video/webm", "video/quicktime"],
        MediaKind::Voice => &["audio/webm", "audio/ogg", "audio/mp4"],
    }
}

/// The usual file extension of an accepted type, for file names.
pub fn extension(content_type: &str) -> &'static str {
    match essence(content_type).as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "audio/webm" => "weba",
        "audio/ogg" => "ogg",
        "audio/mp4" => "m4a",
        _ => "bin",
    }
}

/// The bytes needed to recognise every accepted type.
pub const HEAD: usize = 12;

/// `content_type` without parameters (`audio/webm;codecs=opus` → `audio/webm`),
/// lower-cased.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `head` (the first bytes of the file) starts like `essence`.
pub fn matches(essence: &str, head: &[u8]) -> bool {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    match essence {
        "image/jpeg" => at(0, &[0xFF, 0xD8, 0xFF]),
        "image/png" => at(0, b"\x89PNG\r\n\x1a\n"),
        "image/webp" => at(0, b"RIFF") && at(8, b"WEBP"),
        "image/gif" => at(0, b"GIF87a") || at(0, b"GIF89a"),
        // ISO base media (MP4, QuickTime, M4A): a box of type `ftyp` first.
        "video/mp4" | "video/quicktime" | "audio/mp4" => at(4, b"ftyp"),
        // Matroska/WebM: the EBML header.
        "video/webm" | "audio/webm" => at(0, &[0x1A, 0x45, 0xDF, 0xA3]),
        "audio/ogg" => at(0, b"OggS"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_real_headers_and_refuses_impostors() {
        assert!(matches("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]));
        assert!(matches("image/webp", b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(matches("video/mp4", b"\0\0\0\x18ftypmp42"));
        assert!(matches("audio/webm", &[0x1A, 0x45, 0xDF, 0xA3, 0x9F]));
        // A Windows executable named .jpg.
        assert!(!matches("image/jpeg", b"MZ\x90\0\x03\0\0\0"));
        assert!(!matches("image/png", b"\x89PN"));
        assert!(!matches("text/html", b"<html>"));
        assert_eq!(essence("Audio/WebM; codecs=opus"), "audio/webm");
    }
}
