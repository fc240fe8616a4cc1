//! The libp2p perf protocol (`/perf/1.0.0`, libp2p/specs `perf/perf.md`): measures stream
//! throughput between two peers over whatever transport connects them.
//!
//! The client opens a stream, writes the number of bytes it wants back (u64, big-endian), then
//! its upload, then closes its write side. The server drains the upload to its end, then writes
//! the requested bytes and closes. Both sides here are runtime-agnostic: they only use
//! `AsyncRead`/`AsyncWrite`, so the same code runs in a page and natively. Serving is the edge's
//! choice (see `meshwork-relay --perf`): it decides concurrency and time limits.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::{CoreError, ErrorCode};

/// The protocol name, as in the spec.
pub const PERF_PROTOCOL: StreamProtocol = StreamProtocol::new("/perf/1.0.0");

/// Default largest upload or download one perf run may ask for: 1 GiB.
pub const DEFAULT_MAX_PERF_BYTES: u64 = 1 << 30;

/// Size of the reads and writes; large enough to keep any transport's window full.
const CHUNK_BYTES: usize = 64 * 1024;

/// What a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfRequest {
    /// Bytes the client sends.
    pub upload_bytes: u64,
    /// Bytes the client asks the server to send back.
    pub download_bytes: u64,
}

impl PerfRequest {
    /// A request after checking both counts against `max_bytes`.
    pub fn new(upload_bytes: u64, download_bytes: u64, max_bytes: u64) -> Result<Self, CoreError> {
        for (name, value) in [
            ("uploadBytes", upload_bytes),
            ("downloadBytes", download_bytes),
        ] {
            if value > max_bytes {
                return Err(CoreError::new(
                    ErrorCode::InvalidOptions,
                    format!("perf: {name} is {value}; the maximum is {max_bytes}"),
                ));
            }
        }
        Ok(Self {
            upload_bytes,
            download_bytes,
        })
    }
}

/// A perf request as an API user writes it (`{ uploadBytes, downloadBytes }`, both optional,
/// default 0); unknown keys are refused.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PerfOptions {
    /// Bytes to send.
    pub upload_bytes: u64,
    /// Bytes to ask back.
    pub download_bytes: u64,
}

impl PerfOptions {
    /// Check against [`DEFAULT_MAX_PERF_BYTES`].
    pub fn validate(self) -> Result<PerfRequest, CoreError> {
        PerfRequest::new(
            self.upload_bytes,
            self.download_bytes,
            DEFAULT_MAX_PERF_BYTES,
        )
    }
}

/// What a client measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerfReport {
    /// Bytes sent.
    pub upload_bytes: u64,
    /// Bytes received.
    pub download_bytes: u64,
    /// From the first byte written to the server's first response byte (or its end of stream):
    /// the upload as the server saw it, plus half a round trip.
    pub upload_ms: f64,
    /// From the server's first response byte to its end of stream.
    pub download_ms: f64,
}

/// Run one perf measurement on an open stream.
pub async fn run_client<S>(mut stream: S, request: PerfRequest) -> io::Result<PerfReport>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    stream
        .write_all(&request.download_bytes.to_be_bytes())
        .await?;
    write_zeros(&mut stream, request.upload_bytes).await?;
    stream.close().await?;

    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut received = 0u64;
    let first = stream.read(&mut buffer).await?;
    let upload_done = Instant::now();
    received += first as u64;
    if first > 0 {
        loop {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            received += n as u64;
            if received > request.download_bytes {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "server sent more than the {} bytes asked for",
                        request.download_bytes
                    ),
                ));
            }
        }
    }
    let finished = Instant::now();
    if received != request.download_bytes {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "server sent {received} of the {} bytes asked for",
                request.download_bytes
            ),
        ));
    }
    Ok(PerfReport {
        upload_bytes: request.upload_bytes,
        download_bytes: received,
        upload_ms: millis(upload_done - started),
        download_ms: millis(finished - upload_done),
    })
}

/// Serve one perf request on an inbound stream: drain the upload, send what was asked for.
/// Returns the bytes received and sent.
///
/// A download above `max_bytes` is refused before anything is read; an upload is cut off once
/// it passes `max_bytes`. Either way the stream is dropped: the client sees missing bytes or a
/// reset (the protocol has no error message; an upload-only client whose whole small upload
/// was already in flight cannot tell a cut-off from success).
pub async fn serve<S>(mut stream: S, max_bytes: u64) -> io::Result<(u64, u64)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).await?;
    let download = u64::from_be_bytes(header);
    if download > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("asked for {download} bytes; this server sends at most {max_bytes}"),
        ));
    }
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut uploaded = 0u64;
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        uploaded += n as u64;
        if uploaded > max_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("upload above this server's limit of {max_bytes} bytes"),
            ));
        }
    }
    write_zeros(&mut stream, download).await?;
    stream.close().await?;
    Ok((uploaded, download))
}

async fn write_zeros<S: AsyncWrite + Unpin>(stream: &mut S, mut remaining: u64) -> io::Result<()> {
    let chunk = vec![0u8; CHUNK_BYTES];
    while remaining > 0 {
        let n = remaining.min(CHUNK_BYTES as u64) as usize;
        stream.write_all(&chunk[..n]).await?;
        remaining -= n as u64;
    }
    Ok(())
}

fn millis(d: web_time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
