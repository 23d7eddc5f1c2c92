//! What a browser API's failure says, as text for an error message.
//!
//! The release build compiles `Debug` out (`-Zfmt-debug=none`, see
//! `xtask/src/client.rs`), so a `JsValue` must never reach a message through
//! `{:?}`.

use wasm_bindgen::{JsCast, JsValue};

/// The thrown string, or the error's name and message, or the value as
/// JavaScript would print it.
pub fn describe(err: &JsValue) -> String {
    if let Some(text) = err.as_string() {
        return text;
    }
    if let Some(error) = err.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        );
    }
    if err.is_null() || err.is_undefined() {
        return "no reason given".to_owned();
    }
    String::from(err.unchecked_ref::<js_sys::Object>().to_string())
}
