//! Sending media through the outbox. A picked or recorded file is saved on
//! this device with its message first; it is uploaded when the server can
//! be reached (again after outages and reloads), and only then is the
//! message sent, through the same idempotent path as text.
//!
//! Uploads go one at a time, in typing order. A message waiting for its
//! upload does not hold back text typed after it.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{Attachment, ConversationId, MediaKind, MediaLimits, Message};
use uuid::Uuid;
use web_sys::Blob;

use super::ChatStore;
use crate::cache::FileKey;
use crate::media::Prepared;
use crate::model::{Outgoing, OutgoingMedia};
use crate::net::http::{Api, HttpError};
use crate::net::session::{now, ConnectionStatus};
use crate::net::upload::{Abort, Progress};

/// How long to wait before trying again when the server failed an upload
/// while the connection stayed up.
const RETRY_MS: u32 = 10_000;

/// The uploads' reactive state, part of [`ChatStore`].
#[derive(Clone, Copy)]
pub struct Uploads {
    /// How far each running upload has got, by client id.
    pub progress: RwSignal<HashMap<Uuid, Progress>>,
    /// The server's limits, so that a file too large is refused before
    /// uploading; its defaults until the server has said.
    pub limits: RwSignal<MediaLimits>,
    current: StoredValue<Option<(Uuid, Abort)>, LocalStorage>,
    pumping: StoredValue<bool>,
    /// Files kept in memory when this device has no cache.
    unsaved: StoredValue<HashMap<String, Blob>, LocalStorage>,
    /// Media files being downloaded to keep, so that each is fetched once
    /// however many ask for it (a voice note arriving in an open chat).
    fetching: StoredValue<HashSet<String>>,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads {
            progress: RwSignal::new(HashMap::new()),
            limits: RwSignal::new(MediaLimits::default()),
            current: StoredValue::new_local(None),
            pumping: StoredValue::new(false),
            unsaved: StoredValue::new_local(HashMap::new()),
            fetching: StoredValue::new(HashSet::new()),
        }
    }
}

impl Uploads {
    /// Stops the upload under way, if any.
    pub(super) fn abort(&self) {
        self.current.with_value(|current| {
            if let Some((_, abort)) = current {
                abort.abort();
            }
        });
    }
}

/// How one upload ended.
enum Step {
    /// Uploaded, refused, or cancelled: on to the next.
    Next,
    /// The server could not be reached: stop until it can.
    Unreachable,
}

impl ChatStore {
    /// Keeps `prepared` on this device as a new outgoing message in
    /// `conversation`, then uploads and sends it.
    pub async fn send_media(&self, conversation: ConversationId, prepared: Prepared) {
        let client_id = Uuid::now_v7();
        self.keep_file(FileKey::Upload(client_id), &prepared.file)
            .await;
        if !self.alive() {
            return;
        }
        let outgoing = Outgoing {
            client_id,
            conversation,
            body: String::new(),
            created_at: now(),
            failure: None,
            media: Some(OutgoingMedia::Local(prepared.attachment)),
            action: None,
            reply_to: None,
            link_preview: None,
        };
        self.update(|state| state.queue(outgoing));
        self.pump_uploads();
    }

    /// Stops the upload of `client_id` (if it is running) and drops the
    /// message.
    pub fn cancel_upload(&self, client_id: Uuid) {
        self.uploads.current.with_value(|current| {
            if let Some((id, abort)) = current {
                if *id == client_id {
                    abort.abort();
                }
            }
        });
        self.discard(client_id);
    }

