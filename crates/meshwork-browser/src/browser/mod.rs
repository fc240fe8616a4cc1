//! Everything that touches JS: compiled for wasm32 only.

mod bootstrap;
mod console_log;
mod events;
mod fetch;
mod js;
mod node;
mod panic_hook;
mod peer_store;
mod providers;
mod services;
mod swarm;
mod usage;
mod validator;
