//! The view model of the message list: the conversation's messages, the
//! outbox's and the day separators as one list of items, and the window of
//! it that is in the DOM.

use std::collections::HashMap;

use natter_protocol::{
    limits, Action, Attachment, ConversationId, LinkPreview, Message, Millis, Seq, UserId,
};
use uuid::Uuid;

use crate::components::group_event;
use crate::components::message_actions::{chips, Chip};
use crate::model::actions;
use crate::net::session::now;
use crate::state::ChatState;
use crate::time;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Bubble {
    pub(super) client_id: Uuid,
    /// None while waiting for the server.
    pub(super) seq: Option<Seq>,
    pub(super) mine: bool,
    pub(super) body: String,
    pub(super) time: Millis,
    pub(super) failure: Option<String>,
    /// Boxed: most bubbles have none, and items are cloned often.
    pub(super) attachment: Option<Box<Attachment>>,
    /// Whether the attachment is still waiting for its upload.
    pub(super) uploading: bool,
    /// Who sent it, shown on others' messages in a group.
    pub(super) sender_name: Option<String>,
    pub(super) reply_to: Option<Seq>,
    pub(super) edited: bool,
    pub(super) deleted: bool,
    pub(super) reactions: Vec<Chip>,
    /// Someone else's message, by whom.
    pub(super) sender: Option<UserId>,
    /// From someone the user blocks (in a group): shown folded.
    pub(super) blocked: bool,
    /// A photo or video in a message request: blurred until tapped.
    pub(super) veiled: bool,
    /// The card of a link in the text.
    pub(super) link_preview: Option<Box<LinkPreview>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Item {
    Day(String),
    Bubble(Bubble),
    /// A change to the group, as a line of text.
    Event {
        client_id: Uuid,
        text: String,
    },
}

/// Who wrote a bubble, as a screen reader names it: "You", the group
/// member, or in a 1:1 chat the conversation's title.
pub(super) fn author(bubble: &Bubble, title: &str) -> String {
    match (&bubble.sender_name, bubble.mine) {
        (_, true) => "You".to_owned(),
        (Some(name), false) => name.clone(),
        (None, false) => title.to_owned(),
    }
}

/// What the live region says of a new message from someone else.
pub(super) fn announcement(bubble: &Bubble, title: &str) -> String {
    let who = author(bubble, title);
    let what = if bubble.blocked {
        "a message from a blocked person".to_owned()
    } else {
        match (&bubble.attachment, bubble.body.trim().is_empty()) {
            (Some(attachment), true) => {
                natter_protocol::preview::media_label(Some(attachment.kind))
                    .trim_start_matches(|c: char| !c.is_alphabetic())
                    .to_lowercase()
            }
            _ => natter_protocol::preview::plain(&bubble.body),
        }
    };
    format!("{who}: {what}")
}

/// The highest sequence number among the items (None when none is stored).
pub(super) fn newest_seq(items: &[Item]) -> Option<Seq> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Bubble(bubble) => bubble.seq,
            _ => None,
        })
        .max()
}

/// The card to show under `message`: only while its link is still in the
/// text (an edit may take it out), and without its picture in a message
/// request (a stranger's picture waits, like their photos).
fn card_of(message: &Message, request: bool) -> Option<Box<LinkPreview>> {
    let card = message.link_preview.as_ref()?;
    if message.deleted || !limits::holds_link(&message.body, &card.url) {
        return None;
    }
    let mut card = card.clone();
    if request {
        card.image = None;
    }
    Some(card)
}