    /// Uploads waiting files, one at a time, until none is left or the
    /// server cannot be reached. Called whenever a file is queued and
    /// whenever the connection comes back.
    pub fn pump_uploads(&self) {
        // Gone (signed out) counts as busy: there is nothing left to do.
        if self.uploads.pumping.try_get_value().unwrap_or(true) {
            return;
        }
        self.uploads.pumping.set_value(true);
        let store = *self;
        spawn_local(async move {
            let mut reached = true;
            while let Some(next) = store
                .state
                .try_with_untracked(|s| s.next_upload().cloned())
                .flatten()
            {
                if let Step::Unreachable = store.upload(next).await {
                    reached = false;
                    break;
                }
            }
            store.uploads.pumping.set_value(false);
            let online = store
                .status
                .try_with_untracked(|status| matches!(status, ConnectionStatus::Online))
                .unwrap_or(false);
            if !reached && online {
                gloo_timers::future::TimeoutFuture::new(RETRY_MS).await;
                store.pump_uploads();
            }
        });
    }

    async fn upload(&self, outgoing: Outgoing) -> Step {
        let client_id = outgoing.client_id;
        let Some(OutgoingMedia::Local(attachment)) = outgoing.media else {
            return Step::Next;
        };
        let Some(file) = self.kept_file(&FileKey::Upload(client_id)).await else {
            self.update(|state| {
                state.upload_refused(
                    client_id,
                    "the file is no longer on this device; delete this message and send it again"
                        .to_owned(),
                );
            });
            return Step::Next;
        };
        let progress = self.uploads.progress;
        let started = Api::same_origin().upload(
            outgoing.conversation,
            attachment.kind,
            &file,
            &attachment.content_type,
            move |sent| {
                progress.update(|all| {
                    all.insert(client_id, sent);
                })
            },
        );
        let result = match started {
            Ok(uploading) => {
                self.uploads
                    .current
                    .set_value(Some((client_id, uploading.abort_handle())));
                let result = uploading.finish().await;
                self.uploads.current.set_value(None);
                result
            }
            Err(err) => Err(err),
        };
        progress.update(|all| {
            all.remove(&client_id);
        });
        if !self.alive() {
            return Step::Unreachable;
        }
        let still_wanted = self
            .state
            .with_untracked(|s| s.outbox.iter().any(|o| o.client_id == client_id));
        if !still_wanted {
            return Step::Next;
        }
        match result {
            Ok(upload) => {
                let id = upload.id.clone();
                self.update(|state| state.uploaded(client_id, upload));
                self.send_outgoing(client_id);
                // Photos and voice messages stay on this device so that they
                // show and play offline; videos are too large to keep twice.
                if attachment.kind != MediaKind::Video {
                    self.keep_file(FileKey::Media(id), &file).await;
                }
                self.forget_file(&FileKey::Upload(client_id)).await;
                Step::Next
            }
            Err(HttpError::Api { status, body }) if refused_for_good(status) => {
                self.update(|state| state.upload_refused(client_id, body.message));
                Step::Next
            }
            Err(_) => Step::Unreachable,
        }
    }

    /// Learns the server's limits, and resumes uploads, once connected.
    pub(super) fn connected(&self) {
        self.refresh_blocked();
        self.refresh_mutes();
        let limits = self.uploads.limits;
        spawn_local(async move {
            if let Ok(known) = Api::same_origin().limits().await {
                limits.set(known);
            }
        });
        self.pump_uploads();
    }

    /// Where `attachment` can be played or shown from: the copy on this
    /// device if there is one (kept, if it is not yet, when `keep` says so),
    /// else the server. Object URLs must be revoked by the caller.
    pub async fn media_source(&self, attachment: &Attachment, keep: bool) -> MediaSource {
        self.local_media(&attachment.id, keep)
            .await
            .as_ref()
            .and_then(MediaSource::local)
            .unwrap_or_else(|| MediaSource::Server(format!("/api/media/{}", attachment.id)))
    }

