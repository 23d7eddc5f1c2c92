//! Who is typing where: each `typing` frame shows its sender for
//! [`TYPING_SHOWN_MS`], unless a message from them arrives first. Kept out
//! of [`ChatState`](super::ChatState): it is momentary, never saved, and
//! depends on the clock.

use std::collections::HashMap;

use natter_protocol::{ConversationId, Millis, UserId, TYPING_SHOWN_MS};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typing {
    /// Until when each (conversation, user) shows as typing.
    until: HashMap<(ConversationId, UserId), Millis>,
}

impl Typing {
    /// `user` was seen typing in `conversation` at `now`.
    pub fn seen(&mut self, conversation: ConversationId, user: UserId, now: Millis) {
        self.until
            .insert((conversation, user), now + TYPING_SHOWN_MS as Millis);
    }

    /// `user` sent a message in `conversation`: no longer typing.
    pub fn stopped(&mut self, conversation: ConversationId, user: UserId) {
        self.until.remove(&(conversation, user));
    }

    /// Forgets what has run out by `now`; whether anything did.
    pub fn expire(&mut self, now: Millis) -> bool {
        let before = self.until.len();
        self.until.retain(|_, until| *until > now);
        self.until.len() != before
    }

    /// Who is typing in `conversation`, by user id.
    pub fn who(&self, conversation: ConversationId) -> Vec<UserId> {
        let mut users: Vec<UserId> = self
            .until
            .keys()
            .filter(|(c, _)| *c == conversation)
            .map(|(_, user)| *user)
            .collect();
        users.sort_unstable();
        users
    }
}

/// "ann is typing…", "ann and bob are typing…", "ann, bob and 2 others are
/// typing…".
pub fn phrase(names: &[String]) -> Option<String> {
    let text = match names {
        [] => return None,
        [one] => format!("{one} is typing…"),
        [one, two] => format!("{one} and {two} are typing…"),
        [one, two, three] => format!("{one}, {two} and {three} are typing…"),
        [one, two, rest @ ..] => format!("{one}, {two} and {} others are typing…", rest.len()),
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_shows_for_a_while_then_runs_out() {
        let mut typing = Typing::default();
        typing.seen(7, 2, 1_000);
        assert_eq!(typing.who(7), vec![2]);
        assert_eq!(typing.who(8), Vec::<UserId>::new());
        assert!(!typing.expire(1_000 + TYPING_SHOWN_MS as Millis - 1));
        // Another `typing` pushes the end back.
        typing.seen(7, 2, 4_000);
        assert!(!typing.expire(1_000 + TYPING_SHOWN_MS as Millis + 1));
        assert!(typing.expire(4_000 + TYPING_SHOWN_MS as Millis));
        assert!(typing.who(7).is_empty());
    }

    #[test]
    fn a_message_ends_typing_at_once() {
        let mut typing = Typing::default();
        typing.seen(7, 2, 0);
        typing.seen(7, 3, 0);
        typing.stopped(7, 2);
        assert_eq!(typing.who(7), vec![3]);
    }

    #[test]
    fn phrases() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(phrase(&[]), None);
        assert_eq!(phrase(&names(&["ann"])).unwrap(), "ann is typing…");
        assert_eq!(
            phrase(&names(&["ann", "bob"])).unwrap(),
            "ann and bob are typing…"
        );
        assert_eq!(
            phrase(&names(&["ann", "bob", "cy", "di"])).unwrap(),
            "ann, bob and 2 others are typing…"
        );
    }
}
