//! The two SDP steps on the browser's own offer: munging its ICE credentials, and reading the
//! fingerprint of its DTLS certificate.
//!
//! WebRTC-direct v1 has the browser replace both `a=ice-ufrag` and `a=ice-pwd` of its offer with
//! one random string prefixed `libp2p+webrtc+v1/` (see
//! [`libp2p_webrtc_utils::sdp::random_ufrag`]); the listener learns it from the STUN username and
//! uses it as both credentials. The answer is synthesized with
//! [`libp2p_webrtc_utils::sdp::answer`].

use libp2p_webrtc_utils::{Fingerprint, SHA256};

/// Why the browser's SDP offer could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The offer has no `a=ice-ufrag:` line to replace.
    #[error("the offer has no a=ice-ufrag line")]
    MissingIceUfrag,
    /// The offer has no `a=ice-pwd:` line to replace.
    #[error("the offer has no a=ice-pwd line")]
    MissingIcePwd,
    /// The offer has no `a=fingerprint:sha-256` line.
    #[error("the offer has no sha-256 certificate fingerprint")]
    MissingFingerprint,
    /// The offer's sha-256 fingerprint is not 32 colon-separated hex bytes.
    #[error("malformed certificate fingerprint {0:?}")]
    MalformedFingerprint(String),
}

const UFRAG_PREFIX: &str = "a=ice-ufrag:";
const PWD_PREFIX: &str = "a=ice-pwd:";
const FINGERPRINT_PREFIX: &str = "a=fingerprint:";

/// Returns `offer` with every `a=ice-ufrag` and `a=ice-pwd` value replaced by `ufrag`.
///
/// Lines are re-joined with CRLF (as SDP requires) and empty lines are dropped. Fails when the
/// offer lacks either attribute, since the listener could then not match the browser's STUN
/// requests.
pub(crate) fn munge_offer(offer: &str, ufrag: &str) -> Result<String, SdpError> {
    let mut munged = String::with_capacity(offer.len() + 2 * ufrag.len());
    let (mut saw_ufrag, mut saw_pwd) = (false, false);

    for line in sdp_lines(offer) {
        if line.starts_with(UFRAG_PREFIX) {
            saw_ufrag = true;
            munged.push_str(UFRAG_PREFIX);
            munged.push_str(ufrag);
        } else if line.starts_with(PWD_PREFIX) {
            saw_pwd = true;
            munged.push_str(PWD_PREFIX);
            munged.push_str(ufrag);
        } else {
            munged.push_str(line);
        }
        munged.push_str("\r\n");
    }

    match (saw_ufrag, saw_pwd) {
        (false, _) => Err(SdpError::MissingIceUfrag),
        (_, false) => Err(SdpError::MissingIcePwd),
        (true, true) => Ok(munged),
    }
}

/// Reads the sha-256 fingerprint of the local DTLS certificate from the browser's offer.
///
/// The spec notes that the SDP is the one place every browser exposes it
/// (`RTCCertificate.getFingerprints` is missing in some).
pub(crate) fn local_fingerprint(offer: &str) -> Result<Fingerprint, SdpError> {
    for line in sdp_lines(offer) {
        let Some(value) = line.strip_prefix(FINGERPRINT_PREFIX) else {
            continue;
        };
        let mut parts = value.split_whitespace();
        let (Some(algorithm), Some(hex)) = (parts.next(), parts.next()) else {
            continue;
        };
        if algorithm.eq_ignore_ascii_case(SHA256) {
            return parse_sha256_fingerprint(hex);
        }
    }
    Err(SdpError::MissingFingerprint)
}

/// Parses `AB:CD:…` (32 hex bytes, RFC 4572 notation) into a [`Fingerprint`].
fn parse_sha256_fingerprint(text: &str) -> Result<Fingerprint, SdpError> {
    let malformed = || SdpError::MalformedFingerprint(text.to_owned());
    let mut digest = [0u8; 32];
    let mut parts = text.split(':');
    for byte in &mut digest {
        let part = parts.next().ok_or_else(malformed)?;
        if part.len() != 2 {
            return Err(malformed());
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| malformed())?;
    }
    if parts.next().is_some() {
        return Err(malformed());
    }
    Ok(Fingerprint::raw(digest))
}