    /// The copy of media file `id` on this device; when there is none and
    /// `keep` says so, it is downloaded and kept first (unless that is
    /// already under way).
    async fn local_media(&self, id: &str, keep: bool) -> Option<Blob> {
        let key = FileKey::Media(id.to_owned());
        if let Some(file) = self.kept_file(&key).await {
            return Some(file);
        }
        let first = keep
            && self
                .uploads
                .fetching
                .try_update_value(|fetching| fetching.insert(id.to_owned()))
                .unwrap_or(false);
        if !first {
            return None;
        }
        let fetched = Api::same_origin().media_file(id).await.ok();
        if let Some(file) = &fetched {
            self.keep_file(key, file).await;
        }
        self.uploads.fetching.update_value(|fetching| {
            fetching.remove(id);
        });
        fetched
    }

    /// The file of a message still waiting for its upload.
    pub async fn upload_source(&self, client_id: Uuid) -> Option<MediaSource> {
        let file = self.kept_file(&FileKey::Upload(client_id)).await?;
        MediaSource::local(&file)
    }

    /// Keeps the voice messages among `messages` on this device, so that
    /// cached chats play them offline.
    pub(super) fn keep_voice(&self, messages: &[Message]) {
        let me = self.state.with_untracked(|state| state.me.id);
        for message in messages {
            let Some(attachment) = &message.attachment else {
                continue;
            };
            if attachment.kind == MediaKind::Voice && message.sender != me {
                let store = *self;
                let id = attachment.id.clone();
                spawn_local(async move {
                    store.local_media(&id, true).await;
                });
            }
        }
    }

    /// Whether the chat this store belongs to is still open: tasks that
    /// outlive a logout must stop touching it.
    fn alive(&self) -> bool {
        self.state.try_with_untracked(|_| ()).is_some()
    }

    // The file helpers below may run after a logout (an upload or download
    // finishing late), so they only use the `try_` accessors.

    async fn keep_file(&self, key: FileKey, file: &Blob) {
        if let Some(cache) = self.cache.try_get_value().flatten() {
            match cache.put_file(&key, file).await {
                Ok(()) => return,
                Err(err) => self.cache_problem.set(Some(err)),
            }
        }
        self.uploads.unsaved.update_value(|files| {
            files.insert(key.to_string(), file.clone());
        });
    }

    async fn kept_file(&self, key: &FileKey) -> Option<Blob> {
        let unsaved = self
            .uploads
            .unsaved
            .try_with_value(|files| files.get(&key.to_string()).cloned())
            .flatten();
        if unsaved.is_some() {
            return unsaved;
        }
        let cache = self.cache.try_get_value().flatten()?;
        cache.file(key).await.ok().flatten()
    }

    pub(super) async fn forget_file(&self, key: &FileKey) {
        self.uploads.unsaved.update_value(|files| {
            files.remove(&key.to_string());
        });
        if let Some(cache) = self.cache.try_get_value().flatten() {
            if let Err(err) = cache.delete_file(key).await {
                self.cache_problem.set(Some(err));
            }
        }
    }
}

/// Refusals that trying again cannot fix: the file's type, its size, or a
/// conversation one is no longer in. (401 means logged out, which the
/// session handles; 408 and 429 pass.)
fn refused_for_good(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 408 | 429)
}

/// Where a media file is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// An object URL of the copy on this device.
    Local(String),
    /// The server's URL.
    Server(String),
}

impl MediaSource {
    fn local(file: &Blob) -> Option<Self> {
        web_sys::Url::create_object_url_with_blob(file)
            .ok()
            .map(MediaSource::Local)
    }

    pub fn url(&self) -> &str {
        match self {
            MediaSource::Local(url) | MediaSource::Server(url) => url,
        }
    }

    /// Frees an object URL once nothing shows it.
    pub fn release(&self) {
        if let MediaSource::Local(url) = self {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_that_a_retry_cannot_fix_are_final() {
        for status in [400, 403, 404, 413, 415] {
            assert!(refused_for_good(status), "{status}");
        }
        for status in [401, 408, 429, 500, 502, 503] {
            assert!(!refused_for_good(status), "{status}");
        }
    }
}
