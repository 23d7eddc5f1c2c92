//! A page's picture, made ours: decoded (within bounds on its size and the
//! memory decoding may take), shrunk to fit a square of
//! [`PREVIEW_IMAGE_SIDE`], laid on white where it is transparent, and
//! encoded as a fresh JPEG. Nothing of the original file is served: no
//! metadata, no second image, no script in an SVG (which is not taken).
//! Kept under its SHA-256, so the same picture is stored once.

use std::io::Cursor;
use std::path::PathBuf;

use image::{DynamicImage, ImageReader, Limits, Rgb, RgbImage};
use natter_protocol::limits::PREVIEW_IMAGE_SIDE;
use natter_protocol::PreviewImage;
use sha2::{Digest, Sha256};

/// The largest side a picture may have to be decoded at all.
const MAX_SIDE: u32 = 8000;
/// The most memory decoding one picture may take.
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;
const QUALITY: u8 = 80;

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("the picture could not be read ({0})")]
    Unreadable(#[from] image::ImageError),
    #[error("the picture could not be read ({0})")]
    Io(#[from] std::io::Error),
}

/// The picture in `bytes` as a small JPEG, with its size.
pub fn shrink(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), PictureError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut picture = reader.decode()?;
    if picture.width() > PREVIEW_IMAGE_SIDE || picture.height() > PREVIEW_IMAGE_SIDE {
        picture = picture.thumbnail(PREVIEW_IMAGE_SIDE, PREVIEW_IMAGE_SIDE);
    }
    let flat = on_white(&picture);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY).encode_image(&flat)?;
    Ok((jpeg, flat.width(), flat.height()))
}

/// `picture` without transparency: what is see-through shows white, as on
/// a card.
fn on_white(picture: &DynamicImage) -> RgbImage {
    let rgba = picture.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |channel: u8| {
            let alpha = u16::from(a);
            let mixed = (u16::from(channel) * alpha + 255 * (255 - alpha)) / 255;
            u8::try_from(mixed).unwrap_or(u8::MAX)
        };
        Rgb([blend(r), blend(g), blend(b)])
    })
}

/// Where preview pictures are kept: `previews/` in the directory a cluster
/// shares, one file per picture, named by its hash.
#[derive(Debug, Clone)]
pub struct Pictures {
    dir: PathBuf,
}

impl Pictures {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Pictures { dir: dir.into() }
    }

    /// Whether `id` could name a picture (a SHA-256 in lowercase hex), so
    /// that no other path is ever opened.
    pub fn is_id(id: &str) -> bool {
        id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    fn path(&self, id: &str) -> Option<PathBuf> {
        Self::is_id(id).then(|| self.dir.join(format!("{id}.jpg")))
    }

    /// Keeps `jpeg`, written whole before it appears under its name.
    pub async fn keep(
        &self,
        jpeg: Vec<u8>,
        width: u32,
        height: u32,
    ) -> std::io::Result<PreviewImage> {
        let id = hex(&Sha256::digest(&jpeg));
        let path = self.dir.join(format!("{id}.jpg"));
        if tokio::fs::try_exists(&path).await? {
            return Ok(PreviewImage { id, width, height });
        }
        tokio::fs::create_dir_all(&self.dir).await?;
        let partial = self
            .dir
            .join(format!(".{id}.{}.partial", rand::random::<u64>()));
        tokio::fs::write(&partial, &jpeg).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(PreviewImage { id, width, height })
    }

    /// Whether a picture is kept as `id`.
    pub async fn has(&self, id: &str) -> bool {
        match self.path(id) {
            Some(path) => tokio::fs::try_exists(&path).await.unwrap_or(false),
            None => false,
        }
    }

    /// The JPEG kept as `id`, if there is one.
    pub async fn read(&self, id: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path(id) else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, alpha: u8) -> Vec<u8> {
        let picture = image::RgbaImage::from_pixel(width, height, image::Rgba([0, 0, 0, alpha]));
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(picture)
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .expect("encode");
        bytes
    }

    #[test]
    fn a_large_picture_is_shrunk_to_fit_and_reencoded() {
        let (jpeg, width, height) = shrink(&png(1200, 630, 255)).expect("shrunk");
        assert_eq!((width, height), (600, 315));
        assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
        let small = shrink(&png(40, 20, 255)).expect("kept");
        assert_eq!((small.1, small.2), (40, 20));
    }

    #[test]
    fn transparency_becomes_white() {
        let (jpeg, _, _) = shrink(&png(8, 8, 0)).expect("shrunk");
        let back = image::load_from_memory(&jpeg).expect("decode").to_rgb8();
        assert!(back.get_pixel(4, 4).0.iter().all(|&c| c > 240));
    }

    #[test]
    fn what_is_not_a_picture_or_too_large_is_refused() {
        assert!(shrink(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(shrink(&png(MAX_SIDE + 1, 1, 255)).is_err());
    }

    #[test]
    fn only_hashes_name_files() {
        assert!(Pictures::is_id(&"a1".repeat(32)));
        assert!(!Pictures::is_id("../natter.sqlite3"));
        assert!(!Pictures::is_id(&"A1".repeat(32)));
    }
}
