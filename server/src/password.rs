//! Password hashes: Argon2id at OWASP's first recommended setting (19 MiB,
//! 2 passes, 1 lane), stored as PHC strings.
//!
//! Each thread hashes in a working memory of its own that it keeps between
//! hashes. Run on [`crate::hashing`]'s few threads, that bounds what hashing
//! holds to 19 MiB a thread, for good; allocated per hash, the allocator
//! kept a freed 19 MiB block after nearly every login (measured: +19 MiB
//! per wrong password, up to about 80 MiB, on glibc).

use std::cell::RefCell;
use std::sync::LazyLock;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

/// The setting new hashes use.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Argon2 over `password` and `salt` into `out`, in this thread's memory.
fn hash_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    let blocks = argon2.params().block_count();
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(|err| HashError(err.to_string()))
    })
}

/// Hashes `password` into a PHC string. Slow on purpose: call it on the
/// hashing pool.
pub fn hash(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt_string = SaltString::encode_b64(&salt).map_err(|err| HashError(err.to_string()))?;
    let params = params();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hash_into(&argon2, password.as_bytes(), &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|err: argon2::password_hash::Error| HashError(err.to_string()))?,
        salt: Some(salt_string.as_salt()),
        hash: Some(Output::new(&out).map_err(|err| HashError(err.to_string()))?),
    };
    Ok(phc.to_string())
}

/// A hash of a password nobody knows, verified against when the username does
/// not exist so that both failures take the same time.
static DECOY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash("decoy password for unknown users").ok());

/// Checks `password` against a stored PHC string; `None` means the user does
/// not exist and a decoy is checked instead.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => match DECOY_HASH.as_deref() {
            Some(decoy) => (decoy, false),
            None => return false,
        },
    };
    matches_phc(phc, password) && real
}

fn matches_phc(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
        None => Version::default(),
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    // `Output` compares in constant time.
    hash_into(&argon2, password.as_bytes(), salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let stored = hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(Some(&stored), "correct horse"));
        assert!(!verify(Some(&stored), "wrong horse"));
        assert!(!verify(None, "decoy password for unknown users"));
        assert!(!verify(Some("not a hash"), "correct horse"));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own() {
        // Ours verify with the crate's verifier, and the crate's with ours
        // (hashes stored before this module kept memory are still good).
        let ours = hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify(Some(&theirs), "correct horse"));
        assert!(!verify(Some(&theirs), "correct horsf"));
    }
}
