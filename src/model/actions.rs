//! Applying actions (reactions, edits, deletions) to the message they
//! target: the same rules the server applies, so that a device's copy —
//! in memory and in IndexedDB — matches the server's.

use natter_protocol::{Action, Message, Millis, Reaction, UserId};

/// Changes `target` as `action` by `actor` at `at` does. Applying the same
/// action twice changes nothing the second time.
pub fn apply(target: &mut Message, action: &Action, actor: UserId, at: Millis) {
    if target.deleted {
        return;
    }
    match action {
        Action::React { emoji, .. } => {
            match target.reactions.iter_mut().find(|r| &r.emoji == emoji) {
                Some(reaction) => {
                    if !reaction.users.contains(&actor) {
                        reaction.users.push(actor);
                    }
                }
                None => target.reactions.push(Reaction {
                    emoji: emoji.clone(),
                    users: vec![actor],
                }),
            }
        }
        Action::Unreact { emoji, .. } => {
            for reaction in &mut target.reactions {
                if &reaction.emoji == emoji {
                    reaction.users.retain(|user| *user != actor);
                }
            }
            target.reactions.retain(|r| !r.users.is_empty());
        }
        Action::Edit { body, .. } => {
            // Only the sender may; the server refuses others, and a device
            // never applies what the server did not store.
            if actor == target.sender {
                target.body = body.clone();
                target.edited_at = Some(at);
            }
        }
        Action::Delete { .. } => {
            // Its sender, or an admin of the group: the server refuses
            // anyone else, and a device cannot always know who is admin.
            target.body.clear();
            target.attachment = None;
            target.edited_at = None;
            target.reactions.clear();
            target.deleted = true;
        }
    }
}

/// The form in which an action message is kept on a device: once applied,
/// an edit's text lives only in its target, so that deleting the target
/// leaves no copy behind.
pub fn stub(action: &Action) -> Action {
    match action {
        Action::Edit { target, .. } => Action::Edit {
            target: *target,
            body: String::new(),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn message(sender: UserId) -> Message {
        Message {
            conversation: 7,
            seq: 1,
            client_id: Uuid::nil(),
            sender,
            body: "hello".to_owned(),
            sent_at: 1,
            ..Message::default()
        }
    }

    fn react(emoji: &str) -> Action {
        Action::React {
            target: 1,
            emoji: emoji.to_owned(),
        }
    }

    #[test]
    fn reactions_toggle_and_count_once_per_person() {
        let mut target = message(1);
        apply(&mut target, &react("👍"), 2, 5);
        apply(&mut target, &react("👍"), 2, 6);
        apply(&mut target, &react("👍"), 3, 7);
        apply(&mut target, &react("❤️"), 2, 8);
        assert_eq!(target.reactions.len(), 2);
        assert_eq!(target.reactions[0].users, vec![2, 3]);
        let unreact = Action::Unreact {
            target: 1,
            emoji: "❤️".to_owned(),
        };
        apply(&mut target, &unreact, 2, 9);
        assert_eq!(target.reactions.len(), 1);
    }

    #[test]
    fn only_the_sender_edits_and_deletes_and_a_deletion_leaves_a_tombstone() {
        let mut target = message(1);
        let edit = Action::Edit {
            target: 1,
            body: "hello there".to_owned(),
        };
        apply(&mut target, &edit, 2, 5);
        assert_eq!((target.body.as_str(), target.edited_at), ("hello", None));
        apply(&mut target, &edit, 1, 5);
        assert_eq!(
            (target.body.as_str(), target.edited_at),
            ("hello there", Some(5))
        );

        apply(&mut target, &react("👍"), 2, 6);
        // A group's admin (user 3) deletes it.
        apply(&mut target, &Action::Delete { target: 1 }, 3, 7);
        assert!(target.deleted && target.body.is_empty() && target.reactions.is_empty());
        // Nothing changes a tombstone.
        apply(&mut target, &react("👍"), 2, 8);
        apply(&mut target, &edit, 1, 9);
        assert!(target.reactions.is_empty() && target.body.is_empty());
    }

    #[test]
    fn an_edit_is_kept_without_its_text() {
        let edit = Action::Edit {
            target: 3,
            body: "secret".to_owned(),
        };
        assert_eq!(
            stub(&edit),
            Action::Edit {
                target: 3,
                body: String::new()
            }
        );
        assert_eq!(stub(&react("👍")), react("👍"));
    }
}
