//! Groups: creating one, adding, removing and promoting members, leaving,
//! renaming, and finding and joining public groups by hashtag.
//!
//! The rules are [`plan`]: a pure function of the membership, the actor
//! and the change, giving the steps to write (each with its event
//! message). The write names the membership's epoch, so if the group
//! changed meanwhile it is planned again on the new membership.

use natter_protocol::limits::{self, MAX_GROUP_MEMBERS};
use std::sync::Arc;

use natter_protocol::{
    Conversation, ConversationId, ConversationKind, GroupEvent, GroupEventKind, Millis, NewGroup,
    PublicGroup, Role, ServerFrame, User, UserId,
};

use super::pipeline::{Done, PipelineError, Work};
use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind, Hub};
use crate::store::{
    GroupStep, GroupTarget, GroupWrite, GroupWritten, History, MemberChange, Membership,
};

/// The most public groups one search returns.
pub const SEARCH_LIMIT: u32 = 20;
/// How often a change is planned again when the group changed under it.
const ATTEMPTS: usize = 4;

/// A change to an existing group, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    /// Admins add people by username.
    Add(String),
    /// Admins remove others; removing oneself is leaving.
    Remove(UserId),
    Promote(UserId),
    Rename(String),
    /// Anyone joins a public group they are not banned from.
    Join,
    /// Admins let someone removed from a public group join again.
    Unban(UserId),
}

/// A change with the people it names looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Add(User),
    Remove(User),
    Promote(User),
    Rename(String),
    Join,
    Unban(User),
}

/// The steps `actor` may take to make `change`, or why not.
pub fn plan(
    membership: &Membership,
    actor: &User,
    change: &Resolved,
) -> Result<Vec<GroupStep>, ChatError> {
    let role = membership.seat(actor.id).map(|seat| seat.role);
    if membership.kind != ConversationKind::Group {
        return Err(match role {
            Some(_) => ChatError::NotAGroup,
            None => ChatError::NotAMember,
        });
    }
    let admin = || match role {
        Some(Role::Admin) => Ok(()),
        Some(Role::Member) => Err(ChatError::NotAdmin),
        None => Err(ChatError::NotAMember),
    };
    let room = || {
        if membership.seats.len() >= MAX_GROUP_MEMBERS {
            Err(ChatError::GroupFull)
        } else {
            Ok(())
        }
    };
    let (changes, kind) = match change {
        Resolved::Join => {
            // Groups that are not public are invisible to outsiders.
            if membership.hashtag.is_none() {
                return Err(ChatError::NotAMember);
            }
            if role.is_some() {
                return Err(ChatError::AlreadyMember);
            }
            if membership.is_banned(actor.id) {
                return Err(ChatError::Banned);
            }
            room()?;
            (
                vec![MemberChange::Add(actor.id, Role::Member, History::FromNow)],
                GroupEventKind::Joined,
            )
        }
        Resolved::Add(user) => {
            admin()?;
            if membership.includes(user.id) {
                return Err(ChatError::AlreadyMember);
            }
            room()?;
            // An admin adding someone lifts their ban.
            let unban = membership
                .is_banned(user.id)
                .then_some(MemberChange::Unban(user.id));
            (
                unban
                    .into_iter()
                    .chain([MemberChange::Add(user.id, Role::Member, History::FromNow)])
                    .collect(),
                GroupEventKind::Added { user: user.clone() },
            )
        }
        Resolved::Unban(user) => {
            admin()?;
            if !membership.is_banned(user.id) {
                return Err(ChatError::NotBanned);
            }
            (
                vec![MemberChange::Unban(user.id)],
                GroupEventKind::Unbanned { user: user.clone() },
            )
        }
        Resolved::Remove(user) if user.id == actor.id => {
            if role.is_none() {
                return Err(ChatError::NotAMember);
            }
            (vec![MemberChange::Remove(actor.id)], GroupEventKind::Left)
        }
        Resolved::Remove(user) => {
            admin()?;
            if !membership.includes(user.id) {
                return Err(ChatError::NoSuchMember);
            }
            // Removed from a public group is banned from it: otherwise they
            // would join again at once.
            let ban = membership
                .hashtag
                .is_some()
                .then_some(MemberChange::Ban(user.id));
            (
                std::iter::once(MemberChange::Remove(user.id))
                    .chain(ban)
                    .collect(),
                GroupEventKind::Removed { user: user.clone() },
            )
        }
        Resolved::Promote(user) => {
            admin()?;
            match membership.seat(user.id).map(|seat| seat.role) {
                None => return Err(ChatError::NoSuchMember),
                Some(Role::Admin) => return Err(ChatError::AlreadyAdmin),
                Some(Role::Member) => {}
            }
            (
                vec![MemberChange::SetRole(user.id, Role::Admin)],
                GroupEventKind::Promoted { user: user.clone() },
            )
        }
        Resolved::Rename(name) => {
            admin()?;
            (
                vec![MemberChange::Rename(name.clone())],
                GroupEventKind::Renamed { name: name.clone() },
            )
        }
    };
    let mut changes = changes;
    changes.extend(keep_an_admin(membership, &changes));
    if nobody_left(membership, &changes) {
        changes.push(MemberChange::Close);
    }
    Ok(vec![GroupStep {
        changes,
        event: GroupEvent {
            by: actor.clone(),
            kind,
        },
    }])
}

