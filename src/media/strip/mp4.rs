//! MP4 and QuickTime (ISO base media) metadata: user data (`udta`, where
//! phones write `©xyz`, the GPS position, and the make and model), `meta`
//! (Apple's `com.apple.quicktime.*` keys: location, device, creation
//! date), `uuid` boxes (XMP), at the top level, in `moov` and in each
//! `trak`; and the creation and modification times in `mvhd`, `tkhd` and
//! `mdhd`.
//!
//! Only headers are read: each top-level box's header, and `moov` whole.

use super::{Patch, Source, StripError, MAX_HEADER_BYTES};

/// Boxes that hold nothing a player needs, only metadata.
const METADATA: [&[u8; 4]; 4] = [b"udta", b"meta", b"uuid", b"XMP_"];
/// Boxes whose children are walked.
const CONTAINERS: [&[u8; 4]; 3] = [b"moov", b"trak", b"mdia"];
/// Full boxes that begin with a creation and a modification time.
const DATED: [&[u8; 4]; 3] = [b"mvhd", b"tkhd", b"mdhd"];

/// A box's place: where it starts, where its contents start, where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    kind: [u8; 4],
    start: u64,
    body: u64,
    end: u64,
}

/// Reads the header of the box at `start` in `bytes` (which hold at least
/// the header), given where its parent ends.
fn header(bytes: &[u8], start: u64, parent_end: u64) -> Result<Header, StripError> {
    let word = |at: usize| -> Result<[u8; 4], StripError> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or(StripError::Malformed)
    };
    let size = u64::from(u32::from_be_bytes(word(0)?));
    let kind = word(4)?;
    let (length, body) = match size {
        // The box runs to the end of its parent.
        0 => (parent_end - start, 8),
        1 => {
            let high = u64::from(u32::from_be_bytes(word(8)?));
            let low = u64::from(u32::from_be_bytes(word(12)?));
            ((high << 32) | low, 16)
        }
        size => (size, 8),
    };
    let end = start.checked_add(length).ok_or(StripError::Malformed)?;
    if length < body || end > parent_end {
        return Err(StripError::Malformed);
    }
    Ok(Header {
        kind,
        start,
        body: start + body,
        end,
    })
}

/// The patches that strip the file in `source`. A file with no `moov` is
/// not an MP4.
pub async fn plan<S: Source + ?Sized>(source: &S) -> Result<Vec<Patch>, StripError> {
    let len = source.size();
    let mut patches = Vec::new();
    let mut offset = 0;
    let mut movie = false;
    while offset < len {
        let head = source.read(offset, 16).await?;
        let found = header(&head, offset, len)?;
        if offset == 0 && !matches!(&found.kind, b"ftyp" | b"wide" | b"free" | b"mdat" | b"moov") {
            return Err(StripError::Malformed);
        }
        if &found.kind == b"moov" {
            movie = true;
            let size = found.end - found.start;
            if size > MAX_HEADER_BYTES {
                return Err(StripError::TooLarge);
            }
            let mut moov = source.read(found.start, size).await?;
            if moov.len() as u64 != size {
                return Err(StripError::Malformed);
            }
            if scrub(&mut moov, 0, size)? {
                patches.push(Patch {
                    offset: found.start,
                    bytes: moov,
                });
            }
        } else if METADATA.contains(&&found.kind) {
            let size = found.end - found.start;
            if size > MAX_HEADER_BYTES {
                return Err(StripError::TooLarge);
            }
            let mut freed = head[..(found.body - found.start) as usize].to_vec();
            freed.resize(size as usize, 0);
            freed[4..8].copy_from_slice(b"free");
            patches.push(Patch {
                offset: found.start,
                bytes: freed,
            });
        }
        offset = found.end;
    }
    if movie {
        Ok(patches)
    } else {
        Err(StripError::Malformed)
    }
}

