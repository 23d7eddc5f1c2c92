//! `natter-server admin …`: the moderator's side of the socket. It sends
//! one request to the running server and prints the answer for people.

use std::path::Path;

use clap::Subcommand;
use natter_protocol::{ConversationId, Seq};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::{socket_path, Answer, Request};
use crate::store::Report;

/// What `natter-server admin` does.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Lists open reports, oldest first, with what the reporter saw.
    Reports {
        /// Resolved reports too.
        #[arg(long)]
        all: bool,
    },
    /// Marks a report resolved.
    Resolve {
        id: i64,
        /// What was done about it.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Suspends an account: signed out everywhere, unable to log in or be
    /// found.
    Suspend { username: String },
    /// Lets a suspended account log in again.
    Unsuspend { username: String },
    /// Deletes a message for everyone.
    DeleteMessage {
        conversation: ConversationId,
        seq: Seq,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(
        "cannot reach Natter at {path}: {source} (is natter-server running with this --data-dir?)"
    )]
    Unreachable {
        path: String,
        source: std::io::Error,
    },
    #[error("the server's answer was cut off: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server's answer is not one this tool knows: {0}")]
    Answer(#[from] serde_json::Error),
    #[error("{0}")]
    Refused(String),
}

impl From<AdminCommand> for Request {
    fn from(command: AdminCommand) -> Self {
        match command {
            AdminCommand::Reports { all } => Request::Reports { all },
            AdminCommand::Resolve { id, note } => Request::Resolve { id, note },
            AdminCommand::Suspend { username } => Request::Suspend { username },
            AdminCommand::Unsuspend { username } => Request::Unsuspend { username },
            AdminCommand::DeleteMessage { conversation, seq } => {
                Request::DeleteMessage { conversation, seq }
            }
        }
    }
}

/// Sends `request` to the server whose data directory is `data_dir`.
pub async fn ask(data_dir: &Path, request: &Request) -> Result<Answer, AdminError> {
    let path = socket_path(data_dir);
    let stream = UnixStream::connect(&path)
        .await
        .map_err(|source| AdminError::Unreachable {
            path: path.display().to_string(),
            source,
        })?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    write.write_all(line.as_bytes()).await?;
    let mut answer = String::new();
    BufReader::new(read).read_line(&mut answer).await?;
    Ok(serde_json::from_str(&answer)?)
}

/// Runs `command` and returns what to print.
pub async fn run(data_dir: &Path, command: AdminCommand) -> Result<String, AdminError> {
    match ask(data_dir, &command.into()).await? {
        Answer::Reports { reports } if reports.is_empty() => Ok("No reports.".to_owned()),
        Answer::Reports { reports } => {
            Ok(reports.iter().map(describe).collect::<Vec<_>>().join("\n"))
        }
        Answer::Done { message } => Ok(message),
        Answer::Refused { message } => Err(AdminError::Refused(message)),
    }
}

/// A report as a moderator reads it.
fn describe(report: &Report) -> String {
    let mut text = format!(
        "Report {} · {} · @{} reported @{}: {}\n",
        report.id,
        clock(report.created_at),
        report.reporter.username,
        report.reported.username,
        report.reason.label(),
    );
    if let Some(note) = &report.note {
        text.push_str(&format!("  Note: {note}\n"));
    }
    if let (Some(conversation), seq) = (report.conversation, report.seq) {
        let what = seq.map_or(String::new(), |seq| format!(", message {seq}"));
        text.push_str(&format!(
            "  In conversation {conversation}{what}; what the reporter saw:\n"
        ));
    }
    for message in &report.context {
        let who = if message.sender == report.reported.id {
            format!("@{}", report.reported.username)
        } else if message.sender == report.reporter.id {
            format!("@{}", report.reporter.username)
        } else {
            format!("user {}", message.sender)
        };
        let marker = if Some(message.seq) == report.seq {
            ">"
        } else {
            " "
        };
        let body = match (&message.event, &message.attachment, message.deleted) {
            (Some(_), _, _) => "(group change)".to_owned(),
            (_, _, true) => "(deleted)".to_owned(),
            (_, Some(file), _) if message.body.is_empty() => format!("({:?} file)", file.kind),
            _ => message.body.replace('\n', " "),
        };
        text.push_str(&format!("  {marker}{:>5} {who}: {body}\n", message.seq));
    }
    if let Some((at, note)) = &report.resolved {
        text.push_str(&format!("  Resolved {}: {note}\n", clock(*at)));
    }
    text
}

/// A time as UTC `YYYY-MM-DD HH:MM`.
fn clock(millis: natter_protocol::Millis) -> String {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let (hour, minute) = (secs.rem_euclid(86_400) / 3600, secs.rem_euclid(3600) / 60);
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clock_reads_utc() {
        assert_eq!(clock(0), "1970-01-01 00:00 UTC");
        assert_eq!(clock(1_795_824_130_000), "2026-11-28 00:02 UTC");
        assert_eq!(clock(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
