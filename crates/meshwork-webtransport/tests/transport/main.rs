//! The transport's integration tests, one binary (one link instead of one per file): the
//! listener's lifecycle, the muxer without a swarm, raw WebTransport clients misbehaving, and
//! two swarms over the transport on loopback.

mod common;

mod listener;
mod muxer;
mod raw_client;
mod swarm;
