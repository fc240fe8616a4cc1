//! The in-process integration tests, one binary: several meshwork nodes per test on the memory
//! transport (and real UDP sockets for WebTransport). One binary links once; a test binary per
//! file linked libp2p a dozen times on every change. The DHT simulation (`../dht_sim.rs`) keeps a
//! binary of its own so its minutes of CPU never share the machine with these tests' deadlines.

mod connections;
mod dht_routing;
mod gossip;
mod gossip_load;
mod gossip_signatures;
mod peer_exchange;
mod peer_store;
mod perf;
mod providers;
mod relay;
mod rendezvous;
mod server_wait;
mod services;
mod webtransport;