/// Tells everyone concerned of a committed group change: `before` were the
/// members before it, `after` are the members now. The event messages go
/// first (the first introduces the group to a new member's devices); then
/// new members get the whole group, and everyone else only what changed,
/// so that a change in a full group costs each member a few hundred bytes.
pub fn announce(
    hub: &dyn Hub,
    write: &GroupWrite,
    before: &[UserId],
    after: &[UserId],
    written: &GroupWritten,
) {
    let mut audience: Vec<UserId> = before.iter().chain(after).copied().collect();
    audience.sort_unstable();
    audience.dedup();
    // A new group's members are all new: its newest event introduces it,
    // and the others are history.
    let creating = matches!(write.target, GroupTarget::Create { .. });
    let skip = if creating {
        written.messages.len().saturating_sub(1)
    } else {
        0
    };
    for message in written.messages.iter().skip(skip) {
        hub.publish(&audience, Event::message(Arc::new(message.clone()), None));
    }
    let conversation = &written.conversation;
    let (new, known): (Vec<UserId>, Vec<UserId>) = audience
        .into_iter()
        .partition(|user| creating || !before.contains(user));
    if !new.is_empty() {
        let frame = ServerFrame::Conversation {
            conversation: conversation.clone(),
        };
        let kind = FrameKind::Conversation {
            last_seq: conversation.last_seq,
        };
        hub.publish(&new, Event::frame(conversation.id, kind, &frame));
    }
    let Some(group) = conversation.group.clone() else {
        return;
    };
    if known.is_empty() {
        return;
    }
    let mut members = Vec::new();
    let mut removed = Vec::new();
    for change in write.steps.iter().flat_map(|step| &step.changes) {
        match change {
            MemberChange::Add(user, ..) | MemberChange::SetRole(user, _) => {
                let member = conversation.members.iter().find(|m| m.user.id == *user);
                if let Some(member) = member.filter(|m| !members.contains(*m)) {
                    let mut member = member.clone();
                    // A request's cursors are nobody else's business yet.
                    if member.pending {
                        member.delivered = 0;
                        member.read = 0;
                        member.pending = false;
                    }
                    members.push(member);
                }
            }
            MemberChange::Remove(user) => removed.push(*user),
            MemberChange::Rename(_)
            | MemberChange::Request(..)
            | MemberChange::Ban(_)
            | MemberChange::Unban(_)
            | MemberChange::Close => {}
        }
    }
    let frame = ServerFrame::Group {
        conversation: conversation.id,
        group,
        members,
        removed,
    };
    hub.publish(
        &known,
        Event::frame(conversation.id, FrameKind::Group, &frame),
    );
}

/// A group whose last admin leaves gets its longest-standing member as
/// admin, so that it can still be managed.
fn keep_an_admin(membership: &Membership, changes: &[MemberChange]) -> Option<MemberChange> {
    let removed = |user: UserId| changes.contains(&MemberChange::Remove(user));
    let remaining: Vec<_> = membership
        .seats
        .iter()
        .filter(|seat| !removed(seat.user))
        .collect();
    if remaining.iter().any(|seat| seat.role == Role::Admin) {
        return None;
    }
    remaining
        .iter()
        .min_by_key(|seat| (seat.joined_at, seat.user))
        .map(|seat| MemberChange::SetRole(seat.user, Role::Admin))
}

