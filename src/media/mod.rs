//! Turning what the user picked or recorded into something to send: photos
//! downsized and re-encoded (which drops EXIF and GPS data), videos with
//! their metadata stripped (`strip`) and a poster frame, voice recordings
//! with their waveform. Each yields a
//! [`Prepared`] file; uploading it is the outbox's job.

mod canvas;
mod events;
pub mod geometry;
pub mod photo;
pub mod recorder;
pub mod strip;
pub mod video;
pub mod waveform;

use natter_protocol::{Attachment, MediaKind};
use web_sys::Blob;

/// A file ready to upload, and what the message will say about it. The
/// attachment's `id` is empty until the upload gives it one.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub file: Blob,
    pub attachment: Attachment,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("Only photos and videos can be attached; this is {0}.")]
    NotMedia(String),
    #[error(
        "This photo can't be opened. It may be damaged, or in a format this browser can't read."
    )]
    UnreadablePhoto,
    #[error("Videos of type {0} can't be sent. Try an MP4 or WebM video.")]
    UnsupportedVideo(String),
    /// Sending it could give away where or when it was filmed.
    #[error(
        "This video was not sent: {0}, so Natter could not remove where and when it was filmed."
    )]
    VideoMetadata(strip::StripError),
    #[error("This {} is {} and the limit is {}.", noun(*kind), size_label(*size), size_label(*limit))]
    TooLarge {
        kind: MediaKind,
        size: u64,
        limit: u64,
    },
    #[error("Natter can't use the microphone ({0}).")]
    Microphone(String),
    #[error("This browser can't record voice messages.")]
    NoRecorder,
    #[error("The recording is empty.")]
    EmptyRecording,
    #[error("The browser failed while preparing the file ({0}).")]
    Browser(String),
}

impl From<wasm_bindgen::JsValue> for MediaError {
    fn from(err: wasm_bindgen::JsValue) -> Self {
        MediaError::Browser(crate::js_error::describe(&err))
    }
}

fn noun(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "photo",
        MediaKind::Video => "video",
        MediaKind::Voice => "voice message",
    }
}

/// "20 MB", "1.5 MB", "640 KB": sizes as people read them.
pub fn size_label(bytes: u64) -> String {
    if bytes < 1_000_000 {
        return format!("{} KB", bytes.div_ceil(1000));
    }
    // Whole numbers only: no float formatting for this one label.
    if bytes >= 10_000_000 {
        return format!("{} MB", (bytes + 500_000) / 1_000_000);
    }
    let tenths = (bytes + 50_000) / 100_000;
    match tenths % 10 {
        0 => format!("{} MB", tenths / 10),
        tenth => format!("{}.{tenth} MB", tenths / 10),
    }
}

/// What a picked file is, from its type.
pub fn kind_of(content_type: &str) -> Result<MediaKind, MediaError> {
    if content_type.starts_with("image/") {
        Ok(MediaKind::Image)
    } else if content_type.starts_with("video/") {
        Ok(MediaKind::Video)
    } else if content_type.is_empty() {
        Err(MediaError::NotMedia("a file of unknown type".to_owned()))
    } else {
        Err(MediaError::NotMedia(format!("a {content_type} file")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(size_label(20_000_000), "20 MB");
        assert_eq!(size_label(1_500_000), "1.5 MB");
        assert_eq!(size_label(100_000_001), "100 MB");
        assert_eq!(size_label(20_000), "20 KB");
        assert_eq!(size_label(1), "1 KB");
        assert_eq!(
            MediaError::TooLarge {
                kind: MediaKind::Video,
                size: 120_400_000,
                limit: 100_000_000
            }
            .to_string(),
            "This video is 120 MB and the limit is 100 MB."
        );
    }

    #[test]
    fn picked_files_are_sorted_by_type() {
        assert_eq!(kind_of("image/heic"), Ok(MediaKind::Image));
        assert_eq!(kind_of("video/quicktime"), Ok(MediaKind::Video));
        assert!(matches!(
            kind_of("application/pdf"),
            Err(MediaError::NotMedia(_))
        ));
        assert!(matches!(kind_of(""), Err(MediaError::NotMedia(_))));
    }
}
