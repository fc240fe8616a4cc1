//! The native integration tests, one binary: real `meshwork-relay` and `meshwork-peer`
//! processes and native nodes on real sockets (127.0.0.1, or network namespaces the tests make).
//! One binary links once instead of once per file.

mod lines;
mod native_node;

mod bootstrap_http;
mod gossip_over_quic;
mod ip_limits;
mod mdns_netns;
mod peer_store_file;
