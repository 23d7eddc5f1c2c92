//! Strips metadata from photos as they stream in, by rewriting their
//! container, never re-encoding the picture.
//!
//! The app re-encodes photos before sending them, so none of this should be
//! there; but a client that uploads straight to `POST /api/media` must not
//! get its camera's GPS position, capture time or device model served to
//! others. Removed:
//! - JPEG: APP1 (EXIF, XMP), APP3–APP13 (IPTC, Photoshop, maker data), APP15
//!   and comments, and anything after the end of the image (some cameras
//!   append a second, EXIF-tagged picture there). APP0 (JFIF), APP2 (the
//!   colour profile) and APP14 (Adobe's colour transform) stay: the picture
//!   needs them to look right.
//! - PNG: text chunks (`tEXt`, `zTXt`, `iTXt`), `eXIf` and `tIME`, and
//!   anything after `IEND`.
//!
//! Other types pass unchanged.

/// Why a photo could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrubError {
    #[error("this JPEG file is damaged ({0})")]
    Jpeg(&'static str),
    #[error("this PNG file is damaged ({0})")]
    Png(&'static str),
}

/// A filter over one file's bytes.
pub enum Scrubber {
    Jpeg(Jpeg),
    Png(Png),
    /// A type that carries no metadata we remove.
    Unchanged,
}

impl Scrubber {
    /// The filter for a file of type `essence` (e.g. `image/jpeg`).
    pub fn for_type(essence: &str) -> Self {
        match essence {
            "image/jpeg" => Scrubber::Jpeg(Jpeg::default()),
            "image/png" => Scrubber::Png(Png::default()),
            _ => Scrubber::Unchanged,
        }
    }

    /// Takes the next bytes of the file and appends those kept to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), ScrubError> {
        match self {
            Scrubber::Jpeg(jpeg) => jpeg.feed(input, out),
            Scrubber::Png(png) => png.feed(input, out),
            Scrubber::Unchanged => {
                out.extend_from_slice(input);
                Ok(())
            }
        }
    }
}

/// Where a JPEG stream is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum JpegState {
    /// Expecting the two bytes of SOI.
    #[default]
    Start,
    /// Expecting `0xFF` before a marker code.
    MarkerPrefix,
    /// After `0xFF` (fill bytes skipped): the marker code comes next.
    MarkerCode,
    /// Reading the two length bytes of segment `marker`; `high` is the first
    /// once read.
    Length { marker: u8, high: Option<u8> },
    /// Inside a segment's payload.
    Payload {
        keep: bool,
        remaining: usize,
        /// A start-of-scan header: compressed data follows it.
        scan: bool,
    },
    /// Compressed data; `after_ff` when the last byte was `0xFF`.
    Entropy { after_ff: bool },
    /// After EOI: the rest is dropped.
    Done,
}

#[derive(Debug, Default)]
pub struct Jpeg {
    state: JpegState,
}

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const COM: u8 = 0xFE;

/// Whether a segment with this marker is metadata to drop.
fn is_jpeg_metadata(marker: u8) -> bool {
    matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | COM)
}

/// Markers that stand alone, without a length.
fn is_standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD7 | SOI | EOI)
}

