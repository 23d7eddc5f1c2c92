//! The outbox: messages typed on this device until the server has them,
//! in typing order, and what the tabs of one account tell each other about
//! theirs.

use natter_protocol::{Action, Attachment, ConversationId, Millis, Seq, ServerFrame, Upload};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ChatState;
use crate::cache::Batch;
use crate::model::{Outgoing, OutgoingMedia};

/// What one tab tells this account's other tabs (externally tagged, as
/// serde reads it in one pass: tabs of one device share no stored format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TabNews {
    Outbox(OutboxNews),
    /// This tab's socket is back: the server is reachable, so the others
    /// need not wait out their backoff.
    Online,
}

/// What one tab tells the others about its outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxNews {
    pub put: Vec<Outgoing>,
    pub removed: Vec<Uuid>,
    /// Entries the server acknowledged to this tab, so that the others turn
    /// their bubbles into sent messages at once rather than dropping them
    /// until their own socket brings the stored copies.
    #[serde(default)]
    pub acked: Vec<Acked>,
}

/// An outbox entry stored by the server, as its `ack` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acked {
    pub client_id: Uuid,
    pub conversation: ConversationId,
    pub seq: Seq,
    pub sent_at: Millis,
}

impl OutboxNews {
    /// The outbox part of a batch of changes, if it has one.
    pub fn of(batch: &Batch) -> Option<Self> {
        if batch.outbox_put.is_empty() && batch.outbox_remove.is_empty() {
            return None;
        }
        let acked = batch
            .outbox_remove
            .iter()
            .filter_map(|o| {
                batch
                    .messages
                    .iter()
                    .find(|m| m.client_id == o.client_id && m.conversation == o.conversation)
            })
            .map(|m| Acked {
                client_id: m.client_id,
                conversation: m.conversation,
                seq: m.seq,
                sent_at: m.sent_at,
            })
            .collect();
        Some(OutboxNews {
            put: batch.outbox_put.clone(),
            removed: batch.outbox_remove.iter().map(|o| o.client_id).collect(),
            acked,
        })
    }
}

impl ChatState {
    pub(super) fn remove_outgoing(&mut self, client_id: Uuid) -> Option<Outgoing> {
        let index = self.outbox.iter().position(|o| o.client_id == client_id)?;
        let outgoing = self.outbox.remove(index);
        self.changes.outbox_remove.push(outgoing.clone());
        Some(outgoing)
    }

    /// Queues a message typed by the user. Its time is kept strictly after
    /// the previous one's, so that typing order survives a reload.
    pub fn queue(&mut self, mut outgoing: Outgoing) {
        if let Some(last) = self.outbox.last() {
            outgoing.created_at = outgoing.created_at.max(last.created_at + 1);
        }
        self.changes.outbox_put.push(outgoing.clone());
        self.outbox.push(outgoing);
    }

    /// Queues an action (a reaction, an edit, a deletion) like a message.
    pub fn queue_action(
        &mut self,
        conversation: ConversationId,
        action: Action,
        client_id: Uuid,
        at: Millis,
    ) {
        self.queue(Outgoing {
            client_id,
            conversation,
            body: String::new(),
            created_at: at,
            failure: None,
            media: None,
            reply_to: None,
            action: Some(action),
            link_preview: None,
        });
    }

    /// Puts a refused message back in line for another try.
    pub fn retry(&mut self, client_id: Uuid) {
        self.change_outgoing(client_id, |outgoing| outgoing.failure = None);
    }

    /// Records that the file of `client_id` is uploaded: the message can
    /// now be sent, describing the file as the server stored it (which may
    /// be smaller: the server strips metadata from photos).
    pub fn uploaded(&mut self, client_id: Uuid, upload: Upload) {
        self.change_outgoing(client_id, |outgoing| {
            if let Some(OutgoingMedia::Local(attachment)) = outgoing.media.take() {
                outgoing.media = Some(OutgoingMedia::Uploaded(Attachment {
                    id: upload.id,
                    content_type: upload.content_type,
                    size: upload.size,
                    ..attachment
                }));
            }
        });
    }

    /// Records that the server refused the file of `client_id` for good.
    pub fn upload_refused(&mut self, client_id: Uuid, reason: String) {
        self.change_outgoing(client_id, |outgoing| outgoing.failure = Some(reason));
    }

    /// The next message whose file should be uploaded, in typing order.
    pub fn next_upload(&self) -> Option<&Outgoing> {
        self.outbox
            .iter()
            .find(|o| o.awaits_upload() && o.failure.is_none())
    }

    fn change_outgoing(&mut self, client_id: Uuid, change: impl FnOnce(&mut Outgoing)) {
        if let Some(outgoing) = self.outbox.iter_mut().find(|o| o.client_id == client_id) {
            change(outgoing);
            self.changes.outbox_put.push(outgoing.clone());
        }
    }

    /// Takes in outbox changes another tab made (and already saved). An
    /// entry the server acknowledged there becomes a sent message here, as
    /// if the ack had come to this tab, before removals are applied: the
    /// bubble never disappears in between.
    pub fn merge_outbox(&mut self, news: OutboxNews) {
        for acked in &news.acked {
            self.apply(&ServerFrame::Ack {
                client_id: acked.client_id,
                conversation: acked.conversation,
                seq: acked.seq,
                sent_at: acked.sent_at,
            });
        }
        for gone in &news.removed {
            self.outbox.retain(|o| o.client_id != *gone);
        }
        for outgoing in news.put {
            let acked = self
                .conversations
                .get(&outgoing.conversation)
                .is_some_and(|c| {
                    c.messages
                        .values()
                        .any(|m| m.client_id == outgoing.client_id)
                });
            if acked {
                continue;
            }
            match self
                .outbox
                .iter_mut()
                .find(|o| o.client_id == outgoing.client_id)
            {
                Some(existing) => *existing = outgoing,
                None => self.outbox.push(outgoing),
            }
        }
        self.outbox.sort_by_key(|o| o.created_at);
    }

    /// Drops a refused message for good, at the user's request.
    pub fn discard(&mut self, client_id: Uuid) {
        self.remove_outgoing(client_id);
    }

    /// The outbox messages that should go to the server now: not refused,
    /// and with their file (if any) uploaded. A message waiting for its
    /// upload does not hold back those typed after it.
    pub fn sendable(&self) -> impl Iterator<Item = &Outgoing> {
        self.outbox
            .iter()
            .filter(|o| o.failure.is_none() && !o.awaits_upload())
    }
}
