#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what is missing, build once (release, into a
# cargo target directory outside the clone so repeat runs reuse it), then run the Rust unit and
# integration tests and the end-to-end tests (headless Chromium against a real relay and real
# native peers, inside a private network namespace), then the benchmark in smoke mode.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshwork/target}
export CARGO_TERM_COLOR=never

bash scripts/setup.sh --browser

echo "== Build: everything native, release (meshwork-relay and meshwork-peer included)"
# One build for binaries and tests: `--workspace --all-targets` resolves features exactly as
# `cargo test --workspace` does, so nothing compiles twice.
cargo build --release --workspace --all-targets

echo "== Rust: unit and integration tests (native)"
cargo test --release --workspace

echo "== Build: the browser node (wasm32; this also checks meshwork-core for wasm32)"
bash scripts/build-wasm.sh

echo "== End to end: Chromium + meshwork-relay + native peers"
bash playwright/run-in-netns.sh

echo "== Benchmark smoke: every benchmark scenario once, small (figures are not recorded)"
bash bench/run.sh --smoke
