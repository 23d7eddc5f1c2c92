//! Adding a contact by their profile code: scanned with the camera, or
//! read from a picture. Camera frames go to the browser's BarcodeDetector
//! where it has one; otherwise, and for pictures, the code is read in Rust
//! (see [`profile_code`](crate::profile_code)), so it works everywhere.

use gloo_timers::callback::Interval;
use js_sys::{Array, Function, Object, Promise, Reflect};
use leptos::html::{Input, Video};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    MediaStreamConstraints,
};

use super::picked::first_picked;
use crate::media::geometry::fit;
use crate::profile_code::{grey_of_rgba, read, username_in};
use crate::state::ChatStore;

/// The largest side a picture or frame is read at: enough for a code, and
/// quick.
const READ_SIDE: u32 = 1024;
/// How often a camera frame is looked at, in milliseconds.
const SCAN_EVERY_MS: u32 = 300;

/// Reads a profile code from anything a canvas can draw.
fn read_code(
    width: u32,
    height: u32,
    draw: impl Fn(&CanvasRenderingContext2d, f64, f64) -> Result<(), wasm_bindgen::JsValue>,
) -> Option<String> {
    let (w, h) = fit(width, height, READ_SIDE);
    let canvas: HtmlCanvasElement = document().create_element("canvas").ok()?.unchecked_into();
    canvas.set_width(w);
    canvas.set_height(h);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.unchecked_into();
    draw(&context, f64::from(w), f64::from(h)).ok()?;
    let pixels = context
        .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
        .ok()?
        .data();
    let text = read(w as usize, h as usize, &grey_of_rgba(&pixels))?;
    username_in(&text)
}

/// The browser's own QR reader, where it has one.
fn barcode_detector() -> Option<JsValue> {
    let constructor: Function = Reflect::get(&window(), &"BarcodeDetector".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into())).ok()?;
    Reflect::construct(&constructor, &Array::of1(&options)).ok()
}

/// The first QR code the browser's detector sees in `video`, as text;
/// `Err` when the detector failed (then the frame is read in Rust).
async fn detect(detector: &JsValue, video: &HtmlVideoElement) -> Result<Option<String>, ()> {
    let detect: Function = Reflect::get(detector, &"detect".into())
        .map_err(drop)?
        .dyn_into()
        .map_err(drop)?;
    let promise: Promise = detect
        .call1(detector, video)
        .map_err(drop)?
        .dyn_into()
        .map_err(drop)?;
    let found: Array = JsFuture::from(promise)
        .await
        .map_err(drop)?
        .dyn_into()
        .map_err(drop)?;
    Ok(found
        .iter()
        .find_map(|code| Reflect::get(&code, &"rawValue".into()).ok()?.as_string()))
}

#[component]
pub fn AddContactPanel(#[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let error = RwSignal::new(None::<String>);
    let picker = NodeRef::<Input>::new();
    let video = NodeRef::<Video>::new();
    let scanning = RwSignal::new(false);
    let camera = StoredValue::new_local(None::<(MediaStream, Interval)>);

    let found = move |username: String| {
        spawn_local(async move {
            match store.open_chat_with(&username).await {
                Ok(()) => on_close.run(()),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };

    let picked = move |_| {
        let Some(file) = first_picked(picker) else {
            return;
        };
        error.set(None);
        spawn_local(async move {
            let decoding = window().create_image_bitmap_with_blob(&file);
            let bitmap = match decoding {
                Ok(promise) => JsFuture::from(promise).await.ok(),
                Err(_) => None,
            };
            let Some(bitmap) = bitmap.map(|b| b.unchecked_into::<web_sys::ImageBitmap>()) else {
                error.set(Some("That picture can't be opened.".to_owned()));
                return;
            };
            let username = read_code(bitmap.width(), bitmap.height(), |context, w, h| {
                context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, w, h)
            });
            bitmap.close();
            match username {
                Some(username) => found(username),
                None => error.set(Some(
                    "No Natter profile code was found in that picture.".to_owned(),
                )),
            }
        });
    };

    let stop_camera = move || {
        {
            if let Some((stream, _)) = camera.try_update_value(Option::take).flatten() {
                for track in stream.get_tracks().iter() {
                    track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
                }
            }
        }
        scanning.set(false);
    };
    let start_camera = {
        move |_| {
            error.set(None);
            spawn_local(async move {
                let Ok(devices) = window().navigator().media_devices() else {
                    error.set(Some("This browser has no camera access.".to_owned()));
                    return;
                };
                let constraints = MediaStreamConstraints::new();
                constraints.set_video(&wasm_bindgen::JsValue::TRUE);
                let stream = match devices.get_user_media_with_constraints(&constraints) {
                    Ok(asking) => JsFuture::from(asking).await.ok(),
                    Err(_) => None,
                };
                let Some(stream) = stream.map(|s| s.unchecked_into::<MediaStream>()) else {
                    error.set(Some("Natter can't use the camera.".to_owned()));
                    return;
                };
                scanning.set(true);
                let Some(element) = video.get_untracked() else {
                    return;
                };
                element.set_src_object(Some(&stream));
                let _ = element.play();
                let detector = barcode_detector();
                let looking = element.clone();
                let busy = StoredValue::new(false);
                let ticker = Interval::new(SCAN_EVERY_MS, move || {
                    let (w, h) = (looking.video_width(), looking.video_height());
                    if w == 0 || busy.get_value() {
                        return;
                    }
                    let in_rust = {
                        let looking = looking.clone();
                        move || {
                            read_code(w, h, |context, dw, dh| {
                                context.draw_image_with_html_video_element_and_dw_and_dh(
                                    &looking, 0.0, 0.0, dw, dh,
                                )
                            })
                        }
                    };
                    match detector.clone() {
                        Some(detector) => {
                            busy.set_value(true);
                            let looking = looking.clone();
                            spawn_local(async move {
                                let username = match detect(&detector, &looking).await {
                                    Ok(text) => text.and_then(|text| username_in(&text)),
                                    Err(()) => in_rust(),
                                };
                                busy.set_value(false);
                                if let Some(username) = username {
                                    found(username);
                                }
                            });
                        }
                        None => {
                            if let Some(username) = in_rust() {
                                found(username);
                            }
                        }
                    }
                });
                camera.set_value(Some((stream, ticker)));
            });
        }
    };
    on_cleanup(stop_camera);

    view! {
        <section class="panel add-contact" aria-label="Add a contact">
            <p class="panel-title">"Add a contact"</p>
            <p class="panel-hint">"Scan a friend's profile code, or pick a picture of one."</p>
            <div class="profile-actions">
                <Show
                    when=move || scanning.get()
                    fallback=move || view! { <button type="button" class="link-button" on:click=start_camera>"Scan with camera"</button> }
                >
                    <button type="button" class="link-button" on:click=move |_| stop_camera()>
                        "Stop camera"
                    </button>
                </Show>
                <button type="button" class="link-button" on:click=move |_| {
                    if let Some(picker) = picker.get_untracked() {
                        picker.click();
                    }
                }>"From a picture"</button>
            </div>
            <video node_ref=video class="scanner" class:active=move || scanning.get() muted playsinline aria-label="Camera"></video>
            <input
                node_ref=picker
                type="file"
                class="file-picker"
                accept="image/*"
                aria-label="Picture of a profile code"
                on:change=picked
            />
            {move || error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            <div class="panel-actions">
                <button type="button" class="link-button" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </section>
    }
}
