//! Limits on guessing passwords and on making accounts, so that an
//! attacker is slowed to a crawl while the owner of an account can still
//! log in.
//!
//! Every login attempt counts as a failure before the password is even
//! hashed (so parallel guesses cannot all slip through), and a success
//! takes it back. Failures are counted three ways within a window:
//! - per username *and* address: an address that keeps failing for a name
//!   is locked out of that name;
//! - per username, from anywhere: past a threshold, attempts for that name
//!   are spaced out (a delay, not a lock: the owner logs in, slowly, while
//!   a distributed guesser gets a handful of tries an hour);
//! - per address, across names: one address cannot sweep many accounts.
//!
//! Sign-ups are counted per address. Keys are bounded (usernames are
//! checked before they get here) and so is the map.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, IpAddr),
    User(String),
    Address(IpAddr),
    SignUp(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
    last: Instant,
}

pub struct Throttle {
    windows: Mutex<HashMap<Key, Window>>,
    /// Sign-ups one address may make an hour.
    sign_ups: u32,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(Throttle::SIGN_UPS)
    }
}

impl Throttle {
    /// A throttle letting an address make `sign_ups` accounts an hour.
    pub fn new(sign_ups: u32) -> Self {
        Throttle {
            windows: Mutex::new(HashMap::new()),
            sign_ups,
        }
    }

    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// Failures one address may have for one name.
    pub const PER_PAIR: u32 = 10;
    /// Failures for one name, from anywhere, before attempts are spaced.
    pub const PER_USER: u32 = 20;
    /// The spacing then.
    pub const USER_SPACING: Duration = Duration::from_secs(10);
    /// Failures one address may have across all names.
    pub const PER_ADDRESS: u32 = 100;
    /// Sign-ups one address may make an hour, unless configured otherwise.
    pub const SIGN_UPS: u32 = 20;
    pub const SIGN_UP_WINDOW: Duration = Duration::from_secs(3600);
    /// The most keys kept; past it the oldest go.
    pub const MAX_KEYS: usize = 100_000;

    /// Counts a login attempt as failed, unless it must wait: `Err(seconds
    /// to wait)`. Call [`Throttle::succeeded`] if it then succeeds.
    pub fn attempt(&self, username: &str, address: IpAddr) -> Result<(), u64> {
        self.attempt_at(username, address, Instant::now())
    }

