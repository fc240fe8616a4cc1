//! Multiaddr parsing and building for `/ip4|ip6/…/udp/…/quic-v1/webtransport[/certhash/…][/p2p/…]`.

use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
};

use libp2p::{
    multiaddr::{Multiaddr, Protocol},
    multihash::Multihash,
    PeerId,
};

use crate::certificate::SHA2_256;

/// The HTTP path every libp2p WebTransport listener serves.
pub(crate) const WELL_KNOWN_PATH: &str = "/.well-known/libp2p-webtransport";

/// Where and whom to dial.
#[derive(Debug, Clone)]
pub(crate) struct DialTarget {
    pub(crate) socket_addr: SocketAddr,
    /// Every `/certhash` of the address: the Noise subset check uses all of them.
    pub(crate) certhashes: HashSet<Multihash<64>>,
    /// The SHA-256 digests among them: the TLS certificate must match one.
    pub(crate) sha256: Vec<[u8; 32]>,
    pub(crate) peer_id: Option<PeerId>,
}

impl DialTarget {
    /// The URL of the libp2p endpoint.
    pub(crate) fn url(&self) -> String {
        format!("https://{}{WELL_KNOWN_PATH}?type=noise", self.socket_addr)
    }
}

/// Why an address cannot be dialed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DialAddrError {
    /// Not an IP WebTransport address.
    NotWebTransport,
    /// A WebTransport address without a SHA-256 `/certhash`.
    NoCertHashes,
}

/// The socket address of a listen address `/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport`.
pub(crate) fn parse_listen_addr(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut iter = addr.iter();
    let ip = ip_of(iter.next()?)?;
    let Protocol::Udp(port) = iter.next()? else {
        return None;
    };
    let (Protocol::QuicV1, Protocol::WebTransport, None) =
        (iter.next()?, iter.next()?, iter.next())
    else {
        return None;
    };
    Some(SocketAddr::new(ip, port))
}

/// The target of a dial address. The IP must be specific and the port non-zero.
pub(crate) fn parse_dial_addr(addr: &Multiaddr) -> Result<DialTarget, DialAddrError> {
    let mut iter = addr.iter().peekable();
    let ip = iter
        .next()
        .and_then(ip_of)
        .ok_or(DialAddrError::NotWebTransport)?;
    let port = match iter.next() {
        Some(Protocol::Udp(port)) if port != 0 => port,
        _ => return Err(DialAddrError::NotWebTransport),
    };
    if ip.is_unspecified()
        || !matches!(
            (iter.next(), iter.next()),
            (Some(Protocol::QuicV1), Some(Protocol::WebTransport))
        )
    {
        return Err(DialAddrError::NotWebTransport);
    }
    let mut certhashes = HashSet::new();
    while let Some(Protocol::Certhash(hash)) = iter.peek() {
        certhashes.insert(*hash);
        iter.next();
    }
    let peer_id = match iter.next() {
        None => None,
        Some(Protocol::P2p(peer_id)) if iter.next().is_none() => Some(peer_id),
        Some(_) => return Err(DialAddrError::NotWebTransport),
    };
    let sha256: Vec<[u8; 32]> = certhashes
        .iter()
        .filter(|h| h.code() == SHA2_256)
        .filter_map(|h| <[u8; 32]>::try_from(h.digest()).ok())
        .collect();
    if sha256.is_empty() {
        return Err(DialAddrError::NoCertHashes);
    }
    Ok(DialTarget {
        socket_addr: SocketAddr::new(ip, port),
        certhashes,
        sha256,
        peer_id,
    })
}

/// `/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport`.
pub(crate) fn webtransport_addr(socket_addr: SocketAddr) -> Multiaddr {
    let ip = match socket_addr.ip() {
        IpAddr::V4(ip) => Protocol::Ip4(ip),
        IpAddr::V6(ip) => Protocol::Ip6(ip),
    };
    Multiaddr::empty()
        .with(ip)
        .with(Protocol::Udp(socket_addr.port()))
        .with(Protocol::QuicV1)
        .with(Protocol::WebTransport)
}

