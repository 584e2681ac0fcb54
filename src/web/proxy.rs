//! The PROXY protocol header (version 1 or 2) that starts each connection on
//! the Tor listener (`tor_addr`): Tor's `HiddenServiceExportCircuitID
//! haproxy` sends `PROXY TCP6 fc00:dead:beef:4dad::AABB:CCDD ::1 …`, the
//! circuit's id in the last 32 bits of the source address. Parsing is
//! `ppp`'s; this module reads exactly the header's bytes, so that what
//! follows is the visitor's request, untouched.
//!
//! Invariant: only a listener the operator named for it reads this header;
//! on every other listener these bytes are a request hyper refuses. The
//! source address is used for the limits in memory, never stored or logged.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The /64 Tor puts circuit ids in (`fc00:dead:beef:4dad::/64`).
const TOR_CIRCUITS: [u16; 4] = [0xfc00, 0xdead, 0xbeef, 0x4dad];

/// Whether `ip` is a Tor circuit's address: then each circuit is a client
/// of its own, not the /64 every other IPv6 client is known by.
pub fn is_tor_circuit(ip: &Ipv6Addr) -> bool {
    ip.segments().starts_with(&TOR_CIRCUITS)
}

/// Longest version 1 header (the specification's 107 bytes).
const V1_MAX: usize = 107;
/// The signature a version 2 header starts with.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// Why a connection's start was not a PROXY header.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The connection started with something else (a plain request: Tor
    /// without `HiddenServiceExportCircuitID haproxy`).
    #[error("the connection did not start with a PROXY protocol header")]
    Missing,
    /// A PROXY header that `ppp` could not parse.
    #[error("the PROXY protocol header is malformed")]
    Malformed,
    /// The connection ended or failed first.
    #[error("the connection ended before its PROXY protocol header")]
    Closed,
}

/// Reads the PROXY header at the start of `stream`; returns the source it
/// names, or `peer` for a header without one (`UNKNOWN`, v2 `LOCAL`: a
/// health check by the proxy itself).
pub async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
    peer: SocketAddr,
) -> Result<SocketAddr, ProxyError> {
    let closed = |_| ProxyError::Closed;
    let mut bytes = vec![0u8; 6];
    stream.read_exact(&mut bytes).await.map_err(closed)?;
    if bytes == b"PROXY " {
        // Version 1: one line, read byte by byte so nothing after it is taken.
        while !bytes.ends_with(b"\r\n") {
            if bytes.len() >= V1_MAX {
                return Err(ProxyError::Malformed);
            }
            bytes.push(stream.read_u8().await.map_err(closed)?);
        }
    } else if V2_SIGNATURE.starts_with(&bytes) {
        bytes.resize(16, 0);
        stream
            .read_exact(bytes.get_mut(6..).unwrap_or_default())
            .await
            .map_err(closed)?;
        if !bytes.starts_with(V2_SIGNATURE) {
            return Err(ProxyError::Missing);
        }
        let length = u16::from_be_bytes([
            bytes.get(14).copied().unwrap_or_default(),
            bytes.get(15).copied().unwrap_or_default(),
        ]);
        bytes.resize(16 + usize::from(length), 0);
        stream
            .read_exact(bytes.get_mut(16..).unwrap_or_default())
            .await
            .map_err(closed)?;
    } else {
        return Err(ProxyError::Missing);
    }
    source(&bytes, peer)
}

/// The source a complete header names.
fn source(bytes: &[u8], peer: SocketAddr) -> Result<SocketAddr, ProxyError> {
    use ppp::{HeaderResult, v1, v2};
    match HeaderResult::parse(bytes) {
        HeaderResult::V1(Ok(header)) => Ok(match header.addresses {
            v1::Addresses::Tcp4(a) => SocketAddr::new(IpAddr::V4(a.source_address), a.source_port),
            v1::Addresses::Tcp6(a) => SocketAddr::new(IpAddr::V6(a.source_address), a.source_port),
            v1::Addresses::Unknown => peer,
        }),
        HeaderResult::V2(Ok(header)) => Ok(match (header.command, header.addresses) {
            (v2::Command::Proxy, v2::Addresses::IPv4(a)) => {
                SocketAddr::new(IpAddr::V4(a.source_address), a.source_port)
            }
            (v2::Command::Proxy, v2::Addresses::IPv6(a)) => {
                SocketAddr::new(IpAddr::V6(a.source_address), a.source_port)
            }
            _ => peer,
        }),
        _ => Err(ProxyError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    #[tokio::test]
    async fn tors_version_1_header_names_the_circuit_and_leaves_the_request() {
        let mut input: &[u8] =
            b"PROXY TCP6 fc00:dead:beef:4dad::ffff:ffff ::1 65535 42\r\nGET / HTTP/1.1\r\n";
        let source = read_header(&mut input, peer()).await.unwrap();
        assert_eq!(
            source.ip(),
            "fc00:dead:beef:4dad::ffff:ffff".parse::<IpAddr>().unwrap()
        );
        assert!(is_tor_circuit(
            &"fc00:dead:beef:4dad::ffff:ffff"
                .parse::<Ipv6Addr>()
                .unwrap()
        ));
        assert!(!is_tor_circuit(&"2001:db8::1".parse::<Ipv6Addr>().unwrap()));
        assert_eq!(input, b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn a_version_2_header_is_read_to_its_length() {
        let header = v2_header("fc00:dead:beef:4dad::7");
        let mut input = header.clone();
        input.extend_from_slice(b"GET /");
        let mut reader: &[u8] = &input;
        let source = read_header(&mut reader, peer()).await.unwrap();
        assert_eq!(source.ip().to_string(), "fc00:dead:beef:4dad::7");
        assert_eq!(reader, b"GET /");
    }

    pub(crate) fn v2_header(source: &str) -> Vec<u8> {
        let addresses = ppp::v2::IPv6::new(
            source.parse::<Ipv6Addr>().unwrap(),
            Ipv6Addr::LOCALHOST,
            65535,
            80,
        );
        ppp::v2::Builder::with_addresses(
            ppp::v2::Version::Two | ppp::v2::Command::Proxy,
            ppp::v2::Protocol::Stream,
            addresses,
        )
        .build()
        .unwrap()
    }

    #[tokio::test]
    async fn a_plain_request_or_a_broken_header_is_refused() {
        let mut plain: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
        assert_eq!(
            read_header(&mut plain, peer()).await,
            Err(ProxyError::Missing)
        );
        let mut broken: &[u8] = b"PROXY TCP6 not-an-address ::1 1 2\r\n";
        assert_eq!(
            read_header(&mut broken, peer()).await,
            Err(ProxyError::Malformed)
        );
        let mut endless: &[u8] = &[b'x'; 300];
        let mut long = b"PROXY ".to_vec();
        long.extend_from_slice(endless);
        endless = &long;
        assert_eq!(
            read_header(&mut endless, peer()).await,
            Err(ProxyError::Malformed)
        );
        let mut unknown: &[u8] = b"PROXY UNKNOWN\r\n";
        assert_eq!(read_header(&mut unknown, peer()).await, Ok(peer()));
    }
}
