#!/usr/bin/env bash
# The benchmark command (not part of the tests): build what it needs, then measure inside a
# private network namespace. `bash bench/run.sh --write` appends the figures to BENCHMARKS.md.
# BENCH_RUNS (default 7), BENCH_MESSAGES (default 300), BENCH_PERF_MIB (64) and BENCH_PERF_RUNS (3)
# set the sample sizes (BENCH_LOAD_MESSAGES, BENCH_LOAD_LATENCY_MESSAGES for gossip load);
# BENCH_ONLY=size,load,latency,rss,throughput,gossipload,b2b picks sections.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshwork/target}
bash scripts/setup.sh --browser
# Same feature set as the test build (see scripts/test.sh), so the two share one cache.
cargo build --release --workspace --all-targets
bash scripts/build-wasm.sh
exec bash playwright/netns.sh node bench/run.js "$@"
