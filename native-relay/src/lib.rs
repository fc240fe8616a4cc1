//! # meshwork-relay
//!
//! The native companion of the meshwork browser node. The library holds what the two binaries
//! share: the persisted identity, the native transports, and the relay's own parts (settings,
//! HTTP endpoint). `meshwork-relay` is the relay; `meshwork-peer` is a small native peer used by
//! the end-to-end tests and the benchmark (and handy for trying things out).
#![deny(missing_docs)]

pub mod bootstrap;
pub mod cli;
pub mod events_log;
pub mod http;
pub mod identity;
pub mod native_swarm;
pub mod peer_store_file;
pub mod perf_server;
pub mod relay_http_client;
pub mod settings;
pub mod webrtc_cert;
pub mod webrtc_frames;
