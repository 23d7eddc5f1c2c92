//! Group events in words, for the message list and the conversation list.

use natter_protocol::{GroupEvent, GroupEventKind, User, UserId};

/// "ann added bob", "You left", "bob renamed the group to “Hikers”".
pub fn describe(event: &GroupEvent, me: UserId) -> String {
    let who = |user: &User| {
        if user.id == me {
            "you".to_owned()
        } else {
            user.shown_name().to_owned()
        }
    };
    let by = if event.by.id == me {
        "You".to_owned()
    } else {
        event.by.shown_name().to_owned()
    };
    match &event.kind {
        GroupEventKind::Created { name } => format!("{by} created the group “{name}”"),
        GroupEventKind::Added { user } => format!("{by} added {}", who(user)),
        GroupEventKind::Joined => format!("{by} joined"),
        GroupEventKind::Removed { user } => format!("{by} removed {}", who(user)),
        GroupEventKind::Left => format!("{by} left"),
        GroupEventKind::Renamed { name } => format!("{by} renamed the group to “{name}”"),
        GroupEventKind::Promoted { user } => format!("{by} made {} an admin", who(user)),
        GroupEventKind::Unbanned { user } => format!("{by} let {} join again", who(user)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: UserId, name: &str) -> User {
        User {
            id,
            username: name.to_owned(),
            avatar: None,
            deleted: false,
            display_name: None,
        }
    }

    fn event(by: User, kind: GroupEventKind) -> GroupEvent {
        GroupEvent { by, kind }
    }

    #[test]
    fn events_read_as_sentences_with_you_for_oneself() {
        let ann = user(1, "ann");
        let bob = user(2, "bob");
        let added = event(ann.clone(), GroupEventKind::Added { user: bob.clone() });
        assert_eq!(describe(&added, 3), "ann added bob");
        assert_eq!(describe(&added, 1), "You added bob");
        assert_eq!(describe(&added, 2), "ann added you");
        assert_eq!(
            describe(&event(bob.clone(), GroupEventKind::Left), 1),
            "bob left"
        );
        assert_eq!(
            describe(
                &event(
                    ann.clone(),
                    GroupEventKind::Renamed {
                        name: "Hikers".into()
                    }
                ),
                2
            ),
            "ann renamed the group to “Hikers”"
        );
        assert_eq!(
            describe(&event(ann, GroupEventKind::Promoted { user: bob }), 2),
            "ann made you an admin"
        );
    }
}
