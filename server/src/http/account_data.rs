//! An account's data over HTTP: deleting the account, and exporting
//! everything as one zip, built while it streams (`natter.json` and the
//! files the person uploaded).

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use natter_protocol::{AccountDeletion, Millis, Mute, User};
use serde::Serialize;
use tokio::io::{AsyncWrite, DuplexStream};
use tokio_util::compat::FuturesAsyncWriteCompatExt;
use tokio_util::io::ReaderStream;

use super::extract::Json;
use crate::auth::{self, CurrentUser};
use crate::chat::Chat;
use crate::error::AppError;
use crate::{now_millis, AppState};

/// How many messages are read at a time while exporting.
const PAGE: u32 = 500;
/// How much of the archive may wait for the client.
const BUFFER: usize = 64 * 1024;

/// `POST /api/me/delete` `{password}`: 204, and the session cookie goes.
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<AccountDeletion>,
) -> Result<Response, AppError> {
    state
        .chat
        .delete_account(&current.user, request.password, now_millis())
        .await?;
    let cookie = auth::clear_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// `GET /api/me/export`: a zip of the person's data, streamed as it is
/// built.
pub async fn export(State(state): State<AppState>, current: CurrentUser) -> Response {
    let (writer, reader) = tokio::io::duplex(BUFFER);
    let chat = state.chat.clone();
    let name = format!("natter-{}.zip", current.user.username);
    tokio::spawn(async move {
        if let Err(err) = write_export(&chat, &current.user, writer).await {
            // The archive ends short; the client finds it unreadable.
            tracing::warn!(user = current.user.id, error = %err, "an export failed");
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(ReaderStream::new(reader)),
    )
        .into_response()
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("{0}")]
    Chat(#[from] crate::chat::ChatError),
    #[error("writing the archive failed: {0}")]
    Zip(#[from] async_zip::error::ZipError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// What `natter.json` starts with; conversations and their messages
/// follow, written as they are read.
#[derive(Serialize)]
struct Header<'a> {
    exported_at: Millis,
    profile: &'a User,
    blocked: &'a [User],
    mutes: &'a [Mute],
}

async fn write_export(chat: &Chat, user: &User, out: DuplexStream) -> Result<(), ExportError> {
    let now = now_millis();
    let plan = chat.export_plan(user, now).await?;
    let mut zip = ZipFileWriter::with_tokio(out);
    let json = ZipEntryBuilder::new("natter.json".into(), Compression::Deflate);
    let mut entry = zip.write_entry_stream(json).await?.compat_write();
    let header = serde_json::to_string(&Header {
        exported_at: now,
        profile: &plan.profile,
        blocked: &plan.blocked,
        mutes: &plan.mutes,
    })?;
    // The header's closing brace makes room for the conversations.
    let open = header.strip_suffix('}').unwrap_or(&header);
    put(&mut entry, format!("{open},\"conversations\":[")).await?;
    for (index, conversation) in plan.conversations.iter().enumerate() {
        let comma = if index == 0 { "" } else { "," };
        let record = serde_json::to_string(conversation)?;
        put(
            &mut entry,
            format!("{comma}{{\"conversation\":{record},\"messages\":["),
        )
        .await?;
        let mut after = 0;
        let mut first = true;
        loop {
            let page = chat
                .export_page(user.id, conversation.id, after, PAGE)
                .await?;
            for message in &page {
                let comma = if first { "" } else { "," };
                first = false;
                put(
                    &mut entry,
                    format!("{comma}{}", serde_json::to_string(message)?),
                )
                .await?;
                after = message.seq;
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        put(&mut entry, "]}".to_owned()).await?;
    }
    let uploads: Vec<_> = plan
        .uploads
        .iter()
        .map(|upload| {
            serde_json::json!({
                "file": upload_name(&upload.id, &upload.content_type),
                "conversation": upload.conversation,
                "message": upload.message_seq,
                "kind": upload.kind,
                "content_type": upload.content_type,
                "size": upload.size,
            })
        })
        .collect();
    put(
        &mut entry,
        format!("],\"uploads\":{}}}", serde_json::to_string(&uploads)?),
    )
    .await?;
    entry.into_inner().close().await?;

    let storage = chat.media_storage();
    for upload in &plan.uploads {
        let mut file = match tokio::fs::File::open(storage.path(&upload.id)).await {
            Ok(file) => file,
            Err(err) => {
                tracing::warn!(media = %upload.id, error = %err, "an uploaded file is missing");
                continue;
            }
        };
        // Photos, videos and voice are compressed already.
        let name = format!("uploads/{}", upload_name(&upload.id, &upload.content_type));
        let builder = ZipEntryBuilder::new(name.into(), Compression::Stored);
        let mut entry = zip.write_entry_stream(builder).await?.compat_write();
        tokio::io::copy(&mut file, &mut entry).await?;
        entry.into_inner().close().await?;
    }
    let mut out = zip.close().await?.into_inner();
    tokio::io::AsyncWriteExt::shutdown(&mut out).await?;
    Ok(())
}

async fn put(entry: &mut (impl AsyncWrite + Unpin), text: String) -> std::io::Result<()> {
    tokio::io::AsyncWriteExt::write_all(entry, text.as_bytes()).await
}

/// An upload's name in the archive: its id, with the extension its type
/// has.
fn upload_name(id: &str, content_type: &str) -> String {
    let extension = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/webm" | "audio/webm" => "webm",
        "video/quicktime" => "mov",
        "audio/ogg" => "ogg",
        "audio/mp4" => "m4a",
        _ => "bin",
    };
    format!("{id}.{extension}")
}