/// Whether `changes` leave the group empty: it is then closed for good, so
/// that nobody can take it over with its history.
fn nobody_left(membership: &Membership, changes: &[MemberChange]) -> bool {
    let removed = |user: UserId| changes.contains(&MemberChange::Remove(user));
    let added = changes
        .iter()
        .any(|change| matches!(change, MemberChange::Add(..)));
    !added && membership.seats.iter().all(|seat| removed(seat.user))
}

/// The steps that create a group: the creator as its first admin, then
/// each member.
fn plan_creation(creator: &User, name: &str, members: &[User]) -> Vec<GroupStep> {
    let by = || creator.clone();
    std::iter::once(GroupStep {
        changes: vec![MemberChange::Add(creator.id, Role::Admin, History::Whole)],
        event: GroupEvent {
            by: by(),
            kind: GroupEventKind::Created {
                name: name.to_owned(),
            },
        },
    })
    .chain(members.iter().map(|member| GroupStep {
        changes: vec![MemberChange::Add(member.id, Role::Member, History::Whole)],
        event: GroupEvent {
            by: by(),
            kind: GroupEventKind::Added {
                user: member.clone(),
            },
        },
    }))
    .collect()
}

impl Chat {
    pub async fn create_group(
        &self,
        creator: &User,
        request: NewGroup,
        now: Millis,
    ) -> Result<Conversation, ChatError> {
        let name = limits::check_group_name(&request.name)?;
        let hashtag = request
            .hashtag
            .as_deref()
            .filter(|tag| !tag.trim().is_empty())
            .map(limits::check_hashtag)
            .transpose()?;
        if let Some(picture) = &request.picture {
            limits::check_group_picture(picture)?;
        }
        limits::check_group_size(request.members.len() + 1)?;
        let mut members: Vec<User> = Vec::with_capacity(request.members.len());
        for username in &request.members {
            let user = self.find_user(username).await?;
            if user.id != creator.id && !members.iter().any(|m| m.id == user.id) {
                self.may_add(creator, &user).await?;
                members.push(user);
            }
        }
        let mut steps = plan_creation(creator, &name, &members);
        // Being added by someone one never wrote to is a request.
        for step in &mut steps {
            let added = step.changes.iter().find_map(|change| match change {
                MemberChange::Add(user, ..) if *user != creator.id => Some(*user),
                _ => None,
            });
            if let Some(user) = added {
                if !self.store.knows(user, creator.id).await? {
                    step.changes.push(MemberChange::Request(user, creator.id));
                }
            }
        }
        let write = GroupWrite {
            target: GroupTarget::Create {
                name: name.clone(),
                hashtag,
                picture: request.picture,
            },
            steps,
            now,
        };
        match self.write_group(write, Vec::new()).await? {
            Some(mut conversation) => {
                super::reading::hold_back_requests(&mut conversation, creator.id);
                Ok(conversation)
            }
            // A new group has no epoch to be stale against.
            None => Err(ChatError::internal(super::pipeline::Stopped)),
        }
    }

    /// Applies `change` by `actor`, planning it again if the group changed
    /// meanwhile.
    pub async fn change_group(
        &self,
        actor: &User,
        conversation: ConversationId,
        change: GroupChange,
        now: Millis,
    ) -> Result<Conversation, ChatError> {
        // Whether someone added knows the admin adding them; if not, their
        // seat is a request.
        let mut introduced = true;
        let resolved = match change {
            GroupChange::Add(username) => {
                let user = self.find_user(&username).await?;
                self.may_add(actor, &user).await?;
                introduced = self.store.knows(user.id, actor.id).await?;
                Resolved::Add(user)
            }
            GroupChange::Remove(user) => Resolved::Remove(self.user_by_id(user).await?),
            GroupChange::Promote(user) => Resolved::Promote(self.user_by_id(user).await?),
            GroupChange::Rename(name) => Resolved::Rename(limits::check_group_name(&name)?),
            GroupChange::Join => Resolved::Join,
            GroupChange::Unban(user) => Resolved::Unban(self.user_by_id(user).await?),
        };
        for _ in 0..ATTEMPTS {
            let membership = self
                .roster
                .get(conversation)
                .await?
                .ok_or(ChatError::NotAMember)?;
            let mut steps = plan(&membership, actor, &resolved)?;
            if let (Resolved::Add(user), false) = (&resolved, introduced) {
                for step in &mut steps {
                    step.changes.push(MemberChange::Request(user.id, actor.id));
                }
            }
            let write = GroupWrite {
                target: GroupTarget::Existing {
                    conversation,
                    epoch: membership.epoch,
                },
                steps,
                now,
            };
            if let Some(mut conversation) = self.write_group(write, membership.user_ids()).await? {
                super::reading::hold_back_requests(&mut conversation, actor.id);
                return Ok(conversation);
            }
        }
        Err(ChatError::internal(super::pipeline::Stopped))
    }