/// Strips the box spanning `start..end` of `bytes` in place (its children,
/// if it is a container); whether anything changed.
fn scrub(bytes: &mut [u8], start: u64, end: u64) -> Result<bool, StripError> {
    let this = header(slice(bytes, start, end)?, start, end)?;
    let mut changed = false;
    if DATED.contains(&&this.kind) {
        changed |= undate(bytes, this)?;
    }
    if CONTAINERS.contains(&&this.kind) {
        let mut child = this.body;
        while child < this.end {
            let found = header(slice(bytes, child, this.end)?, child, this.end)?;
            if METADATA.contains(&&found.kind) {
                free(bytes, found);
                changed = true;
            } else {
                changed |= scrub(bytes, found.start, found.end)?;
            }
            child = found.end;
        }
    }
    Ok(changed)
}

fn slice(bytes: &[u8], start: u64, end: u64) -> Result<&[u8], StripError> {
    bytes
        .get(start as usize..end as usize)
        .ok_or(StripError::Malformed)
}

/// Turns a box into a `free` box of the same size, its contents zeroed.
fn free(bytes: &mut [u8], found: Header) {
    let (start, body, end) = (
        found.start as usize,
        found.body as usize,
        found.end as usize,
    );
    bytes[start + 4..start + 8].copy_from_slice(b"free");
    bytes[body..end].fill(0);
}

/// Zeroes a dated box's creation and modification times (version 0: two
/// 32-bit fields after the version and flags; version 1: two 64-bit ones).
fn undate(bytes: &mut [u8], found: Header) -> Result<bool, StripError> {
    let body = found.body as usize;
    let version = *bytes.get(body).ok_or(StripError::Malformed)?;
    let width = if version == 1 { 16 } else { 8 };
    let times = bytes
        .get_mut(body + 4..body + 4 + width)
        .filter(|_| (body + 4 + width) as u64 <= found.end)
        .ok_or(StripError::Malformed)?;
    let dated = times.iter().any(|&b| b != 0);
    times.fill(0);
    Ok(dated)
}

#[cfg(test)]
mod tests {
    use super::super::{apply, StripError};
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn dated(kind: &[u8; 4], version: u8, rest: &[u8]) -> Vec<u8> {
        let mut body = vec![version, 0, 0, 0];
        let stamp: &[u8] = if version == 1 {
            &[0, 0, 0, 0, 0xdf, 0x12, 0x34, 0x56]
        } else {
            &[0xdf, 0x12, 0x34, 0x56]
        };
        body.extend_from_slice(stamp);
        body.extend_from_slice(stamp);
        body.extend_from_slice(rest);
        boxed(kind, &body)
    }

