//! WebM (Matroska) metadata: `Tags` and `Attachments` become `Void`
//! elements; in `Info`, the recording date (`DateUTC`) and `Title` become
//! `Void` too, and the names of the programs that wrote the file
//! (`MuxingApp`, `WritingApp`, which players require) are emptied.
//!
//! The walk reads element headers only, and `Info` whole. It stops at the
//! first element of unknown size (a live recording's clusters): what a
//! recorder writes before its media is all the metadata it writes.

use super::{Patch, Source, StripError, MAX_HEADER_BYTES};

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TAGS: u32 = 0x1254_C367;
const ATTACHMENTS: u32 = 0x1941_A469;
const DATE_UTC: u32 = 0x4461;
const TITLE: u32 = 0x7BA9;
const MUXING_APP: u32 = 0x4D80;
const WRITING_APP: u32 = 0x5741;
const VOID: u8 = 0xEC;

/// An element's place; `end` is `None` when its size is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Element {
    id: u32,
    start: u64,
    body: u64,
    end: Option<u64>,
}

/// A variable-length integer's length from its first byte.
fn vint_length(first: u8, most: u32) -> Result<usize, StripError> {
    let length = first.leading_zeros() + 1;
    if length > most {
        return Err(StripError::Malformed);
    }
    Ok(length as usize)
}

/// Reads the header of the element at `start`, from `bytes` that begin
/// there, given where its parent ends.
fn element(bytes: &[u8], start: u64, parent_end: u64) -> Result<Element, StripError> {
    let first = *bytes.first().ok_or(StripError::Malformed)?;
    let id_length = vint_length(first, 4)?;
    let id = bytes
        .get(..id_length)
        .ok_or(StripError::Malformed)?
        .iter()
        .fold(0u32, |id, &b| (id << 8) | u32::from(b));
    let size_first = *bytes.get(id_length).ok_or(StripError::Malformed)?;
    let size_length = vint_length(size_first, 8)?;
    let size_bytes = bytes
        .get(id_length..id_length + size_length)
        .ok_or(StripError::Malformed)?;
    let marker = 1u64 << (7 * size_length);
    let size = size_bytes
        .iter()
        .fold(0u64, |size, &b| (size << 8) | u64::from(b))
        & (marker - 1);
    let body = start + (id_length + size_length) as u64;
    let end = if size == marker - 1 {
        None
    } else {
        let end = body.checked_add(size).ok_or(StripError::Malformed)?;
        if end > parent_end {
            return Err(StripError::Malformed);
        }
        Some(end)
    };
    Ok(Element {
        id,
        start,
        body,
        end,
    })
}

/// A `Void` element `total` bytes long (at least 2), all zeros inside.
fn void(total: usize) -> Vec<u8> {
    let mut out = vec![0; total];
    out[0] = VOID;
    if total - 2 < 127 {
        out[1] = 0x80 | (total - 2) as u8;
    } else {
        // An 8-byte size: 0x01, then the size in 7 bytes.
        let size = (total - 9) as u64;
        out[1..9].copy_from_slice(&(size | (1 << 56)).to_be_bytes());
    }
    out
}

/// The patches that strip the file in `source`.
pub async fn plan<S: Source + ?Sized>(source: &S) -> Result<Vec<Patch>, StripError> {
    let len = source.size();
    let header = element(&source.read(0, 12).await?, 0, len)?;
    let Some(mut offset) = header.end.filter(|_| header.id == EBML) else {
        return Err(StripError::Malformed);
    };
    let mut patches = Vec::new();
    while offset < len {
        let segment = element(&source.read(offset, 12).await?, offset, len)?;
        if segment.id != SEGMENT {
            return Err(StripError::Malformed);
        }
        let end = segment.end.unwrap_or(len);
        if !walk_segment(source, segment.body, end, &mut patches).await? {
            break;
        }
        offset = end;
    }
    Ok(patches)
}

/// Strips a segment's top-level elements; `false` when the walk had to
/// stop at an element of unknown size.
async fn walk_segment<S: Source + ?Sized>(
    source: &S,
    mut offset: u64,
    end: u64,
    patches: &mut Vec<Patch>,
) -> Result<bool, StripError> {
    while offset < end {
        let found = element(&source.read(offset, 12).await?, offset, end)?;
        let Some(found_end) = found.end else {
            return Ok(false);
        };
        let size = found_end - found.start;
        match found.id {
            TAGS | ATTACHMENTS => {
                if size > MAX_HEADER_BYTES {
                    return Err(StripError::TooLarge);
                }
                patches.push(Patch {
                    offset: found.start,
                    bytes: void(size as usize),
                });
            }
            INFO => {
                if size > MAX_HEADER_BYTES {
                    return Err(StripError::TooLarge);
                }
                let mut info = source.read(found.start, size).await?;
                if info.len() as u64 != size {
                    return Err(StripError::Malformed);
                }
                if scrub_info(&mut info, found.body - found.start)? {
                    patches.push(Patch {
                        offset: found.start,
                        bytes: info,
                    });
                }
            }
            _ => {}
        }
        offset = found_end;
    }
    Ok(true)
}