    fn attempt_at(&self, username: &str, address: IpAddr, now: Instant) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let pair = Key::Pair(username.to_owned(), address);
        let user = Key::User(username.to_owned());
        let by_address = Key::Address(address);
        let live = |key: &Key, windows: &HashMap<Key, Window>| {
            windows
                .get(key)
                .filter(|window| now.duration_since(window.started) < Self::WINDOW)
                .copied()
        };
        let until_window_ends =
            |window: Window| Self::WINDOW.saturating_sub(now.duration_since(window.started));
        for (key, max) in [(&pair, Self::PER_PAIR), (&by_address, Self::PER_ADDRESS)] {
            if let Some(window) = live(key, &windows) {
                if window.count >= max {
                    return Err(seconds(until_window_ends(window)));
                }
            }
        }
        if let Some(window) = live(&user, &windows) {
            let since = now.duration_since(window.last);
            if window.count >= Self::PER_USER && since < Self::USER_SPACING {
                return Err(seconds(Self::USER_SPACING - since));
            }
        }
        for key in [pair, user, by_address] {
            count(&mut windows, key, now, Self::WINDOW);
        }
        Ok(())
    }

    /// Takes back the failure [`Throttle::attempt`] counted, and forgives
    /// this address its earlier failures for this name.
    pub fn succeeded(&self, username: &str, address: IpAddr) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&Key::Pair(username.to_owned(), address));
        for key in [Key::User(username.to_owned()), Key::Address(address)] {
            if let Some(window) = windows.get_mut(&key) {
                window.count = window.count.saturating_sub(1);
            }
        }
    }

    /// Takes back the failure [`Throttle::attempt`] counted for an attempt
    /// that was never made (the server was too busy to check it).
    pub fn withdraw(&self, username: &str, address: IpAddr) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        for key in [
            Key::Pair(username.to_owned(), address),
            Key::User(username.to_owned()),
            Key::Address(address),
        ] {
            if let Some(window) = windows.get_mut(&key) {
                window.count = window.count.saturating_sub(1);
            }
        }
    }

    /// Counts a sign-up from `address`, unless it has made too many:
    /// `Err(seconds to wait)`.
    pub fn sign_up(&self, address: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let key = Key::SignUp(address);
        if let Some(window) = windows.get(&key) {
            let age = now.duration_since(window.started);
            if age < Self::SIGN_UP_WINDOW && window.count >= self.sign_ups {
                return Err(seconds(Self::SIGN_UP_WINDOW - age));
            }
        }
        count(&mut windows, key, now, Self::SIGN_UP_WINDOW);
        Ok(())
    }

    #[cfg(test)]
    fn keys(&self) -> usize {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

fn seconds(wait: Duration) -> u64 {
    wait.as_secs().max(1)
}

/// Adds one to `key`'s window (a new one if it has ended), keeping the map
/// under [`Throttle::MAX_KEYS`].
fn count(windows: &mut HashMap<Key, Window>, key: Key, now: Instant, length: Duration) {
    if windows.len() >= Throttle::MAX_KEYS && !windows.contains_key(&key) {
        windows.retain(|_, window| now.duration_since(window.started) < length);
        if windows.len() >= Throttle::MAX_KEYS {
            // Still full of live windows: the older half goes.
            let mut ages: Vec<Instant> = windows.values().map(|w| w.started).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            windows.retain(|_, window| window.started > cut);
        }
    }
    let window = windows.entry(key).or_insert(Window {
        started: now,
        count: 0,
        last: now,
    });
    if now.duration_since(window.started) >= length {
        *window = Window {
            started: now,
            count: 0,
            last: now,
        };
    }
    window.count += 1;
    window.last = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: [u8; 4] = [10, 0, 0, 1];
    const ATTACKER: [u8; 4] = [10, 0, 0, 66];

    #[test]
    fn an_address_that_keeps_failing_is_locked_out_of_that_name_only() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..Throttle::PER_PAIR {
            assert!(throttle.attempt_at("ann", ATTACKER.into(), now).is_ok());
        }
        assert!(throttle.attempt_at("ann", ATTACKER.into(), now).is_err());
        assert!(throttle.attempt_at("bob", ATTACKER.into(), now).is_ok());
        // The owner, at home, is not locked out.
        assert!(throttle.attempt_at("ann", HOME.into(), now).is_ok());
    }

    #[test]
    fn many_addresses_only_slow_a_name_down() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for n in 0..Throttle::PER_USER {
            let address = IpAddr::from([10, 1, (n / 250) as u8, (n % 250) as u8]);
            assert!(throttle.attempt_at("ann", address, start).is_ok());
        }
        let wait = throttle.attempt_at("ann", HOME.into(), start).unwrap_err();
        assert_eq!(wait, Throttle::USER_SPACING.as_secs());
        // After the spacing, one more try, from anywhere.
        let later = start + Throttle::USER_SPACING;
        assert!(throttle.attempt_at("ann", HOME.into(), later).is_ok());
        assert!(throttle.attempt_at("ann", HOME.into(), later).is_err());
    }

    #[test]
    fn a_success_takes_its_attempt_back() {
        let throttle = Throttle::default();
        for _ in 0..50 {
            throttle.attempt("ann", HOME.into()).unwrap();
            throttle.succeeded("ann", HOME.into());
        }
        assert!(throttle.attempt("ann", HOME.into()).is_ok());
    }

    #[test]
    fn sign_ups_are_counted_per_address_and_the_map_stays_bounded() {
        let throttle = Throttle::default();
        for _ in 0..Throttle::SIGN_UPS {
            assert!(throttle.sign_up(ATTACKER.into()).is_ok());
        }
        assert!(throttle.sign_up(ATTACKER.into()).is_err());
        assert!(throttle.sign_up(HOME.into()).is_ok());
        for n in 0..(Throttle::MAX_KEYS as u32 / 3 + 10) {
            let _ = throttle.attempt(&format!("user{n}"), IpAddr::from(n.to_be_bytes()));
        }
        assert!(throttle.keys() <= Throttle::MAX_KEYS);
    }
}
