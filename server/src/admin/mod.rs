//! Moderation from the server's machine. `natter-server admin …` (the
//! [`cli`]) talks to the running server over a Unix socket in its data
//! directory, `admin.sock`, which only the server's own system user may
//! open ([`socket`]): nothing of it is reachable over the network, and
//! having a shell on the machine as that user is the credential.
//!
//! One connection carries one [`Request`] and one [`Answer`], each a line
//! of JSON.

pub mod cli;
pub mod socket;

use std::path::{Path, PathBuf};

use natter_protocol::{ConversationId, Seq};
use serde::{Deserialize, Serialize};

use crate::store::Report;

/// The socket's name in the data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.sock")
}

/// What a moderator asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// Open reports, or all of them.
    Reports {
        all: bool,
    },
    Resolve {
        id: i64,
        note: String,
    },
    Suspend {
        username: String,
    },
    Unsuspend {
        username: String,
    },
    DeleteMessage {
        conversation: ConversationId,
        seq: Seq,
    },
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    Reports { reports: Vec<Report> },
    Done { message: String },
    Refused { message: String },
}
