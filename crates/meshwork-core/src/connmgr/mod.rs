//! Connection management: which peers the node keeps connected and how it gets them back
//! ([`kept`], [`backoff`]), which it lets go when it has too many ([`prune`]), the connection
//! state it reports per peer ([`state`]), bytes moved per peer ([`traffic`]), inbound
//! connections per IP address ([`ip_limits`]) and the kept peers as stored across restarts
//! ([`store`]).
//!
//! Everything here is plain state with injected time; `event_loop::connections` applies it to
//! the swarm.

pub mod backoff;
pub mod bootstrap;
pub mod config;
pub mod ip_limits;
pub mod kept;
pub mod prune;
pub mod relay_choice;
pub mod state;
pub mod store;
pub mod traffic;

pub use config::ConnectionsConfig;
pub use kept::Roles;
pub use state::ConnState;
pub use traffic::Traffic;
