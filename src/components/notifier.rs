//! Telling the person about messages while they look elsewhere: a system
//! notification per conversation while this tab is hidden (closed once the
//! conversation is on screen), the unread count in the tab's title, and
//! the conversation a clicked notification names opened; and the server
//! told whether this tab is on screen (it pushes only when none is).
//! Renders nothing: the chat's live half starts it, under the chat's owner,
//! so that it ends with the chat.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::ConversationKind;

use crate::notify::{self, ClickListener, Permission, SystemNotice};
use crate::state::{ChatState, ChatStore, Notice};

const TITLE: &str = "Natter";

/// Starts watching `store` for what to tell; stops when the current owner
/// is cleaned up.
pub fn watch(store: ChatStore) {
    Effect::new(move |_| {
        if store.notices.with(Vec::is_empty) {
            return;
        }
        // Taken, shown or not: what arrived while the tab was visible is
        // not shown later.
        let notices = store
            .notices
            .try_update_untracked(std::mem::take)
            .unwrap_or_default();
        if !hidden() || notify::permission() != Permission::Granted {
            return;
        }
        let previews = notify::previews();
        let shown: Vec<SystemNotice> = store.state.with_untracked(|state| {
            notices
                .iter()
                .filter_map(|notice| system_notice(state, *notice, previews))
                .collect()
        });
        spawn_local(async move {
            for notice in shown {
                if let Err(err) = notify::show(&notice).await {
                    leptos::logging::warn!("{err}");
                }
            }
        });
    });

    // A conversation on screen needs no notification about it any more.
    Effect::new(move |_| {
        if let Some(open) = store.state.with(|state| state.open) {
            if !hidden() {
                spawn_local(notify::close_about(open));
            }
        }
    });

    Effect::new(move |_| {
        let unread: u64 = store.state.with(|state| {
            state
                .conversations
                .values()
                .map(|conversation| conversation.unread(state.me.id))
                .sum()
        });
        let title = match unread {
            0 => TITLE.to_owned(),
            n => format!("({n}) {TITLE}"),
        };
        document().set_title(&title);
    });

    // The server pushes to this person's other devices only while no tab
    // of theirs is on screen: it hears when this one comes and goes.
    store.set_on_screen(!hidden());
    let visibility =
        window_event_listener_untyped("visibilitychange", move |_| store.set_on_screen(!hidden()));

    // The listener holds a JS closure: kept on this thread, it goes with
    // the chat.
    let clicks = StoredValue::new_local(ClickListener::start(move |conversation| {
        store.open(Some(conversation));
    }));
    on_cleanup(move || {
        visibility.remove();
        clicks.dispose();
        document().set_title(TITLE);
    });
}

fn hidden() -> bool {
    document().hidden()
}

/// What the notification about `notice` says: who (and where, in a
/// group), and the message's text unless the person turned previews off or
/// it comes from a stranger (a message request: what strangers write does
/// not pop up on a screen before the person chose to read it).
fn system_notice(state: &ChatState, notice: Notice, previews: bool) -> Option<SystemNotice> {
    let conversation = state.conversations.get(&notice.conversation)?;
    let message = conversation.messages.get(&notice.seq)?;
    let body = if conversation.is_request(state.me.id) {
        "New message request".to_owned()
    } else if !previews {
        "New message".to_owned()
    } else if conversation.info.kind == ConversationKind::Group {
        let sender = conversation.name_of(message.sender).unwrap_or("Someone");
        format!("{sender}: {}", natter_protocol::preview::line(message))
    } else {
        natter_protocol::preview::line(message)
    };
    Some(SystemNotice {
        conversation: notice.conversation,
        title: conversation.title(state.me.id),
        body,
    })
}