impl Jpeg {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), ScrubError> {
        let mut at = 0;
        while at < input.len() {
            let byte = input[at];
            match self.state {
                JpegState::Start => {
                    // Two bytes, FF D8, read one at a time.
                    match (out.is_empty(), byte) {
                        (true, 0xFF) => out.push(byte),
                        (false, SOI) => {
                            out.push(byte);
                            self.state = JpegState::MarkerPrefix;
                        }
                        _ => return Err(ScrubError::Jpeg("it does not start like a JPEG")),
                    }
                    at += 1;
                }
                JpegState::MarkerPrefix => {
                    if byte != 0xFF {
                        return Err(ScrubError::Jpeg("a segment is not where it should be"));
                    }
                    self.state = JpegState::MarkerCode;
                    at += 1;
                }
                JpegState::MarkerCode => {
                    at += 1;
                    match byte {
                        // Fill bytes before a marker.
                        0xFF => {}
                        0x00 => return Err(ScrubError::Jpeg("a marker is missing")),
                        EOI => {
                            out.extend_from_slice(&[0xFF, EOI]);
                            self.state = JpegState::Done;
                        }
                        marker if is_standalone(marker) => {
                            out.extend_from_slice(&[0xFF, marker]);
                            self.state = JpegState::MarkerPrefix;
                        }
                        marker => self.state = JpegState::Length { marker, high: None },
                    }
                }
                JpegState::Length { marker, high: None } => {
                    self.state = JpegState::Length {
                        marker,
                        high: Some(byte),
                    };
                    at += 1;
                }
                JpegState::Length {
                    marker,
                    high: Some(high),
                } => {
                    at += 1;
                    let length = usize::from(u16::from_be_bytes([high, byte]));
                    if length < 2 {
                        return Err(ScrubError::Jpeg("a segment has an impossible length"));
                    }
                    let keep = !is_jpeg_metadata(marker);
                    if keep {
                        out.extend_from_slice(&[0xFF, marker, high, byte]);
                    }
                    self.state = JpegState::Payload {
                        keep,
                        remaining: length - 2,
                        scan: marker == SOS,
                    };
                }
                JpegState::Payload {
                    keep,
                    remaining,
                    scan,
                } => {
                    let take = remaining.min(input.len() - at);
                    if keep {
                        out.extend_from_slice(&input[at..at + take]);
                    }
                    at += take;
                    if take == remaining {
                        self.state = if scan {
                            JpegState::Entropy { after_ff: false }
                        } else {
                            JpegState::MarkerPrefix
                        };
                    } else {
                        self.state = JpegState::Payload {
                            keep,
                            remaining: remaining - take,
                            scan,
                        };
                    }
                }
                JpegState::Entropy { after_ff: false } => {
                    // Copy the run up to the next 0xFF in one go.
                    let run = input[at..]
                        .iter()
                        .position(|b| *b == 0xFF)
                        .unwrap_or(input.len() - at);
                    out.extend_from_slice(&input[at..at + run]);
                    at += run;
                    if at < input.len() {
                        self.state = JpegState::Entropy { after_ff: true };
                        at += 1;
                    }
                }
                JpegState::Entropy { after_ff: true } => match byte {
                    // A stuffed 0xFF or a restart marker: still data.
                    0x00 | 0xD0..=0xD7 => {
                        out.extend_from_slice(&[0xFF, byte]);
                        self.state = JpegState::Entropy { after_ff: false };
                        at += 1;
                    }
                    // Fill: the earlier 0xFF stays as it was; the last one
                    // belongs to what follows.
                    0xFF => {
                        out.push(0xFF);
                        at += 1;
                    }
                    // A real marker ends the scan; it is read as one.
                    _ => self.state = JpegState::MarkerCode,
                },
                JpegState::Done => return Ok(()),
            }
        }
        Ok(())
    }
}

/// Where a PNG stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PngState {
    /// The 8-byte signature, then each chunk's length and type: `head`
    /// collects them.
    Head,
    /// A chunk's data and CRC; `last` for `IEND`.
    Body {
        keep: bool,
        remaining: u64,
        last: bool,
    },
    /// After `IEND`: the rest is dropped.
    Done,
}

#[derive(Debug)]
pub struct Png {
    state: PngState,
    head: Vec<u8>,
    signature_seen: bool,
}

