//! A P-256 signing key for rcgen that signs deterministically (RFC 6979).
//!
//! ring (rcgen's own back end) signs ECDSA with a random nonce, so the certificate's signature,
//! its DER and therefore its hash would change on every generation. The `p256` crate signs with
//! the RFC 6979 nonce, a function of the key and the message, which makes the DER a function of
//! the key and the certificate fields alone.

use p256::ecdsa::{signature::Signer as _, Signature, SigningKey};

/// A P-256 key that rcgen can sign certificates with.
pub(crate) struct P256Signer {
    key: SigningKey,
    /// The SEC1 uncompressed public point, as it appears in the SubjectPublicKeyInfo.
    public: Vec<u8>,
}

impl P256Signer {
    /// Wraps a P-256 secret key.
    pub(crate) fn new(secret: &p256::SecretKey) -> Self {
        let key = SigningKey::from(secret);
        let public = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        Self { key, public }
    }
}

impl rcgen::PublicKeyData for P256Signer {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for P256Signer {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: Signature = self.key.sign(msg);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}
