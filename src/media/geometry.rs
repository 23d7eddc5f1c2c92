//! Sizes of re-encoded pictures.

/// The longest side of a sent photo.
pub const MAX_SIDE: u32 = 2048;
/// The longest side of a thumbnail.
pub const THUMBNAIL_SIDE: u32 = 320;

/// `width`×`height` scaled down (never up) so that neither side exceeds
/// `max`, keeping the aspect ratio; no side ends up below one pixel.
pub fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max || longest == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(max) / f64::from(longest);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, max);
    (side(width), side(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_pictures_shrink_to_the_longest_side() {
        assert_eq!(fit(4032, 3024, MAX_SIDE), (2048, 1536));
        assert_eq!(fit(3024, 4032, MAX_SIDE), (1536, 2048));
        assert_eq!(fit(2048, 10, MAX_SIDE), (2048, 10));
        assert_eq!(fit(100_000, 1, THUMBNAIL_SIDE), (320, 1));
    }

    #[test]
    fn small_pictures_are_never_enlarged() {
        assert_eq!(fit(640, 480, MAX_SIDE), (640, 480));
        assert_eq!(fit(0, 0, MAX_SIDE), (1, 1));
    }
}
