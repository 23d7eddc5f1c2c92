//! Preparing media in headless Chromium with its real canvas, image decoder
//! and video player: photos downsized and re-encoded, limits checked before
//! any upload, unreadable files explained.

#![cfg(target_arch = "wasm32")]

use natter::media::{photo, video, MediaError};
use natter_protocol::{MediaKind, MediaLimits};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

fn blob(bytes: &[u8], content_type: &str) -> Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let bag = BlobPropertyBag::new();
    bag.set_type(content_type);
    Blob::new_with_buffer_source_sequence_and_options(&parts, &bag).unwrap()
}

async fn bytes_of(file: &Blob) -> Vec<u8> {
    let buffer = JsFuture::from(file.array_buffer()).await.unwrap();
    js_sys::Uint8Array::new(&buffer).to_vec()
}

/// A blank canvas and its 2D context.
fn canvas(width: u32, height: u32) -> (HtmlCanvasElement, CanvasRenderingContext2d) {
    let canvas: HtmlCanvasElement = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .create_element("canvas")
        .unwrap()
        .unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    let context = canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    (canvas, context)
}

/// A transparent PNG of `width`×`height` with a red square in it.
async fn png(width: u32, height: u32) -> Blob {
    let (canvas, context) = canvas(width, height);
    context.set_fill_style_str("#e00");
    context.fill_rect(10.0, 10.0, 200.0, 200.0);
    let url = canvas.to_data_url().unwrap();
    let response = JsFuture::from(web_sys::window().unwrap().fetch_with_str(&url))
        .await
        .unwrap()
        .unchecked_into::<web_sys::Response>();
    JsFuture::from(response.blob().unwrap())
        .await
        .unwrap()
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn photos_are_downsized_and_reencoded_as_jpeg_with_a_thumbnail() {
    let prepared = photo::prepare(&png(3000, 1000).await, &MediaLimits::default())
        .await
        .expect("prepared");
    let attachment = &prepared.attachment;
    assert_eq!(attachment.kind, MediaKind::Image);
    assert_eq!(attachment.content_type, "image/jpeg");
    assert_eq!(
        (attachment.width, attachment.height),
        (Some(2048), Some(683))
    );
    assert_eq!(attachment.size, prepared.file.size() as u64);
    assert!(attachment.id.is_empty(), "no id before the upload");
    let bytes = bytes_of(&prepared.file).await;
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
    let thumbnail = attachment.thumbnail.as_deref().expect("thumbnail");
    assert!(thumbnail.starts_with("data:image/jpeg;base64,"));
    assert!(thumbnail.len() <= natter_protocol::limits::MAX_THUMBNAIL_CHARS);
    natter_protocol::limits::check_attachment(attachment).expect("valid for the server");

    // Transparent areas become white, not black.
    let bitmap: web_sys::ImageBitmap = JsFuture::from(
        web_sys::window()
            .unwrap()
            .create_image_bitmap_with_blob(&prepared.file)
            .unwrap(),
    )
    .await
    .unwrap()
    .unchecked_into();
    assert_eq!((bitmap.width(), bitmap.height()), (2048, 683));
    let (_, context) = canvas(2048, 683);
    context
        .draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)
        .unwrap();
    let pixel = |x: f64, y: f64| context.get_image_data(x, y, 1.0, 1.0).unwrap().data().0;
    let background = pixel(1500.0, 500.0);
    assert!(background[..3].iter().all(|c| *c > 240), "{background:?}");
    let square = pixel(60.0, 60.0);
    assert!(square[0] > 200 && square[1] < 60, "{square:?}");
}

#[wasm_bindgen_test]
async fn a_file_that_is_not_a_picture_is_explained() {
    let fake = blob(b"MZ\x90\0\x03\0\0\0 this is a program", "image/jpeg");
    let refused = photo::prepare(&fake, &MediaLimits::default()).await;
    assert_eq!(refused.unwrap_err(), MediaError::UnreadablePhoto);
}

#[wasm_bindgen_test]
async fn a_video_over_the_limit_is_refused_before_anything_else() {
    let limits = MediaLimits {
        video_bytes: 1_000,
        ..MediaLimits::default()
    };
    let large = blob(&[0x1A, 0x45, 0xDF, 0xA3].repeat(1_000), "video/webm");
    let refused = video::prepare(&large, &limits).await.unwrap_err();
    assert_eq!(
        refused,
        MediaError::TooLarge {
            kind: MediaKind::Video,
            size: 4_000,
            limit: 1_000
        }
    );
    assert_eq!(
        refused.to_string(),
        "This video is 4 KB and the limit is 1 KB."
    );

    let other = blob(b"%PDF-1.7", "application/pdf");
    assert!(matches!(
        video::prepare(&other, &limits).await,
        Err(MediaError::UnsupportedVideo(_))
    ));
}