pub(super) fn items(state: &ChatState, id: ConversationId, me: UserId) -> Vec<Item> {
    let Some(conversation) = state.conversations.get(&id) else {
        return Vec::new();
    };
    let group = conversation.is_group();
    let request = conversation.is_request(me);
    // The user's actions still in the outbox show at once.
    let mut pending: HashMap<Seq, Vec<Action>> = HashMap::new();
    for outgoing in state.outbox.iter().filter(|o| o.conversation == id) {
        if let Some(action) = &outgoing.action {
            pending
                .entry(action.target())
                .or_default()
                .push(action.clone());
        }
    }
    let stored = conversation
        .messages
        .values()
        .filter(|m| m.action.is_none())
        .map(|m| {
            if let Some(event) = &m.event {
                return (
                    m.sent_at,
                    Item::Event {
                        client_id: m.client_id,
                        text: group_event::describe(event, me),
                    },
                );
            }
            let shown;
            let m = match pending.get(&m.seq) {
                Some(actions) => {
                    let mut changed = m.clone();
                    for action in actions {
                        actions::apply(&mut changed, action, me, now());
                    }
                    shown = changed;
                    &shown
                }
                None => m,
            };
            let mine = m.sender == me;
            let sender_name = (group && !mine).then(|| {
                conversation
                    .name_of(m.sender)
                    .unwrap_or("Former member")
                    .to_owned()
            });
            let bubble = Bubble {
                client_id: m.client_id,
                seq: Some(m.seq),
                mine,
                body: m.body.clone(),
                time: m.sent_at,
                failure: None,
                attachment: m.attachment.clone().map(Box::new),
                uploading: false,
                sender_name,
                reply_to: m.reply_to,
                edited: m.edited_at.is_some(),
                deleted: m.deleted,
                reactions: chips(&m.reactions, me),
                sender: (!mine).then_some(m.sender),
                blocked: !mine && state.blocks(m.sender),
                veiled: request
                    && !mine
                    && m.attachment
                        .as_ref()
                        .is_some_and(|a| a.kind != natter_protocol::MediaKind::Voice),
                link_preview: card_of(m, request && !mine),
            };
            (m.sent_at, Item::Bubble(bubble))
        });
    let waiting = state
        .outbox
        .iter()
        .filter(|o| o.conversation == id && o.action.is_none())
        .map(|o| {
            let bubble = Bubble {
                client_id: o.client_id,
                seq: None,
                mine: true,
                body: o.body.clone(),
                time: o.created_at,
                failure: o.failure.clone(),
                attachment: o
                    .media
                    .as_ref()
                    .map(|media| Box::new(media.attachment().clone())),
                uploading: o.awaits_upload(),
                sender_name: None,
                reply_to: o.reply_to,
                edited: false,
                deleted: false,
                reactions: Vec::new(),
                sender: None,
                blocked: false,
                veiled: false,
                link_preview: o.link_preview.clone(),
            };
            (o.created_at, Item::Bubble(bubble))
        });
    let today = now();
    let mut out = Vec::new();
    let mut last_day = None;
    for (time, item) in stored.chain(waiting) {
        let day = time::day_number(time);
        if last_day != Some(day) {
            last_day = Some(day);
            out.push(Item::Day(time::day_label(time, today)));
        }
        out.push(item);
    }
    out
}

impl Item {
    /// A key that stays the same while the item's details change (a bubble
    /// acked, a failure shown), for anchoring the window and the scroll.
    pub(super) fn anchor_key(&self) -> String {
        match self {
            Item::Day(label) => format!("day:{label}"),
            Item::Bubble(bubble) => bubble.client_id.to_string(),
            Item::Event { client_id, .. } => client_id.to_string(),
        }
    }
}

/// The items that are in the DOM: at most `size`, ending at the item keyed
/// `end` (inclusive), or at the newest when `end` is `None`.
pub(super) fn window(items: &[Item], end: Option<&str>, size: usize) -> std::ops::Range<usize> {
    let stop = end
        .and_then(|key| items.iter().position(|item| item.anchor_key() == key))
        .map_or(items.len(), |index| index + 1);
    stop.saturating_sub(size)..stop
}

/// The new window end after moving `range` by `delta` items (negative:
/// towards older ones); `None` means "follow the newest".
pub(super) fn moved(
    items: &[Item],
    range: &std::ops::Range<usize>,
    delta: isize,
) -> Option<String> {
    let stop = range.end.saturating_add_signed(delta).max(1);
    (stop < items.len()).then(|| items[stop - 1].anchor_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bubbles(n: u128) -> Vec<Item> {
        (1..=n)
            .map(|i| {
                Item::Bubble(Bubble {
                    client_id: Uuid::from_u128(i),
                    seq: Some(i as Seq),
                    mine: false,
                    body: String::new(),
                    time: 0,
                    failure: None,
                    attachment: None,
                    uploading: false,
                    sender_name: None,
                    reply_to: None,
                    edited: false,
                    deleted: false,
                    reactions: Vec::new(),
                    sender: None,
                    blocked: false,
                    veiled: false,
                    link_preview: None,
                })
            })
            .collect()
    }

    #[test]
    fn the_window_follows_the_newest_until_moved() {
        let items = bubbles(1000);
        assert_eq!(window(&items, None, 120), 880..1000);
        let up = moved(&items, &(880..1000), -40);
        assert_eq!(window(&items, up.as_deref(), 120), 840..960);
        // Items arriving below, or loaded above, keep a moved window on the
        // same items.
        let mut more = bubbles(1010);
        let older: Vec<Item> = bubbles(5000).split_off(4990);
        more.splice(0..0, older);
        assert_eq!(window(&more, up.as_deref(), 120), 850..970);
        assert_eq!(more[969].anchor_key(), items[959].anchor_key());
        // Moving down towards the newest, then onto it, follows it again.
        assert_eq!(
            moved(&items, &(840..960), 20),
            Some(items[979].anchor_key())
        );
        assert_eq!(moved(&items, &(840..960), 40), None);
    }

    #[test]
    fn a_short_conversation_is_shown_whole() {
        let items = bubbles(30);
        assert_eq!(window(&items, None, 120), 0..30);
        assert_eq!(moved(&items, &(0..30), -40), Some(items[0].anchor_key()));
    }
}
