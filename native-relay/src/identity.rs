//! The relay's identity key, kept in a file so the peer ID survives restarts.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use libp2p::identity::Keypair;
use thiserror::Error;

/// Why the identity could not be loaded or created.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The file exists but could not be read.
    #[error("cannot read identity key {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file could not be created or written.
    #[error("cannot write identity key {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not hold a libp2p protobuf-encoded private key.
    #[error("identity key {path} is not a libp2p private key ({reason}); move it away to create a new one")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
}

/// Load the Ed25519 key at `path`, or create it (mode 0600, parent directories included).
pub fn load_or_create(path: &Path) -> Result<Keypair, IdentityError> {
    match fs::read(path) {
        Ok(bytes) => {
            warn_if_readable_by_others(path);
            Keypair::from_protobuf_encoding(&bytes).map_err(|e| IdentityError::Corrupt {
                path: path.to_owned(),
                reason: e.to_string(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(source) => Err(IdentityError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn create(path: &Path) -> Result<Keypair, IdentityError> {
    let write_err = |source| IdentityError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(write_err)?;
    }
    let keypair = Keypair::generate_ed25519();
    let bytes = keypair
        .to_protobuf_encoding()
        .map_err(|e| IdentityError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let mut file = open_private(path).map_err(write_err)?;
    file.write_all(&bytes).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    tracing::info!(path = %path.display(), peer_id = %keypair.public().to_peer_id(), "created identity key");
    Ok(keypair)
}

/// Create a new file readable only by its owner; fails if it already exists.
pub fn open_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "identity key is readable by other users; chmod 600 it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reloaded_with_the_same_peer_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/identity.key");
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.public().to_peer_id(), second.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn garbage_is_a_clear_error_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.key");
        fs::write(&path, b"not a key").unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"not a key");
    }
}
