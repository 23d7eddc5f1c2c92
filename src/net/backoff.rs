//! Reconnect delays: capped exponential backoff with full jitter, so that
//! thousands of clients coming back after an outage do not arrive at once.

/// The delay schedule. `random` values in `[0, 1)` are passed in, which keeps
/// this pure and testable.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub const BASE_MS: f64 = 500.0;
    pub const CAP_MS: f64 = 30_000.0;

    /// The delay before the next attempt, in milliseconds: uniformly random
    /// between zero and `min(cap, base · 2^attempt)`.
    pub fn next_delay_ms(&mut self, random: f64) -> u32 {
        let ceiling = (Self::BASE_MS * 2f64.powi(self.attempt.min(16) as i32)).min(Self::CAP_MS);
        self.attempt = self.attempt.saturating_add(1);
        (ceiling * random.clamp(0.0, 1.0)) as u32
    }

    /// Called once a connection has been established.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let mut backoff = Backoff::default();
        let ceilings: Vec<u32> = (0..10).map(|_| backoff.next_delay_ms(1.0)).collect();
        assert_eq!(
            ceilings,
            vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]
        );
        backoff.reset();
        assert_eq!(backoff.next_delay_ms(0.5), 250);
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        let mut backoff = Backoff::default();
        assert_eq!(backoff.next_delay_ms(0.0), 0);
        assert_eq!(backoff.next_delay_ms(0.25), 250);
    }
}
