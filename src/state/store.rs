//! [`ChatStore`]: the reactive handle on [`ChatState`] that components share
//! through context, and the session's [`Host`].

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use leptos::prelude::*;
use natter_protocol::{ClientFrame, ConversationId, ServerFrame, User, PROTOCOL_VERSION};
use uuid::Uuid;

use super::{ChatState, Outgoing};
use crate::net::session::{now, Command, ConnectionStatus, Host};

#[derive(Clone, Copy)]
pub struct ChatStore {
    pub state: RwSignal<ChatState>,
    pub status: RwSignal<ConnectionStatus>,
    commands: StoredValue<UnboundedSender<Command>>,
}

impl ChatStore {
    /// A store for `me`, and the command stream its session must run on.
    pub fn new(me: User) -> (Self, UnboundedReceiver<Command>) {
        let (sender, receiver) = unbounded();
        let store = ChatStore {
            state: RwSignal::new(ChatState::new(me)),
            status: RwSignal::new(ConnectionStatus::Connecting),
            commands: StoredValue::new(sender),
        };
        (store, receiver)
    }

    fn command(&self, command: Command) {
        self.commands.with_value(|sender| {
            // The session is gone only when the chat view is being torn
            // down; there is nobody left to tell.
            let _ = sender.unbounded_send(command);
        });
    }

    /// Queues a message and sends it if connected.
    pub fn send_text(&self, conversation: ConversationId, body: String) {
        let outgoing = Outgoing {
            client_id: Uuid::new_v4(),
            conversation,
            body,
            created_at: now(),
            failure: None,
        };
        let frame = frame_of(&outgoing);
        self.state.update(|state| state.queue(outgoing));
        self.command(Command::Send(frame));
    }

    /// Tries a refused message again.
    pub fn retry(&self, client_id: Uuid) {
        self.state.update(|state| state.retry(client_id));
        let frame = self.state.with_untracked(|state| {
            state
                .outbox
                .iter()
                .find(|o| o.client_id == client_id)
                .map(frame_of)
        });
        if let Some(frame) = frame {
            self.command(Command::Send(frame));
        }
    }

    pub fn discard(&self, client_id: Uuid) {
        self.state.update(|state| state.discard(client_id));
    }

    /// Marks `conversation` read if that moves the read cursor.
    pub fn mark_read(&self, conversation: ConversationId) {
        if !self
            .state
            .with_untracked(|state| state.wants_read_receipt(conversation))
        {
            return;
        }
        let mut receipt = None;
        self.state
            .update(|state| receipt = state.take_read_receipt(conversation));
        if let Some(receipt) = receipt {
            self.command(Command::Send(receipt));
        }
    }

    pub fn retry_now(&self) {
        self.command(Command::RetryNow);
    }

    pub fn stop(&self) {
        self.command(Command::Stop);
    }
}

fn frame_of(outgoing: &Outgoing) -> ClientFrame {
    ClientFrame::Send {
        conversation: outgoing.conversation,
        client_id: outgoing.client_id,
        body: outgoing.body.clone(),
    }
}

impl Host for ChatStore {
    fn hello(&self) -> ClientFrame {
        ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            cursors: self.state.with_untracked(ChatState::cursors),
        }
    }

    fn outbox(&self) -> Vec<ClientFrame> {
        self.state
            .with_untracked(|state| state.sendable().map(frame_of).collect())
    }

    fn receive(&self, frame: ServerFrame) -> Vec<ClientFrame> {
        let mut replies = Vec::new();
        self.state.update(|state| {
            state.apply(&frame);
            replies = state.take_delivery_receipts();
        });
        replies
    }

    fn status(&self, status: ConnectionStatus) {
        self.status.set(status);
    }
}
