//! [`ChatError`]: every way a use case can refuse or fail, in the words
//! people read. HTTP and WebSocket each map it once, to a status code or
//! an error code; the message is always this one.

use natter_protocol::limits::{self, Invalid};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// Not in the conversation, or there is no such conversation: the two
    /// look the same, so that ids cannot be probed.
    #[error("You are not in that conversation.")]
    NotAMember,
    #[error("{}", limits::unknown_username(.0))]
    NoSuchUsername(String),
    #[error("That person is not in the group.")]
    NoSuchMember,
    #[error("No such file.")]
    NoSuchFile,
    #[error("That attachment is not a file you uploaded to this conversation.")]
    BadAttachment,
    #[error("That file is attached to another message already; upload it again.")]
    AttachmentUsed,
    #[error(
        "You have uploaded {} MB in the last day, the most allowed. Try again later.",
        .limit_bytes / 1_000_000
    )]
    QuotaExceeded { limit_bytes: u64 },
    #[error("That message is not there any more (or cannot be answered or changed).")]
    BadTarget,
    #[error("Only the sender can edit a message, and only they or a group's admins delete it.")]
    NotYours,
    #[error("You blocked this person. Unblock them to send messages.")]
    YouBlocked,
    #[error("This account was deleted: nobody will read messages sent to it.")]
    AccountEnded,
    #[error("You can't block yourself.")]
    BlockYourself,
    #[error("A mute lasts from a moment to a year, or until you unmute.")]
    BadMuteLength,
    #[error("This push subscription can't be used: {0}.")]
    BadPushSubscription(String),
    #[error("This server does not send push notifications.")]
    PushOff,
    #[error("@{0} can't be added to this group.")]
    CannotAdd(String),
    #[error("You can't join this group: its admins removed you.")]
    Banned,
    #[error("That person is not banned from the group.")]
    NotBanned,
    #[error("That client id was already used in another conversation.")]
    ClientIdReused,
    #[error("Only the group's admins can do that.")]
    NotAdmin,
    #[error(
        "The group is full: groups have at most {} members.",
        limits::MAX_GROUP_MEMBERS
    )]
    GroupFull,
    #[error("Another public group has that hashtag. Try another one.")]
    HashtagTaken,
    #[error("They are already in the group.")]
    AlreadyMember,
    #[error("They are already an admin.")]
    AlreadyAdmin,
    #[error("That is a 1:1 conversation, not a group.")]
    NotAGroup,
    #[error("You can't start a conversation with yourself.")]
    Yourself,
    #[error("That username is taken. Try another one.")]
    UsernameTaken,
    #[error("Wrong username or password.")]
    BadCredentials,
    #[error("This account is suspended for breaking Natter's rules.")]
    Suspended,
    #[error("You can't report yourself.")]
    ReportYourself,
    #[error("No such report, or it is resolved already.")]
    NoSuchReport,
    #[error("That is not your current password.")]
    WrongPassword,
    #[error("{}", too_many_attempts(*.retry_after_secs))]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("{}", too_many_sign_ups(*.retry_after_secs))]
    TooManySignUps { retry_after_secs: u64 },
    /// Too many passwords are being checked at once: try again in a moment.
    #[error("Natter is very busy right now. Please try again in a moment.")]
    Busy,
    /// Our failure, not the user's: logged, and the same frame or request
    /// may be tried again.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// "in 10 seconds", "in a minute", "in 15 minutes".
fn in_time(seconds: u64) -> String {
    match seconds {
        0..=1 => "in a second".to_owned(),
        2..=59 => format!("in {seconds} seconds"),
        _ => match seconds.div_ceil(60) {
            1 => "in a minute".to_owned(),
            minutes => format!("in {minutes} minutes"),
        },
    }
}

fn too_many_attempts(retry_after_secs: u64) -> String {
    format!(
        "Too many login attempts. Try again {}.",
        in_time(retry_after_secs)
    )
}

fn too_many_sign_ups(retry_after_secs: u64) -> String {
    format!(
        "Too many accounts were made from this address. Try again {}.",
        in_time(retry_after_secs)
    )
}

impl ChatError {
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ChatError::Internal(Box::new(err))
    }
}

impl From<StoreError> for ChatError {
    /// What a store's refusal means to a person. Refusals a use case
    /// expects (a stale membership, a missing row) are handled where they
    /// happen; these are the ones that pass through.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UsernameTaken => ChatError::UsernameTaken,
            StoreError::HashtagTaken => ChatError::HashtagTaken,
            StoreError::ClientIdReused(_) => ChatError::ClientIdReused,
            StoreError::BadTarget => ChatError::BadTarget,
            StoreError::AttachmentTaken => ChatError::AttachmentUsed,
            StoreError::NotFound => ChatError::NotAMember,
            other => ChatError::internal(other),
        }
    }
}
