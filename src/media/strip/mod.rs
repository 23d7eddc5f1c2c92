//! Strips a video's metadata (where and when it was filmed, on what
//! device) before it leaves the device, by rewriting the container rather
//! than re-encoding: MP4 and QuickTime boxes ([`mp4`]), WebM elements
//! ([`webm`]).
//!
//! Every change keeps sizes: a metadata box becomes a `free` box (an
//! element becomes a `Void`) of the same length with its bytes zeroed, and
//! dates are zeroed in place. Nothing moves, so the offsets that point at
//! the media data stay right, and the result is a list of [`Patch`]es over
//! the original file: the media data itself is never read.

pub mod mp4;
pub mod webm;

use std::future::Future;

/// Bytes to write over the original at `offset` (as many as it has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// Where a video's bytes are read from: a browser `Blob`, or a slice in
/// tests.
pub trait Source {
    /// How many bytes there are.
    fn size(&self) -> u64;
    /// `len` bytes from `start` (fewer only at the end).
    fn read(&self, start: u64, len: u64) -> impl Future<Output = Result<Vec<u8>, StripError>>;
}

impl Source for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    async fn read(&self, start: u64, len: u64) -> Result<Vec<u8>, StripError> {
        let start = usize::try_from(start).map_err(|_| StripError::Malformed)?;
        let end = start.saturating_add(usize::try_from(len).map_err(|_| StripError::Malformed)?);
        Ok(self
            .get(start..end.min(self.len()))
            .ok_or(StripError::Malformed)?
            .to_vec())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripError {
    /// The container is not what its type says, or is cut short.
    #[error("the video file is damaged or not what its type says")]
    Malformed,
    /// A metadata structure too large to check in memory.
    #[error("the video's header is too large to check")]
    TooLarge,
    #[error("the video could not be read: {0}")]
    Read(String),
}

/// The most bytes of structure (an MP4 `moov`, a WebM `Info`) read into
/// memory at once. Real headers are a few megabytes at most.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;

/// What to patch in a video of `content_type` to strip its metadata.
pub async fn plan<S: Source + ?Sized>(
    source: &S,
    content_type: &str,
) -> Result<Vec<Patch>, StripError> {
    match content_type {
        "video/webm" => webm::plan(source).await,
        _ => mp4::plan(source).await,
    }
}

/// `original` with `patches` applied: for tests, and small files.
pub fn apply(original: &[u8], patches: &[Patch]) -> Vec<u8> {
    let mut out = original.to_vec();
    for patch in patches {
        let start = usize::try_from(patch.offset).unwrap_or(usize::MAX);
        if let Some(target) = out.get_mut(start..start.saturating_add(patch.bytes.len())) {
            target.copy_from_slice(&patch.bytes);
        }
    }
    out
}
