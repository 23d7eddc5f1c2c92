//! Profile codes: a user's profile link (`…/#add=username`) as a QR code,
//! and reading one back from a picture or a camera frame.

use natter_protocol::limits;
use qrcode::{Color, EcLevel, QrCode};

/// The profile link of `username` in the app served at `origin`.
pub fn profile_link(origin: &str, username: &str) -> String {
    format!("{origin}/#add={username}")
}

/// The username a profile link (or a location hash) names, if it is one.
pub fn username_in(link: &str) -> Option<String> {
    let (_, tail) = link.rsplit_once("#add=")?;
    let name = tail.trim();
    limits::check_username(name).ok()?;
    Some(name.to_owned())
}

/// A QR code as an SVG path: one unit square per dark module, on a square
/// of `size` units that includes a 4-unit quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawing {
    pub size: usize,
    pub path: String,
}

const QUIET: usize = 4;

pub fn draw(text: &str) -> Option<Drawing> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let mut path = String::new();
    for (index, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (index % width + QUIET, index / width + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some(Drawing {
        size: width + 2 * QUIET,
        path,
    })
}

/// The text of the first QR code found in a grey picture of
/// `width`×`height` (one byte per pixel, 0 black to 255 white).
pub fn read(width: usize, height: usize, grey: &[u8]) -> Option<String> {
    if grey.len() < width * height {
        return None;
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// Grey levels of RGBA pixels (as a canvas gives them), transparent ones
/// white.
pub fn grey_of_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| {
            let luma =
                (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
            let alpha = u32::from(p[3]);
            (255 - (alpha * (255 - luma)) / 255) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws `drawing` as grey pixels, `scale` per module, like a screen.
    fn rasterize(drawing: &Drawing, scale: usize) -> (usize, Vec<u8>) {
        let side = drawing.size * scale;
        let mut grey = vec![255u8; side * side];
        for square in drawing.path.split('M').filter(|s| !s.is_empty()) {
            let coords: Vec<usize> = square
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .take(2)
                .map(|n| n.parse().unwrap())
                .collect();
            for dy in 0..scale {
                for dx in 0..scale {
                    grey[(coords[1] * scale + dy) * side + coords[0] * scale + dx] = 0;
                }
            }
        }
        (side, grey)
    }

    #[test]
    fn a_profile_code_reads_back_as_the_user() {
        let link = profile_link("https://natter.example", "Ann.B_42");
        let drawing = draw(&link).unwrap();
        let (side, grey) = rasterize(&drawing, 5);
        let text = read(side, side, &grey).expect("decoded");
        assert_eq!(text, link);
        assert_eq!(username_in(&text).as_deref(), Some("Ann.B_42"));
    }

    #[test]
    fn links_that_are_not_profiles_are_ignored() {
        assert_eq!(username_in("https://x.org/#add=a b"), None);
        assert_eq!(username_in("https://x.org/"), None);
        assert_eq!(username_in("#add=bob"), Some("bob".to_owned()));
    }

    #[test]
    fn a_picture_without_a_code_reads_as_nothing() {
        assert_eq!(read(40, 40, &[255; 1600]), None);
        assert_eq!(read(40, 40, &[255; 10]), None);
    }

    #[test]
    fn transparent_pixels_are_white() {
        assert_eq!(
            grey_of_rgba(&[0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]),
            vec![0, 255, 255]
        );
    }
}
