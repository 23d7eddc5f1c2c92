//! Per-connection pacing. A connection that sends faster than the rate is
//! slowed down, not refused: its frames wait, in order, so an outbox flushed
//! after a long outage still arrives complete and in order, while a flood
//! only ever gets the sustained rate.

use std::time::{Duration, Instant};

pub struct Pacer {
    /// Frames that may still go without waiting; negative when frames have
    /// been admitted ahead of the rate.
    tokens: f64,
    last: Instant,
    /// Sustained frames per second.
    rate: f64,
    /// Frames allowed at once, e.g. an outbox flushed after reconnecting.
    burst: f64,
}

impl Pacer {
    /// The smallest burst: enough for a typical outbox flush.
    const MIN_BURST: f64 = 200.0;

    pub fn new(rate: f64) -> Self {
        let burst = Self::MIN_BURST.max(rate);
        Pacer {
            tokens: burst,
            last: Instant::now(),
            rate,
            burst,
        }
    }

    /// Admits one frame; returns how long it must wait first.
    pub fn admit(&mut self) -> Duration {
        self.admit_at(Instant::now())
    }

    fn admit_at(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_frames_are_paced() {
        let mut pacer = Pacer::new(50.0);
        let start = pacer.last;
        for _ in 0..Pacer::MIN_BURST as usize {
            assert_eq!(pacer.admit_at(start), Duration::ZERO);
        }
        assert_eq!(pacer.admit_at(start), Duration::from_millis(20));
        assert_eq!(pacer.admit_at(start), Duration::from_millis(40));
        // Once the waits have passed, the debt is paid, and pacing goes on.
        let later = start + Duration::from_millis(60);
        assert_eq!(pacer.admit_at(later), Duration::ZERO);
        assert_eq!(pacer.admit_at(later), Duration::from_millis(20));
    }
}