/// Strips an `Info` element held whole in `info`, whose children start at
/// `body`; whether anything changed.
fn scrub_info(info: &mut [u8], body: u64) -> Result<bool, StripError> {
    let end = info.len() as u64;
    let mut offset = body;
    let mut changed = false;
    while offset < end {
        let rest = info.get(offset as usize..).ok_or(StripError::Malformed)?;
        let found = element(rest, offset, end)?;
        let found_end = found.end.ok_or(StripError::Malformed)?;
        let (start, body, stop) = (
            found.start as usize,
            found.body as usize,
            found_end as usize,
        );
        match found.id {
            DATE_UTC | TITLE => {
                info[start..stop].copy_from_slice(&void(stop - start));
                changed = true;
            }
            MUXING_APP | WRITING_APP => {
                changed |= info[body..stop].iter().any(|&b| b != 0);
                info[body..stop].fill(0);
            }
            _ => {}
        }
        offset = found_end;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::super::{apply, StripError};
    use super::*;

    fn el(id: u32, body: &[u8]) -> Vec<u8> {
        let id_bytes = id.to_be_bytes();
        let skip = id_bytes.iter().take_while(|&&b| b == 0).count();
        let mut out = id_bytes[skip..].to_vec();
        // Sizes as an 8-byte vint, as many muxers write them.
        out.extend_from_slice(&((body.len() as u64) | (1 << 56)).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn strip(file: &[u8]) -> Result<Vec<u8>, StripError> {
        let patches = futures::executor::block_on(plan(file))?;
        Ok(apply(file, &patches))
    }

    fn camera_webm(cluster_size_known: bool) -> Vec<u8> {
        let mut file = el(EBML, &el(0x4282, b"webm"));
        let info = el(
            INFO,
            &[
                el(0x2AD7B1, &[0x0F, 0x42, 0x40]),
                el(DATE_UTC, &[0x0A, 0x1B, 0x2C, 0x3D, 0x4E, 0x5F, 0x60, 0x71]),
                el(TITLE, b"Holiday at 48.8584N 2.2945E"),
                el(MUXING_APP, b"PhoneMux 1.2"),
                el(WRITING_APP, b"Pixel 8 Camera"),
            ]
            .concat(),
        );
        let tags = el(
            TAGS,
            &el(0x7373, &el(0x67C8, b"LOCATION +48.8584+002.2945/")),
        );
        let tracks = el(0x1654AE6B, &el(0xAE, &el(0x86, b"V_VP8")));
        let mut cluster = vec![0x1F, 0x43, 0xB6, 0x75];
        let media = [0x99; 64];
        if cluster_size_known {
            cluster = el(0x1F43B675, &media);
        } else {
            cluster.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            cluster.extend_from_slice(&media);
        }
        let mut segment_body = [info, tracks, tags.clone()].concat();
        segment_body.extend(cluster);
        if cluster_size_known {
            // Tags written after the media, as some muxers do.
            segment_body.extend(tags);
        }
        file.extend(el(SEGMENT, &segment_body));
        file
    }

    #[test]
    fn a_recordings_date_place_and_device_go_and_its_media_stays() {
        for cluster_size_known in [true, false] {
            let file = camera_webm(cluster_size_known);
            let stripped = strip(&file).unwrap();
            assert_eq!(stripped.len(), file.len());
            for secret in [
                &b"48.8584"[..],
                b"Holiday",
                b"PhoneMux",
                b"Pixel 8",
                &[0x0A, 0x1B, 0x2C, 0x3D],
            ] {
                assert!(
                    !contains(&stripped, secret),
                    "{}",
                    String::from_utf8_lossy(secret)
                );
            }
            assert!(contains(&stripped, &[0x99; 64]));
            assert!(contains(&stripped, b"V_VP8"));
            assert_eq!(strip(&stripped).unwrap(), stripped);
        }
    }

    #[test]
    fn voids_of_every_size_read_back_as_one_element() {
        for total in [2, 3, 100, 128, 129, 130, 5000] {
            let made = void(total);
            let read = element(&made, 0, total as u64).unwrap();
            assert_eq!((read.id, read.end), (u32::from(VOID), Some(total as u64)));
        }
    }

    #[test]
    fn damaged_files_are_refused() {
        let file = camera_webm(true);
        assert_eq!(strip(&file[..40]), Err(StripError::Malformed));
        assert_eq!(strip(b"\0\0\0\x18ftypisom"), Err(StripError::Malformed));
        assert_eq!(strip(b""), Err(StripError::Malformed));
    }
}
