//! Videos: sent without their metadata (see [`super::strip`]), with a
//! poster frame and dimensions taken from the browser's own player.

use natter_protocol::{Attachment, MediaKind, MediaLimits};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlVideoElement, Url};

use super::strip::{self, Source, StripError};
use super::{canvas, events, MediaError, Prepared};

/// Types the server takes.
const ACCEPTED: [&str; 3] = ["video/mp4", "video/webm", "video/quicktime"];
/// How long the browser may take to open the video before it goes without
/// a poster.
const PATIENCE_MS: u32 = 10_000;

/// Prepares `file` for sending. Too large a video is refused here, before
/// any upload starts; one whose container cannot be read is refused too,
/// since its metadata could not be stripped.
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
    let file = &without_metadata(file, &content_type).await?;
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

/// `file` with its metadata stripped: a new `Blob` of slices of the
/// original with the patches between them, so the media data is never
/// copied into memory. Patches keep sizes, so the size checked stays true.
async fn without_metadata(file: &Blob, content_type: &str) -> Result<Blob, MediaError> {
    let patches = strip::plan(&BlobSource(file), content_type)
        .await
        .map_err(MediaError::VideoMetadata)?;
    if patches.is_empty() {
        return Ok(file.clone());
    }
    let parts = js_sys::Array::new();
    let mut at = 0u64;
    for patch in &patches {
        if patch.offset > at {
            let kept = file.slice_with_f64_and_f64(at as f64, patch.offset as f64)?;
            parts.push(&kept);
        }
        parts.push(&js_sys::Uint8Array::from(patch.bytes.as_slice()));
        at = patch.offset + patch.bytes.len() as u64;
    }
    if at < file.size() as u64 {
        let rest = file.slice_with_f64(at as f64)?;
        parts.push(&rest);
    }
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    Ok(Blob::new_with_blob_sequence_and_options(&parts, &options)?)
}

/// Reads a `Blob` a slice at a time.
struct BlobSource<'a>(&'a Blob);

impl Source for BlobSource<'_> {
    fn size(&self) -> u64 {
        self.0.size() as u64
    }

    async fn read(&self, start: u64, len: u64) -> Result<Vec<u8>, StripError> {
        let failed = |err: wasm_bindgen::JsValue| StripError::Read(crate::js_error::describe(&err));
        let end = start.saturating_add(len).min(self.size());
        let slice = self
            .0
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(failed)?;
        let buffer = JsFuture::from(slice.array_buffer()).await.map_err(failed)?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
}
