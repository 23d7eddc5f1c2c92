//! The server's end of the moderation socket: one request per connection,
//! carried out by the [`Chat`] use cases in [`crate::chat::moderation`].

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::{Answer, Request};
use crate::chat::Chat;
use crate::now_millis;

/// The longest request read, in bytes.
const MAX_REQUEST: u64 = 64 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the socket at `path`, replacing one a stopped server left, and
/// lets only this system user open it.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Answers moderators until `shutdown`.
pub async fn serve(listener: UnixListener, chat: Chat, shutdown: CancellationToken) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        match stream {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, chat.clone()));
            }
            Err(err) => tracing::warn!(error = %err, "accepting a moderator failed"),
        }
    }
}

async fn answer(stream: UnixStream, chat: Chat) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST));
    let answer = match tokio::time::timeout(READ_TIMEOUT, reader.read_line(&mut line)).await {
        Ok(Ok(_)) => match serde_json::from_str::<Request>(&line) {
            Ok(request) => carry_out(&chat, request).await,
            Err(err) => Answer::Refused {
                message: format!("not a request this server knows: {err}"),
            },
        },
        Ok(Err(err)) => Answer::Refused {
            message: format!("reading the request failed: {err}"),
        },
        Err(_) => Answer::Refused {
            message: "the request did not arrive in time".to_owned(),
        },
    };
    let mut text = serde_json::to_string(&answer).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    if let Err(err) = write.write_all(text.as_bytes()).await {
        tracing::warn!(error = %err, "answering a moderator failed");
    }
}

async fn carry_out(chat: &Chat, request: Request) -> Answer {
    tracing::info!(?request, "moderation");
    let done = |message: String| Answer::Done { message };
    let outcome = match request {
        Request::Reports { all } => chat
            .reports(all)
            .await
            .map(|reports| Answer::Reports { reports }),
        Request::Resolve { id, note } => chat
            .resolve_report(id, &note, now_millis())
            .await
            .map(|()| done(format!("Report {id} resolved."))),
        Request::Suspend { username } => chat.suspend(&username, now_millis()).await.map(|_| {
            done(format!(
                "@{username} is suspended: signed out everywhere, unable to log in or be found."
            ))
        }),
        Request::Unsuspend { username } => chat
            .unsuspend(&username)
            .await
            .map(|_| done(format!("@{username} may log in again."))),
        Request::DeleteMessage { conversation, seq } => chat
            .delete_message(conversation, seq, now_millis())
            .await
            .map(|()| {
                done(format!(
                    "Message {seq} of conversation {conversation} is deleted for everyone."
                ))
            }),
    };
    outcome.unwrap_or_else(|err| Answer::Refused {
        message: err.to_string(),
    })
}
