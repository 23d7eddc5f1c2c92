//! IndexedDB records as the plain objects their JSON describes: written as
//! `JSON.parse` of `serde_json`'s text, read as `serde_json` of
//! `JSON.stringify`'s.
//!
//! Why not `serde_wasm_bindgen`, which builds the objects field by field:
//! every record type then has a second set of (de)serialisers in the wasm,
//! beside the `serde_json` ones the network needs anyway (4.4 % of the
//! client's code, see BENCHMARKS.md); and crossing into JS once per record
//! is cheaper than once per field. The stored objects are the same ones
//! `serde_wasm_bindgen` made (maps as objects, `None` as nothing), so a
//! device's saved chats read as before.

use indexed_db_futures::error::{Error as IdbError, SimpleValueError};
use indexed_db_futures::primitive::{TryFromJs, TryToJs};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// A record stored through JSON.
pub struct Json<T>(pub T);

impl<T: Serialize> TryToJs for Json<T> {
    fn try_to_js(&self) -> Result<JsValue, IdbError> {
        let text = serde_json::to_string(&self.0)
            .map_err(|err| js_sys::Error::new(&format!("cannot save a record: {err}")))?;
        Ok(js_sys::JSON::parse(&text)?)
    }
}

impl<T: DeserializeOwned> TryFromJs for Json<T> {
    fn from_js(js: JsValue) -> Result<Self, SimpleValueError> {
        // A record that is not JSON-shaped (never written by this app) or
        // does not fit the type is refused the same way: not this shape.
        let text = js_sys::JSON::stringify(&js)
            .ok()
            .and_then(|text| text.as_string())
            .ok_or_else(|| SimpleValueError::DynCast(js.clone()))?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(|_| SimpleValueError::DynCast(js))
    }
}
