//! Fetch a relay's current multiaddrs from its HTTP addresses endpoint, natively: a plain
//! HTTP/1.1 GET (meshwork-relay serves HTTP without TLS; `https://` is refused with a clear
//! error), with a deadline and a bounded body. The body is checked by
//! `meshwork_core::discovery::relay_http`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::{header, Request, Uri};
use hyper_util::rt::TokioIo;
use libp2p::Multiaddr;
use meshwork_core::{
    discovery::relay_http::{addresses_url, AddressesBody},
    CoreError, ErrorCode,
};

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn failed(url: &str, why: impl std::fmt::Display) -> CoreError {
    CoreError::new(ErrorCode::FetchFailed, format!("fetching {url}: {why}"))
}

/// GET `<base>/api/addresses` and return the relay's multiaddrs (each ending in its peer ID).
pub async fn relay_addresses(base: &str) -> Result<Vec<Multiaddr>, CoreError> {
    let url = addresses_url(base)?;
    if url.starts_with("https://") {
        return Err(failed(
            &url,
            "https is not supported natively (meshwork-relay serves plain HTTP); give multiaddrs instead",
        ));
    }
    match tokio::time::timeout(FETCH_TIMEOUT, get(&url)).await {
        Ok(result) => result,
        Err(_) => Err(failed(&url, format!("no answer within {FETCH_TIMEOUT:?}"))),
    }
}

async fn get(url: &str) -> Result<Vec<Multiaddr>, CoreError> {
    let uri: Uri = url.parse().map_err(|e| failed(url, e))?;
    let host = uri.host().ok_or_else(|| failed(url, "no host"))?;
    let port = uri.port_u16().unwrap_or(80);
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| failed(url, e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(url, e))?;
    // Drives the connection; it ends when the response is read and the sender dropped.
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("relay HTTP connection: {e}");
        }
    });
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(header::HOST, authority)
        .header(header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(url, e))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| failed(url, e))?;
    if !response.status().is_success() {
        driver.abort();
        return Err(failed(url, format!("HTTP {}", response.status())));
    }
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| failed(url, format!("reading the body: {e}")))?
        .to_bytes();
    drop(sender);
    driver.abort();
    let body: AddressesBody =
        serde_json::from_slice(&body).map_err(|e| failed(url, format!("unexpected body: {e}")))?;
    body.into_multiaddrs()
}