    /// Nobody adds to a group someone who blocks them.
    async fn may_add(&self, actor: &User, user: &User) -> Result<(), ChatError> {
        if self.blocks.blocks(user.id, actor.id).await? {
            return Err(ChatError::CannotAdd(user.username.clone()));
        }
        Ok(())
    }

    /// A user named by id in a group change. Nobody has an id that no
    /// user has, so the rules refuse such a change as they refuse any
    /// change to a non-member.
    async fn user_by_id(&self, user: UserId) -> Result<User, ChatError> {
        Ok(self.store.user(user).await?.unwrap_or(User {
            id: user,
            username: String::new(),
            display_name: None,
            avatar: None,
            deleted: false,
        }))
    }

    /// Writes a planned group change; `None` when the group changed under
    /// it and it must be planned again.
    async fn write_group(
        &self,
        write: GroupWrite,
        before: Vec<UserId>,
    ) -> Result<Option<Conversation>, ChatError> {
        let answer = self.pipeline.queue(Work::Group { write, before }).await?;
        match answer.await {
            Ok(Ok(Done::Group(written))) => Ok(Some(written.conversation)),
            Ok(Err(PipelineError::Stale)) => Ok(None),
            Ok(Err(PipelineError::Refused(err))) => Err(err),
            Ok(Ok(_)) | Err(_) => Err(ChatError::internal(super::pipeline::Stopped)),
        }
    }

    /// Who is banned from a group, for its admins.
    pub async fn bans(&self, actor: &User, id: ConversationId) -> Result<Vec<User>, ChatError> {
        let membership = self.member_of(actor.id, id).await?;
        if membership.seat(actor.id).map(|seat| seat.role) != Some(Role::Admin) {
            return Err(ChatError::NotAdmin);
        }
        let mut users = Vec::with_capacity(membership.banned.len());
        for id in &membership.banned {
            users.extend(self.store.user(*id).await?);
        }
        Ok(users)
    }

