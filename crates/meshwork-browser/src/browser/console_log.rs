//! `logLevel`: the node's `tracing` output (meshwork's and libp2p's) in the browser console.
//!
//! A page has one global subscriber: the first node started with a `logLevel` installs it, and
//! later nodes in the same page share it (their own `logLevel` is then ignored, with a warning).

use tracing_subscriber::{filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt};
use tracing_web::MakeWebConsoleWriter;

/// Send log lines passing `filter` to the console (`console.debug/info/warn/error` by level).
pub fn install(filter: Targets) {
    let layer = fmt::layer()
        .with_ansi(false)
        // `std::time` has no clock on wasm32; the console stamps lines itself.
        .without_time()
        .with_writer(MakeWebConsoleWriter::new());
    let installed = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
    if installed.is_err() {
        web_sys::console::warn_1(
            &"meshwork: a logLevel is already set in this page; keeping the first one".into(),
        );
    }
}
