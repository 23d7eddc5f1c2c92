//! The server's VAPID key (RFC 8292): one P-256 key pair per deployment,
//! kept in the data directory. Push services tie each subscription to the
//! public key it was made with, so the key must outlive restarts; a lost
//! key only means every device subscribes again.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};

/// The key's file in the data directory: the secret scalar, base64url.
pub const FILE: &str = "vapid.key";

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("cannot read or write {FILE}: {0}")]
    Io(#[from] std::io::Error),
    #[error("{FILE} is not a P-256 private key in base64url; delete it to make a new one")]
    Malformed,
}

/// Reads the key in `dir`, or makes one (readable by this user only).
pub fn load_or_create(dir: &Path) -> Result<ES256KeyPair, VapidError> {
    let path = dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let raw = URL_SAFE_NO_PAD
                .decode(text.trim())
                .map_err(|_| VapidError::Malformed)?;
            ES256KeyPair::from_bytes(&raw).map_err(|_| VapidError::Malformed)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            // Nodes of a cluster may start at once on a shared directory:
            // the key is written whole under a name of its own, then linked
            // into place unless another node's is there first.
            let key = ES256KeyPair::generate();
            let draft = dir.join(format!("{FILE}.{:016x}", rand::random::<u64>()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&draft)?;
            file.write_all(URL_SAFE_NO_PAD.encode(key.to_bytes()).as_bytes())?;
            file.sync_all()?;
            let linked = std::fs::hard_link(&draft, &path);
            std::fs::remove_file(&draft)?;
            match linked {
                Ok(()) => Ok(key),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(dir),
                Err(err) => Err(err.into()),
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// The public key as browsers take it: an uncompressed point, base64url.
pub fn public_key(key: &ES256KeyPair) -> String {
    URL_SAFE_NO_PAD.encode(key.public_key().public_key().to_bytes_uncompressed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let made = load_or_create(dir.path()).unwrap();
        let read = load_or_create(dir.path()).unwrap();
        assert_eq!(public_key(&made), public_key(&read));
        assert_eq!(URL_SAFE_NO_PAD.decode(public_key(&made)).unwrap().len(), 65);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(FILE), "not a key").unwrap();
        assert!(matches!(
            load_or_create(dir.path()),
            Err(VapidError::Malformed)
        ));
    }
}
