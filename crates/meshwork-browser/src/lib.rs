//! # meshwork-browser
//!
//! The meshwork node for web pages: a wasm-bindgen facade over `meshwork-core`. It builds the
//! browser transports (WebTransport, WebSocket, and WebRTC-direct plus browser-to-browser WebRTC
//! from `meshwork-webrtc-browser`), fetches a
//! relay's addresses over HTTP, turns core events into plain JS objects and every error into a JS
//! `Error` with a stable `code`. The npm package `meshwork` wraps it in an idiomatic API.
//!
//! Only [`options`] and [`webrtc_options`] are target-independent (and unit-tested natively);
//! everything that touches JS lives in the `browser` module, compiled for wasm32 only.
#![deny(missing_docs)]

pub mod options;
pub mod webrtc_options;

#[cfg(target_arch = "wasm32")]
mod browser;
