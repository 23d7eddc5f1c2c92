//! Media files (photos, videos, voice messages): where their bytes live.
//!
//! Handlers use the [`MediaStorage`] trait; [`FsMedia`] keeps files under
//! `<data>/media`, each under its random id. A file is written to a temporary
//! name and renamed into place only once complete and synced, so a crash or a
//! refused upload never leaves half a file behind.

pub mod scrub;
pub mod sniff;

use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use tokio::io::AsyncWriteExt;

/// A new random media id: 128 bits, URL-safe.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `id` could be one of ours (so it is safe in a path).
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[async_trait]
pub trait MediaStorage: Send + Sync + 'static {
    /// Starts writing file `id`; nothing is visible until it is committed.
    async fn create(&self, id: &str) -> io::Result<Box<dyn MediaWriter>>;
    /// Where file `id` can be read, with ranges.
    fn path(&self, id: &str) -> PathBuf;
    /// Deletes file `id`; a file that is not there is fine.
    async fn remove(&self, id: &str) -> io::Result<()>;
}

#[async_trait]
pub trait MediaWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// Makes the file durable and visible under its id.
    async fn commit(self: Box<Self>) -> io::Result<()>;
}

pub struct FsMedia {
    dir: PathBuf,
}

impl FsMedia {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FsMedia { dir: dir.into() }
    }
}

#[async_trait]
impl MediaStorage for FsMedia {
    async fn create(&self, id: &str) -> io::Result<Box<dyn MediaWriter>> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let temporary = self.dir.join(format!(".incoming-{id}"));
        let file = tokio::fs::File::create(&temporary).await?;
        Ok(Box::new(FsWriter {
            file: Some(file),
            temporary,
            destination: self.path(id),
        }))
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    async fn remove(&self, id: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(id)).await {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

struct FsWriter {
    file: Option<tokio::fs::File>,
    temporary: PathBuf,
    destination: PathBuf,
}

#[async_trait]
impl MediaWriter for FsWriter {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(chunk).await,
            None => Err(io::Error::other("already committed")),
        }
    }

    async fn commit(mut self: Box<Self>) -> io::Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        tokio::fs::rename(&self.temporary, &self.destination).await
    }
}

impl Drop for FsWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            // Abandoned (refused or failed): the partial file goes. If that
            // fails too, the `.incoming-` name keeps it from ever being served.
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_appear_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let media = FsMedia::new(dir.path());
        let id = new_id();
        assert!(is_valid_id(&id));
        let mut writer = media.create(&id).await.unwrap();
        writer.write(b"hello ").await.unwrap();
        writer.write(b"world").await.unwrap();
        assert!(!media.path(&id).exists());
        writer.commit().await.unwrap();
        assert_eq!(std::fs::read(media.path(&id)).unwrap(), b"hello world");

        let abandoned = new_id();
        let mut writer = media.create(&abandoned).await.unwrap();
        writer.write(b"partial").await.unwrap();
        drop(writer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn ids_are_checked_before_they_touch_a_path() {
        assert!(!is_valid_id("../../etc/passwd"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("aaaaaaaaaaaaaaaaaaaaa/"));
    }
}
