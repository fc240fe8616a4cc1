//! The perf protocol between two in-process nodes: exact byte counts, the server's limit, and a
//! peer that does not serve it.

use futures::StreamExt;
use meshwork_core::{
    perf::{self, PerfRequest, PERF_PROTOCOL},
    ErrorCode, NodeConfig,
};
use meshwork_tests::{spawn_node, TestNode};

/// Serve perf on `node` (as `meshwork-relay --perf` does, without its concurrency bound).
fn serve_perf(node: &TestNode, max_bytes: u64) {
    let mut incoming = node
        .handle
        .stream_control()
        .accept(PERF_PROTOCOL)
        .expect("nobody else accepts perf");
    tokio::spawn(async move {
        while let Some((_, stream)) = incoming.next().await {
            tokio::spawn(perf::serve(stream, max_bytes));
        }
    });
}

#[tokio::test]
async fn perf_moves_exactly_the_bytes_asked_for() {
    let server = spawn_node(NodeConfig::default()).await;
    serve_perf(&server, 1 << 30);
    let client = spawn_node(NodeConfig::default()).await;
    client
        .handle
        .dial(server.full_address())
        .await
        .expect("dial");

    let request = PerfRequest::new(5_000_001, 3_000_003, 1 << 30).expect("valid");
    let report = client
        .handle
        .perf(server.peer_id(), request)
        .await
        .expect("perf run");
    assert_eq!(
        (report.upload_bytes, report.download_bytes),
        (5_000_001, 3_000_003)
    );
    assert!(
        report.upload_ms > 0.0 && report.download_ms > 0.0,
        "{report:?}"
    );

    // Upload only and download only work too (the server's first reply byte or its end of
    // stream ends the upload phase).
    for (up, down) in [(1024, 0), (0, 1024), (0, 0)] {
        let report = client
            .handle
            .perf(
                server.peer_id(),
                PerfRequest::new(up, down, 1 << 30).unwrap(),
            )
            .await
            .expect("perf run");
        assert_eq!((report.upload_bytes, report.download_bytes), (up, down));
    }
}

#[tokio::test]
async fn the_server_limit_and_a_peer_without_perf_fail_cleanly() {
    let server = spawn_node(NodeConfig::default()).await;
    serve_perf(&server, 1000);
    let plain = spawn_node(NodeConfig::default()).await;
    let client = spawn_node(NodeConfig::default()).await;
    client
        .handle
        .dial(server.full_address())
        .await
        .expect("dial");
    client
        .handle
        .dial(plain.full_address())
        .await
        .expect("dial");

    // Over the limit: a download asked for, an upload with a download (the cut-off shows as
    // missing bytes) and a large upload (the reset shows as a failed write).
    for (up, down) in [(0, 1001), (1001, 10), (5_000_000, 0)] {
        let e = client
            .handle
            .perf(
                server.peer_id(),
                PerfRequest::new(up, down, 1 << 30).unwrap(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::StreamFailed, "{e}");
    }
    let e = client
        .handle
        .perf(plain.peer_id(), PerfRequest::new(10, 10, 1 << 30).unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::StreamFailed, "{e}");
    assert!(e.message.contains("perf"), "{e}");

    // The connection and the server survive: a run within the limit still works.
    let report = client
        .handle
        .perf(
            server.peer_id(),
            PerfRequest::new(1000, 1000, 1 << 30).unwrap(),
        )
        .await
        .expect("perf within the limit");
    assert_eq!(report.download_bytes, 1000);
    assert_eq!(
        PerfRequest::new(11, 0, 10).unwrap_err().code,
        ErrorCode::InvalidOptions
    );
}
