//! Uploading a file with progress and cancel: `fetch` reports neither, so
//! this one request goes through `XMLHttpRequest`.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use natter_protocol::{ApiError, ConversationId, MediaKind, Upload};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ProgressEvent, XmlHttpRequest};

use super::http::{Api, HttpError};

/// How far an upload has got, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub sent: f64,
    pub total: f64,
}

impl Progress {
    /// 0.0 to 1.0.
    pub fn fraction(&self) -> f64 {
        if self.total > 0.0 {
            (self.sent / self.total).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// An upload under way. Dropping it does not stop it; [`abort`](Self::abort)
/// does.
pub struct Uploading {
    xhr: XmlHttpRequest,
    done: oneshot::Receiver<Result<Upload, HttpError>>,
    // The request calls these until it ends.
    _handlers: [Closure<dyn FnMut(ProgressEvent)>; 2],
}

/// Aborts an upload from elsewhere (a Cancel button).
#[derive(Clone)]
pub struct Abort(XmlHttpRequest);

impl Abort {
    pub fn abort(&self) {
        // Aborting a finished request does nothing.
        let _ = self.0.abort();
    }
}

impl Uploading {
    pub fn abort_handle(&self) -> Abort {
        Abort(self.xhr.clone())
    }

    /// The server's answer, or why there is none.
    pub async fn finish(self) -> Result<Upload, HttpError> {
        let Uploading { done, .. } = self;
        done.await.unwrap_or(Err(HttpError::Unreachable))
    }
}

impl Api {
    /// Starts uploading `file` (of type `content_type`) to `conversation`;
    /// `progress` hears how far it has got.
    pub fn upload(
        &self,
        conversation: ConversationId,
        kind: MediaKind,
        file: &Blob,
        content_type: &str,
        progress: impl Fn(Progress) + 'static,
    ) -> Result<Uploading, HttpError> {
        let unexpected = |err: JsValue| HttpError::Unexpected(crate::js_error::describe(&err));
        let xhr = XmlHttpRequest::new().map_err(unexpected)?;
        let url = self.url(&format!(
            "/api/media?conversation={conversation}&kind={}",
            kind.as_str()
        ));
        xhr.open("POST", &url).map_err(unexpected)?;
        xhr.set_request_header("Content-Type", content_type)
            .map_err(unexpected)?;
        xhr.set_with_credentials(self.cross_origin());

        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            if event.length_computable() {
                progress(Progress {
                    sent: event.loaded(),
                    total: event.total(),
                });
            }
        });
        xhr.upload()
            .map_err(unexpected)?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));

        let (sender, done) = oneshot::channel();
        let sender = Rc::new(RefCell::new(Some(sender)));
        let target = xhr.clone();
        // `loadend` follows success, error and abort alike.
        let on_end = Closure::<dyn FnMut(ProgressEvent)>::new(move |_| {
            if let Some(sender) = sender.borrow_mut().take() {
                let _ = sender.send(outcome(&target));
            }
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(file)).map_err(unexpected)?;
        Ok(Uploading {
            xhr,
            done,
            _handlers: [on_progress, on_end],
        })
    }
}

fn outcome(xhr: &XmlHttpRequest) -> Result<Upload, HttpError> {
    let status = xhr.status().unwrap_or(0);
    if status == 0 {
        return Err(HttpError::Unreachable);
    }
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|err| HttpError::Unexpected(err.to_string()))
    } else {
        match serde_json::from_str::<ApiError>(&text) {
            Ok(body) => Err(HttpError::Api { status, body }),
            Err(_) => Err(HttpError::Unexpected(format!("HTTP {status}"))),
        }
    }
}