    /// Public groups whose hashtag starts with `typed` (`#` optional).
    pub async fn search_groups(&self, typed: &str) -> Result<Vec<PublicGroup>, ChatError> {
        let typed = typed.trim();
        let prefix = typed.strip_prefix('#').unwrap_or(typed);
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if prefix.is_empty() || prefix.len() > limits::HASHTAG_MAX || !prefix.chars().all(allowed) {
            return Err(limits::Invalid::Hashtag.into());
        }
        Ok(self.store.public_groups(prefix, SEARCH_LIMIT).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Seat;

    fn user(id: UserId) -> User {
        User {
            id,
            username: format!("user{id}"),
            display_name: None,
            avatar: None,
            deleted: false,
        }
    }

    fn group(seats: &[(UserId, Role)], public: bool) -> Membership {
        Membership {
            id: 1,
            kind: ConversationKind::Group,
            epoch: 3,
            hashtag: public.then(|| "hikers".to_owned()),
            seats: seats
                .iter()
                .enumerate()
                .map(|(order, (user, role))| Seat {
                    user: *user,
                    role: *role,
                    joined_at: order as Millis,
                    history_from: 0,
                    request_from: None,
                    ended: false,
                })
                .collect(),
            banned: Vec::new(),
        }
    }

    #[test]
    fn only_admins_manage_and_outsiders_see_nothing() {
        let hikers = group(&[(1, Role::Admin), (2, Role::Member)], false);
        assert!(matches!(
            plan(&hikers, &user(2), &Resolved::Add(user(3))),
            Err(ChatError::NotAdmin)
        ));
        assert!(matches!(
            plan(&hikers, &user(9), &Resolved::Rename("x".into())),
            Err(ChatError::NotAMember)
        ));
        assert!(matches!(
            plan(&hikers, &user(9), &Resolved::Join),
            Err(ChatError::NotAMember),
        ));
        assert!(matches!(
            plan(&hikers, &user(1), &Resolved::Add(user(2))),
            Err(ChatError::AlreadyMember)
        ));
        assert!(matches!(
            plan(&hikers, &user(1), &Resolved::Promote(user(7))),
            Err(ChatError::NoSuchMember)
        ));
        let steps = plan(&hikers, &user(1), &Resolved::Add(user(3))).unwrap();
        assert_eq!(
            steps[0].changes,
            vec![MemberChange::Add(3, Role::Member, History::FromNow)]
        );
    }

    #[test]
    fn a_full_group_takes_nobody_more() {
        let seats: Vec<_> = (1..=MAX_GROUP_MEMBERS as UserId)
            .map(|id| (id, if id == 1 { Role::Admin } else { Role::Member }))
            .collect();
        let full = group(&seats, true);
        assert!(matches!(
            plan(&full, &user(1), &Resolved::Add(user(999))),
            Err(ChatError::GroupFull)
        ));
        assert!(matches!(
            plan(&full, &user(999), &Resolved::Join),
            Err(ChatError::GroupFull)
        ));
    }

    #[test]
    fn when_the_last_admin_leaves_the_longest_member_takes_over() {
        let hikers = group(
            &[(1, Role::Admin), (5, Role::Member), (4, Role::Member)],
            false,
        );
        let steps = plan(&hikers, &user(1), &Resolved::Remove(user(1))).unwrap();
        assert_eq!(
            steps[0].changes,
            vec![
                MemberChange::Remove(1),
                MemberChange::SetRole(5, Role::Admin)
            ]
        );
        assert_eq!(steps[0].event.kind, GroupEventKind::Left);
        // With another admin left, nobody is promoted.
        let two = group(&[(1, Role::Admin), (2, Role::Admin)], false);
        let steps = plan(&two, &user(1), &Resolved::Remove(user(1))).unwrap();
        assert_eq!(steps[0].changes, vec![MemberChange::Remove(1)]);
    }

    #[test]
    fn removal_from_a_public_group_bans_until_an_admin_lets_them_back() {
        let public = group(&[(1, Role::Admin), (2, Role::Member)], true);
        let steps = plan(&public, &user(1), &Resolved::Remove(user(2))).unwrap();
        assert_eq!(
            steps[0].changes,
            vec![MemberChange::Remove(2), MemberChange::Ban(2)]
        );
        let private = group(&[(1, Role::Admin), (2, Role::Member)], false);
        let steps = plan(&private, &user(1), &Resolved::Remove(user(2))).unwrap();
        assert_eq!(steps[0].changes, vec![MemberChange::Remove(2)]);

        let mut banned = group(&[(1, Role::Admin)], true);
        banned.banned = vec![2];
        assert!(matches!(
            plan(&banned, &user(2), &Resolved::Join),
            Err(ChatError::Banned)
        ));
        assert!(matches!(
            plan(&banned, &user(1), &Resolved::Unban(user(3))),
            Err(ChatError::NotBanned)
        ));
        let steps = plan(&banned, &user(1), &Resolved::Unban(user(2))).unwrap();
        assert_eq!(steps[0].changes, vec![MemberChange::Unban(2)]);
        // An admin adding them lifts the ban too.
        let steps = plan(&banned, &user(1), &Resolved::Add(user(2))).unwrap();
        assert_eq!(
            steps[0].changes,
            vec![
                MemberChange::Unban(2),
                MemberChange::Add(2, Role::Member, History::FromNow)
            ]
        );
    }

    #[test]
    fn an_empty_group_is_closed_and_late_members_read_from_their_join() {
        let alone = group(&[(1, Role::Admin)], true);
        let steps = plan(&alone, &user(1), &Resolved::Remove(user(1))).unwrap();
        assert_eq!(
            steps[0].changes,
            vec![MemberChange::Remove(1), MemberChange::Close]
        );
        let steps = plan(&alone, &user(5), &Resolved::Join).unwrap();
        assert_eq!(
            steps[0].changes,
            vec![MemberChange::Add(5, Role::Member, History::FromNow)]
        );
        let created = plan_creation(&user(1), "x", &[user(2)]);
        assert!(created
            .iter()
            .flat_map(|step| &step.changes)
            .all(|change| matches!(change, MemberChange::Add(_, _, History::Whole))));
    }
}
