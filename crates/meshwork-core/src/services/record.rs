//! One service record and its signature: a libp2p signed envelope (domain
//! [`DOMAIN`], payload type [`PAYLOAD_TYPE`]) around the record as JSON. Only the provider can
//! make one: [`verify`] refuses a record whose signer is not the provider it names.

use std::collections::BTreeMap;

use libp2p::{core::SignedEnvelope, identity::Keypair, Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

use super::{
    validate_metadata, validate_service_id, MAX_ADDRESSES, MAX_TTL_SECS, MAX_TYPE_BYTES,
    MIN_TTL_SECS,
};
use crate::{CoreError, ErrorCode};

/// The signing domain of service records.
pub const DOMAIN: &str = "meshwork-service-record";
/// The payload type of service records.
pub const PAYLOAD_TYPE: &[u8] = b"/meshwork/service-record/1";
/// Largest signed record accepted, in bytes.
pub const MAX_SIGNED_BYTES: usize = 4096;
/// How far in the future a record's issue time may be (clocks differ), in milliseconds.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// A service record, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRecord {
    /// The service ID.
    pub service: String,
    /// Its type.
    pub kind: String,
    /// The peer that provides it (and signed the record).
    pub provider: PeerId,
    /// Where to reach the provider (at most [`MAX_ADDRESSES`]).
    pub addresses: Vec<Multiaddr>,
    /// The provider's metadata.
    pub metadata: BTreeMap<String, String>,
    /// When it was signed, in milliseconds since the Unix epoch: higher is fresher.
    pub issued_at_ms: u64,
    /// How long it lives from then, in seconds.
    pub ttl_secs: u64,
    /// Whether this announces that the provider no longer offers the service.
    pub departed: bool,
}

impl ServiceRecord {
    /// When it expires, in milliseconds since the Unix epoch.
    pub fn expires_at_ms(&self) -> u64 {
        self.issued_at_ms
            .saturating_add(self.ttl_secs.saturating_mul(1000))
    }

    /// Whether it has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms() <= now_ms
    }

    /// The record as callers see it (strings, camelCase when serialized).
    pub fn view(&self) -> ServiceView {
        ServiceView {
            service_id: self.service.clone(),
            kind: self.kind.clone(),
            provider: self.provider.to_string(),
            addresses: crate::addresses::all_with_peer_id(self.addresses.clone(), self.provider)
                .iter()
                .map(ToString::to_string)
                .collect(),
            metadata: self.metadata.clone(),
            issued_at_ms: self.issued_at_ms,
            expires_at_ms: self.expires_at_ms(),
        }
    }
}

/// A service record as `registerService`, `findService` and the `service:announced` event give
/// it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// The service ID.
    pub service_id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The provider's peer ID.
    pub provider: String,
    /// The provider's addresses, each ending in `/p2p/<provider>`.
    pub addresses: Vec<String>,
    /// The provider's metadata.
    pub metadata: BTreeMap<String, String>,
    /// When the provider signed it, in milliseconds since the Unix epoch.
    pub issued_at_ms: u64,
    /// When it expires unless refreshed, in milliseconds since the Unix epoch.
    pub expires_at_ms: u64,
}

/// A record together with the signed bytes it came in (what is stored and forwarded).
#[derive(Debug, Clone, PartialEq)]
pub struct SignedService {
    /// The checked record.
    pub record: ServiceRecord,
    /// The signed envelope, protobuf-encoded.
    pub signed: Vec<u8>,
}

/// The record on the wire.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    service: String,
    #[serde(rename = "type")]
    kind: String,
    provider: String,
    addresses: Vec<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    issued_at_ms: u64,
    ttl_secs: u64,
    #[serde(default)]
    departed: bool,
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::new(
        ErrorCode::InvalidOptions,
        format!("service record: {}", message.into()),
    )
}

/// Sign `record` with the provider's `keypair` (which must be the record's provider).
pub fn sign(keypair: &Keypair, record: ServiceRecord) -> Result<SignedService, CoreError> {
    if keypair.public().to_peer_id() != record.provider {
        return Err(invalid("the keypair is not the provider's"));
    }
    let payload = Payload {
        service: record.service.clone(),
        kind: record.kind.clone(),
        provider: record.provider.to_string(),
        addresses: record.addresses.iter().map(ToString::to_string).collect(),
        metadata: record.metadata.clone(),
        issued_at_ms: record.issued_at_ms,
        ttl_secs: record.ttl_secs,
        departed: record.departed,
    };
    let bytes = serde_json::to_vec(&payload).map_err(|e| invalid(e.to_string()))?;
    let envelope = SignedEnvelope::new(keypair, DOMAIN.to_owned(), PAYLOAD_TYPE.to_vec(), bytes)
        .map_err(|e| invalid(format!("cannot sign: {e}")))?;
    let signed = envelope.into_protobuf_encoding();
    if signed.len() > MAX_SIGNED_BYTES {
        return Err(CoreError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the signed record is {} bytes; the maximum is {MAX_SIGNED_BYTES}",
                signed.len()
            ),
        ));
    }
    Ok(SignedService { record, signed })
}

/// Check signed bytes at `now_ms`: [`verify_signature`], and not expired.
pub fn verify(signed: &[u8], now_ms: u64) -> Result<SignedService, CoreError> {
    let checked = verify_signature(signed, now_ms)?;
    if checked.record.is_expired(now_ms) {
        return Err(invalid("expired"));
    }
    Ok(checked)
}

