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
    #[error("That message is not there any more (or cannot be answered or changed).")]
    BadTarget,
    #[error("Only the sender can edit or delete a message.")]
    NotYours,
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
    #[error("{}", too_many_attempts(*.retry_after_secs))]
    TooManyAttempts { retry_after_secs: u64 },
    /// Our failure, not the user's: logged, and the same frame or request
    /// may be tried again.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn too_many_attempts(retry_after_secs: u64) -> String {
    match retry_after_secs.div_ceil(60) {
        1 => "Too many login attempts. Try again in a minute.".to_owned(),
        minutes => format!("Too many login attempts. Try again in {minutes} minutes."),
    }
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
            StoreError::NotFound => ChatError::NotAMember,
            other => ChatError::internal(other),
        }
    }
}