/// The non-empty lines of an SDP blob, accepting CRLF or bare LF line ends.
fn sdp_lines(sdp: &str) -> impl Iterator<Item = &str> {
    sdp.split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from a Chromium offer for a single data channel.
    const CHROME_OFFER: &str = "v=0\r\n\
        o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
        s=-\r\n\
        t=0 0\r\n\
        a=group:BUNDLE 0\r\n\
        a=extmap-allow-mixed\r\n\
        a=msid-semantic: WMS\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
        c=IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:Xv8L\r\n\
        a=ice-pwd:7Ihh1HLZ3rLx6sf3cQWqXK1q\r\n\
        a=ice-options:trickle\r\n\
        a=fingerprint:sha-256 A8:17:77:1E:02:7E:D1:2B:53:92:70:A6:8E:F9:02:CC:21:72:3A:92:5D:F4:97:5F:27:C4:5E:75:D4:F4:31:89\r\n\
        a=setup:actpass\r\n\
        a=mid:0\r\n\
        a=sctp-port:5000\r\n\
        a=max-message-size:262144\r\n";

    const UFRAG: &str = "libp2p+webrtc+v1/abcDEF123";

    #[test]
    fn munge_replaces_both_credentials_and_keeps_the_rest() {
        let munged = munge_offer(CHROME_OFFER, UFRAG).expect("munged");
        assert!(munged.contains("\r\na=ice-ufrag:libp2p+webrtc+v1/abcDEF123\r\n"));
        assert!(munged.contains("\r\na=ice-pwd:libp2p+webrtc+v1/abcDEF123\r\n"));
        assert!(!munged.contains("Xv8L"));
        assert!(!munged.contains("7Ihh1HLZ3rLx6sf3cQWqXK1q"));
        let untouched =
            |line: &&str| !line.starts_with("a=ice-ufrag") && !line.starts_with("a=ice-pwd");
        assert_eq!(
            munged.split("\r\n").filter(untouched).collect::<Vec<_>>(),
            CHROME_OFFER
                .split("\r\n")
                .filter(untouched)
                .collect::<Vec<_>>(),
        );
        assert!(munged.ends_with("\r\n"));
        assert!(!munged.contains("\r\n\r\n"));
    }

    #[test]
    fn munge_accepts_bare_newlines_and_emits_crlf() {
        let offer = CHROME_OFFER.replace("\r\n", "\n");
        assert_eq!(munge_offer(&offer, UFRAG), munge_offer(CHROME_OFFER, UFRAG));
    }

    #[test]
    fn munge_replaces_every_media_section() {
        let offer = format!("{CHROME_OFFER}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:zz\r\na=ice-pwd:yy\r\n");
        let munged = munge_offer(&offer, UFRAG).expect("munged");
        assert_eq!(munged.matches("a=ice-ufrag:libp2p+webrtc+v1/").count(), 2);
        assert_eq!(munged.matches("a=ice-pwd:libp2p+webrtc+v1/").count(), 2);
    }

    #[test]
    fn munge_rejects_offers_without_credentials() {
        let no_ufrag = CHROME_OFFER.replace("a=ice-ufrag:Xv8L\r\n", "");
        assert_eq!(
            munge_offer(&no_ufrag, UFRAG),
            Err(SdpError::MissingIceUfrag)
        );
        let no_pwd = CHROME_OFFER.replace("a=ice-pwd:7Ihh1HLZ3rLx6sf3cQWqXK1q\r\n", "");
        assert_eq!(munge_offer(&no_pwd, UFRAG), Err(SdpError::MissingIcePwd));
    }

    #[test]
    fn munge_works_with_the_published_random_ufrag() {
        let ufrag = libp2p_webrtc_utils::sdp::random_ufrag();
        let munged = munge_offer(CHROME_OFFER, &ufrag).expect("munged");
        assert!(munged.contains(&format!("a=ice-ufrag:{ufrag}\r\n")));
        assert!(munged.contains(&format!("a=ice-pwd:{ufrag}\r\n")));
    }

    #[test]
    fn reads_the_local_fingerprint() {
        let fingerprint = local_fingerprint(CHROME_OFFER).expect("fingerprint");
        assert_eq!(
            fingerprint.to_sdp_format(),
            "A8:17:77:1E:02:7E:D1:2B:53:92:70:A6:8E:F9:02:CC:21:72:3A:92:5D:F4:97:5F:27:C4:5E:75:D4:F4:31:89"
        );
    }

    #[test]
    fn fingerprint_algorithm_is_case_insensitive_and_others_are_skipped() {
        let offer = CHROME_OFFER.replace(
            "a=fingerprint:sha-256 ",
            "a=fingerprint:sha-1 00:11\r\na=fingerprint:SHA-256 ",
        );
        assert_eq!(local_fingerprint(&offer), local_fingerprint(CHROME_OFFER));
    }

    #[test]
    fn fingerprint_errors() {
        let none = CHROME_OFFER.replace("a=fingerprint:sha-256", "a=fingerprint:sha-1");
        assert_eq!(local_fingerprint(&none), Err(SdpError::MissingFingerprint));

        for bad in ["A8:17", "ZZ:17", "A8:17:77:1E:02:7E:D1:2B:53:92:70:A6:8E:F9:02:CC:21:72:3A:92:5D:F4:97:5F:27:C4:5E:75:D4:F4:31:89:00", "A817"] {
            let offer = format!("a=fingerprint:sha-256 {bad}\r\n");
            assert_eq!(
                local_fingerprint(&offer),
                Err(SdpError::MalformedFingerprint(bad.to_owned())),
                "{bad}"
            );
        }
    }
}
