//! # meshwork-core
//!
//! The meshwork node, the same code in a web page (wasm32) and natively:
//!
//! - [`behaviour::Behaviour`]: one composed libp2p `NetworkBehaviour` (identify, ping, gossipsub,
//!   Kademlia, relay client, optional relay server, AutoNAT, DCUtR, connection limits).
//! - [`event_loop::EventLoop`]: the one owner of the `Swarm`. It takes typed [`Command`]s from a
//!   bounded channel and emits typed [`Event`]s on another.
//! - [`NodeConfig`]: every knob with a documented default.
//! - [`gossip`]: validation, flood control, reputation, chunking, backpressure and stats around
//!   gossipsub.
//! - [`discovery`]: rendezvous namespaces and mDNS; [`dht`]: signed peer records and records
//!   with a quorum on Kademlia.
//! - [`connmgr`]: kept peers and redials with backoff, pruning, connection state, traffic per
//!   peer, inbound limits per IP.
//! - [`services`]: the service registry (signed service records in the DHT and over gossip).
//! - [`relay_status`]: how full a relay is (`/meshwork/relay-status/1.0.0`), for relay selection.
//! - [`perf`]: the libp2p perf protocol (stream throughput), client and server.
//!
//! No transport is chosen here and nothing here depends on the target: the edges (the browser
//! facade, the relay, tests) build the transport and the `Swarm` and hand it to the loop.
#![deny(missing_docs)]

pub mod addresses;
pub mod behaviour;
mod clock;
mod command;
mod config;
mod connected_peers;
pub mod connmgr;
pub mod dht;
pub mod direct_upgrade;
pub mod discovery;
mod error;
mod event;
pub mod event_loop;
pub mod gossip;
mod handle;
pub mod perf;
pub mod relay_status;
pub mod services;
mod transport_kind;
pub mod validate;

pub use command::Command;
pub use config::{GossipConfig, KadMode, LimitsConfig, MeshConfig, NodeConfig, RelayServerConfig};
pub use connected_peers::ConnectedPeers;
pub use connmgr::{ConnState, ConnectionsConfig, Roles, Traffic};
pub use dht::DhtConfig;
pub use discovery::{
    config::{MdnsConfig, PeerExchangeConfig, RendezvousConfig, RendezvousServerConfig},
    found::DiscoveredPeer,
    DiscoverySource,
};
pub use error::{describe_chain, CoreError, ErrorCode};
pub use event::{Event, PeerInfo, RelayInfo};
pub use handle::{channel, CommandReceiver, EventReceiver, EventSender, NodeHandle};
pub use services::{record::ServiceView, Registration, ServicesConfig};
pub use transport_kind::TransportKind;

/// Re-export of the libp2p version this crate is built against, so the edges use the same one.
pub use libp2p;
/// Re-export of the `libp2p-stream` version behind [`NodeHandle::stream_control`].
pub use libp2p_stream;
