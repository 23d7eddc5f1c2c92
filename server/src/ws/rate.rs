//! A token bucket that limits how fast one connection may send frames.

use std::time::Instant;

pub struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// Sustained frames per second.
    pub const RATE: f64 = 50.0;
    /// Frames allowed in a burst, e.g. an outbox flushed after reconnecting.
    pub const BURST: f64 = 200.0;

    pub fn new() -> Self {
        Bucket {
            tokens: Self::BURST,
            last: Instant::now(),
        }
    }

    /// Takes a token if one is left.
    pub fn take(&mut self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * Self::RATE).min(Self::BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_the_rate() {
        let mut bucket = Bucket::new();
        let start = bucket.last;
        let taken = (0..1000).filter(|_| bucket.take_at(start)).count();
        assert_eq!(taken, Bucket::BURST as usize);
        assert!(bucket.take_at(start + Duration::from_millis(20)));
        assert!(!bucket.take_at(start + Duration::from_millis(20)));
    }
}
