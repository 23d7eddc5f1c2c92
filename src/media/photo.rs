//! Photos: decoded by the browser, drawn at most [`MAX_SIDE`] px on a
//! canvas and encoded again as JPEG. Only pixels cross the canvas, so the
//! camera's EXIF data (GPS position, camera model, time) is left behind.

use natter_protocol::{Attachment, MediaKind, MediaLimits};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ImageBitmap};

use super::canvas;
use super::geometry::{fit, MAX_SIDE};
use super::{MediaError, Prepared};

const QUALITY: f64 = 0.85;

/// A picture (any the browser can open) as a small JPEG `data:` URL, for
/// avatars and group pictures: re-encoded like photos, so no EXIF survives.
pub async fn small(file: &Blob) -> Result<String, MediaError> {
    let bitmap = decode(file).await?;
    let (width, height) = (bitmap.width(), bitmap.height());
    let url = canvas::thumbnail(width, height, |context, w, h| {
        context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, w, h)
    });
    bitmap.close();
    url
}

async fn decode(file: &Blob) -> Result<ImageBitmap, MediaError> {
    // createImageBitmap applies the EXIF orientation, so the picture stays
    // upright once that data is gone.
    let decoding = leptos::prelude::window().create_image_bitmap_with_blob(file)?;
    Ok(JsFuture::from(decoding)
        .await
        .map_err(|_| MediaError::UnreadablePhoto)?
        .unchecked_into())
}

/// Prepares `file` (any picture the browser can open) for sending.
pub async fn prepare(file: &Blob, limits: &MediaLimits) -> Result<Prepared, MediaError> {
    let bitmap = decode(file).await?;
    let (width, height) = fit(bitmap.width(), bitmap.height(), MAX_SIDE);
    let (full, context) = canvas::blank(width, height)?;
    context.draw_image_with_image_bitmap_and_dw_and_dh(
        &bitmap,
        0.0,
        0.0,
        f64::from(width),
        f64::from(height),
    )?;
    bitmap.close();
    let encoded = canvas::jpeg(&full, QUALITY).await?;
    let size = encoded.size() as u64;
    if size > limits.image_bytes {
        return Err(MediaError::TooLarge {
            kind: MediaKind::Image,
            size,
            limit: limits.image_bytes,
        });
    }
    let thumbnail = canvas::thumbnail(width, height, |context, w, h| {
        context.draw_image_with_html_canvas_element_and_dw_and_dh(&full, 0.0, 0.0, w, h)
    })?;
    Ok(Prepared {
        file: encoded,
        attachment: Attachment {
            id: String::new(),
            kind: MediaKind::Image,
            content_type: "image/jpeg".to_owned(),
            size,
            width: Some(width),
            height: Some(height),
            duration_ms: None,
            waveform: Vec::new(),
            thumbnail: Some(thumbnail),
        },
    })
}
