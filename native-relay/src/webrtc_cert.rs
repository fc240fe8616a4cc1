//! The WebRTC-direct certificate, kept beside the identity so the certhash in the relay's
//! addresses survives restarts (pages may have stored them).

use std::{fs, io::Write, path::Path};

use libp2p_webrtc::tokio::Certificate;

use crate::identity::open_private;

/// Load the PEM certificate at `path`, or generate and store one (mode 0600).
pub fn load_or_create(path: &Path) -> Result<Certificate, String> {
    match fs::read_to_string(path) {
        Ok(pem) => Certificate::from_pem(&pem).map_err(|e| {
            format!(
                "WebRTC certificate {} is unreadable ({e}); move it away to create a new one",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let cert = Certificate::generate(&mut rand::rng())
                .map_err(|e| format!("cannot generate a WebRTC certificate: {e}"))?;
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let mut file =
                open_private(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            file.write_all(cert.serialize_pem().as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(cert)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn certificate_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webrtc.pem");
        let a = super::load_or_create(&path).unwrap();
        let b = super::load_or_create(&path).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
    }
}
