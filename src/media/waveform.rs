//! Loudness of a voice recording: sampled while recording, then reduced to
//! the few peaks that travel with the message.

use natter_protocol::limits::MAX_WAVEFORM;

/// Root mean square of a block of samples (−1.0 to 1.0): how loud it is.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f32 = samples.iter().map(|s| s * s).sum();
    (sum / samples.len() as f32).sqrt()
}

/// Where a loudness sits on a level meter, 0.0 to 1.0: decibels from −60
/// (and below) to 0, since hearing is logarithmic.
pub fn meter(rms: f32) -> f64 {
    if rms <= 0.0 {
        return 0.0;
    }
    let decibels = 20.0 * f64::from(rms).log10();
    ((decibels + 60.0) / 60.0).clamp(0.0, 1.0)
}

/// Reduces loudness samples (taken at even intervals) to at most
/// [`MAX_WAVEFORM`] peaks of 0–255, the loudest scaled to 255, so that
/// quiet recordings still show their shape.
pub fn peaks(levels: &[f32]) -> Vec<u8> {
    if levels.is_empty() {
        return Vec::new();
    }
    let count = levels.len().min(MAX_WAVEFORM);
    let buckets: Vec<f32> = (0..count)
        .map(|i| {
            let start = i * levels.len() / count;
            let end = ((i + 1) * levels.len() / count).max(start + 1);
            levels[start..end].iter().copied().fold(0.0, f32::max)
        })
        .collect();
    let loudest = buckets.iter().copied().fold(0.0, f32::max);
    if loudest <= f32::EPSILON {
        return vec![0; count];
    }
    buckets
        .iter()
        .map(|level| ((level / loudest).clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loudness_is_the_root_mean_square() {
        assert_eq!(rms(&[]), 0.0);
        assert!((rms(&[0.5, -0.5, 0.5, -0.5]) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_meter_is_in_decibels() {
        assert_eq!(meter(0.0), 0.0);
        assert_eq!(meter(1.0), 1.0);
        assert!(meter(0.001) < 1e-5);
        assert_eq!(meter(0.000_1), 0.0);
        assert!((meter(0.1) - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn long_recordings_keep_their_peaks_within_the_limit() {
        let mut levels = vec![0.01; 10_000];
        levels[5_000] = 0.4;
        let peaks = peaks(&levels);
        assert_eq!(peaks.len(), MAX_WAVEFORM);
        assert_eq!(peaks.iter().filter(|p| **p == 255).count(), 1);
        assert!(peaks.iter().all(|p| *p == 255 || *p == 6));
    }

    #[test]
    fn short_and_silent_recordings() {
        assert_eq!(peaks(&[0.1, 0.2]), vec![128, 255]);
        assert_eq!(peaks(&[0.0; 3]), vec![0, 0, 0]);
        assert!(peaks(&[]).is_empty());
    }
}
