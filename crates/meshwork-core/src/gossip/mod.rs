//! Gossip that holds under load, around gossipsub: inbound validation (flood control, chunk
//! checks, the application's validator), reputation and bans, large payloads in chunks, an
//! outbound queue with priorities and a paced drain (backpressure), and per-topic counters.
//!
//! The event loop wires these together (`event_loop/gossip_in.rs`, `event_loop/gossip_out.rs`);
//! each module here is plain state with no I/O, so it is unit-tested on its own; `wake` is a
//! small behaviour working around a gossipsub wake-up gap.

pub mod chunking;
pub mod flood;
mod message_id;
pub mod outbound;
pub mod pacer;
pub mod reputation;
pub mod scoring;
pub mod stats;
pub mod validator;
pub mod wake;

pub use message_id::content_message_id;