/// Check signed bytes at `now_ms`: a valid envelope of our domain and type, signed by the
/// provider it names, within every bound, issued no later than [`MAX_CLOCK_SKEW_MS`] ahead. It
/// may have expired.
pub fn verify_signature(signed: &[u8], now_ms: u64) -> Result<SignedService, CoreError> {
    if signed.len() > MAX_SIGNED_BYTES {
        return Err(invalid(format!("{} bytes", signed.len())));
    }
    let envelope =
        SignedEnvelope::from_protobuf_encoding(signed).map_err(|e| invalid(e.to_string()))?;
    let (bytes, key) = envelope
        .payload_and_signing_key(DOMAIN.to_owned(), PAYLOAD_TYPE)
        .map_err(|e| invalid(e.to_string()))?;
    let payload: Payload = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    let provider: PeerId = payload
        .provider
        .parse()
        .map_err(|_| invalid("the provider is not a peer ID"))?;
    if key.to_peer_id() != provider {
        return Err(invalid(format!(
            "signed by {} but names {provider} as provider",
            key.to_peer_id()
        )));
    }
    validate_service_id(&payload.service).map_err(|e| invalid(e.message))?;
    if payload.kind.is_empty() || payload.kind.len() > MAX_TYPE_BYTES {
        return Err(invalid("bad type"));
    }
    validate_metadata(&payload.metadata).map_err(|e| invalid(e.message))?;
    if !(MIN_TTL_SECS..=MAX_TTL_SECS).contains(&payload.ttl_secs) {
        return Err(invalid(format!("lifetime of {} s", payload.ttl_secs)));
    }
    if payload.addresses.len() > MAX_ADDRESSES {
        return Err(invalid(format!("{} addresses", payload.addresses.len())));
    }
    let addresses = payload
        .addresses
        .iter()
        .map(|a| crate::validate::multiaddr(a).map_err(|e| invalid(e.message)))
        .collect::<Result<Vec<_>, _>>()?;
    if payload.issued_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(invalid("issued in the future"));
    }
    let record = ServiceRecord {
        service: payload.service,
        kind: payload.kind,
        provider,
        addresses,
        metadata: payload.metadata,
        issued_at_ms: payload.issued_at_ms,
        ttl_secs: payload.ttl_secs,
        departed: payload.departed,
    };
    Ok(SignedService {
        record,
        signed: signed.to_vec(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const NOW: u64 = 1_800_000_000_000;

    pub(crate) fn record(keypair: &Keypair, service: &str, issued_at_ms: u64) -> ServiceRecord {
        ServiceRecord {
            service: service.into(),
            kind: "chat".into(),
            provider: keypair.public().to_peer_id(),
            addresses: vec!["/ip4/127.0.0.1/tcp/4001".parse().unwrap()],
            metadata: BTreeMap::from([("room".into(), "lobby".into())]),
            issued_at_ms,
            ttl_secs: 600,
            departed: false,
        }
    }

    #[test]
    fn a_signed_record_verifies_and_round_trips() {
        let keypair = Keypair::generate_ed25519();
        let signed = sign(&keypair, record(&keypair, "rooms/lobby", NOW)).unwrap();
        let back = verify(&signed.signed, NOW + 1000).unwrap();
        assert_eq!(back.record, signed.record);
        let view = back.record.view();
        assert_eq!(view.expires_at_ms, NOW + 600_000);
        assert!(view.addresses[0].ends_with(&keypair.public().to_peer_id().to_string()));
    }

    #[test]
    fn only_the_provider_can_sign() {
        let provider = Keypair::generate_ed25519();
        let other = Keypair::generate_ed25519();
        assert!(sign(&other, record(&provider, "s", NOW)).is_err());
        // A forged envelope: signed by `other`, naming `provider`.
        let payload = Payload {
            service: "s".into(),
            kind: "chat".into(),
            provider: provider.public().to_peer_id().to_string(),
            addresses: vec![],
            metadata: BTreeMap::new(),
            issued_at_ms: NOW,
            ttl_secs: 600,
            departed: false,
        };
        let bytes = serde_json::to_vec(&payload).unwrap();
        let forged = SignedEnvelope::new(&other, DOMAIN.into(), PAYLOAD_TYPE.to_vec(), bytes)
            .unwrap()
            .into_protobuf_encoding();
        let e = verify(&forged, NOW).unwrap_err();
        assert!(e.message.contains("signed by"), "{}", e.message);
    }

    #[test]
    fn tampered_expired_future_and_malformed_records_are_refused() {
        let keypair = Keypair::generate_ed25519();
        let signed = sign(&keypair, record(&keypair, "s", NOW)).unwrap().signed;
        let mut tampered = signed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(verify(&tampered, NOW).is_err());
        assert!(verify(&signed, NOW + 600_000).is_err(), "expired");
        assert!(
            verify(&signed, NOW - MAX_CLOCK_SKEW_MS - 1).is_err(),
            "future"
        );
        assert!(verify(b"junk", NOW).is_err());
        assert!(verify(&vec![0; MAX_SIGNED_BYTES + 1], NOW).is_err());
        // A peer record (another domain) is not a service record.
        let peer_record = crate::dht::peer_record::sign(&keypair, vec![]).unwrap();
        assert!(verify(&peer_record, NOW).is_err());
    }

    #[test]
    fn out_of_bounds_fields_are_refused_even_when_signed() {
        let keypair = Keypair::generate_ed25519();
        let mut r = record(&keypair, "s", NOW);
        r.addresses = vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap(); MAX_ADDRESSES + 1];
        let signed = sign(&keypair, r).unwrap().signed;
        assert!(verify(&signed, NOW).is_err());
        let mut r = record(&keypair, "s", NOW);
        r.ttl_secs = MAX_TTL_SECS + 1;
        assert!(verify(&sign(&keypair, r).unwrap().signed, NOW).is_err());
    }
}
