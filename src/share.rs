//! What another app shared with Natter (the manifest's `share_target`):
//! the service worker takes the posted form, keeps it in IndexedDB
//! (`natter-share`, one entry) and opens the app on `#share`; [`take`]
//! reads it back, once. Knows nothing of the UI.

use indexed_db_futures::database::Database;
use indexed_db_futures::error::OpenDbError;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::File;

/// Shared with `sw.js`.
const DATABASE: &str = "natter-share";
const STORE: &str = "shares";
const KEY: &str = "latest";

/// One share: its words (title, text and link, each once) and its files.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    pub text: String,
    pub files: Vec<File>,
    /// The card of the link shared, when Natter's own browser shared it.
    pub link_preview: Option<natter_protocol::LinkPreview>,
}

impl Shared {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.files.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("What was shared with Natter could not be read: {0}")]
pub struct ShareError(String);

impl From<indexed_db_futures::error::Error> for ShareError {
    fn from(err: indexed_db_futures::error::Error) -> Self {
        ShareError(err.to_string())
    }
}

impl From<OpenDbError> for ShareError {
    fn from(err: OpenDbError) -> Self {
        ShareError(err.to_string())
    }
}

/// Takes the share waiting for the app, if there is one: read and deleted
/// in one transaction, so it is offered once.
pub async fn take() -> Result<Option<Shared>, ShareError> {
    let db = Database::open(DATABASE)
        .with_version(1u32)
        .with_on_upgrade_needed(|_, db| {
            db.create_object_store(STORE).build()?;
            Ok(())
        })
        .await?;
    let tx = db
        .transaction(STORE)
        .with_mode(TransactionMode::Readwrite)
        .build()?;
    let store = tx.object_store(STORE)?;
    let value: Option<JsValue> = store.get(KEY).primitive()?.await?;
    store.delete(KEY).build()?;
    tx.commit().await?;
    db.close();
    Ok(value.map(|value| read(&value)))
}

/// Deletes a share never sent (at logout: it is not the next person's).
pub async fn discard() {
    if let Ok(deleting) = Database::delete_by_name(DATABASE) {
        // Gone or not there: nothing else to do either way.
        let _ = deleting.await;
    }
}

fn read(value: &JsValue) -> Shared {
    let field = |name: &str| {
        js_sys::Reflect::get(value, &JsValue::from_str(name))
            .ok()
            .and_then(|field| field.as_string())
            .unwrap_or_default()
    };
    let files = js_sys::Reflect::get(value, &JsValue::from_str("files"))
        .ok()
        .and_then(|files| files.dyn_into::<js_sys::Array>().ok())
        .map(|files| {
            files
                .iter()
                .filter_map(|file| file.dyn_into::<File>().ok())
                .collect()
        })
        .unwrap_or_default();
    Shared {
        text: words(&field("title"), &field("text"), &field("url")),
        files,
        link_preview: None,
    }
}

/// The share's words as one message. Apps fill the fields differently (a
/// link in `text`, or in `url`, or both; a title that repeats the text),
/// so each part is kept once.
fn words(title: &str, text: &str, url: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in [title, text, url].map(str::trim) {
        if !part.is_empty() && !parts.iter().any(|kept| kept.contains(part)) {
            parts.push(part);
        }
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn each_part_of_a_share_is_kept_once() {
        assert_eq!(
            words(
                "A park",
                "Look: https://example.com/p",
                "https://example.com/p"
            ),
            "A park\nLook: https://example.com/p"
        );
        assert_eq!(
            words("", "", "https://example.com/p"),
            "https://example.com/p"
        );
        assert_eq!(words("Same", "Same", ""), "Same");
        assert_eq!(words(" ", "\n", ""), "");
    }
}