    /// A phone's video, as phones write it: `moov` before `mdat`, with
    /// `©xyz` in user data, Apple's location and model keys, a track with
    /// user data of its own, and an XMP box at the top level.
    fn phone_video() -> (Vec<u8>, std::ops::Range<usize>) {
        let mut file = boxed(b"ftyp", b"qt  \0\0\0\0qt  ");
        let stco = boxed(b"stco", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x04, 0]);
        let track = [
            dated(b"tkhd", 0, &[0; 72]),
            boxed(
                b"mdia",
                &[
                    dated(b"mdhd", 1, &[0; 8]),
                    boxed(b"minf", &boxed(b"stbl", &stco)),
                ]
                .concat(),
            ),
            boxed(b"udta", &boxed(b"name", b"Camera track")),
        ]
        .concat();
        let location = "+37.3349-122.0090+010.000/";
        let user_data = boxed(
            b"udta",
            &[
                boxed(
                    b"\xa9xyz",
                    &[&[0, 18, 0x15, 0xc7][..], location.as_bytes()].concat(),
                ),
                boxed(b"\xa9mak", b"\0\x05\0\0Apple"),
            ]
            .concat(),
        );
        let keys = boxed(
            b"meta",
            &[
                boxed(b"hdlr", b"\0\0\0\0\0\0\0\0mdta\0\0\0\0\0\0\0\0\0\0\0\0\0"),
                boxed(
                    b"keys",
                    b"com.apple.quicktime.location.ISO6709com.apple.quicktime.model",
                ),
                boxed(b"ilst", &[location.as_bytes(), b"iPhone 15 Pro"].concat()),
            ]
            .concat(),
        );
        let moov = boxed(
            b"moov",
            &[
                dated(b"mvhd", 0, &[0; 88]),
                boxed(b"trak", &track),
                user_data,
                keys,
            ]
            .concat(),
        );
        file.extend(moov);
        file.extend(boxed(
            b"uuid",
            b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8<x:xmpmeta GPSLatitude/>",
        ));
        let start = file.len() + 8;
        file.extend(boxed(b"mdat", &[0x42; 512]));
        (file.clone(), start..start + 512)
    }

    fn strip(file: &[u8]) -> Result<Vec<u8>, StripError> {
        let patches = futures::executor::block_on(plan(file))?;
        Ok(apply(file, &patches))
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_phones_video_loses_place_device_and_dates_and_nothing_else() {
        let (file, media) = phone_video();
        let stripped = strip(&file).unwrap();
        assert_eq!(stripped.len(), file.len());
        for secret in [
            &b"\xa9xyz"[..],
            b"+37.3349",
            b"iPhone",
            b"Apple",
            b"Camera track",
            b"xmpmeta",
            b"com.apple.quicktime",
            &[0xdf, 0x12, 0x34, 0x56],
        ] {
            assert!(
                !contains(&stripped, secret),
                "{}",
                String::from_utf8_lossy(secret)
            );
        }
        // The media, the chunk offsets and the rest of the structure stay.
        assert_eq!(stripped[media.clone()], file[media]);
        assert!(contains(
            &stripped,
            &boxed(b"stco", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x04, 0])
        ));
        for kind in [
            b"ftyp", b"moov", b"mvhd", b"trak", b"tkhd", b"mdhd", b"mdat",
        ] {
            assert!(contains(&stripped, kind));
        }
        // Stripping again changes nothing.
        assert_eq!(strip(&stripped).unwrap(), stripped);
    }

    #[test]
    fn large_sizes_and_boxes_to_the_end_are_understood() {
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
        let moov = boxed(b"moov", &boxed(b"udta", b"\xa9xyz+01.0+02.0/"));
        // A 64-bit size, as cameras write for big boxes.
        let mut large = vec![0, 0, 0, 1];
        large.extend_from_slice(b"moov");
        large.extend_from_slice(&((moov.len() + 8) as u64).to_be_bytes());
        large.extend_from_slice(&moov[8..]);
        file.extend(large);
        // An `mdat` whose size is 0: it runs to the end of the file.
        file.extend_from_slice(&[0, 0, 0, 0]);
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&[7; 100]);
        let stripped = strip(&file).unwrap();
        assert!(!contains(&stripped, b"+01.0+02.0"));
        assert_eq!(stripped[stripped.len() - 100..], [7; 100]);
    }

    #[test]
    fn damaged_files_are_refused_not_passed_on() {
        let (file, _) = phone_video();
        // Cut inside `moov`.
        assert_eq!(strip(&file[..200]), Err(StripError::Malformed));
        // A size that runs past the end of its parent (`mvhd`, the first
        // box in `moov`, right after the 20-byte `ftyp`).
        let mut lying = file.clone();
        assert_eq!(&lying[32..36], b"mvhd");
        lying[28..32].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(strip(&lying).is_err());
        // Not an MP4 at all.
        assert_eq!(
            strip(b"\x1aE\xdf\xa3 webm, not mp4"),
            Err(StripError::Malformed)
        );
        assert_eq!(strip(&boxed(b"ftyp", b"isom")), Err(StripError::Malformed));
    }
}