/// [`webtransport_addr`] followed by one `/certhash` per hash.
pub(crate) fn listen_addr(socket_addr: SocketAddr, hashes: &[Multihash<64>]) -> Multiaddr {
    hashes
        .iter()
        .fold(webtransport_addr(socket_addr), |addr, hash| {
            addr.with(Protocol::Certhash(*hash))
        })
}

/// Whether an HTTP `:path` asks for the libp2p endpoint with the Noise handshake.
pub(crate) fn is_libp2p_path(path: &str) -> bool {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    path == WELL_KNOWN_PATH && query.split('&').any(|pair| pair == "type=noise")
}

fn ip_of(protocol: Protocol<'_>) -> Option<IpAddr> {
    match protocol {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::certhash;

    fn addr(s: &str) -> Multiaddr {
        s.parse().expect("multiaddr")
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen_addr(&addr("/ip4/127.0.0.1/udp/0/quic-v1/webtransport")),
            Some("127.0.0.1:0".parse().unwrap())
        );
        assert_eq!(
            parse_listen_addr(&addr("/ip6/::/udp/4001/quic-v1/webtransport")),
            Some("[::]:4001".parse().unwrap())
        );
        for bad in [
            "/ip4/127.0.0.1/udp/0/quic-v1",
            "/ip4/127.0.0.1/tcp/0/quic-v1/webtransport",
            "/ip4/127.0.0.1/udp/0/quic/webtransport",
            "/dns4/localhost/udp/0/quic-v1/webtransport",
        ] {
            assert_eq!(parse_listen_addr(&addr(bad)), None, "{bad}");
        }
        let with_hash = listen_addr("127.0.0.1:1".parse().unwrap(), &[certhash(&[1; 32])]);
        assert_eq!(parse_listen_addr(&with_hash), None);
    }

    #[test]
    fn dial_addresses() {
        let hash = certhash(&[9; 32]);
        let peer = PeerId::random();
        let full = listen_addr("10.0.0.1:4433".parse().unwrap(), &[hash]).with(Protocol::P2p(peer));
        let target = parse_dial_addr(&full).expect("dialable");
        assert_eq!(target.socket_addr, "10.0.0.1:4433".parse().unwrap());
        assert_eq!(target.sha256, vec![[9; 32]]);
        assert_eq!(target.peer_id, Some(peer));
        assert_eq!(
            target.url(),
            "https://10.0.0.1:4433/.well-known/libp2p-webtransport?type=noise"
        );
        let v6 = listen_addr("[::1]:5".parse().unwrap(), &[hash]);
        assert_eq!(
            parse_dial_addr(&v6).expect("dialable").url(),
            "https://[::1]:5/.well-known/libp2p-webtransport?type=noise"
        );

        let no_hash = addr("/ip4/10.0.0.1/udp/4433/quic-v1/webtransport");
        assert_eq!(
            parse_dial_addr(&no_hash).unwrap_err(),
            DialAddrError::NoCertHashes
        );
        for bad in [
            "/ip4/0.0.0.0/udp/4433/quic-v1/webtransport",
            "/ip4/10.0.0.1/udp/0/quic-v1/webtransport",
            "/ip4/10.0.0.1/udp/4433/quic-v1",
            "/ip4/10.0.0.1/tcp/4433/ws",
        ] {
            assert_eq!(
                parse_dial_addr(&addr(bad)).unwrap_err(),
                DialAddrError::NotWebTransport,
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_well_known_noise_path_is_libp2p() {
        assert!(is_libp2p_path(
            "/.well-known/libp2p-webtransport?type=noise"
        ));
        assert!(is_libp2p_path(
            "/.well-known/libp2p-webtransport?x=1&type=noise"
        ));
        for bad in [
            "/",
            "/.well-known/libp2p-webtransport",
            "/.well-known/libp2p-webtransport?type=tls",
            "/.well-known/libp2p-webtransport/x?type=noise",
            "/other?type=noise",
            "",
        ] {
            assert!(!is_libp2p_path(bad), "{bad}");
        }
    }
}
