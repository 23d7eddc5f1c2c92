//! Drawing into a canvas and encoding what it holds.

use js_sys::Promise;
use natter_protocol::limits::MAX_THUMBNAIL_CHARS;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement};

use super::geometry::{fit, THUMBNAIL_SIDE};
use super::MediaError;

/// A detached canvas of `width`×`height`, painted white so that transparent
/// pictures do not turn black as JPEG.
pub fn blank(
    width: u32,
    height: u32,
) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), MediaError> {
    let canvas: HtmlCanvasElement = leptos::prelude::document()
        .create_element("canvas")?
        .unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| MediaError::Browser("no 2D canvas".to_owned()))?
        .unchecked_into();
    context.set_fill_style_str("#fff");
    context.fill_rect(0.0, 0.0, f64::from(width), f64::from(height));
    Ok((canvas, context))
}

/// The canvas as a JPEG file. Only the pixels are encoded: no metadata
/// survives.
pub async fn jpeg(canvas: &HtmlCanvasElement, quality: f64) -> Result<Blob, MediaError> {
    let mut failed = None;
    let promise = Promise::new(&mut |resolve, reject| {
        let callback = Closure::once_into_js(move |blob: JsValue| {
            let _ = if blob.is_null() {
                reject.call1(
                    &JsValue::NULL,
                    &JsValue::from_str("the picture could not be encoded"),
                )
            } else {
                resolve.call1(&JsValue::NULL, &blob)
            };
        });
        if let Err(err) = canvas.to_blob_with_type_and_encoder_options(
            callback.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(quality),
        ) {
            failed = Some(err);
        }
    });
    if let Some(err) = failed {
        return Err(err.into());
    }
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// A JPEG `data:` URL of at most [`THUMBNAIL_SIDE`] px and
/// [`MAX_THUMBNAIL_CHARS`], drawn by `draw(context, width, height)` from a
/// picture of `width`×`height`: smaller and rougher until it fits.
pub fn thumbnail(
    width: u32,
    height: u32,
    draw: impl Fn(&CanvasRenderingContext2d, f64, f64) -> Result<(), JsValue>,
) -> Result<String, MediaError> {
    for side in [THUMBNAIL_SIDE, 240, 160, 96] {
        let (w, h) = fit(width, height, side);
        let (canvas, context) = blank(w, h)?;
        draw(&context, f64::from(w), f64::from(h))?;
        for quality in [0.7, 0.5, 0.35] {
            let url = canvas.to_data_url_with_type_and_encoder_options(
                "image/jpeg",
                &JsValue::from_f64(quality),
            )?;
            if url.len() <= MAX_THUMBNAIL_CHARS {
                return Ok(url);
            }
        }
    }
    Err(MediaError::Browser("no thumbnail small enough".to_owned()))
}
