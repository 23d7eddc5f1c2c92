//! Videos: sent as they are (after a size check), with a poster frame and
//! dimensions taken from the browser's own player.

use natter_protocol::{Attachment, MediaKind, MediaLimits};
use wasm_bindgen::JsCast;
use web_sys::{Blob, HtmlVideoElement, Url};

use super::{canvas, events, MediaError, Prepared};

/// Types the server takes.
const ACCEPTED: [&str; 3] = ["video/mp4", "video/webm", "video/quicktime"];
/// How long the browser may take to open the video before it goes without
/// a poster.
const PATIENCE_MS: u32 = 10_000;

/// Prepares `file` for sending. Too large a video is refused here, before
/// any upload starts.
pub async fn prepare(file: &Blob, limits: &MediaLimits) -> Result<Prepared, MediaError> {
    let content_type = file.type_();
    if !ACCEPTED.contains(&content_type.as_str()) {
        return Err(MediaError::UnsupportedVideo(content_type));
    }
    let size = file.size() as u64;
    if size > limits.video_bytes {
        return Err(MediaError::TooLarge {
            kind: MediaKind::Video,
            size,
            limit: limits.video_bytes,
        });
    }
    let url = Url::create_object_url_with_blob(file)?;
    let video: HtmlVideoElement = leptos::prelude::document()
        .create_element("video")?
        .unchecked_into();
    video.set_muted(true);
    video.set_preload("auto");
    video.set_src(&url);
    // A video this browser cannot decode is still sent, without a poster.
    let frame = poster(&video).await.ok();
    video.remove_attribute("src")?;
    Url::revoke_object_url(&url)?;
    let (width, height, duration_ms, thumbnail) = frame.unwrap_or_default();
    Ok(Prepared {
        file: file.clone(),
        attachment: Attachment {
            id: String::new(),
            kind: MediaKind::Video,
            content_type,
            size,
            width,
            height,
            duration_ms,
            waveform: Vec::new(),
            thumbnail,
        },
    })
}

type Frame = (Option<u32>, Option<u32>, Option<u32>, Option<String>);

/// Size, length and a thumbnail of a frame a little way in (the very first
/// is often black).
async fn poster(video: &HtmlVideoElement) -> Result<Frame, MediaError> {
    events::next(video, "loadeddata", "error", PATIENCE_MS).await?;
    let duration = video.duration();
    let duration_ms = duration
        .is_finite()
        .then(|| (duration * 1000.0).round() as u32);
    if duration.is_finite() && duration > 0.0 {
        video.set_current_time((duration / 3.0).min(1.0));
        events::next(video, "seeked", "error", PATIENCE_MS).await?;
    }
    let (width, height) = (video.video_width(), video.video_height());
    let thumbnail = canvas::thumbnail(width, height, |context, w, h| {
        context.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w, h)
    })?;
    Ok((Some(width), Some(height), duration_ms, Some(thumbnail)))
}
