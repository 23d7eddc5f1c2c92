//! Fair use: how fast one account, and one address, may write, search,
//! upload and send, so that nobody can flood the server at everyone
//! else's expense. Token buckets (GCRA, from `governor`): a burst goes at
//! once, then a steady rate. An address gets [`ADDRESS_SHARE`] times an
//! account's allowance, since several people may share one.
//!
//! HTTP requests past a limit are refused (429 with `Retry-After`); socket
//! frames are slowed down instead, in order, so that an outbox flushed
//! after a long outage still arrives whole. The counts are this process's.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use natter_protocol::UserId;

/// How many accounts' worth of allowance an address has.
pub const ADDRESS_SHARE: u32 = 10;

/// What an HTTP request does, as far as its limits go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Creates, changes or deletes something (sign-ups and logins also
    /// have their own throttle).
    Write,
    /// Looks up people or groups.
    Search,
    /// Sends a file.
    Upload,
}

impl Kind {
    /// Per second, and at once, for one account.
    const fn allowance(self) -> (u32, u32) {
        match self {
            Kind::Write => (10, 60),
            Kind::Search => (5, 30),
            Kind::Upload => (2, 20),
        }
    }
}

/// Who a request or frame is charged to.
pub type AccountKey = [u8; 32];

/// One allowance, kept per account and per address.
struct Buckets<A: std::hash::Hash + Eq + Clone> {
    accounts: DefaultKeyedRateLimiter<A>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
}

impl<A: std::hash::Hash + Eq + Clone> Buckets<A> {
    fn new(per_second: f64, burst: u32) -> Self {
        let quota = |share: u32| {
            let rate = per_second * f64::from(share);
            // Nanosecond periods at most: a rate too high to pace is no
            // limit at all (benchmarks ask for that).
            let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
            let burst = NonZeroU32::new(burst.saturating_mul(share)).unwrap_or(NonZeroU32::MIN);
            Quota::with_period(period)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
                .allow_burst(burst)
        };
        Buckets {
            accounts: RateLimiter::keyed(quota(1)),
            addresses: RateLimiter::keyed(quota(ADDRESS_SHARE)),
        }
    }

    /// Takes one from the address's bucket, then the account's, or says
    /// how long until it could be taken.
    fn check(&self, account: Option<&A>, address: IpAddr) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(now);
        self.addresses.check_key(&address).map_err(wait)?;
        match account {
            Some(account) => self.accounts.check_key(account).map_err(wait),
            None => Ok(()),
        }
    }

    /// Waits until one may be taken from both buckets.
    async fn pace(&self, account: &A, address: IpAddr) {
        self.addresses.until_key_ready(&address).await;
        self.accounts.until_key_ready(account).await;
    }

    fn forget_idle(&self) {
        self.accounts.retain_recent();
        self.accounts.shrink_to_fit();
        self.addresses.retain_recent();
        self.addresses.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.accounts.len() + self.addresses.len()
    }
}

/// Every fair-use allowance of this process.
pub struct FairUse {
    write: Buckets<AccountKey>,
    search: Buckets<AccountKey>,
    upload: Buckets<AccountKey>,
    frames: Buckets<UserId>,
}

impl FairUse {
    /// The smallest burst of socket frames: enough for a typical outbox
    /// flushed on reconnecting.
    pub const MIN_FRAME_BURST: u32 = 200;

    /// Allowances with `frame_rate` socket frames per second per account
    /// (all its devices together).
    pub fn new(frame_rate: f64) -> Self {
        let http = |kind: Kind| {
            let (rate, burst) = kind.allowance();
            Buckets::new(f64::from(rate), burst)
        };
        // Truncation is intended: a fractional burst is no burst.
        let burst = Self::MIN_FRAME_BURST.max(frame_rate.min(f64::from(u32::MAX)) as u32);
        FairUse {
            write: http(Kind::Write),
            search: http(Kind::Search),
            upload: http(Kind::Upload),
            frames: Buckets::new(frame_rate, burst),
        }
    }

    /// Admits one HTTP request of `kind`, or says how many seconds to wait
    /// (at least one). The account is known by its session token's hash,
    /// so a request is charged before any database trip; a made-up token
    /// still spends its address's allowance.
    pub fn admit(
        &self,
        kind: Kind,
        account: Option<&AccountKey>,
        address: IpAddr,
    ) -> Result<(), u64> {
        let buckets = match kind {
            Kind::Write => &self.write,
            Kind::Search => &self.search,
            Kind::Upload => &self.upload,
        };
        buckets
            .check(account, address)
            .map_err(|wait| wait.as_secs().max(1))
    }

    /// Waits until a socket frame from `user` at `address` may be handled.
    pub async fn pace_frame(&self, user: UserId, address: IpAddr) {
        self.frames.pace(&user, address).await;
    }

    /// Forgets accounts and addresses whose buckets are full again: they
    /// would start afresh anyway. Run often enough, this bounds memory by
    /// how many keys can be active at once.
    pub fn forget_idle(&self) {
        for buckets in [&self.write, &self.search, &self.upload] {
            buckets.forget_idle();
        }
        self.frames.forget_idle();
    }

    /// How many accounts and addresses are being counted.
    pub fn keys(&self) -> usize {
        [&self.write, &self.search, &self.upload]
            .iter()
            .map(|buckets| buckets.len())
            .sum::<usize>()
            + self.frames.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn a_burst_goes_then_the_account_waits_and_others_do_not() {
        let fair = FairUse::new(50.0);
        let (_, burst) = Kind::Search.allowance();
        for _ in 0..burst {
            assert_eq!(fair.admit(Kind::Search, Some(&[1; 32]), HOME), Ok(()));
        }
        assert_eq!(fair.admit(Kind::Search, Some(&[1; 32]), HOME), Err(1));
        assert_eq!(fair.admit(Kind::Search, Some(&[2; 32]), HOME), Ok(()));
        assert_eq!(fair.admit(Kind::Write, Some(&[1; 32]), HOME), Ok(()));
    }

    #[test]
    fn an_address_is_limited_whatever_tokens_it_makes_up() {
        let fair = FairUse::new(50.0);
        let (_, burst) = Kind::Upload.allowance();
        let allowed = u8::try_from(burst * ADDRESS_SHARE).expect("a small allowance");
        let refused = (0..=allowed)
            .filter(|&n| fair.admit(Kind::Upload, Some(&[n; 32]), HOME).is_err())
            .count();
        assert_eq!(refused, 1);
        let elsewhere: IpAddr = [10, 0, 0, 2].into();
        assert_eq!(fair.admit(Kind::Upload, None, elsewhere), Ok(()));
    }

    #[tokio::test]
    async fn frames_past_the_burst_are_slowed_not_refused() {
        let fair = FairUse::new(100.0);
        let start = std::time::Instant::now();
        for _ in 0..FairUse::MIN_FRAME_BURST + 50 {
            fair.pace_frame(7, HOME).await;
        }
        // Fifty frames past the burst at 100 a second: half a second.
        assert!(start.elapsed() >= Duration::from_millis(400));
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let fair = FairUse::new(1e9);
        assert_eq!(fair.admit(Kind::Write, Some(&[3; 32]), HOME), Ok(()));
        assert_eq!(fair.keys(), 2);
        std::thread::sleep(Duration::from_millis(200));
        fair.forget_idle();
        assert_eq!(fair.keys(), 0);
    }
}