impl Default for Png {
    fn default() -> Self {
        Png {
            state: PngState::Head,
            head: Vec::with_capacity(8),
            signature_seen: false,
        }
    }
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Chunks that say things about the picture rather than draw it.
fn is_png_metadata(kind: &[u8]) -> bool {
    matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME")
}

impl Png {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), ScrubError> {
        let mut at = 0;
        while at < input.len() {
            match self.state {
                PngState::Head => {
                    let take = (8 - self.head.len()).min(input.len() - at);
                    self.head.extend_from_slice(&input[at..at + take]);
                    at += take;
                    if self.head.len() < 8 {
                        continue;
                    }
                    if !self.signature_seen {
                        if self.head != PNG_SIGNATURE {
                            return Err(ScrubError::Png("it does not start like a PNG"));
                        }
                        out.extend_from_slice(&self.head);
                        self.signature_seen = true;
                        self.head.clear();
                        continue;
                    }
                    let length = u32::from_be_bytes([
                        self.head[0],
                        self.head[1],
                        self.head[2],
                        self.head[3],
                    ]);
                    if length > i32::MAX as u32 {
                        return Err(ScrubError::Png("a chunk has an impossible length"));
                    }
                    let kind = &self.head[4..8];
                    if !kind.iter().all(u8::is_ascii_alphabetic) {
                        return Err(ScrubError::Png("a chunk has no valid name"));
                    }
                    let keep = !is_png_metadata(kind);
                    let last = kind == b"IEND";
                    if keep {
                        out.extend_from_slice(&self.head);
                    }
                    self.head.clear();
                    self.state = PngState::Body {
                        keep,
                        remaining: u64::from(length) + 4,
                        last,
                    };
                }
                PngState::Body {
                    keep,
                    remaining,
                    last,
                } => {
                    let take = remaining.min((input.len() - at) as u64) as usize;
                    if keep {
                        out.extend_from_slice(&input[at..at + take]);
                    }
                    at += take;
                    self.state = match remaining - take as u64 {
                        0 if last => PngState::Done,
                        0 => PngState::Head,
                        remaining => PngState::Body {
                            keep,
                            remaining,
                            last,
                        },
                    };
                }
                PngState::Done => return Ok(()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(essence: &str, file: &[u8], chunk: usize) -> Result<Vec<u8>, ScrubError> {
        let mut scrubber = Scrubber::for_type(essence);
        let mut out = Vec::new();
        for piece in file.chunks(chunk) {
            scrubber.feed(piece, &mut out)?;
        }
        Ok(out)
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, marker];
        bytes.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    /// A JPEG's structure (not a decodable picture): SOI, APP0, the given
    /// segments, a scan with stuffed bytes and a restart marker, EOI.
    fn jpeg(extra: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut file = vec![0xFF, SOI];
        file.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        for segment in extra {
            file.extend_from_slice(segment);
        }
        file.extend(segment(0xDB, &[0u8; 65]));
        file.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        file.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, EOI]);
        file.extend_from_slice(trailer);
        file
    }

    #[test]
    fn jpeg_metadata_goes_and_the_picture_stays() {
        let exif = segment(0xE1, b"Exif\0\0GPS 48.8584N 2.2945E Canon EOS");
        let xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>");
        let iptc = segment(0xED, b"Photoshop 3.0\08BIM caption");
        let comment = segment(COM, b"taken at home");
        let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01profile");
        let tagged = jpeg(
            &[exif, xmp, iptc, comment, icc.clone()],
            b"\xFF\xD8second picture with Exif",
        );
        let clean = jpeg(&[icc], b"");
        for chunk in [1, 2, 3, 7, 64, tagged.len()] {
            assert_eq!(
                scrub("image/jpeg", &tagged, chunk).unwrap(),
                clean,
                "chunk {chunk}"
            );
        }
        // A clean file comes out exactly as it went in.
        assert_eq!(scrub("image/jpeg", &clean, 5).unwrap(), clean);
    }

    #[test]
    fn damaged_jpegs_are_refused() {
        assert!(scrub("image/jpeg", b"\xFF\xD8\xFF\xE1\x00\x01", 4).is_err());
        assert!(scrub("image/jpeg", b"\xFF\xD8\x00\x00", 4).is_err());
        assert!(scrub("image/jpeg", b"GIF89a", 4).is_err());
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(data);
        bytes.extend_from_slice(&[0xAA, 0xBB, 0xCC, 0xDD]);
        bytes
    }

    #[test]
    fn png_text_and_exif_go_and_the_picture_stays() {
        let build = |metadata: bool| {
            let mut file = PNG_SIGNATURE.to_vec();
            file.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
            if metadata {
                file.extend(chunk(b"tEXt", b"Author\0Ann at 48.85N"));
                file.extend(chunk(b"eXIf", b"MM\0*GPS"));
                file.extend(chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>"));
                file.extend(chunk(b"tIME", &[7, 234, 11, 30, 12, 0, 0]));
            }
            file.extend(chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3]));
            if metadata {
                file.extend(chunk(b"zTXt", b"Comment\0\0xyz"));
            }
            file.extend(chunk(b"IEND", b""));
            if metadata {
                file.extend_from_slice(b"trailing bytes");
            }
            file
        };
        let (tagged, clean) = (build(true), build(false));
        for size in [1, 3, 8, 13, tagged.len()] {
            assert_eq!(
                scrub("image/png", &tagged, size).unwrap(),
                clean,
                "chunk {size}"
            );
        }
        assert!(scrub("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\x01I!DR", 4).is_err());
    }

    #[test]
    fn other_types_pass_unchanged() {
        let webm = [0x1A, 0x45, 0xDF, 0xA3, 1, 2, 3];
        assert_eq!(scrub("video/webm", &webm, 2).unwrap(), webm);
    }
}
