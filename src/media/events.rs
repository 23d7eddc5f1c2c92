//! Waiting for one DOM event as a future.

use futures::FutureExt;
use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AddEventListenerOptions, EventTarget};

/// Resolves with the first `ok` event on `target`, or fails with the first
/// `failure` event; gives up after `patience_ms`.
pub async fn next(
    target: &EventTarget,
    ok: &str,
    failure: &str,
    patience_ms: u32,
) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let options = AddEventListenerOptions::new();
        options.set_once(true);
        // The promise's own functions are the listeners: nothing to free.
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            ok, &resolve, &options,
        );
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            failure, &reject, &options,
        );
    });
    let event = JsFuture::from(promise).fuse();
    let timeout = gloo_timers::future::TimeoutFuture::new(patience_ms).fuse();
    futures::pin_mut!(event, timeout);
    futures::select! {
        result = event => result.map(drop),
        () = timeout => Err(JsValue::from_str(&format!("no {ok} event"))),
    }
}
