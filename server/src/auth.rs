//! Passwords, session tokens and who is asking.
//!
//! Passwords are hashed with Argon2id at OWASP's parameters and stored as PHC
//! strings. A session is a random 256-bit token: the browser holds it in an
//! HttpOnly, SameSite=Strict cookie, the database holds only its SHA-256, so
//! a leaked database opens no sessions.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use natter_protocol::{Millis, User};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::{now_millis, AppState};

pub const COOKIE_NAME: &str = "natter_session";
/// Sessions last 30 days from login.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

fn argon2() -> Argon2<'static> {
    // OWASP's first recommended Argon2id setting: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes `password` into a PHC string. Slow on purpose: call it off the
/// async workers.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|err| HashError(err.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| HashError(err.to_string()))
}

/// A hash of a password nobody knows, verified against when the username does
/// not exist so that both failures take the same time.
static DECOY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_password("decoy password for unknown users").ok());

/// Checks `password` against a stored PHC string; `None` means the user does
/// not exist and a decoy is checked instead.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => match DECOY_HASH.as_deref() {
            Some(decoy) => (decoy, false),
            None => return false,
        },
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

/// A fresh session token and the hash to store for it.
pub fn new_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn session_expiry() -> Millis {
    now_millis() + SESSION_LIFETIME.as_millis() as Millis
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token in a request's cookies, if any.
pub fn token_from(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The logged-in user of a request; rejects with 401 otherwise.
pub struct CurrentUser {
    pub user: User,
    pub token_hash: [u8; 32],
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token_from(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let token_hash = hash_token(token);
        let user = state
            .chat
            .session_user(token_hash)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(CurrentUser { user, token_hash })
    }
}

/// Limits failed logins per username and per client address, so that
/// guessing passwords is slow whether one account or many are targeted.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<ThrottleKey, Window>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    User(String),
    Ip(IpAddr),
}

struct Window {
    started: Instant,
    failures: u32,
}

impl Throttle {
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    pub const MAX_PER_USER: u32 = 10;
    pub const MAX_PER_IP: u32 = 50;

    /// `Err(seconds to wait)` when either key has used up its failures.
    pub fn check(&self, username: &str, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, window| now.duration_since(window.started) < Self::WINDOW);
        let keys = [
            (ThrottleKey::User(username.to_owned()), Self::MAX_PER_USER),
            (ThrottleKey::Ip(ip), Self::MAX_PER_IP),
        ];
        for (key, max) in keys {
            if let Some(window) = map.get(&key) {
                if window.failures >= max {
                    let left = Self::WINDOW.saturating_sub(now.duration_since(window.started));
                    return Err(left.as_secs().max(1));
                }
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, username: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [ThrottleKey::User(username.to_owned()), ThrottleKey::Ip(ip)] {
            map.entry(key)
                .or_insert(Window {
                    started: now,
                    failures: 0,
                })
                .failures += 1;
        }
    }

    pub fn record_success(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&ThrottleKey::User(username.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(Some(&hash), "correct horse"));
        assert!(!verify_password(Some(&hash), "wrong horse"));
        assert!(!verify_password(None, "decoy password for unknown users"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a), hash_a);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; natter_session=abc".parse().unwrap(),
        );
        assert_eq!(token_from(&headers), Some("abc"));
        headers.insert(header::COOKIE, "natter_session=".parse().unwrap());
        assert_eq!(token_from(&headers), None);
    }

    #[test]
    fn throttle_counts_per_user_and_per_ip() {
        let throttle = Throttle::default();
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..Throttle::MAX_PER_USER {
            assert!(throttle.check("ann", ip).is_ok());
            throttle.record_failure("ann", ip);
        }
        assert!(throttle.check("ann", ip).is_err());
        assert!(throttle.check("bob", ip).is_ok());
        throttle.record_success("ann");
        assert!(throttle.check("ann", ip).is_ok());
    }
}
